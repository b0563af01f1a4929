"""Input checks shared by the plotting functions."""

from typing import Any

import numpy as np


def finite_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 array, or a ValueError naming ``name`` if it is not numeric and finite."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") from err
    bad = np.flatnonzero(~np.isfinite(arr.ravel()))
    if bad.size:
        raise ValueError(
            f"{name} must be finite, got {arr.ravel()[bad[0]]} at flat position {bad[0]} "
            f"({bad.size} non-finite); drop or zero those entries first"
        )
    return arr
