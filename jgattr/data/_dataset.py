"""The :class:`Dataset` container, the data errors and the graph helpers shared by the loaders.

Every loader ends in :func:`make_dataset`: an undirected graph stored as both directions (no self
loops, no duplicates, sorted by ``(receiver, sender)``), ``float32`` node features, ``int32``
labels with ``-1`` for unlabeled nodes and boolean split masks. Synthetic benchmarks also carry
a :class:`GroundTruth` (which nodes and edges form the planted motifs).
"""

from __future__ import annotations

import dataclasses

import jraph
import numpy as np
import scipy.sparse

from jgattr.data._sparse_features import SparseFeatures


class DataError(ValueError):
    """A dataset file is missing, unreadable, unsafe or holds invalid values.

    The message names the file or field, the offending value and what to do about it.
    """


class UnsafePickleError(DataError):
    """A pickle asked for a global outside the small allow-list of the Planetoid files."""


class ChecksumError(DataError):
    """A data file's SHA-256 does not match the published one."""


@dataclasses.dataclass(frozen=True, eq=False)
class GroundTruth:
    """Which nodes and edges of a synthetic graph form the planted motifs (the true explanation).

    Attributes:
      node_mask: bool ``[N]``, the node belongs to a motif (house, cycle or grid);
        equals ``motif_id >= 0``.
      edge_mask: bool ``[E]``, aligned with ``graph.senders`` / ``graph.receivers``: the directed
        edge is one of the motif's own edges (both ends in the same motif instance). The edge
        attaching a motif to the base graph and random noise edges are not motif edges.
      motif_id: int32 ``[N]``, the motif instance of each node in ``[0, num_motifs)``; ``-1`` for
        base-graph nodes.

    Example:
      >>> from jgattr.data import synthetic_dataset
      >>> truth = synthetic_dataset("ba-shapes").ground_truth
      >>> int(truth.node_mask.sum()), int(truth.edge_mask.sum()), int(truth.motif_id.max()) + 1
      (400, 960, 80)
    """

    node_mask: np.ndarray
    edge_mask: np.ndarray
    motif_id: np.ndarray

    def __post_init__(self) -> None:
        name = "ground_truth"
        n = np.shape(self.motif_id)[0] if np.ndim(self.motif_id) == 1 else -1
        e = np.shape(self.edge_mask)[0] if np.ndim(self.edge_mask) == 1 else -1
        _check_array(name, "motif_id", self.motif_id, np.int32, (n,))
        _check_array(name, "node_mask", self.node_mask, np.bool_, (n,))
        _check_array(name, "edge_mask", self.edge_mask, np.bool_, (e,))
        if n and self.motif_id.min() < -1:
            raise DataError(f"{name}: motif_id must be >= -1, got {self.motif_id.min()}")
        if not np.array_equal(self.node_mask, self.motif_id >= 0):
            bad = int(np.count_nonzero(self.node_mask != (self.motif_id >= 0)))
            raise DataError(f"{name}: node_mask must equal motif_id >= 0; {bad} nodes disagree")


