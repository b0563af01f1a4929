"""Faithfulness metrics of node attributions, for all targets at once.

Every metric is read off the logits of perturbed neighbourhoods (:mod:`._perturb`): deleting
nodes in attribution order (NAM paper, Fig. 6), in reverse order and in random orders; keeping
only the top-ranked nodes (fidelity-, probability change); deleting the negative ones (the
SIG-LID-IG paper's minimal patch). Pope et al. give sparsity.

References:
  Xie & Lu (NAM/NIV), section 4; Chen et al., SIG-LID-IG, sections 4.2-4.3;
  Pope et al., Explainability Methods for Graph Convolutional Neural Networks, CVPR 2019.
"""

import functools

import numpy as np

from jgattr.attribution import Attributions
from jgattr.metrics._edge_deletion import EdgeCandidates, edge_candidate_scores, edge_candidates
from jgattr.metrics._perturb import Neighbourhoods, evaluate_keep_masks, neighbourhoods

LEVELS = np.round(np.linspace(0.0, 1.0, 11), 10)
FIDELITY_FRACTION = 0.2
SPARSITY_THRESHOLD = 0.1


def candidate_scores(neighbourhood: Neighbourhoods, result: Attributions, num_nodes: int):
    """``[S]`` attribution of each deletable copy (NaN elsewhere), aligned with the union."""
    if not np.array_equal(result.targets, neighbourhood.targets):
        raise ValueError(
            f"attributions of {result.method!r} are for other targets than the neighbourhoods; "
            "explain and evaluate the same targets in the same order"
        )
    keys = result.rows.astype(np.int64) * num_nodes + result.sources
    union = neighbourhood.union
    wide = neighbourhood.copy_target.astype(np.int64) * num_nodes + union.copy_node
    position = np.clip(np.searchsorted(keys, wide), 0, keys.shape[0] - 1)
    scores = np.where(neighbourhood.candidate, result.values[position], np.nan)
    return scores.astype(np.float64)


def _ranks(neighbourhood: Neighbourhoods, scores: np.ndarray) -> np.ndarray:
    """``[S]`` rank of each candidate within its target, highest score first (-1 elsewhere)."""
    index = np.flatnonzero(neighbourhood.candidate)
    owner = neighbourhood.copy_target[index]
    order = np.lexsort((-scores[index], owner))
    starts = np.concatenate([[0], np.cumsum(neighbourhood.counts)[:-1]])
    ranks = np.full(scores.shape[0], -1, dtype=np.int64)
    ranks[index[order]] = np.arange(index.size) - starts[owner[order]]
    return ranks


def deletion_masks(neighbourhood: Neighbourhoods, scores: np.ndarray, levels) -> np.ndarray:
    """``[L, S]`` keep masks deleting the top ``⌊p n_t⌉`` candidates of each target per level."""
    ranks = _ranks(neighbourhood, scores)
    counts = neighbourhood.counts
    quotas = np.floor(np.asarray(levels)[:, None] * counts[None, :] + 0.5).astype(np.int64)
    quota = quotas[:, neighbourhood.copy_target]
    deleted = neighbourhood.candidate[None, :] & (ranks[None, :] < quota)
    return ~deleted


