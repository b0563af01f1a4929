"""Class locality (does relevance stay inside the target's class?) and, for graph targets, the
relevance per node label (which atoms drive each class)."""

from __future__ import annotations

import numpy as np

from jgattr.analysis._blocks import DEFAULT_MAX_PAIRS, Source, iter_blocks, json_list, node_values


def class_locality(
    source: Source,
    labels: np.ndarray,
    predicted: np.ndarray,
    num_classes: int,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> dict:
    """Per class, the share of a target's relevance that comes from nodes of its own class.

    For target ``t`` (node ``a``) and each other source ``j`` of its computation graph, with
    ``w = |R[t, j]|``: ``true_share[c] = Σ w [y_j = y_a] / Σ w`` over targets with ``y_a = c``,
    and ``predicted_share[c]`` the same with predicted classes ``ŷ`` (targets with ``ŷ_a = c``).
    The target itself is left out (it is always of its own class); its share of the relevance is
    ``self_share``. ``*_baseline`` is the same ratio counting sources instead of weighting them
    by relevance: how local the computation graphs are before any method weighs them.
    Unlabeled nodes (``-1``) never count as same-class, and targets without a label are skipped
    in the true-class numbers.

    Args:
      source: one method's node-level result (in memory, ``.npz`` or result folder).
      labels: int ``[N]`` true classes (``-1``: unlabeled).
      predicted: int ``[N]`` the model's predicted classes.
      num_classes: ``C``.
      max_pairs: pairs per streamed block.

    Returns:
      ``{"method", "true_share", "predicted_share", "true_baseline", "predicted_baseline",
      "self_share", "targets_per_class"}``, each a list of ``C`` floats (None where a class has
      no target), ``targets_per_class`` a list of ``C`` ints (by true class).
    """
    labels, predicted = np.asarray(labels, np.int64), np.asarray(predicted, np.int64)
    sums = {
        name: np.zeros(num_classes)
        for name in (
            "true_same",
            "true_all",
            "pred_same",
            "pred_all",
            "true_same_n",
            "true_all_n",
            "pred_same_n",
            "pred_all_n",
            "self",
            "total",
        )
    }
    counts, method = np.zeros(num_classes, np.int64), ""
    for block in iter_blocks(source, max_pairs):
        method = block.method
        target = np.repeat(np.asarray(block.targets, np.int64), np.diff(block.offsets))
        src, weight = np.asarray(block.sources, np.int64), np.abs(node_values(block))
        is_self = src == target
        for kind, classes in (("true", labels), ("pred", predicted)):
            own = classes[target]
            other = ~is_self & (own >= 0)
            same = other & (classes[src] == own)
            for suffix, w in (("", weight), ("_n", np.ones_like(weight))):
                sums[f"{kind}_same{suffix}"] += np.bincount(own[same], w[same], num_classes)
                sums[f"{kind}_all{suffix}"] += np.bincount(own[other], w[other], num_classes)
        own = labels[target]
        known = own >= 0
        sums["self"] += np.bincount(own[known & is_self], weight[known & is_self], num_classes)
        sums["total"] += np.bincount(own[known], weight[known], num_classes)
        known_targets = labels[np.asarray(block.targets, np.int64)]
        counts += np.bincount(known_targets[known_targets >= 0], minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = lambda a, b: json_list(sums[a] / sums[b])
        return {
            "method": method,
            "true_share": ratio("true_same", "true_all"),
            "predicted_share": ratio("pred_same", "pred_all"),
            "true_baseline": ratio("true_same_n", "true_all_n"),
            "predicted_baseline": ratio("pred_same_n", "pred_all_n"),
            "self_share": ratio("self", "total"),
            "targets_per_class": counts.tolist(),
        }


def label_relevance(
    source: Source,
    node_labels: np.ndarray,
    names: tuple[str, ...] | list[str],
    num_classes: int,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> dict:
    """Per explained class and node label (atom type), the relevance its nodes carry.

    For graph targets (a :class:`~jgattr.data.GraphDataset`, ``target_level == "graph"``) or
    node targets alike: with ``L`` labels, ``signed[c, l] = Σ_{t: c_t = c} Σ_{j: label_j = l}
    R[t, j]`` and ``abs[c, l]`` the same of ``|R|``; ``share[c, l] = abs[c, l] / Σ_l abs[c, l]``
    and ``per_node[c, l] = signed[c, l] / count[c, l]``, the mean signed relevance of one node of
    label ``l`` in the targets of class ``c`` (``count``: how many such (target, node) pairs), and
    ``enrichment[c, l] = share[c, l] / (count[c, l] / Σ_l count[c, l])``: the |relevance| a node
    of label ``l`` carries relative to the average node (1: as much as the average; > 1: more).

    Args:
      source: one method's result.
      node_labels: int ``[N]`` label id of each node, in ``[0, L)``.
      names: ``L`` label names (``("C", "N", "O", ...)`` for MUTAG).
      num_classes: ``C``.
      max_pairs: pairs per streamed block.

    Returns:
      ``{"method", "labels": names, "share", "signed", "abs", "per_node", "enrichment",
      "count"}``, each a ``C x L`` nested list (``None`` where undefined).
    """
    node_labels = np.asarray(node_labels, np.int64)
    width = len(names)
    shape = (num_classes, width)
    sums = {k: np.zeros(num_classes * width) for k in ("signed", "abs", "count")}
    method = ""
    for block in iter_blocks(source, max_pairs):
        method = block.method
        classes = np.repeat(np.asarray(block.classes, np.int64), np.diff(block.offsets))
        cell = classes * width + node_labels[np.asarray(block.sources, np.int64)]
        values = node_values(block)
        for key, weight in (
            ("signed", values),
            ("abs", np.abs(values)),
            ("count", np.ones_like(values)),
        ):
            sums[key] += np.bincount(cell, weight, num_classes * width)
    signed, absolute, count = (sums[k].reshape(shape) for k in ("signed", "abs", "count"))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = absolute / absolute.sum(axis=1, keepdims=True)
        per_node = signed / count
        pairs_share = count / count.sum(axis=1, keepdims=True)
        enrichment = share / pairs_share
    return {
        "method": method,
        "labels": list(names),
        "share": json_list(share),
        "signed": signed.tolist(),
        "abs": absolute.tolist(),
        "per_node": json_list(per_node),
        "enrichment": json_list(enrichment),
        "count": count.astype(np.int64).tolist(),
    }


def mask_share(source: Source, node_mask: np.ndarray, *, max_pairs: int = DEFAULT_MAX_PAIRS):
    """``[T]`` share of each target's ``|relevance|`` on the nodes of ``node_mask`` (bool ``[N]``),
    e.g. the N and O atoms of MUTAG's nitro groups; NaN for a target with no relevance.

    Returns:
      ``(targets [T], classes [T], share [T])``.
    """
    node_mask = np.asarray(node_mask, bool)
    parts = []
    for block in iter_blocks(source, max_pairs):
        rows = np.repeat(np.arange(block.num_targets), np.diff(block.offsets))
        weight = np.abs(node_values(block))
        inside = node_mask[np.asarray(block.sources, np.int64)]
        on = np.bincount(rows[inside], weight[inside], block.num_targets)
        total = np.bincount(rows, weight, block.num_targets)
        with np.errstate(invalid="ignore", divide="ignore"):
            parts.append((block.targets, block.classes, np.where(total > 0, on / total, np.nan)))
    return tuple(np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(3))