class GraphSizes:
    """The sizes every dataset reads off its ``graph``."""

    graph: jraph.GraphsTuple

    @property
    def num_nodes(self) -> int:
        """Number of nodes ``N``."""
        return int(self.graph.nodes.shape[0])

    @property
    def num_features(self) -> int:
        """Feature width ``F``."""
        return int(self.graph.nodes.shape[1])

    @property
    def num_edges(self) -> int:
        """Number of directed edges ``E`` (twice the number of undirected edges)."""
        return int(self.graph.senders.shape[0])


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset(GraphSizes):
    """A node-classification dataset: one graph, labels and a train/val/test split.

    Attributes:
      name: ``"cora"``, ``"citeseer"``, ``"pubmed"``, ``"pubmed-structure"``, ``"npz:<stem>"`` or
        a synthetic benchmark (``"ba-shapes"``, ``"ba-community"``, ``"tree-cycles"``,
        ``"tree-grid"``).
      graph: a single ``jraph.GraphsTuple`` of numpy arrays: ``nodes`` float32 ``[N, F]`` (or a
        :class:`SparseFeatures` of its non-zeros: ``powerlaw:N``, sparse user features),
        ``senders`` / ``receivers`` int32 ``[E]`` (each undirected edge in both directions, no self
        loops, no duplicates, sorted by ``(receiver, sender)``), ``n_node`` int32 ``[1]`` = ``[N]``,
        ``n_edge`` int32 ``[1]`` = ``[E]``, ``edges`` and ``globals`` ``None``.
      labels: int32 ``[N]``, class ids in ``[0, num_classes)``; ``-1`` marks unlabeled nodes.
      train_mask: bool ``[N]``.
      val_mask: bool ``[N]``.
      test_mask: bool ``[N]``.
      num_classes: number of classes ``C``.
      ground_truth: the planted motifs of a synthetic benchmark (:class:`GroundTruth`, its masks
        sized ``[N]`` and ``[E]``), ``None`` for real datasets.
      edge_changes: what loading did to the edges as read (:func:`cleaned_edges`: one-way edges
        made two-way, duplicates merged, self loops dropped), ``None`` if not recorded.

    Example:
      >>> from jgattr.data import load_dataset
      >>> ds = load_dataset("cora")
      >>> ds.num_nodes, ds.num_edges, ds.num_features, ds.num_classes
      (2708, 10556, 1433, 7)
    """

    name: str
    graph: jraph.GraphsTuple
    labels: np.ndarray
    train_mask: np.ndarray
    val_mask: np.ndarray
    test_mask: np.ndarray
    num_classes: int
    ground_truth: GroundTruth | None = None
    edge_changes: dict[str, int] | None = None

    def __post_init__(self) -> None:
        _check_graph(self.name, self.graph)
        n = self.num_nodes
        _check_array(self.name, "labels", self.labels, np.int32, (n,))
        for field in ("train_mask", "val_mask", "test_mask"):
            _check_array(self.name, field, getattr(self, field), np.bool_, (n,))
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int | np.integer):
            raise DataError(f"{self.name}: num_classes must be an int, got {self.num_classes!r}")
        if self.num_classes < 1:
            raise DataError(f"{self.name}: num_classes must be >= 1, got {self.num_classes}")
        if self.ground_truth is not None:
            check_ground_truth(self.name, self.ground_truth, n, self.num_edges)

    @property
    def level(self) -> str:
        """What a target is: ``"node"``."""
        return "node"


def _check_array(name: str, field: str, value: object, dtype: type, shape: tuple[int, ...]) -> None:
    if not isinstance(value, np.ndarray):
        raise DataError(f"{name}: {field} must be a numpy array, got {type(value).__name__}")
    if value.dtype != dtype or value.shape != shape:
        raise DataError(
            f"{name}: {field} must be {np.dtype(dtype).name} {list(shape)}, "
            f"got {value.dtype} {list(value.shape)}"
        )


def check_nodes_and_edges(name: str, graph: object) -> int:
    """A GraphsTuple of float32 ``nodes [N, F]`` and int32 senders / receivers; returns ``E``."""
    if not isinstance(graph, jraph.GraphsTuple):
        raise DataError(f"{name}: graph must be a jraph.GraphsTuple, got {type(graph).__name__}")
    nodes = graph.nodes
    if isinstance(nodes, SparseFeatures):
        _check_sparse(name, nodes)
    elif not isinstance(nodes, np.ndarray) or nodes.dtype != np.float32 or nodes.ndim != 2:
        got = f"{nodes.dtype} {list(nodes.shape)}" if isinstance(nodes, np.ndarray) else nodes
        raise DataError(
            f"{name}: graph.nodes must be float32 [N, F] (or jgattr.data.SparseFeatures), got {got}"
        )
    n_edges = np.shape(graph.senders)[0] if np.ndim(graph.senders) == 1 else -1
    for field in ("senders", "receivers"):
        _check_array(name, f"graph.{field}", getattr(graph, field), np.int32, (n_edges,))
    return n_edges


