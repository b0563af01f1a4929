"""IG's completeness check: the gap ``Σ relevance − (f(x) − f(x̂))`` against a tolerance.

A method with an identity to check sets ``Method.completeness_tolerance`` (integrated gradients:
1% of ``|f(x) − f(x̂)|`` unless told otherwise). The engine adds three stats to every such result
(``completeness_tolerance``, ``completeness_misses``: targets over it, ``max_relative_delta``)
and :func:`warn_incomplete` raises a :class:`CompletenessWarning` naming the fix.
"""

import warnings

import numpy as np

COMPLETENESS_FLOOR = 1e-5
"""Absolute slack of the check (float32 round-off where ``f(x) ≈ f(x̂)``)."""


class CompletenessWarning(UserWarning):
    """Integrated gradients' relevances miss ``f(x) − f(x̂)`` by more than the tolerance: the
    quadrature has too few steps for this model (raise ``n_steps`` or use ``n_steps="auto"``)."""


SMALL_CHANGE = 0.1
"""A target whose score barely moves is judged against this share of the mean ``|expected|``."""


def misses(delta: np.ndarray, expected: np.ndarray, tolerance: float) -> np.ndarray:
    """``[T]`` bool: ``|delta| > tolerance · max(|expected|, 0.1 · mean |expected|) + 1e-5``.

    The mean is over the targets given (finite ones): a target whose score hardly changes from
    the baseline is not flagged for a gap that is tiny on the scale of the others' changes.
    """
    gap, change = np.abs(delta), np.abs(expected)
    finite = np.isfinite(gap) & np.isfinite(change)
    typical = SMALL_CHANGE * change[finite].mean() if finite.any() else 0.0
    with np.errstate(invalid="ignore"):
        scale = np.maximum(change, typical)
        return finite & (gap > tolerance * scale + COMPLETENESS_FLOOR)


def completeness_stats(tolerance: float | None, delta, expected) -> dict:
    """The completeness stats of one result (``{}`` for a method without a tolerance)."""
    if tolerance is None:
        return {}
    delta, expected = np.asarray(delta, np.float64), np.asarray(expected, np.float64)
    finite = np.isfinite(delta) & np.isfinite(expected)
    relative = np.abs(delta[finite]) / np.maximum(np.abs(expected[finite]), COMPLETENESS_FLOOR)
    return {
        "completeness_tolerance": tolerance,
        "completeness_misses": int(misses(delta, expected, tolerance).sum()),
        "max_relative_delta": float(relative.max()) if relative.size else None,
    }


def merge_completeness(totals: dict, stats: dict) -> None:
    """Add one block's completeness stats into a run's ``totals`` (streamed results)."""
    if not stats:
        return
    totals["completeness_tolerance"] = stats["completeness_tolerance"]
    totals["completeness_misses"] = (
        totals.get("completeness_misses", 0) + stats["completeness_misses"]
    )
    worst = [v for v in (totals.get("max_relative_delta"), stats["max_relative_delta"]) if v]
    totals["max_relative_delta"] = max(worst) if worst else None


def warn_incomplete(name: str, stats: dict) -> None:
    """A :class:`CompletenessWarning` when some target's gap exceeds the tolerance."""
    count = stats.get("completeness_misses")
    if not count:
        return
    warnings.warn(
        f"{name}: the completeness gap |Σ relevance − (f(x) − f(x̂))| exceeds "
        f"{stats['completeness_tolerance']:.2%} of |f(x) − f(x̂)| for {count} of "
        f"{stats['targets']} targets (worst {stats['max_relative_delta']:.2%}, max |delta| "
        f"{stats['max_abs_delta']:.3g}): the quadrature has too few points for this model; "
        "raise n_steps, or use integrated_gradients(n_steps='auto') to refine each target "
        "until it holds",
        CompletenessWarning,
        stacklevel=3,
    )
