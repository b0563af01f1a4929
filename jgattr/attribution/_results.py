"""Attribution results: a sparse (target, source, value) pytree, saved to and read from ``.npz``."""

import dataclasses
import io
import json
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jgattr._io import atomic_write_bytes

RESULT_FORMAT_VERSION = 1
_ARRAYS = (
    "targets",
    "classes",
    "logits",
    "offsets",
    "sources",
    "values",
    "expected",
    "layer_totals",
)
_PER_TARGET = ("targets", "classes", "logits", "expected", "layer_totals")


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Attributions:
    """Attributions of one method for T targets, in sparse CSR form (never a dense N x N matrix).

    Target ``t`` is the pair (node ``targets[t]``, class ``classes[t]``), or (graph, class) when
    ``target_level == "graph"``. Its contributions are
    ``values[offsets[t]:offsets[t + 1]]`` from nodes ``sources[offsets[t]:offsets[t + 1]]``,
    which are exactly the nodes of its K-hop computation graph (sorted by id). Every other node
    contributes exactly zero.

    Attributes:
      method: method name.
      targets: ``[T]`` target node ids.
      classes: ``[T]`` explained class of each target.
      logits: ``[T]`` logit ``Z[a, c]`` of each target's class.
      offsets: ``[T + 1]`` int64 row pointers.
      sources: ``[nnz]`` int32 source node ids.
      values: ``[nnz]`` node relevance, or ``[nnz, F]`` node x feature relevance.
      expected: ``[T]`` what each target's relevance should sum to (completeness or conservation);
        NaN for methods without such an identity.
      layer_totals: ``[T, K]`` relevance summed over nodes at layer ``l = 0..K-1`` (column 0 is the
        input layer); NaN where the method does not decompose hidden layers.
      stats: timing and memory of the run that produced it (not part of the pytree data).
      level: ``"node"``, or ``"edge"`` for edge methods: then ``sources`` are edge ids of the
        graph as the model prepares it (the input graph's edges in order, then, for models with
        self loops such as GCN and GAT, one self loop per node) and each target's entries are
        the edges of its computation graph.
      target_level: ``"node"``, or ``"graph"`` when targets are graph ids of a
        :class:`~jgattr.data.GraphDataset`: each graph's sources are its own nodes (or edges).
    """

    method: str = dataclasses.field(metadata={"static": True})
    targets: np.ndarray
    classes: np.ndarray
    logits: np.ndarray
    offsets: np.ndarray
    sources: np.ndarray
    values: np.ndarray
    expected: np.ndarray
    layer_totals: np.ndarray
    stats: dict[str, Any] = dataclasses.field(
        default_factory=dict, compare=False, metadata={"static": True}
    )
    level: str = dataclasses.field(default="node", metadata={"static": True})
    target_level: str = dataclasses.field(default="node", metadata={"static": True})

    @property
    def num_targets(self) -> int:
        return int(self.targets.shape[0])

    @property
    def rows(self) -> np.ndarray:
        """``[nnz]`` the target position of every entry (``offsets`` expanded)."""
        return np.repeat(np.arange(self.num_targets), np.diff(self.offsets))

    @property
    def totals(self) -> np.ndarray:
        """``[T]`` relevance of each target summed over its sources (and features)."""
        return self.layer_totals[:, 0]

    @property
    def delta(self) -> np.ndarray:
        """``[T]`` completeness/conservation gap ``totals − expected`` (NaN where undefined)."""
        return self.totals - self.expected

    def for_target(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(sources, values) of target number ``index`` (a position in ``targets``)."""
        if not 0 <= index < self.num_targets:
            raise IndexError(f"index must be in [0, {self.num_targets}), got {index}")
        window = slice(self.offsets[index], self.offsets[index + 1])
        return self.sources[window], self.values[window]

    def to_dense(self, size: int) -> np.ndarray:
        """``[T, size]`` (or ``[T, size, F]``) dense over node (or edge) ids; small graphs only."""
        dense = np.zeros((self.num_targets, size, *self.values.shape[1:]), self.values.dtype)
        dense[self.rows, self.sources] = self.values
        return dense

    def select(self, targets: Any) -> "Attributions":
        """The rows of the targets whose node (or graph) id is in ``targets`` (kept in order)."""
        positions = np.flatnonzero(np.isin(self.targets, np.asarray(targets)))
        return take_rows(self, positions)

    def to_csr(self, num_sources: int):
        """``scipy.sparse.csr_array`` ``[T, num_sources]`` of node (or edge) relevance."""
        import scipy.sparse  # optional at import time: only this conversion needs it

        if self.values.ndim != 1:
            raise ValueError(
                f"to_csr needs node-level values, got values of shape {self.values.shape}; "
                "sum them over features first (feature_level=False)"
            )
        return scipy.sparse.csr_array(
            (np.asarray(self.values), np.asarray(self.sources), np.asarray(self.offsets)),
            shape=(self.num_targets, num_sources),
        )

    def to_pyg_explanation(
        self, target: Any, dataset: Any, *, edge_index: Any = None, class_id: Any = None
    ) -> Any:
        """Target ``target``'s attributions as a ``torch_geometric.explain.Explanation`` whose
        ``node_mask`` / ``edge_mask`` follow your node ids and ``edge_index`` (needs the
        ``torch`` extra; see :func:`jgattr.interop.pyg_explanation`)."""
        from jgattr.interop import pyg_explanation  # torch only when called

        return pyg_explanation(self, target, dataset, edge_index=edge_index, class_id=class_id)

    def to_pyg_explanations(
        self, dataset: Any, *, targets: Any = None, edge_index: Any = None
    ) -> list[Any]:
        """One ``Explanation`` per row (of ``targets``; ``None``: all), sharing ``x`` and
        ``edge_index`` (see :func:`jgattr.interop.pyg_explanations`)."""
        from jgattr.interop import pyg_explanations

        return pyg_explanations(self, dataset, targets=targets, edge_index=edge_index)

    def to_frame(self):
        """A pandas ``DataFrame``, long format: ``target``, ``class``, ``source``
        (``feature``), ``value``; ``attrs`` holds method and levels (``frames`` extra)."""
        from jgattr.attribution._frames import to_frame

        return to_frame(self)

    def to_arrow(self):
        """The :meth:`to_frame` table as a ``pyarrow.Table`` (for polars: ``pl.from_arrow``)."""
        from jgattr.attribution._frames import to_arrow

        return to_arrow(self)

    def to_parquet(self, path: str | os.PathLike) -> Path:
        """Write the :meth:`to_frame` table to a Parquet file, atomically; returns ``path``."""
        from jgattr.attribution._frames import to_parquet

        return to_parquet(self, path)

    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``path`` (``.npz``) atomically; docs/results.md gives the format."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            format_version=np.array(RESULT_FORMAT_VERSION),
            method=np.array(self.method),
            stats=np.array(json.dumps(self.stats, sort_keys=True)),
            level=np.array(self.level),
            target_level=np.array(self.target_level),
            **{name: getattr(self, name) for name in _ARRAYS},
        )
        return atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike, targets: Any = None) -> "Attributions":
        """Read a file written by :meth:`save` (no pickle: ``allow_pickle=False``), or a result
        folder of shards (:func:`~jgattr.attribution.explain_to_folder`), memory-mapped so that
        ``targets`` (node or graph ids; ``None``: all) reads only their rows."""
        path = Path(path)
        if path.is_dir():
            from jgattr.attribution._shards import open_shards  # _shards builds on this module

            folder = open_shards(path)
            return folder.materialize() if targets is None else folder.select(targets)
        if targets is not None:
            return cls.load(path).select(targets)
        try:
            with np.load(path, allow_pickle=False) as data:
                version = int(data["format_version"])
                if version != RESULT_FORMAT_VERSION:
                    raise ValueError(
                        f"{path} has result format_version {version}; this jgattr reads "
                        f"{RESULT_FORMAT_VERSION}. Recompute it with `jgattr explain`."
                    )
                arrays = {name: data[name] for name in _ARRAYS}
                levels = {
                    name: str(data[name]) if name in data.files else "node"
                    for name in ("level", "target_level")
                }
                stats = json.loads(str(data["stats"]))
                return cls(str(data["method"]), **arrays, stats=stats, **levels)
        except (OSError, KeyError, ValueError) as err:
            if isinstance(err, ValueError) and "format_version" in str(err):
                raise
            raise ValueError(f"{path} is not a readable jgattr attribution file: {err}") from err


def concatenate(
    method: str,
    parts: list[dict[str, np.ndarray]],
    stats: dict,
    *,
    level: str = "node",
    target_level: str = "node",
) -> Attributions:
    """Join per-chunk results (each with ``sizes [T_c]`` copies per target) into one result."""
    sizes = np.concatenate([part["sizes"] for part in parts])
    offsets = np.zeros(sizes.shape[0] + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    fields = {
        name: np.concatenate([part[name] for part in parts])
        for name in (
            "targets",
            "classes",
            "logits",
            "sources",
            "values",
            "expected",
            "layer_totals",
        )
    }
    return Attributions(
        method, offsets=offsets, stats=stats, level=level, target_level=target_level, **fields
    )


def row_positions(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(new offsets ``[R + 1]``, entry positions ``[nnz_R]``) of rows ``rows [R]`` of a CSR."""
    starts = np.asarray(offsets[rows], np.int64)
    counts = np.asarray(offsets[rows + 1], np.int64) - starts
    new_offsets = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=new_offsets[1:])
    positions = np.repeat(starts - new_offsets[:-1], counts) + np.arange(new_offsets[-1])
    return new_offsets, positions