def _check_sparse(name: str, nodes: SparseFeatures) -> None:
    """Host int32 rows sorted in ``[0, N)``, int32 cols in ``[0, F)``, float32 values."""
    nnz = np.shape(nodes.values)[0] if np.ndim(nodes.values) == 1 else -1
    _check_array(name, "graph.nodes.values", nodes.values, np.float32, (nnz,))
    for field, bound in (("rows", nodes.shape[0]), ("cols", nodes.shape[1])):
        ids = getattr(nodes, field)
        _check_array(name, f"graph.nodes.{field}", ids, np.int32, (nnz,))
        if nnz and (ids.min() < 0 or ids.max() >= bound):
            raise DataError(f"{name}: graph.nodes.{field} must lie in [0, {bound})")
    if nnz and np.any(np.diff(nodes.rows) < 0):
        raise DataError(
            f"{name}: graph.nodes.rows must be sorted; build it with SparseFeatures.from_scipy"
        )


def _check_graph(name: str, graph: object) -> None:
    n_edges = check_nodes_and_edges(name, graph)
    nodes = graph.nodes
    _check_array(name, "graph.n_node", graph.n_node, np.int32, (1,))
    _check_array(name, "graph.n_edge", graph.n_edge, np.int32, (1,))
    if int(graph.n_node[0]) != nodes.shape[0] or int(graph.n_edge[0]) != n_edges:
        raise DataError(
            f"{name}: graph.n_node={graph.n_node} / n_edge={graph.n_edge} disagree with "
            f"nodes [{nodes.shape[0]}, ...] / senders [{n_edges}]"
        )


def check_ground_truth(name: str, truth: object, num_nodes: int, num_edges: int) -> None:
    if not isinstance(truth, GroundTruth):
        raise DataError(f"{name}: ground_truth must be a GroundTruth, got {type(truth).__name__}")
    got = (truth.node_mask.shape[0], truth.edge_mask.shape[0])
    if got != (num_nodes, num_edges):
        raise DataError(
            f"{name}: ground_truth masks cover {got[0]} nodes / {got[1]} edges, but the graph has "
            f"{num_nodes} / {num_edges}"
        )


