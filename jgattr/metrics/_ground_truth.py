"""Explanation accuracy against a known ground truth (GNNExplainer's synthetic benchmarks).

For a target node inside a motif (a house, cycle or grid), the nodes and edges of *its own* motif
instance are the true explanation. Node scores over the target's computation graph are ranked
against that truth by ROC-AUC; edge scores are derived from node scores (the mean of the two
endpoints) and ranked against the motif's edges. Both are averaged over the scored targets.
The ground truth is unsigned importance, so the main AUCs rank ``|score|``; the signed ranking
(positive evidence first) is reported beside them.

References:
  Ying et al., GNNExplainer: Generating Explanations for Graph Neural Networks, NeurIPS 2019.
"""

import numpy as np

from jgattr.attribution import Attributions, InEdges


def roc_auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve of ``scores [n]`` for boolean ``truth [n]`` (ties averaged).

    Mann–Whitney: the probability that a random positive outranks a random negative. NaN when
    ``truth`` holds a single class.
    """
    truth = np.asarray(truth, dtype=bool)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(order))
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0  # 1-based average rank of each tie group
    ranks[order] = np.repeat(average, counts)
    return float((ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _edges_among_sources(graph, result: Attributions, num_nodes: int):
    """Every graph edge with both ends in a target's sources: (target row, edge id, u, v)."""
    rows = result.rows
    keys = rows.astype(np.int64) * num_nodes + result.sources
    in_edges = InEdges.of(graph)
    owner, position = in_edges.expand(result.sources.astype(np.int64))
    sender_keys = rows[owner].astype(np.int64) * num_nodes + in_edges.senders[position]
    found = np.searchsorted(keys, sender_keys)
    inside = (found < keys.shape[0]) & (keys[np.minimum(found, keys.shape[0] - 1)] == sender_keys)
    return rows[owner][inside], in_edges.order[position][inside], found[inside], owner[inside]


def explanation_accuracy(result: Attributions, dataset) -> dict:
    """Node and edge ROC-AUC of ``result`` against ``dataset.ground_truth``.

    Args:
      result: attributions of some targets (the scored ones are those inside a motif).
      dataset: a synthetic :class:`~jgattr.data.Dataset` with ``ground_truth``.

    Returns:
      ``{"node_auc", "edge_auc", "node_auc_signed", "edge_auc_signed", "targets_scored"}``;
      AUCs are means over motif targets whose computation graph holds both motif and non-motif
      nodes (edges); the unsigned ones rank ``|score|``. Node methods give edge scores as the
      mean of the endpoints' node scores; edge methods are scored on their own edge values and
      have no node AUC.
    """
    accuracy = _edge_accuracy if result.level == "edge" else _accuracy
    signed = accuracy(result, dataset, signed=True)
    unsigned = accuracy(result, dataset, signed=False)
    return {
        "node_auc": unsigned["node_auc"],
        "edge_auc": unsigned["edge_auc"],
        "node_auc_signed": signed["node_auc"],
        "edge_auc_signed": signed["edge_auc"],
        "targets_scored": unsigned["targets_scored"],
    }


def _edge_accuracy(result: Attributions, dataset, *, signed: bool) -> dict:
    """Edge methods: their edge scores against the target's motif edges (self loops left out)."""
    truth = dataset.ground_truth
    rows = result.rows
    own = _own_motif(result, truth.motif_id)
    real = result.sources < dataset.num_edges  # ids past the input graph's edges are self loops
    edge_ids = np.where(real, result.sources, 0)
    senders = np.asarray(dataset.graph.senders)[edge_ids]
    edge_truth = real & truth.edge_mask[edge_ids] & (truth.motif_id[senders] == own[rows])
    values = result.values if signed else np.abs(result.values)
    aucs = [
        roc_auc(values[(rows == t) & real], edge_truth[(rows == t) & real])
        for t in np.flatnonzero(own >= 0)
    ]
    return {
        "node_auc": None,
        "edge_auc": _nanmean(aucs),
        "targets_scored": int(np.isfinite(aucs).sum()),
    }


def _accuracy(result: Attributions, dataset, *, signed: bool) -> dict:
    truth = getattr(dataset, "ground_truth", None)
    if truth is None:
        raise ValueError(f"dataset {dataset.name!r} has no ground truth; use a synthetic dataset")
    motif = truth.motif_id
    rows = result.rows
    own = _own_motif(result, motif)
    in_motif = own >= 0
    node_truth = (motif[result.sources] == own[rows]) & in_motif[rows]
    values = result.values if result.values.ndim == 1 else result.values.sum(-1)
    values = values if signed else np.abs(values)
    node_aucs = [
        roc_auc(values[rows == t], node_truth[rows == t]) for t in np.flatnonzero(in_motif)
    ]
    edge_rows, edge_ids, u, v = _edges_among_sources(dataset.graph, result, dataset.num_nodes)
    edge_scores = (values[u] + values[v]) / 2.0
    edge_truth = truth.edge_mask[edge_ids] & (motif[result.sources[u]] == own[edge_rows])
    edge_aucs = [
        roc_auc(edge_scores[edge_rows == t], edge_truth[edge_rows == t])
        for t in np.flatnonzero(in_motif)
    ]
    return {
        "node_auc": _nanmean(node_aucs),
        "edge_auc": _nanmean(edge_aucs),
        "targets_scored": int(np.sum(np.isfinite(node_aucs))),
    }


def _own_motif(result: Attributions, motif_id: np.ndarray) -> np.ndarray:
    """``[T]`` the motif instance each target is explained by (-1: none): a node target's own
    motif; for a graph target, the motif planted in that graph (motif ids are graph ids)."""
    if result.target_level == "node":
        return motif_id[result.targets]
    planted = np.isin(result.targets, motif_id[motif_id >= 0])
    return np.where(planted, result.targets, -1)


def _nanmean(values: list[float]) -> float | None:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return float(finite.mean()) if finite.size else None
