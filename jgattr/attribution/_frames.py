"""Attributions as long tables, one row per (target, class, source): pandas, Arrow, Parquet.

Columns: ``target`` (node or graph id), ``class`` (the explained class), ``source`` (node id, or
edge id for edge methods: ``level`` in the metadata), ``feature`` (only for feature-level
results) and ``value``, in the result's order (target by target, sources sorted). The metadata
(pandas ``frame.attrs``, Arrow / Parquet schema metadata) holds ``method``, ``level`` and
``target_level``.

A result folder (:class:`~jgattr.attribution.ShardedAttributions`) is read one shard at a
time: :func:`to_parquet` writes one row group per shard and never holds more than one shard's
rows, so a run larger than memory exports too. pandas and pyarrow are optional (the ``frames``
extra) and imported only here, when called.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from jgattr._io import atomic_file

_EXTRA = "pip install 'jgattr[frames]' (pandas and pyarrow)"


def _require(module: str, what: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as err:
        raise ImportError(f"{what} needs {module.split('.')[0]} ({err}): {_EXTRA}") from None


def _parts(result: Any) -> Iterator[Any]:
    """The result itself, or each shard of a result folder, memory-mapped, in target order."""
    if hasattr(result, "shards"):
        for index in range(len(result.shards)):
            yield result.shard(index)
    else:
        yield result


def columns(result: Any) -> dict[str, np.ndarray]:
    """The long-format columns of one in-memory (or memory-mapped) result.

    Returns:
      ``{"target", "class", "source"[, "feature"], "value"}``, each ``[nnz]`` (``[nnz * F]``
      for feature-level values ``[nnz, F]``, feature fastest).
    """
    rows = np.repeat(np.arange(result.targets.shape[0]), np.diff(np.asarray(result.offsets)))
    values = np.asarray(result.values)
    out = {
        "target": np.asarray(result.targets, np.int64)[rows],
        "class": np.asarray(result.classes, np.int64)[rows],
        "source": np.asarray(result.sources, np.int64),
    }
    if values.ndim == 2:
        width = values.shape[1]
        out = {name: np.repeat(column, width) for name, column in out.items()}
        out["feature"] = np.tile(np.arange(width, dtype=np.int64), values.shape[0])
    out["value"] = values.reshape(-1)
    return out


def _metadata(result: Any) -> dict[str, str]:
    return {"method": result.method, "level": result.level, "target_level": result.target_level}


def to_frame(result: Any) -> Any:
    """A pandas ``DataFrame`` of ``result`` (an Attributions or a result folder, shard by shard).

    Raises:
      ImportError: pandas is missing (names the extra to install).
    """
    pandas = _require("pandas", "to_frame")
    frames = [pandas.DataFrame(columns(part)) for part in _parts(result)]
    frame = frames[0] if len(frames) == 1 else pandas.concat(frames, ignore_index=True)
    frame.attrs.update(_metadata(result))
    return frame


def _table(pyarrow: Any, part: Any, result: Any) -> Any:
    table = pyarrow.table(columns(part))
    return table.replace_schema_metadata(_metadata(result))


def to_arrow(result: Any) -> Any:
    """A ``pyarrow.Table`` of ``result`` (``polars.from_arrow`` takes it without a copy).

    Raises:
      ImportError: pyarrow is missing (names the extra to install).
    """
    pyarrow = _require("pyarrow", "to_arrow")
    tables = [_table(pyarrow, part, result) for part in _parts(result)]
    return tables[0] if len(tables) == 1 else pyarrow.concat_tables(tables)


def to_parquet(result: Any, path: str | os.PathLike) -> Path:
    """Write ``result`` to one Parquet file, one row group per shard, atomically.

    Args:
      result: an :class:`~jgattr.attribution.Attributions` or a result folder.
      path: the file to write (replaced only once it is complete).

    Returns:
      ``path``.

    Raises:
      ImportError: pyarrow is missing (names the extra to install).
    """
    pyarrow = _require("pyarrow", "to_parquet")
    parquet = _require("pyarrow.parquet", "to_parquet")
    tables = (_table(pyarrow, part, result) for part in _parts(result))
    first = next(tables)
    with atomic_file(path) as tmp, parquet.ParquetWriter(tmp, first.schema) as writer:
        writer.write_table(first)
        for table in tables:
            writer.write_table(table)
    return Path(path)
