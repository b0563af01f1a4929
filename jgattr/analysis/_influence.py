"""Influence: how much each source node drives the model's predictions over all targets."""

from __future__ import annotations

import numpy as np

from jgattr.analysis._blocks import DEFAULT_MAX_PAIRS, Source, iter_blocks, node_values


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative ``values``: 0 when all equal, → 1 when one holds all.

    ``G = Σ_i (2 i − n − 1) x_(i) / (n Σ_i x_i)`` over the values sorted ascending (i = 1..n).
    """
    x = np.sort(np.asarray(values, np.float64))
    n, total = x.shape[0], float(x.sum())
    if n == 0 or total == 0.0:
        return 0.0
    return float(np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / (n * total))


def top_share(values: np.ndarray, fraction: float = 0.01) -> float:
    """Share of ``Σ values`` held by the largest ``ceil(fraction · n)`` of them."""
    x = np.asarray(values, np.float64)
    total = float(x.sum())
    if x.shape[0] == 0 or total == 0.0:
        return 0.0
    k = int(np.ceil(fraction * x.shape[0]))
    return float(np.sort(x)[-k:].sum() / total)


def influence(
    source: Source,
    num_sources: int,
    num_classes: int,
    *,
    top: int = 20,
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> dict:
    """Every source's total relevance over all targets, streamed a block of rows at a time.

    With ``R[t, j]`` the relevance of source ``j`` for target ``t`` (explained class ``c_t``):
    ``abs[j] = Σ_t |R[t, j]|``, ``signed[j] = Σ_t R[t, j]`` and
    ``per_class[c, j] = Σ_{t: c_t = c} |R[t, j]|``. Concentration is measured over the sources
    that score for at least one target (``active``): the share of ``Σ abs`` held by the top 1 %
    of them, and the Gini coefficient of ``abs`` over them.

    Args:
      source: one method's result (in memory, a ``.npz`` file or a result folder).
      num_sources: ``N`` (nodes; edges for edge-level results).
      num_classes: ``C``, the explained classes' range.
      top: how many of the most influential sources to list.
      max_pairs: pairs per streamed block (memory bound).

    Returns:
      A dict: ``method``, ``num_targets``, ``active_sources``, ``total_abs``, ``top1_share``,
      ``gini``, ``top`` (``[{"source", "abs", "signed"}]``, most influential first),
      ``class_abs`` (``Σ_j per_class[c, j]`` per class); and the arrays ``abs`` ``[N]``,
      ``signed`` ``[N]``, ``per_class`` ``[C, N]`` (float64).

    Examples:
      >>> view = influence("run/attributions_nam", ds.num_nodes, ds.num_classes)
      >>> view["top1_share"], view["top"][0]["source"]
    """
    absolute, signed = np.zeros(num_sources), np.zeros(num_sources)
    per_class = np.zeros((num_classes, num_sources))
    method, num_targets = "", 0
    for block in iter_blocks(source, max_pairs):
        method, num_targets = block.method, num_targets + block.num_targets
        values, sources = node_values(block), np.asarray(block.sources, np.int64)
        classes = np.repeat(np.asarray(block.classes, np.int64), np.diff(block.offsets))
        absolute += np.bincount(sources, np.abs(values), minlength=num_sources)
        signed += np.bincount(sources, values, minlength=num_sources)
        flat = classes * num_sources + sources
        per_class += np.bincount(flat, np.abs(values), minlength=per_class.size).reshape(
            per_class.shape
        )
    active = absolute[absolute > 0]
    order = np.argsort(-absolute, kind="stable")[:top]
    return {
        "method": method,
        "num_targets": num_targets,
        "active_sources": int(active.shape[0]),
        "total_abs": float(absolute.sum()),
        "top1_share": top_share(active, 0.01),
        "gini": gini(active),
        "top": [
            {"source": int(j), "abs": float(absolute[j]), "signed": float(signed[j])} for j in order
        ],
        "class_abs": per_class.sum(axis=1).tolist(),
        "abs": absolute,
        "signed": signed,
        "per_class": per_class,
    }
