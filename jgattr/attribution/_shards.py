"""Result folders: one method's attributions written block by block as plain ``.npy`` shards.

Layout of ``<folder>/`` (format version :data:`SHARD_FORMAT_VERSION`):

* ``shard-<block>.<array>.npy`` for ``targets``, ``classes``, ``logits``, ``offsets`` (local to
  the shard, from 0), ``sources``, ``values``, ``expected``, ``layer_totals``: the arrays of
  :class:`~jgattr.attribution.Attributions` for one block of consecutive targets;
* ``shard-<block>.json``: ``start`` (position of its first target), ``count``, ``pairs``,
  ``process`` and the run's ``fingerprint``, written last, so a shard without it is unfinished;
* ``index-<process>-of-<processes>.json``: written by each process when its blocks are done
  (method, levels, number of blocks, fingerprint, stats). The folder is complete when every
  process's index is there; :func:`open_shards` then reads it as one result.

Plain ``.npy`` files (not zarr) because numpy memory-maps them (``mmap_mode="r"``) with no extra
dependency, any language reads them, and each shard is written once, atomically, by one process.
"""

import dataclasses
import json
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

from jgattr._io import atomic_file, atomic_write_json
from jgattr.attribution._frames import to_arrow, to_frame, to_parquet
from jgattr.attribution._results import (
    _ARRAYS,
    _PER_TARGET,
    Attributions,
    concatenate_results,
    take_rows,
)

SHARD_FORMAT_VERSION = 1


class ShardWriter:
    """Writes one method's blocks into ``folder``; blocks of the same ``fingerprint`` already
    there count as done (resume), those of another computation are removed."""

    def __init__(self, folder: str | os.PathLike, fingerprint: str, process: int, processes: int):
        self.folder, self.fingerprint = Path(folder), fingerprint
        self.process, self.processes = process, processes
        self.folder.mkdir(parents=True, exist_ok=True)
        for meta in self.folder.glob("shard-*.json"):
            if _read_json(meta).get("fingerprint") != fingerprint:
                for stale in self.folder.glob(f"{meta.stem}.*"):
                    stale.unlink(missing_ok=True)
        for index in self.folder.glob("index-*-of-*.json"):  # this process's, or another split's
            if index.stem.startswith(f"index-{process:05d}-") or not index.stem.endswith(
                f"-of-{processes:05d}"
            ):
                index.unlink(missing_ok=True)

    def _meta(self, block: int) -> Path:
        return self.folder / f"shard-{block:06d}.json"

    def done(self, block: int) -> bool:
        """Whether a previous run of this computation finished ``block``."""
        meta = self._meta(block)
        return meta.is_file() and _read_json(meta).get("fingerprint") == self.fingerprint

    def write(self, block: int, start: int, result: Attributions) -> int:
        """Write ``result`` (targets ``start:start + T``) as shard ``block``; returns its bytes."""
        written = 0
        for name in _ARRAYS:
            path = self.folder / f"shard-{block:06d}.{name}.npy"
            written += _atomic_save(path, np.asarray(getattr(result, name)))
        atomic_write_json(
            self._meta(block),
            {
                "start": start,
                "count": result.num_targets,
                "pairs": int(result.sources.shape[0]),
                "process": self.process,
                "fingerprint": self.fingerprint,
            },
        )
        return written

    def pairs_written(self) -> int:
        """Pairs in the folder's shards of this computation (every process's, as written)."""
        return sum(_read_json(meta)["pairs"] for meta in self.folder.glob("shard-*.json"))

    def finish(self, method: str, levels: tuple[str, str], blocks: int, stats: dict) -> Path:
        """Record this process's part as complete; ``levels``: (level, target_level)."""
        atomic_write_json(
            self.folder / f"index-{self.process:05d}-of-{self.processes:05d}.json",
            {
                "format_version": SHARD_FORMAT_VERSION,
                "method": method,
                "level": levels[0],
                "target_level": levels[1],
                "blocks": blocks,
                "fingerprint": self.fingerprint,
                "stats": stats,
            },
        )
        return self.folder


def _atomic_save(path: Path, array: np.ndarray) -> int:
    """``np.save`` through a temporary file and ``os.replace`` (no in-memory copy); bytes."""
    with atomic_file(path, array.nbytes) as tmp, open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
        return f.tell()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


