"""A dataset's graph as a model prepares it, validated, with its targets and classes resolved.

The preparation (self loops, edge weights: the model's own ``prepare_graph``) runs once per
dataset object and model kind; the CSR in-edges and the last few target unions are kept with it.
"""

import dataclasses
import functools
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jgattr._names import CLASS_CHOICES, SPLITS, TARGET_SETS
from jgattr._types import Array
from jgattr.attribution._cache import BoundedCache
from jgattr.attribution._resume import fingerprint
from jgattr.attribution._subgraphs import InEdges, Union, computation_graphs, graph_unions
from jgattr.data import SparseFeatures
from jgattr.models import Explainable

_SPARSE_DENSITY = 0.25  # below this fraction of non-zeros, P = X W is a sparse product
_ROWS_PER_SCAN = 1 << 24  # feature entries scanned at once (non-zeros, finiteness)


@dataclasses.dataclass(frozen=True, eq=False)
class PreparedGraph:
    """A graph prepared by a model (host arrays), its split masks and labels, and caches.

    Attributes:
      graph: the prepared graph (``graph.edges``: the model's edge weights); for graph
        classification, all graphs in one disjoint union (``graph.n_node``: one entry per graph).
      masks: ``{"train"|"val"|"test": [N] bool}`` (``[G]`` for graph targets; empty for a bare
        graph).
      labels: ``[N]`` labels (``[G]`` for graph targets), or ``None`` for a bare graph.
      level: ``"node"`` (targets are nodes) or ``"graph"`` (targets are the graphs of a batch).
    """

    graph: jraph.GraphsTuple
    masks: dict[str, np.ndarray]
    labels: np.ndarray | None
    level: str = "node"
    unions: BoundedCache[Union] = dataclasses.field(
        default_factory=lambda: BoundedCache("target_unions", 8)
    )

    @property
    def num_nodes(self) -> int:
        return int(self.graph.nodes.shape[0])

    @property
    def num_targets(self) -> int:
        """How many targets there are to pick from: nodes, or graphs for graph targets."""
        return self.num_nodes if self.level == "node" else int(self.graph.n_node.shape[0])

    @functools.cached_property
    def node_offsets(self) -> np.ndarray:
        """``[G + 1]``: graph ``g`` owns nodes ``node_offsets[g]:node_offsets[g + 1]``."""
        return np.concatenate([[0], np.cumsum(self.graph.n_node, dtype=np.int64)])

    @functools.cached_property
    def on_device(self) -> jraph.GraphsTuple:
        """The graph on the devices with dense X (sparse features made dense there: for models
        and methods that read X itself; the others use :attr:`structure_on_device`)."""
        graph = jax.tree.map(jnp.asarray, self.graph)
        if isinstance(graph.nodes, SparseFeatures):
            graph = graph._replace(nodes=graph.nodes.todense_on_device())
        return graph

    @functools.cached_property
    def structure_on_device(self) -> jraph.GraphsTuple:
        """The graph on the devices with ``nodes`` ``[N, 0]``: enough for models that read X
        only through ``P = X W`` computed from :attr:`sparse_features` (no dense X copy)."""
        empty = np.zeros((self.num_nodes, 0), self.graph.nodes.dtype)
        return jax.tree.map(jnp.asarray, self.graph._replace(nodes=empty))

    @property
    def features_on_device(self) -> Array | SparseFeatures:
        """X on the devices as the dataset stores it: sparse features stay sparse."""
        if isinstance(self.graph.nodes, SparseFeatures):
            return self.sparse_features
        return self.on_device.nodes

    @functools.cached_property
    def sparse_features(self) -> SparseFeatures | None:
        """X's non-zeros on the devices when X is sparse (bag-of-words), else None.

        Of a dense X, found a block of rows at a time, so no ``[N, F]`` temporary is made."""
        x = self.graph.nodes
        if isinstance(x, SparseFeatures):
            return jax.tree.map(jnp.asarray, x)
        step = max(1, _ROWS_PER_SCAN // max(1, x.shape[1]))
        rows, cols = [], []
        for start in range(0, x.shape[0], step):
            r, c = np.nonzero(x[start : start + step])
            rows.append((r + start).astype(np.int32))
            cols.append(c.astype(np.int32))
            if sum(map(len, rows)) > _SPARSE_DENSITY * x.size:
                return None
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        return jax.tree.map(jnp.asarray, SparseFeatures(rows, cols, x[rows, cols], x.shape))

    def input_graph(self, model: Explainable) -> jraph.GraphsTuple:
        """The on-device graph ``model``'s forward at X needs: the structure alone when it reads
        X through ``P = X W`` of sparse features, else the graph with dense X."""
        if model.input_kernel is not None and self.sparse_features is not None:
            return self.structure_on_device
        return self.on_device

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the prepared graph's arrays (hashed once: datasets are immutable)."""
        graph = self.graph
        return fingerprint(graph.nodes, graph.senders, graph.receivers, graph.edges, graph.n_node)

    @functools.cached_property
    def in_edges(self) -> InEdges:
        return InEdges.of(self.graph)

    def union(self, targets: np.ndarray, num_hops: int) -> Union:
        """The union of the ``num_hops``-hop computation graphs of target nodes, or of the
        whole graphs of graph targets (cached)."""
        key = (num_hops, targets.tobytes())
        if self.level == "graph":
            make = lambda: graph_unions(self.in_edges, self.node_offsets, targets)
        else:
            make = lambda: computation_graphs(self.in_edges, targets, num_hops)
        return self.unions.get_or_make(key, make)[0]


_PREPARED: "weakref.WeakKeyDictionary[Any, BoundedCache[PreparedGraph]]" = (
    weakref.WeakKeyDictionary()
)


def prepare_data(data: Any, model: Explainable) -> PreparedGraph:
    """``data`` (a Dataset, a GraphDataset, or a ``jraph.GraphsTuple``) as ``model`` reads it.

    A GraphsTuple whose ``edges`` is not ``None`` is taken as already prepared; for a graph
    classifier its ``n_node`` lists the graphs. Datasets are immutable, so their preparation is
    cached per dataset object and kind of preparation.
    """
    data_level = getattr(data, "level", model.level)
    if data_level != model.level:
        raise ValueError(
            f"model {model.name!r} classifies {model.level}s but the dataset "
            f"{getattr(data, 'name', '')!r} has one label per {data_level}: use a "
            + (
                "GraphClassifier (config: a graph dataset builds one)"
                if data_level == "graph"
                else "node model (GCN, GAT, GIN, GraphSAGE)"
            )
        )
    if isinstance(data, jraph.GraphsTuple):
        return _prepare(data, model)
    if data not in _PREPARED:
        _PREPARED[data] = BoundedCache("prepared_graphs", 4)
    key = (model.prepare, model.edge_weights, model.self_loops)
    return _PREPARED[data].get_or_make(key, lambda: _prepare(data, model))[0]


def _prepare(data: Any, model: Explainable) -> PreparedGraph:
    if isinstance(data, jraph.GraphsTuple):
        graph = data if data.edges is not None else model.prepare_graph(data)
        masks, labels = {}, None
    else:
        graph = model.prepare_graph(data.graph)
        masks = {name: np.asarray(getattr(data, f"{name}_mask")) for name in SPLITS}
        labels = np.asarray(data.labels)
    graph = jax.tree.map(np.asarray, graph)
    validate_graph(graph)
    if model.level == "graph":
        # per graph: its edges are those into its nodes (self loops were appended last)
        owner = np.repeat(np.arange(graph.n_node.shape[0]), graph.n_node)
        n_edge = np.bincount(owner[graph.receivers], minlength=graph.n_node.shape[0])
        graph = graph._replace(n_edge=n_edge.astype(np.int32))
    return PreparedGraph(graph, masks, labels, model.level)


def _nonfinite_rows(nodes: np.ndarray) -> np.ndarray:
    """Rows of dense X with a non-finite entry, scanned a block of rows at a time."""
    step = max(1, _ROWS_PER_SCAN // max(1, nodes.shape[1]))
    if all(np.isfinite(nodes[i : i + step]).all() for i in range(0, nodes.shape[0], step)):
        return np.zeros(0, np.int64)
    return np.unique(np.nonzero(~np.isfinite(nodes))[0])


def validate_graph(graph: jraph.GraphsTuple) -> None:
    """Shapes, finite features and node ids in range; each error names the field."""
    nodes = graph.nodes
    if nodes.ndim != 2:
        raise ValueError(f"graph.nodes must be [N, F], got shape {nodes.shape}")
    if isinstance(nodes, SparseFeatures):  # only the stored entries can be non-finite
        rows = np.unique(np.asarray(nodes.rows)[~np.isfinite(nodes.values)])
    else:
        rows = _nonfinite_rows(nodes)
    if rows.size:
        raise ValueError(
            f"graph.nodes has non-finite features in {rows.size} rows "
            f"(first: {rows[:5].tolist()}); clean or impute them before explaining"
        )
    n, e = nodes.shape[0], graph.senders.shape[0]
    if graph.receivers.shape != (e,) or np.asarray(graph.edges).shape[0] != e:
        raise ValueError(
            "graph.senders, graph.receivers and graph.edges must have the same length, got "
            f"{graph.senders.shape}, {graph.receivers.shape}, {np.asarray(graph.edges).shape}"
        )
    for name in ("senders", "receivers"):
        ids = getattr(graph, name)
        if e and (ids.min() < 0 or ids.max() >= n):
            raise ValueError(
                f"graph.{name} must hold node ids in [0, {n}), found {ids.min()}..{ids.max()}"
            )


def resolve_targets(
    spec: Any, num_nodes: int, masks: dict[str, np.ndarray], kind: str = "node"
) -> np.ndarray:
    """``[T]`` target ids of a target spec: a split name, ``"all"`` or an int array of node ids
    (graph ids when ``kind="graph"``)."""
    if isinstance(spec, str):
        if spec == "all":
            return np.arange(num_nodes, dtype=np.int32)
        if spec not in TARGET_SETS:
            raise ValueError(
                f"targets must be one of {list(TARGET_SETS)} or {kind} ids, got {spec!r}"
            )
        if spec not in masks:
            raise ValueError(f"targets={spec!r} needs a dataset with split masks; pass {kind} ids")
        ids = np.flatnonzero(masks[spec]).astype(np.int32)
        if not ids.size:
            raise ValueError(f"targets={spec!r}: the dataset's {spec}_mask selects no {kind}")
        return ids
    ids = np.asarray(spec)
    if ids.ndim == 1 and ids.size == 0:
        raise ValueError(f"targets is empty: pass at least one {kind} id, or 'test', 'all', ...")
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"targets must be a 1-D array of integer {kind} ids, got {ids.dtype} {ids.shape}"
        )
    bad = ids[(ids < 0) | (ids >= num_nodes)]
    if bad.size:
        raise ValueError(
            f"targets must be {kind} ids in [0, {num_nodes}), got {bad.size} outside it "
            f"(e.g. {int(bad[0])})"
        )
    return ids.astype(np.int32)


def resolve_classes(
    spec: Any, nodes: np.ndarray, num_classes: int, predicted: np.ndarray, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(target nodes, classes), with ``"all"`` expanding every node into one target per class."""
    if isinstance(spec, str):
        if spec == "predicted":
            return nodes, predicted[nodes].astype(np.int32)
        if spec == "all":
            return np.repeat(nodes, num_classes), np.tile(
                np.arange(num_classes, dtype=np.int32), nodes.size
            )
        if spec == "true":
            if labels is None:
                raise ValueError("classes='true' needs a Dataset with labels")
            classes = labels[nodes]
            if np.any(classes < 0):
                raise ValueError(
                    f"classes='true': {int(np.sum(classes < 0))} targets have no label "
                    f"(e.g. node {int(nodes[classes < 0][0])}); pick labelled targets"
                )
            return nodes, classes.astype(np.int32)
        raise ValueError(
            f"classes must be one of {list(CLASS_CHOICES)}, an int or an array, got {spec!r}"
        )
    classes = np.asarray(spec)
    if classes.ndim > 1 or (classes.ndim == 1 and classes.shape != nodes.shape):
        raise ValueError(
            f"classes must be an int or an array of one class per target ({nodes.size}), "
            f"got shape {classes.shape}"
        )
    classes = np.broadcast_to(classes, nodes.shape)
    if not np.issubdtype(classes.dtype, np.integer) or np.any(
        (classes < 0) | (classes >= num_classes)
    ):
        raise ValueError(f"classes must be integers in [0, {num_classes}), got {spec!r}")
    return nodes, classes.astype(np.int32)
