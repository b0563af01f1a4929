"""The :class:`GraphDataset`: many small graphs with one label each (graph classification).

All graphs live in one disjoint union, a single ``jraph.GraphsTuple`` with one entry of ``n_node``
and ``n_edge`` per graph: graph ``g`` owns nodes ``node_offsets[g]:node_offsets[g + 1]`` and edges
``edge_offsets[g]:edge_offsets[g + 1]``. Within a graph the edges are undirected (both
directions), without self loops or duplicates, sorted by ``(receiver, sender)``, so the whole
edge list is sorted by receiver too. Models read the union as one graph whose readout pools each
graph's nodes (``n_node``); the engine explains a graph by copying its nodes and edges.
"""

from __future__ import annotations

import dataclasses
import functools

import jraph
import numpy as np

from jgattr.data._dataset import (
    DataError,
    GraphSizes,
    GroundTruth,
    _check_array,
    check_ground_truth,
    check_nodes_and_edges,
)


@dataclasses.dataclass(frozen=True, eq=False)
class GraphDataset(GraphSizes):
    """A graph-classification dataset: G graphs in one disjoint union, a label and split per graph.

    Attributes:
      name: ``"ba-2motifs"``, ``"tu:<NAME>"``, ``"moleculenet:<name>"``, ...
      graph: ``jraph.GraphsTuple`` of numpy arrays: ``nodes`` float32 ``[N, F]`` (all graphs),
        ``senders`` / ``receivers`` int32 ``[E]`` (global node ids, each edge inside one graph),
        ``n_node`` / ``n_edge`` int32 ``[G]``, ``edges`` and ``globals`` ``None``.
      labels: int32 ``[G]`` graph classes in ``[0, num_classes)``.
      train_mask: bool ``[G]``.
      val_mask: bool ``[G]``.
      test_mask: bool ``[G]``.
      num_classes: ``C``.
      ground_truth: the nodes and edges that decide the label (motifs), sized ``[N]`` / ``[E]``;
        ``motif_id`` is the graph id of each motif node. ``None`` when unknown.
      node_names: ``[N]`` a short name per node for figures (atom symbols), or ``None``.
      class_names: a name per class, or ``None``.

    Example:
      >>> ds = load_graph_dataset("ba-2motifs")
      >>> ds.num_graphs, ds.num_classes
      (1000, 2)
    """

    name: str
    graph: jraph.GraphsTuple
    labels: np.ndarray
    train_mask: np.ndarray
    val_mask: np.ndarray
    test_mask: np.ndarray
    num_classes: int
    ground_truth: GroundTruth | None = None
    node_names: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _check_union(self.name, self.graph)
        g = self.num_graphs
        _check_array(self.name, "labels", self.labels, np.int32, (g,))
        if g and (self.labels.min() < 0 or self.labels.max() >= self.num_classes):
            raise DataError(
                f"{self.name}: labels must be in [0, {self.num_classes}), "
                f"found {self.labels.min()}..{self.labels.max()}"
            )
        for field in ("train_mask", "val_mask", "test_mask"):
            _check_array(self.name, field, getattr(self, field), np.bool_, (g,))
        if self.ground_truth is not None:
            check_ground_truth(self.name, self.ground_truth, self.num_nodes, self.num_edges)
        if self.node_names is not None and np.shape(self.node_names) != (self.num_nodes,):
            raise DataError(
                f"{self.name}: node_names must have one entry per node ({self.num_nodes}), "
                f"got shape {np.shape(self.node_names)}"
            )
        if self.class_names is not None and len(self.class_names) != self.num_classes:
            raise DataError(
                f"{self.name}: class_names must name {self.num_classes} classes, "
                f"got {len(self.class_names)}"
            )

    @property
    def level(self) -> str:
        """What a target is: ``"graph"``."""
        return "graph"

    @property
    def num_graphs(self) -> int:
        return int(self.graph.n_node.shape[0])

    @functools.cached_property
    def node_offsets(self) -> np.ndarray:
        """``[G + 1]`` int64: graph ``g`` owns nodes ``node_offsets[g]:node_offsets[g + 1]``."""
        return np.concatenate([[0], np.cumsum(self.graph.n_node, dtype=np.int64)])

    @functools.cached_property
    def edge_offsets(self) -> np.ndarray:
        """``[G + 1]`` int64: graph ``g`` owns edges ``edge_offsets[g]:edge_offsets[g + 1]``."""
        return np.concatenate([[0], np.cumsum(self.graph.n_edge, dtype=np.int64)])

    @functools.cached_property
    def graph_of_node(self) -> np.ndarray:
        """``[N]`` int32 the graph each node belongs to."""
        return np.repeat(np.arange(self.num_graphs, dtype=np.int32), self.graph.n_node)


