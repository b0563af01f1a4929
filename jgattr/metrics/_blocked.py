"""Faithfulness metrics in bounded memory: targets evaluated a block at a time, then merged."""

from typing import Any

import numpy as np

from jgattr.attribution import Attributions, as_explainable, prepare_data, target_walks
from jgattr.metrics._faithfulness import LEVELS, evaluate_together

MAX_COPIES = 1 << 19  # neighbourhood copies of one block: its activations are [16 masks, copies, D]
MAX_GRAPH_NODES = 1 << 13  # target graphs' nodes and edges in one block (graph classifiers: D 512)


def evaluate(
    model,
    params,
    dataset,
    results: dict[str, Attributions],
    *,
    mode: str = "remove",
    levels=LEVELS,
    random_seeds=(0, 1, 2, 3, 4),
    max_copies: int | None = None,
) -> dict:
    """Every faithfulness metric for every method, in blocks of bounded memory.

    The targets' (K+1)-hop neighbourhoods are copied once per target; on a graph with hubs
    (power-law degrees) 2000 targets can reach tens of millions of copies. So the targets are cut
    into consecutive blocks of at most ``max_copies`` copies (bounded by walk counts), each block
    is evaluated on its own, and the per-target means are merged weighted by the block's targets:
    the same numbers as one batch, up to float rounding (test).

    Args:
      model: a built-in model or an :class:`~jgattr.models.Explainable`.
      params: its parameters.
      dataset: a :class:`~jgattr.data.Dataset` (labels give the accuracy curves).
      results: ``{name: Attributions}`` from :func:`jgattr.attribution.explain`, all for the same
        targets.
      mode: ``"remove"`` (nodes and edges go, normalization recomputed) or ``"zero"``.
      levels: deletion fractions p, ``[L]`` in [0, 1].
      random_seeds: seeds of the random-order baseline.
      max_copies: neighbourhood copies of one block (its activations are
        ``[16 masks, copies, D]``), default :data:`MAX_COPIES`; for graph targets, the nodes
        plus edges of a block's graphs, default :data:`MAX_GRAPH_NODES` (a 6,000-molecule test
        split in one call made gigabyte activations). A target's rows stay in one block.

    Returns:
      A JSON-ready dict: ``levels``, ``random`` (mean/std curves, AUC), and per method the
      deletion and reverse-deletion accuracy curves with their areas, the probability change
      when keeping the top q, fidelity+ / fidelity- at 20%, the minimal-patch probability
      change, sparsity and the completeness/conservation delta summary. Node methods delete
      nodes; edge methods (``level = "edge"``) delete the edges of each target's computation
      graph (every node kept), and then ``edges_mean`` (deletable edges per target) and
      ``random_edges`` (random edge orders) are added; each method says what it ``deletes``.
      Evaluated in several blocks, ``blocks`` says how many.

    Example:
      >>> metrics = evaluate(model, params, cora, explain(model, params, cora, methods=["nam"]))
    """
    settings = {"mode": mode, "levels": levels, "random_seeds": random_seeds}
    if not results:
        return evaluate_together(model, params, dataset, results, **settings)
    if max_copies is None:
        graphs = as_explainable(model).level == "graph"
        max_copies = MAX_GRAPH_NODES if graphs else MAX_COPIES
    first = next(iter(results.values()))
    blocks = target_blocks(model, dataset, first.targets, max_copies)
    if len(blocks) == 1:
        return evaluate_together(model, params, dataset, results, **settings)
    parts = [
        evaluate_together(
            model, params, dataset, {n: r.select(ids) for n, r in results.items()}, **settings
        )
        for ids in blocks
    ]
    return _merged(parts)


def target_blocks(model: Any, dataset: Any, targets: np.ndarray, max_copies: int) -> list:
    """The distinct ``targets`` (first-appearance order) cut into consecutive blocks of ids whose
    (K+1)-hop neighbourhoods hold at most ``max_copies`` copies together (bounded by walk
    counts; graph targets: their graphs' nodes plus edges; a block holds one target at least).
    Every row of a target falls in its one block."""
    targets = np.asarray(targets)
    _, first = np.unique(targets, return_index=True)
    ids = targets[np.sort(first)]
    explainable = as_explainable(model)
    prepared = prepare_data(dataset, explainable)
    cost = target_walks(prepared, ids, explainable.num_hops + 1)
    blocks, begin, used = [], 0, 0.0
    for i, size in enumerate(cost.tolist()):
        if i > begin and used + size > max_copies:
            blocks.append(ids[begin:i])
            begin, used = i, 0.0
        used += size
    blocks.append(ids[begin:])
    return blocks


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
