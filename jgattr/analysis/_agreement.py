"""Method agreement: per target, do two methods rank the same sources as most relevant?"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from jgattr.analysis._blocks import (
    Result,
    Source,
    json_list,
    node_values,
    open_result,
    take_positions,
)

_ROW_SHIFT = 31  # entry key = aligned row << 31 | source id (ids are int32)


def _keys(result: Result, num_classes: int) -> np.ndarray:
    return np.asarray(result.targets, np.int64) * num_classes + np.asarray(result.classes)


def _aligned_entries(result: Result, positions: np.ndarray, batch_keys: np.ndarray, nc: int):
    """(entry keys ``row << 31 | source``, ``|relevance|``) of the rows at ``positions``, their
    rows renumbered in the order of ``batch_keys`` (sorted)."""
    order = np.argsort(positions)
    block = take_positions(result, positions[order])
    row_of_block = np.searchsorted(batch_keys, _keys(block, nc))
    rows = np.repeat(row_of_block, np.diff(block.offsets))
    keys = (rows << _ROW_SHIFT) | np.asarray(block.sources, np.int64)
    values = np.abs(node_values(block))
    sort = np.argsort(keys, kind="stable")
    return keys[sort], values[sort]


def _row_starts(rows: np.ndarray, num_rows: int) -> np.ndarray:
    counts = np.bincount(rows, minlength=num_rows)
    return np.concatenate([[0], np.cumsum(counts)[:-1]])


def _descending_rank(rows: np.ndarray, x: np.ndarray, num_rows: int) -> np.ndarray:
    """0-based rank of each entry by ``x`` descending within its row (ties: lower source first)."""
    order = np.lexsort((-x, rows))
    rank = np.empty(x.shape[0], np.int64)
    rank[order] = np.arange(x.shape[0]) - _row_starts(rows, num_rows)[rows[order]]
    return rank


def _average_rank(rows: np.ndarray, x: np.ndarray, num_rows: int) -> np.ndarray:
    """Rank of each entry by ``x`` ascending within its row, ties given their average rank."""
    order = np.lexsort((x, rows))
    r, v = rows[order], x[order]
    new = np.ones(x.shape[0], bool)
    new[1:] = (r[1:] != r[:-1]) | (v[1:] != v[:-1])
    group = np.cumsum(new) - 1
    ordinal = np.arange(x.shape[0]) - _row_starts(rows, num_rows)[r]
    mean = np.bincount(group, ordinal) / np.bincount(group)
    rank = np.empty(x.shape[0])
    rank[order] = mean[group]
    return rank


def _per_row_spearman(rows: np.ndarray, x: np.ndarray, y: np.ndarray, num_rows: int):
    """Spearman correlation per row (NaN for rows of < 2 entries or constant ranks)."""
    rx, ry = _average_rank(rows, x, num_rows), _average_rank(rows, y, num_rows)
    n = np.bincount(rows, minlength=num_rows).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.bincount(rows, rx, num_rows) / n
        my = np.bincount(rows, ry, num_rows) / n
        dx, dy = rx - mx[rows], ry - my[rows]
        cov = np.bincount(rows, dx * dy, num_rows)
        var = np.bincount(rows, dx * dx, num_rows) * np.bincount(rows, dy * dy, num_rows)
        return np.where(var > 0, cov / np.sqrt(var), np.nan)


def _batch_metrics(a, b, ks: Sequence[int], num_rows: int) -> dict[str, np.ndarray]:
    """Top-k overlaps and Spearman of aligned rows on their common sources."""
    (keys_a, va), (keys_b, vb) = a, b
    _, ia, ib = np.intersect1d(keys_a, keys_b, return_indices=True)
    rows, x, y = keys_a[ia] >> _ROW_SHIFT, va[ia], vb[ib]
    n = np.bincount(rows, minlength=num_rows)
    rank_x, rank_y = _descending_rank(rows, x, num_rows), _descending_rank(rows, y, num_rows)
    out = {"common_sources": n.astype(np.float64)}
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in ks:
            both = np.bincount(rows, (rank_x < k) & (rank_y < k), num_rows)
            out[f"overlap@{k}"] = np.where(n > 0, both / np.minimum(k, n), np.nan)
    out["spearman"] = _per_row_spearman(rows, x, y, num_rows)
    return out


def pair_agreement(
    first: Source,
    second: Source,
    num_classes: int,
    *,
    ks: Sequence[int] = (5, 10),
    batch_targets: int = 4096,
) -> dict[str, np.ndarray]:
    """Per common target of two results, agreement on the sources both scored.

    For target ``t`` let ``S_t`` be the sources both methods scored (their common computation
    graph) and ``a, b`` the two methods' ``|relevance|`` on ``S_t``. Then ``overlap@k`` is
    ``|top_k(a) ∩ top_k(b)| / min(k, |S_t|)`` (ties broken by the lower source id) and
    ``spearman`` the Pearson correlation of the (tie-averaged) ranks of ``a`` and ``b``; NaN
    where ``|S_t| < 2`` or a ranking is constant. Targets are matched by (node, class); both
    results are read ``batch_targets`` rows at a time.

    Returns:
      ``targets``, ``classes`` ``[T_common]`` (sorted by target) and, per target,
      ``common_sources``, ``overlap@k`` for each ``k`` and ``spearman`` (float64).
    """
    results = [open_result(first), open_result(second)]
    keys = [_keys(r, num_classes) for r in results]
    common = np.intersect1d(keys[0], keys[1])
    sorters = [np.argsort(k, kind="stable") for k in keys]
    positions = [s[np.searchsorted(k[s], common)] for k, s in zip(keys, sorters, strict=True)]
    parts = []
    for start in range(0, common.shape[0], batch_targets):
        batch = slice(start, start + batch_targets)
        entries = [
            _aligned_entries(r, p[batch], common[batch], num_classes)
            for r, p in zip(results, positions, strict=True)
        ]
        parts.append(_batch_metrics(*entries, ks, common[batch].shape[0]))
    names = ["common_sources", *(f"overlap@{k}" for k in ks), "spearman"]
    joined = {n: np.concatenate([p[n] for p in parts]) if parts else np.zeros(0) for n in names}
    return {"targets": common // num_classes, "classes": common % num_classes, **joined}


def _summary(values: np.ndarray) -> dict[str, float | int]:
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        return {"n": 0}
    q25, median, q75 = np.percentile(defined, [25, 50, 75])
    return {
        "n": int(defined.size),
        "mean": float(defined.mean()),
        "q25": float(q25),
        "median": float(median),
        "q75": float(q75),
    }


def _most_disagreeing(per_pair: Mapping[str, dict], num_classes: int, worst: int) -> list[dict]:
    """Targets by mean ``1 − spearman`` over the pairs where it is defined, worst first."""
    keys = np.concatenate([p["targets"] * num_classes + p["classes"] for p in per_pair.values()])
    gaps = np.concatenate([1.0 - p["spearman"] for p in per_pair.values()])
    keep = ~np.isnan(gaps)
    unique, inverse = np.unique(keys[keep], return_inverse=True)
    mean = np.bincount(inverse, gaps[keep]) / np.bincount(inverse)
    listed = []
    for index in np.argsort(-mean, kind="stable")[:worst]:
        key = int(unique[index])
        row = {
            "target": key // num_classes,
            "class": key % num_classes,
            "mean_spearman": float(1.0 - mean[index]),
        }
        for pair, view in per_pair.items():
            hit = np.flatnonzero(view["targets"] * num_classes + view["classes"] == key)
            row[pair] = None if hit.size == 0 else json_list(view["spearman"][hit[0]])
        listed.append(row)
    return listed


def method_agreement(
    sources: Mapping[str, Source],
    num_classes: int,
    *,
    ks: Sequence[int] = (5, 10),
    worst: int = 20,
    batch_targets: int = 4096,
) -> dict:
    """:func:`pair_agreement` for every pair of methods, summarized, and the worst targets.

    Args:
      sources: method name → its result (in memory, a ``.npz`` file or a result folder).
      num_classes: ``C`` (targets are matched on node and explained class).
      ks: the ``k`` of the top-k overlaps.
      worst: how many of the most disagreeing targets to list.
      batch_targets: rows read per step from each result (memory bound).

    Returns:
      ``{"pairs": {"a|b": {"spearman": summary, "overlap@k": summary, "common_sources":
      summary}}, "worst": [{"target", "class", "mean_spearman", "a|b": spearman, ...}],
      "per_pair": {"a|b": pair_agreement arrays}}``; a summary is ``n``, ``mean``, ``q25``,
      ``median``, ``q75`` over the targets where the number is defined.
    """
    per_pair = {
        f"{a}|{b}": pair_agreement(
            sources[a], sources[b], num_classes, ks=ks, batch_targets=batch_targets
        )
        for a, b in itertools.combinations(sources, 2)
    }
    pairs = {
        pair: {name: _summary(view[name]) for name in view if name not in ("targets", "classes")}
        for pair, view in per_pair.items()
    }
    worst_targets = _most_disagreeing(per_pair, num_classes, worst) if per_pair else []
    return {"pairs": pairs, "worst": worst_targets, "per_pair": per_pair}