@dataclasses.dataclass(frozen=True, eq=False)
class ShardedAttributions:
    """A result folder opened lazily: per-target arrays in memory, pairs memory-mapped.

    Attributes:
      folder: the result folder.
      method, level, target_level: as in :class:`~jgattr.attribution.Attributions`.
      stats: the stats of each process, by process index.
      shards: ``[(block, start, count)]`` in target order.
      targets, classes, logits, expected, layer_totals: ``[T]`` (``[T, K]``) of all shards.

    Example:
      >>> folder = open_shards("run/attributions_nam")
      >>> part = folder.select([0, 5, 7])          # reads only these targets' rows
      >>> matrix = folder.to_csr(num_sources=dataset.num_nodes)
    """

    folder: Path
    method: str
    level: str
    target_level: str
    stats: dict[int, dict[str, Any]]
    shards: list[tuple[int, int, int]]
    targets: np.ndarray
    classes: np.ndarray
    logits: np.ndarray
    expected: np.ndarray
    layer_totals: np.ndarray

    @property
    def num_targets(self) -> int:
        return int(self.targets.shape[0])

    def shard(self, index: int, random_access: bool = False) -> Attributions:
        """Shard number ``index`` (in target order), its arrays memory-mapped (``random_access``:
        mapped so that touching a row reads its pages only, see :func:`_map_for_random_access`)."""
        block = self.shards[index][0]
        path = lambda name: self.folder / f"shard-{block:06d}.{name}.npy"
        arrays = {
            name: _map_for_random_access(path(name))
            if random_access
            else np.load(path(name), mmap_mode="r")
            for name in _ARRAYS
        }
        return Attributions(self.method, **arrays, level=self.level, target_level=self.target_level)

    def select(self, targets: Any) -> Attributions:
        """The rows of targets whose id is in ``targets``, reading only their shards' rows."""
        positions = np.flatnonzero(np.isin(self.targets, np.asarray(targets)))
        starts = np.array([start for _, start, _ in self.shards], dtype=np.int64)
        owner = np.searchsorted(starts, positions, side="right") - 1
        parts = [
            take_rows(self.shard(int(i), random_access=True), positions[owner == i] - starts[i])
            for i in np.unique(owner)
        ]
        if not parts:
            return take_rows(self.shard(0), positions)
        return concatenate_results(parts)

    def materialize(self) -> Attributions:
        """Every shard read into one in-memory :class:`Attributions`."""
        parts = [
            take_rows(s, np.arange(s.num_targets)) for s in map(self.shard, range(len(self.shards)))
        ]
        result = concatenate_results(parts)
        return dataclasses.replace(result, stats=self.stats.get(0, {}))

    def to_csr(self, num_sources: int):
        """``scipy.sparse.csr_array`` ``[T, num_sources]`` of every shard."""
        return self.materialize().to_csr(num_sources)

    def to_frame(self):
        """A pandas ``DataFrame`` (long format, as ``Attributions.to_frame``), built shard by
        shard without materializing the result."""
        return to_frame(self)

    def to_arrow(self):
        """A ``pyarrow.Table``, one chunk per shard."""
        return to_arrow(self)

    def to_parquet(self, path: str | os.PathLike) -> Path:
        """Stream the shards into one Parquet file (a row group each; one shard in memory)."""
        return to_parquet(self, path)


_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _map_for_random_access(path: Path) -> np.ndarray:
    """A ``.npy`` file memory-mapped with ``MADV_RANDOM``: a page fault reads its page, not the
    kernel's read-ahead window around it (often megabytes), so selecting a few targets reads
    about what it returns."""
    with path.open("rb") as file:
        version = np.lib.format.read_magic(file)
        if version not in _NPY_HEADERS:
            raise ValueError(f"{path}: .npy format version {version} is not one jgattr writes")
        shape, fortran_order, dtype = _NPY_HEADERS[version](file)
        offset = file.tell()
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    if fortran_order:
        raise ValueError(f"{path}: a Fortran-ordered array is not one jgattr writes")
    if hasattr(mmap, "MADV_RANDOM"):  # Linux and macOS
        mapped.madvise(mmap.MADV_RANDOM)
    return np.frombuffer(mapped, dtype, int(np.prod(shape)), offset).reshape(shape)


def result_complete(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` is a finished result folder (every process recorded its index)."""
    indices = list(Path(folder).glob("index-*-of-*.json"))
    counts = {path.stem.split("-of-")[1] for path in indices}
    return len(counts) == 1 and len(indices) == int(counts.pop())


def open_shards(folder: str | os.PathLike) -> ShardedAttributions:
    """Open a complete result folder written by :class:`ShardWriter` (all processes done)."""
    folder = Path(folder)
    indices = {path: _read_json(path) for path in sorted(folder.glob("index-*-of-*.json"))}
    if not indices:
        raise ValueError(
            f"{folder} is not a finished jgattr result folder (no index-*.json): rerun "
            "explain_to_folder with the same arguments to finish it"
        )
    processes = {int(path.stem.split("-of-")[1]) for path in indices}
    first = next(iter(indices.values()))
    if len(processes) != 1 or len(indices) != processes.pop():
        raise ValueError(
            f"{folder} holds {len(indices)} process indexes of {sorted(processes)}: some "
            "processes have not finished; rerun them with the same arguments"
        )
    if first.get("format_version") != SHARD_FORMAT_VERSION:
        raise ValueError(
            f"{folder} has shard format_version {first.get('format_version')}; this jgattr "
            f"reads {SHARD_FORMAT_VERSION}. Recompute it with explain_to_folder."
        )
    fingerprint = first["fingerprint"]
    metas = [
        (int(path.stem.split("-")[1]), meta)
        for path in folder.glob("shard-*.json")
        if (meta := _read_json(path)).get("fingerprint") == fingerprint
    ]
    metas.sort(key=lambda item: item[1]["start"])
    shards = [(block, meta["start"], meta["count"]) for block, meta in metas]
    expected_start = np.cumsum([0] + [count for _, _, count in shards])[:-1]
    if len(shards) != first["blocks"] or [s for _, s, _ in shards] != expected_start.tolist():
        raise ValueError(
            f"{folder}: found {len(shards)} of {first['blocks']} shards or they do not cover "
            "the targets in order; rerun explain_to_folder with the same arguments"
        )
    per_target = {
        name: np.concatenate(
            [np.load(folder / f"shard-{block:06d}.{name}.npy") for block, _, _ in shards]
        )
        for name in _PER_TARGET
    }
    stats = {int(path.stem.split("-")[1]): index["stats"] for path, index in indices.items()}
    return ShardedAttributions(
        folder,
        first["method"],
        first["level"],
        first["target_level"],
        stats,
        shards,
        **per_target,
    )