def _check_union(name: str, graph: object) -> None:
    e = check_nodes_and_edges(name, graph)
    nodes = graph.nodes
    g = np.shape(graph.n_node)[0] if np.ndim(graph.n_node) == 1 else -1
    _check_array(name, "graph.n_node", graph.n_node, np.int32, (g,))
    _check_array(name, "graph.n_edge", graph.n_edge, np.int32, (g,))
    if int(graph.n_node.sum()) != nodes.shape[0] or int(graph.n_edge.sum()) != e:
        raise DataError(
            f"{name}: graph.n_node sums to {int(graph.n_node.sum())} and n_edge to "
            f"{int(graph.n_edge.sum())}, but there are {nodes.shape[0]} nodes and {e} edges"
        )
    if np.any(graph.n_node < 1):
        raise DataError(
            f"{name}: every graph needs at least one node; graph "
            f"{int(np.argmin(graph.n_node))} has none"
        )
    owner = np.repeat(np.arange(g), graph.n_node)
    edge_owner = np.repeat(np.arange(g), graph.n_edge)
    ends = np.concatenate([graph.senders, graph.receivers])
    if e and (ends.min() < 0 or ends.max() >= len(owner)):
        raise DataError(f"{name}: edge endpoints must be node ids in [0, {len(owner)})")
    crossing = (owner[graph.senders] != edge_owner) | (owner[graph.receivers] != edge_owner)
    if np.any(crossing):
        first = int(np.flatnonzero(crossing)[0])
        raise DataError(
            f"{name}: edge {first} ({graph.senders[first]} -> {graph.receivers[first]}) leaves "
            f"its graph {edge_owner[first]}; each graph's edges must join its own nodes"
        )


def make_graph_dataset(
    name: str,
    *,
    features: np.ndarray,
    senders: np.ndarray,
    receivers: np.ndarray,
    n_node: np.ndarray,
    n_edge: np.ndarray,
    labels: np.ndarray,
    masks: tuple[np.ndarray, np.ndarray, np.ndarray],
    num_classes: int,
    ground_truth: GroundTruth | None = None,
    node_names: np.ndarray | None = None,
    class_names: tuple[str, ...] | None = None,
) -> GraphDataset:
    """Wrap validated numpy arrays into a :class:`GraphDataset`.

    Args:
      name: the dataset name.
      features: float ``[N, F]``, graphs one after the other.
      senders: int ``[E]`` global node ids, graph by graph, each graph's edges undirected,
        deduplicated and sorted by ``(receiver, sender)`` (:func:`undirected_edges` per graph).
      receivers: int ``[E]``.
      n_node: int ``[G]`` nodes per graph.
      n_edge: int ``[G]`` directed edges per graph.
      labels: int ``[G]``.
      masks: ``(train, val, test)``, each bool ``[G]``.
      num_classes: ``C``.
      ground_truth: motif nodes and edges, aligned with the union's nodes and edges.
      node_names: ``[N]`` names for figures (atom symbols).
      class_names: ``C`` class names.
    """
    graph = jraph.GraphsTuple(
        nodes=np.ascontiguousarray(features, dtype=np.float32),
        edges=None,
        senders=np.asarray(senders, dtype=np.int32),
        receivers=np.asarray(receivers, dtype=np.int32),
        n_node=np.asarray(n_node, dtype=np.int32),
        n_edge=np.asarray(n_edge, dtype=np.int32),
        globals=None,
    )
    train, val, test = (np.asarray(m, dtype=bool) for m in masks)
    return GraphDataset(
        name=name,
        graph=graph,
        labels=np.asarray(labels, dtype=np.int32),
        train_mask=train,
        val_mask=val,
        test_mask=test,
        num_classes=int(num_classes),
        ground_truth=ground_truth,
        node_names=None if node_names is None else np.asarray(node_names),
        class_names=None if class_names is None else tuple(class_names),
    )
