"""What ``explain`` reports of each method's run (``Attributions.stats``, ``explain.json``)."""

import resource

import numpy as np

from jgattr.attribution._completeness import completeness_stats
from jgattr.attribution._method_types import Method
from jgattr.attribution._results import Attributions


def method_stats(
    method: Method, walks: bool, result: Attributions, parts: list[dict], prep: float, devices: int
) -> dict:
    """The stats of one method over a call: its blocks' ``parts`` summed, the result's size and
    completeness deltas, the process's peak RSS. ``walks``: the fast (walk-sum) path ran."""
    delta = np.abs(result.delta[np.isfinite(result.delta)])
    total = lambda name: sum(part[name] for part in parts)
    return {
        "method": method.name,
        "hyperparameters": {k: v for k, v in method.hyperparameters},
        "path": "fast" if walks else "general",
        "targets": result.num_targets,
        "pairs": int(result.sources.shape[0]),
        "seconds": round(total("seconds"), 4),
        "chunks": total("chunks"),
        "rounds": total("rounds"),
        "blocks": len(parts),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "max_abs_delta": float(delta.max()) if delta.size else None,
        "mean_abs_delta": float(delta.mean()) if delta.size else None,
        **completeness_stats(method.completeness_tolerance, result.delta, result.expected),
        "compile_seconds": round(total("compile_seconds"), 4),
        "programs_compiled": total("programs_compiled"),
        "resumed_rounds": total("resumed_rounds"),
        "devices": devices,
        "prep_seconds": round(prep, 4),
    }
