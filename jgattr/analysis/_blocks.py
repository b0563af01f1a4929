"""Reading any result (in memory, ``.npz`` file or result folder) a bounded block of rows at a time.

Every dataset-level view is a sum over (target, source) pairs, so it reads a result as a stream
of row blocks of at most ``max_pairs`` pairs: an in-memory :class:`Attributions` is sliced; a
result folder (:func:`~jgattr.attribution.open_shards`) is read shard by shard from its
memory-mapped ``.npy`` files, each shard cut into blocks, so a view never holds more than one
block of pairs plus its own ``[N]`` / ``[T]`` accumulators.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from jgattr.attribution import Attributions, ShardedAttributions, open_shards

Result = Attributions | ShardedAttributions
Source = Result | str | os.PathLike
DEFAULT_MAX_PAIRS = 1 << 20
_PER_TARGET = ("targets", "classes", "logits", "expected", "layer_totals")


def open_result(source: Source) -> Result:
    """``source`` itself, or the result folder / ``.npz`` file it names (folders stay lazy)."""
    if isinstance(source, Attributions | ShardedAttributions):
        return source
    path = Path(source)
    if path.is_dir():
        return open_shards(path)
    if path.is_file():
        return Attributions.load(path)
    raise ValueError(
        f"source must be an Attributions, a result folder or a .npz file, got {source!r}, "
        "which does not exist"
    )


def take(result: Attributions, rows: np.ndarray) -> Attributions:
    """Rows ``rows`` (positions, any order) of ``result`` copied out (arrays may be mapped)."""
    rows = np.asarray(rows, np.int64)
    starts = np.asarray(result.offsets[rows], np.int64)
    counts = np.asarray(result.offsets[rows + 1], np.int64) - starts
    offsets = np.zeros(rows.shape[0] + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    positions = np.repeat(starts - offsets[:-1], counts) + np.arange(offsets[-1])
    return dataclasses.replace(
        result,
        **{name: np.asarray(getattr(result, name)[rows]) for name in _PER_TARGET},
        offsets=offsets,
        sources=np.asarray(result.sources[positions]),
        values=np.asarray(result.values[positions]),
    )


def _parts(result: Result) -> Iterator[Attributions]:
    if isinstance(result, Attributions):
        yield result
    else:
        for index in range(len(result.shards)):
            yield result.shard(index)


def iter_blocks(source: Source, max_pairs: int = DEFAULT_MAX_PAIRS) -> Iterator[Attributions]:
    """Consecutive row blocks of ``source``, each of at most ``max_pairs`` pairs (or one row).

    Args:
      source: an :class:`Attributions`, a :class:`ShardedAttributions` or a path to either.
      max_pairs: the most (target, source) pairs a block holds (a longer row is its own block).

    Yields:
      In-memory :class:`Attributions` of consecutive targets, in target order.
    """
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be >= 1, got {max_pairs}")
    for part in _parts(open_result(source)):
        offsets = np.asarray(part.offsets, np.int64)
        start = 0
        while start < part.num_targets:
            stop = int(np.searchsorted(offsets, offsets[start] + max_pairs, side="right")) - 1
            stop = min(max(stop, start + 1), part.num_targets)
            yield take(part, np.arange(start, stop))
            start = stop


def node_values(block: Attributions) -> np.ndarray:
    """``[nnz]`` float64 relevance per pair (node x feature values summed over features)."""
    values = np.asarray(block.values, np.float64)
    return values.reshape(values.shape[0], -1).sum(axis=1) if values.ndim > 1 else values


def take_positions(result: Result, positions: np.ndarray) -> Attributions:
    """The rows at ``positions`` (sorted, unique) of any result, reading only those rows."""
    if isinstance(result, Attributions) or positions.size == 0:
        return take(next(_parts(result)), positions)
    starts = np.array([start for _, start, _ in result.shards], np.int64)
    owner = np.searchsorted(starts, positions, side="right") - 1
    parts = [
        take(result.shard(int(i), random_access=True), positions[owner == i] - starts[i])
        for i in np.unique(owner)
    ]
    if len(parts) == 1:
        return parts[0]
    joined = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in (*_PER_TARGET, "sources", "values")
    }
    sizes = np.concatenate([np.diff(p.offsets) for p in parts])
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return dataclasses.replace(parts[0], offsets=offsets, **joined)


def json_list(values: np.ndarray) -> list:
    """``values`` as (nested) lists of floats, NaN and infinities as ``None`` (JSON has no NaN)."""
    array = np.asarray(values, np.float64)
    return np.where(np.isfinite(array), array, None).tolist()