def cleaned_edges(
    senders: np.ndarray, receivers: np.ndarray, num_nodes: int, *, directed: bool = False
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The edges a :class:`Dataset` stores, and what making them so changed.

    Self loops are dropped and repeated ``sender -> receiver`` pairs merged; unless ``directed``,
    each edge whose reverse is missing gets it (the graph is made undirected).

    Args:
      senders: int ``[E_in]`` node ids in ``[0, num_nodes)``.
      receivers: int ``[E_in]`` node ids in ``[0, num_nodes)``.
      num_nodes: ``N``.
      directed: keep one-way edges one-way.

    Returns:
      ``(senders, receivers, changes)``: int32 ``[E]`` sorted by ``(receiver, sender)``, and
      ``{"made_two_way", "duplicates_merged", "self_loops_dropped"}`` edge counts plus
      ``"directed"`` (0 or 1).
    """
    s, r = np.asarray(senders, np.int64), np.asarray(receivers, np.int64)
    loop = s == r
    # Sort and drop repeats rather than np.unique: numpy 2.4's hash-based unique took 12 s for
    # 4.6M keys where this takes 0.1 s (ogbn-products has 124M).
    keys = np.sort(r[~loop] * num_nodes + s[~loop])
    unique = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys
    # sorted queries walk the table once: 9 s -> 1 s for powerlaw:2000000's 10.8M edges
    reverse = np.sort((unique % num_nodes) * num_nodes + unique // num_nodes)
    at = np.minimum(np.searchsorted(unique, reverse), max(unique.size - 1, 0))
    missing = reverse[unique[at] != reverse] if unique.size else unique
    changes = {
        "made_two_way": 0 if directed else int(missing.size),
        "duplicates_merged": int(keys.size - unique.size),
        "self_loops_dropped": int(loop.sum()),
        "directed": int(directed),
    }
    if not directed and missing.size:
        unique = np.sort(np.concatenate([unique, missing]))
    return (unique % num_nodes).astype(np.int32), (unique // num_nodes).astype(np.int32), changes


def undirected_edges(
    senders: np.ndarray, receivers: np.ndarray, num_nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of every edge, without self loops or duplicates (:func:`cleaned_edges`).

    Returns:
      ``(senders, receivers)``, int32 ``[E]``, sorted by ``(receiver, sender)``.
    """
    return cleaned_edges(senders, receivers, num_nodes)[:2]


def edge_changes_line(changes: dict[str, int]) -> str:
    """One line saying what loading did to a graph's edges (:func:`cleaned_edges`)."""
    kept = "kept directed" if changes.get("directed") else "made undirected"
    return (
        f"graph {kept}: {changes['made_two_way']} one-way edges made two-way, "
        f"{changes['duplicates_merged']} duplicate edges merged, "
        f"{changes['self_loops_dropped']} self loops dropped"
    )


def row_normalize(features: np.ndarray) -> np.ndarray:
    """Divide each row by its sum; all-zero rows stay zero.

    Args:
      features: float ``[N, F]`` with non-negative entries.

    Returns:
      float32 ``[N, F]`` whose rows sum to 1 (or 0).
    """
    sums = features.sum(axis=1, dtype=np.float64, keepdims=True)
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums != 0)
    return np.asarray(features, dtype=np.float32) * scale.astype(np.float32)


def make_dataset(
    name: str,
    *,
    features: np.ndarray,
    senders: np.ndarray,
    receivers: np.ndarray,
    labels: np.ndarray,
    masks: tuple[np.ndarray, np.ndarray, np.ndarray],
    num_classes: int,
    ground_truth: GroundTruth | None = None,
    edge_changes: dict[str, int] | None = None,
) -> Dataset:
    """Wrap validated numpy arrays into a :class:`Dataset`.

    Args:
      name: the dataset name.
      features: float ``[N, F]``: dense, a scipy.sparse matrix or a :class:`SparseFeatures`
        (both kept sparse: the run never makes a dense copy).
      senders: int ``[E]``, already undirected, deduplicated and sorted (see
        :func:`undirected_edges`).
      receivers: int ``[E]``.
      labels: int ``[N]``, ``-1`` for unlabeled nodes.
      masks: ``(train, val, test)``, each bool ``[N]``.
      num_classes: ``C``.
      ground_truth: the planted motifs of a synthetic graph, aligned with ``senders``.
      edge_changes: what :func:`cleaned_edges` changed.

    Returns:
      The :class:`Dataset`.
    """
    if scipy.sparse.issparse(features):
        features = SparseFeatures.from_scipy(features)
    elif not isinstance(features, SparseFeatures):
        features = np.ascontiguousarray(features, dtype=np.float32)
    graph = jraph.GraphsTuple(
        nodes=features,
        edges=None,
        senders=np.asarray(senders, dtype=np.int32),
        receivers=np.asarray(receivers, dtype=np.int32),
        n_node=np.array([features.shape[0]], dtype=np.int32),
        n_edge=np.array([len(senders)], dtype=np.int32),
        globals=None,
    )
    train, val, test = (np.asarray(m, dtype=bool) for m in masks)
    return Dataset(
        name=name,
        graph=graph,
        labels=np.asarray(labels, dtype=np.int32),
        train_mask=train,
        val_mask=val,
        test_mask=test,
        num_classes=int(num_classes),
        ground_truth=ground_truth,
        edge_changes=edge_changes,
    )