def _softmax_at(logits: np.ndarray, classes: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    return np.take_along_axis(probs, classes[None, :, None], axis=-1)[..., 0]


def _auc(levels, curve) -> float:
    return float(np.trapezoid(curve, levels))


class _Evaluation:
    """Shared state of one evaluation: the model, the neighbourhoods, the unperturbed logits."""

    def __init__(self, model, params, data, targets, labels, mode):
        self.model, self.params, self.data, self.mode = model, params, data, mode
        self.neighbourhood = neighbourhoods(model, data, targets)
        self.labels = np.asarray(labels)[targets]
        full = np.ones((1, self.neighbourhood.union.num_copies), bool)
        self.logits = self.logits_for(full)[0]
        self.predicted = self.logits.argmax(-1)

    @functools.cached_property
    def edges(self) -> EdgeCandidates:
        """The deletable edges of every target (built when an edge method is evaluated)."""
        return edge_candidates(self.model, self.data, self.neighbourhood)

    def logits_for(self, keep: np.ndarray) -> np.ndarray:
        return evaluate_keep_masks(
            self.model, self.params, self.data, self.neighbourhood, keep, mode=self.mode
        )

    def logits_for_edges(self, edge_keep: np.ndarray) -> np.ndarray:
        """``[M, T, C]`` logits with every node kept and the edges of ``edge_keep [M, E_u]``."""
        keep = np.ones((edge_keep.shape[0], self.neighbourhood.union.num_copies), bool)
        return evaluate_keep_masks(
            self.model,
            self.params,
            self.data,
            self.neighbourhood,
            keep,
            mode=self.mode,
            edge_keep=edge_keep,
        )

    def accuracy(self, logits: np.ndarray) -> np.ndarray:
        return (logits.argmax(-1) == self.labels[None, :]).mean(axis=-1)

    def changed(self, logits: np.ndarray) -> np.ndarray:
        return (logits.argmax(-1) != self.predicted[None, :]).mean(axis=-1)


def _method_metrics(run: _Evaluation, result: Attributions, levels, num_nodes: int) -> dict:
    """Node methods delete nodes; edge methods delete the edges of the computation graphs."""
    if result.level == "edge":
        items, logits_for = run.edges, run.logits_for_edges
        scores = edge_candidate_scores(items, result)
    else:
        items, logits_for = run.neighbourhood, run.logits_for
        scores = candidate_scores(items, result, num_nodes)
    masks = np.concatenate(
        [
            deletion_masks(items, scores, levels),
            deletion_masks(items, -scores, levels),
            (~(items.candidate & (scores < 0)))[None, :],
        ]
    )
    logits = logits_for(masks)
    top, bottom, patch = logits[: len(levels)], logits[len(levels) : -1], logits[-1:]
    classes = result.classes
    base = _softmax_at(run.logits[None], classes)[0]
    keep_top = bottom[::-1]  # deleting the bottom 1 - q keeps the top q
    probability_change = (_softmax_at(keep_top, classes) - base[None, :]).mean(axis=-1)
    deletion, reverse = run.accuracy(top), run.accuracy(bottom)
    fraction = int(np.argmin(np.abs(np.asarray(levels) - FIDELITY_FRACTION)))
    return {
        "deletes": "edges" if result.level == "edge" else "nodes",
        "deletion_accuracy": deletion.tolist(),
        "deletion_auc": _auc(levels, deletion),
        "reverse_deletion_accuracy": reverse.tolist(),
        "reverse_deletion_auc": _auc(levels, reverse),
        "probability_change_keep_top": probability_change.tolist(),
        "probability_change_auc": _auc(levels, probability_change),
        "fidelity_plus": float(run.changed(top[fraction : fraction + 1])[0]),
        "fidelity_minus": float(run.changed(keep_top[fraction : fraction + 1])[0]),
        "minimal_patch_probability_change": float((_softmax_at(patch, classes)[0] - base).mean()),
        "sparsity": _sparsity(items, scores),
        "delta": _delta_summary(result),
    }


def _sparsity(neighbourhood: Neighbourhoods | EdgeCandidates, scores: np.ndarray) -> float:
    """Pope et al.: 1 − (important nodes / all), important = |value| ≥ 10% of the target's max."""
    index = np.flatnonzero(neighbourhood.candidate)
    owner = neighbourhood.copy_target[index]
    magnitude = np.abs(scores[index])
    peak = np.zeros(neighbourhood.targets.shape[0])
    np.maximum.at(peak, owner, magnitude)
    important = magnitude >= SPARSITY_THRESHOLD * np.maximum(peak[owner], 1e-30)
    return float(1.0 - important.mean()) if index.size else 0.0


def _positive_evidence(result: Attributions) -> np.ndarray:
    """``[nnz]`` bool: relevance > 0 and ≥ 10% of the target's largest relevance."""
    rows = result.rows
    peak = np.zeros(result.num_targets)
    np.maximum.at(peak, rows, result.values)
    return (result.values > 0) & (result.values >= SPARSITY_THRESHOLD * peak[rows])


def contrastivity(explained: Attributions, contrast: Attributions) -> float:
    """Pope et al.'s contrastivity: how differently two classes are explained.

    Both results hold the same targets (and so the same sources), explained for two classes
    (e.g. the predicted one and the runner-up). Each is binarized into positive evidence
    (relevance > 0 and ≥ 10% of the target's maximum); the score is the symmetric difference
    of the two sets over their union, averaged over targets: 0 = same nodes, 1 = disjoint.
    """
    if not (
        np.array_equal(explained.targets, contrast.targets)
        and np.array_equal(explained.sources, contrast.sources)
    ):
        raise ValueError("contrastivity needs two results for the same targets")
    first, second = _positive_evidence(explained), _positive_evidence(contrast)
    rows = explained.rows
    differ = np.bincount(rows, weights=first ^ second, minlength=explained.num_targets)
    either = np.bincount(rows, weights=first | second, minlength=explained.num_targets)
    return float(np.mean(np.where(either > 0, differ / np.maximum(either, 1), 0.0)))


def _delta_summary(result: Attributions) -> dict:
    delta = np.abs(result.delta[np.isfinite(result.delta)])
    if not delta.size:
        return {"max_abs": None, "mean_abs": None}
    return {"max_abs": float(delta.max()), "mean_abs": float(delta.mean())}


def _random_metrics(run: _Evaluation, levels, seeds, *, edges: bool = False) -> dict:
    """Deletion in random orders of the nodes (or, ``edges``, of the computation graphs' edges)."""
    items = run.edges if edges else run.neighbourhood
    size = items.candidate.shape[0]
    masks = [
        deletion_masks(items, np.random.default_rng(seed).random(size), levels) for seed in seeds
    ]
    logits_for = run.logits_for_edges if edges else run.logits_for
    logits = logits_for(np.concatenate(masks)).reshape(len(seeds), len(levels), *run.logits.shape)
    curves = np.stack([run.accuracy(per_seed) for per_seed in logits])
    return {
        "seeds": list(seeds),
        "deletion_accuracy": curves.tolist(),
        "deletion_accuracy_mean": curves.mean(0).tolist(),
        "deletion_accuracy_std": curves.std(0).tolist(),
        "deletion_auc": _auc(levels, curves.mean(0)),
    }


def evaluate_together(
    model,
    params,
    dataset,
    results: dict[str, Attributions],
    *,
    mode: str = "remove",
    levels=LEVELS,
    random_seeds=(0, 1, 2, 3, 4),
) -> dict:
    """:func:`~jgattr.metrics.evaluate` on every target at once: one neighbourhood copy per
    target, all batched (the caller bounds their number)."""
    if not results:
        raise ValueError("results must hold at least one method's attributions")
    first = next(iter(results.values()))
    levels = np.asarray(levels, dtype=np.float64)
    if levels.ndim != 1 or np.any((levels < 0) | (levels > 1)):
        raise ValueError(f"levels must be fractions in [0, 1], got {levels}")
    run = _Evaluation(model, params, dataset, first.targets, dataset.labels, mode)
    metrics = {
        "mode": mode,
        "levels": levels.tolist(),
        "targets": int(first.num_targets),
        "neighbours_mean": float(run.neighbourhood.counts.mean()),
        "accuracy_unperturbed": float(run.accuracy(run.logits[None])[0]),
        "random": _random_metrics(run, levels, random_seeds),
        "methods": {
            name: _method_metrics(run, result, levels, dataset.num_nodes)
            for name, result in results.items()
        },
    }
    if any(result.level == "edge" for result in results.values()):
        metrics["edges_mean"] = float(run.edges.counts.mean())
        metrics["random_edges"] = _random_metrics(run, levels, random_seeds, edges=True)
    return metrics
