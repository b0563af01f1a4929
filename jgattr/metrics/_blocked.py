"""Faithfulness metrics in bounded memory: targets evaluated a block at a time, then merged.

:func:`~jgattr.metrics.evaluate` builds the (K+1)-hop neighbourhoods of all its targets at once;
on a graph with hubs (power-law degrees) 2000 targets can reach tens of millions of copies. Here
the targets are cut into consecutive blocks whose neighbourhoods hold at most ``max_copies``
copies (bounded by walk counts: one sparse product per hop), each block is evaluated on its own,
and the per-target means are merged weighted by the block's targets. The numbers equal one
:func:`~jgattr.metrics.evaluate` call up to float rounding (test).
"""

from typing import Any

import numpy as np

from jgattr.attribution import Attributions, as_explainable, prepare_data
from jgattr.metrics._faithfulness import evaluate

MAX_COPIES = 1 << 19  # neighbourhood copies of one block: its activations are [16 masks, copies, D]


def _walk_bounds(model: Any, dataset: Any, targets: np.ndarray) -> np.ndarray:
    """``[T]`` upper bound on each target's (K+1)-hop neighbourhood copies: its walks of
    length 0..K+1 in the prepared graph."""
    explainable = as_explainable(model)
    graph = prepare_data(dataset, explainable).graph
    senders, receivers = np.asarray(graph.senders), np.asarray(graph.receivers)
    walks = np.ones(int(graph.n_node.sum()))
    total = walks.copy()
    for _ in range(explainable.num_hops + 1):
        walks = np.bincount(receivers, weights=walks[senders], minlength=walks.shape[0])
        total += walks
    return total[targets]


def target_blocks(model, dataset, targets: np.ndarray, max_copies: int) -> list[np.ndarray]:
    """Consecutive row ranges of ``targets`` whose bounds sum to at most ``max_copies`` (a
    target's rows, repeated for several classes, stay in one block)."""
    targets = np.asarray(targets)
    cost = _walk_bounds(model, dataset, targets)
    starts = np.flatnonzero(np.concatenate([[True], targets[1:] != targets[:-1]]))
    blocks, begin, used = [], 0, 0.0
    for start, stop in zip(starts, [*starts[1:], targets.size], strict=True):
        size = float(cost[start:stop].sum())
        if stop > begin and start > begin and used + size > max_copies:
            blocks.append(np.arange(begin, start))
            begin, used = start, 0.0
        used += size
    blocks.append(np.arange(begin, targets.size))
    return blocks


def evaluate_in_blocks(
    model, params, dataset, results: dict[str, Attributions], *, max_copies: int = MAX_COPIES,
    **kwargs,
) -> dict:  # fmt: skip
    """:func:`~jgattr.metrics.evaluate` (same arguments, same result) with its targets cut into
    blocks of at most ``max_copies`` neighbourhood copies each."""
    if as_explainable(model).level == "graph":  # a graph's own nodes: small, one block
        return evaluate(model, params, dataset, results, **kwargs)
    first = next(iter(results.values()))
    blocks = target_blocks(model, dataset, first.targets, max_copies)
    if len(blocks) == 1:
        return evaluate(model, params, dataset, results, **kwargs)
    parts = [
        evaluate(model, params, dataset, {n: _rows(r, rows) for n, r in results.items()}, **kwargs)
        for rows in blocks
    ]
    return _merged(parts)


def _rows(result: Attributions, rows: np.ndarray) -> Attributions:
    return result.select(np.unique(result.targets[rows]))


def _merged(parts: list[dict]) -> dict:
    """One metrics dict from the blocks': per-target means weighted by the blocks' targets,
    counts summed, maxima kept, the random baseline's spread recomputed."""
    weights = np.array([part["targets"] for part in parts], dtype=np.float64)
    merged = _mean_of(parts, weights / weights.sum())
    merged["targets"] = int(weights.sum())
    merged["blocks"] = len(parts)
    for baseline in ("random", "random_edges"):  # node and edge deletion orders
        if baseline in merged:
            curves = np.array(merged[baseline]["deletion_accuracy"])  # per seed, merged
            merged[baseline]["deletion_accuracy_std"] = curves.std(0).tolist()
    per_target = {
        "nodes": np.array([part["neighbours_mean"] for part in parts]),
        "edges": np.array([part.get("edges_mean", 0.0) for part in parts]),
    }
    for name, method in merged["methods"].items():
        candidates = weights * per_target[method.get("deletes", "nodes")]
        sparsity = [part["methods"][name]["sparsity"] for part in parts]
        method["sparsity"] = float(np.dot(sparsity, candidates) / max(candidates.sum(), 1.0))
        deltas = [part["methods"][name]["delta"]["max_abs"] for part in parts]
        finite = [d for d in deltas if d is not None]
        method["delta"]["max_abs"] = max(finite) if finite else None
    return merged


def _mean_of(values: list, weights: np.ndarray):
    """The weighted mean of equally shaped JSON values (numbers, lists, dicts); what is the same
    in every block (levels, seeds, mode) or not a number is taken from the first block."""
    first = values[0]
    if isinstance(first, dict):
        return {key: _mean_of([v[key] for v in values], weights) for key in first}
    if all(v == first for v in values) or isinstance(first, str | bool):
        return first
    present = [i for i, v in enumerate(values) if v is not None]
    if not present:
        return None
    kept = weights[present] / weights[present].sum()
    mean = np.tensordot(kept, np.asarray([values[i] for i in present], np.float64), axes=1)
    return mean.tolist() if mean.ndim else float(mean)