def take_rows(result: Attributions, rows: np.ndarray) -> Attributions:
    """The targets at positions ``rows`` of ``result`` (arrays may be memory-mapped)."""
    offsets, positions = row_positions(result.offsets, rows)
    return dataclasses.replace(
        result,
        **{name: np.asarray(getattr(result, name)[rows]) for name in _PER_TARGET},
        offsets=offsets,
        sources=np.asarray(result.sources[positions]),
        values=np.asarray(result.values[positions]),
    )


def top_k(result: Attributions, k: int) -> Attributions:
    """Each target's ``k`` sources of largest ``|value|`` (still sorted by source id);
    ``expected`` and ``layer_totals`` keep describing the whole computation graph."""
    rows = result.rows
    magnitude = np.abs(result.values).reshape(result.values.shape[0], -1).sum(axis=1)
    order = np.lexsort((-magnitude, rows))
    rank = np.arange(order.shape[0]) - result.offsets[rows[order]]
    keep = np.sort(order[rank < k])
    sizes = np.bincount(rows[keep], minlength=result.num_targets)
    offsets = np.zeros(result.num_targets + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return dataclasses.replace(
        result, offsets=offsets, sources=result.sources[keep], values=result.values[keep]
    )


def concatenate_results(parts: list[Attributions]) -> Attributions:
    """Results of consecutive target blocks of one method joined into one (stats of the first)."""
    if len(parts) == 1:
        return parts[0]
    rows = [
        {"sizes": np.diff(part.offsets), **{name: getattr(part, name) for name in _ARRAYS[:3]}}
        | {name: getattr(part, name) for name in _ARRAYS[4:]}
        for part in parts
    ]
    first = parts[0]
    return concatenate(
        first.method, rows, first.stats, level=first.level, target_level=first.target_level
    )
