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

    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``path`` (``.npz``) atomically; see the README for the format."""
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
    def load(cls, path: str | os.PathLike) -> "Attributions":
        """Read a file written by :meth:`save` (no pickle: ``allow_pickle=False``)."""
        path = Path(path)
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
