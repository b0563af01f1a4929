"""Cold and warm timing of one engine call, shared by the benchmarks."""

import time
from collections.abc import Callable
from typing import Any

from jgattr.attribution import clear_caches


def cold_then_warm(call: Callable[[], Any], repeats: int) -> tuple[Any, float, Any, float]:
    """``(first result, cold seconds, last result, best warm seconds)`` of ``call()``: once
    with every engine cache cleared (compiling), then ``repeats`` times warm."""
    clear_caches()
    start = time.perf_counter()
    first = call()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        warm.append(time.perf_counter() - start)
    return first, cold, result, min(warm)
