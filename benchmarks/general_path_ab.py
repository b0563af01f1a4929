"""The general path with and without its shortcuts, interleaved in one process, beside the
per-target ``jax.grad`` loop: a before/after that a shared machine's load cannot skew.

Usage:
  python benchmarks/general_path_ab.py --out benchmarks/results/general_path_ab_cpu_2core.json

"plain" runs every layer on the whole union and integrates in P (``layer_hops`` returns 0,
which turns off both shortcuts: later layers on their own edges, and integrating past layer
1's linear part); "shortcuts" is the engine as it is. Per architecture (trained on Cora for
``--epochs``, as benchmarks/general_path.py does) and method (NAM, IG-50) on the 1000 test
nodes: the best of ``--repeats`` warm calls of each, alternating, then the largest difference
of their values and the per-target loop on a sample. Prints JSON with the load before and after.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import jax
import numpy as np
from _baseline import gradient_step, time_loop
from _report import emit
from general_path import METHODS, trained

import jgattr.attribution._programs as programs
from jgattr.attribution import explain

SHORTCUTS = programs.layer_hops
LOOP_SAMPLE = {"nam": 50, "ig": 5}


def _use(variant: str) -> None:
    programs.layer_hops = SHORTCUTS if variant == "shortcuts" else (lambda model: 0)


def _compare(model, params, dataset, method, repeats: int) -> tuple:
    call = lambda: explain(model, params, dataset, methods=[method], path="general")[method.name]
    results, seconds = {}, {"plain": [], "shortcuts": []}
    for variant in seconds:  # compile both first
        _use(variant)
        results[variant] = call()
    for _ in range(repeats):
        for variant, times in seconds.items():
            _use(variant)
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    _use("shortcuts")
    gap = float(np.abs(results["plain"].values - results["shortcuts"].values).max())
    best = {variant: round(min(times), 4) for variant, times in seconds.items()}
    return results["shortcuts"], best, gap


def _benchmark(architecture: str, args) -> dict:
    _, dataset, model, params, graph = trained(architecture, args)
    rows = {}
    for name, method in METHODS.items():
        result, best, gap = _compare(model, params, dataset, method, args.repeats)
        step = gradient_step(name, model, params, graph)
        loop = time_loop(step, result.targets, result.classes, LOOP_SAMPLE[name])
        rows[name] = {
            "targets": result.num_targets,
            "seconds": best,
            "speedup": round(best["plain"] / best["shortcuts"], 2),
            "max_abs_difference": gap,
            "per_target_loop": loop,
            "load": os.getloadavg()[0],
        }
        print(f"{architecture} {name}: {best} (loop {loop['seconds']} s)", file=sys.stderr)
    return {"architecture": architecture, "methods": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architectures", nargs="+", default=["gat", "gin", "sage"])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    load = os.getloadavg()
    results = [_benchmark(arch, args) for arch in args.architectures]
    report = {
        "benchmark": "general_path_ab",
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
        "jax": jax.__version__,
        "load_before": load,
        "load_after": os.getloadavg(),
        "results": results,
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
