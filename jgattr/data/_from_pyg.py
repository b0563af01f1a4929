"""PyTorch Geometric graphs as jgattr datasets, without importing torch (tensors are read by duck
typing: ``.detach().cpu().numpy()``).

* A ``Data`` (or a one-graph dataset such as ``Planetoid``, whose ``y`` labels its nodes) is a
  node-classification :class:`~jgattr.data.Dataset`: ``x``, ``edge_index``, ``y`` and the
  ``train_mask`` / ``val_mask`` / ``test_mask`` it has.
* A ``Batch``, an ``InMemoryDataset`` (``TUDataset``, ...) or a list of ``Data`` with one label
  per graph is a :class:`~jgattr.data.GraphDataset`, graphs in the given order.

Node ids are kept (graph after graph, as in a ``Batch``); edge attributes and weights are not
read (jgattr's models weight edges themselves); the edges are made undirected without self loops
or duplicates, and :func:`~jgattr.data.edge_map` maps your ``edge_index`` columns to jgattr's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jgattr.data._convert import node_dataset
from jgattr.data._dataset import DataError, Dataset
from jgattr.data._edge_map import as_numpy
from jgattr.data._fields import (
    MASK_FIELDS,
    Source,
    check_edge_index,
    check_features,
    check_labels,
    check_num_classes,
)
from jgattr.data._graph_dataset import GraphDataset, make_graph_dataset
from jgattr.data._graph_union import check_seed, stratified_split, union_edges

_GIVE = "pass from_pyg(..., num_classes={})"


def _field(data: Any, name: str) -> Any:
    return getattr(data, name, None)


def _mask(data: Any, name: str, split: int | None, src: Source) -> np.ndarray | None:
    """``data.<name>`` as ``[N]``; a ``[N, k]`` mask (k splits) needs ``split``."""
    value = as_numpy(_field(data, name))
    if value is None or value.ndim != 2:
        return value
    if split is None:
        raise DataError(
            f"{src.where}: field {name!r} holds {value.shape[1]} splits {list(value.shape)}; "
            "choose one with from_pyg(..., split=i)"
        )
    if not 0 <= split < value.shape[1]:
        raise DataError(f"{src.where}: split must be in [0, {value.shape[1]}), got {split}")
    return value[:, split]


def _node_labels(data: Any, src: Source) -> Any:
    """``data.y`` as ``[N]``: an ``[N, 1]`` column (ogbn-arxiv) is flattened."""
    y = as_numpy(_field(data, "y"))
    if y is not None and y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y is not None and y.ndim == 2:
        raise DataError(
            f"{src.where}: field 'y' is {list(y.shape)} (multi-label or one-hot); jgattr needs "
            "one class id per node: y.argmax(-1) for one-hot labels"
        )
    return y


def _pyg_node_dataset(data: Any, name: str, num_classes: Any, split: int | None) -> Dataset:
    src = Source("from_pyg", features="x", labels="y", give_classes=_GIVE)
    return node_dataset(
        name,
        src,
        features=_field(data, "x"),
        edge_index=_field(data, "edge_index"),
        labels=_node_labels(data, src),
        masks=[_mask(data, field, split, src) for field in MASK_FIELDS],
        num_classes=num_classes,
    )


def _graph_parts(graph: Any, index: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(features ``[n, F]``, edges ``[2, e]`` local ids, label) of graph ``index``, checked."""
    src = Source(f"from_pyg: graph {index}", features="x", labels="y")
    for field in ("x", "edge_index", "y"):
        if _field(graph, field) is None:
            raise DataError(f"{src.where}: field {field!r} is missing (None)")
    features = check_features(as_numpy(graph.x), src)
    edges = check_edge_index(as_numpy(graph.edge_index), features.shape[0], src)
    label = as_numpy(graph.y).reshape(-1)
    if label.size != 1:
        raise DataError(
            f"{src.where}: field 'y' must hold one graph label, got {label.size} values; for "
            "node labels pass a single Data to from_pyg"
        )
    return features, edges, label[0]


def _pyg_graph_dataset(graphs: list[Any], name: str, num_classes: Any, seed: int) -> GraphDataset:
    if not graphs:
        raise DataError("from_pyg: the dataset holds no graph")
    parts = [_graph_parts(graph, i) for i, graph in enumerate(graphs)]
    widths = {features.shape[1] for features, _, _ in parts}
    if len(widths) != 1:
        raise DataError(f"from_pyg: graphs have different feature widths {sorted(widths)}")
    n_node = np.array([features.shape[0] for features, _, _ in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_node)[:-1]])
    edges = np.concatenate([e + o for (_, e, _), o in zip(parts, offsets, strict=True)], axis=1)
    src = Source("from_pyg", features="x", labels="y", give_classes=_GIVE)
    labels = check_labels(np.array([label for _, _, label in parts]), len(parts), src)
    if np.any(labels < 0):
        first = int(np.argmax(labels < 0))
        raise DataError(f"from_pyg: graph {first} has label {labels[first]}; graph labels >= 0")
    senders, receivers, n_edge = union_edges(edges.T, n_node)
    return make_graph_dataset(
        name,
        features=np.concatenate([features for features, _, _ in parts]),
        senders=senders,
        receivers=receivers,
        n_node=n_node,
        n_edge=n_edge,
        labels=labels,
        masks=stratified_split(np.random.default_rng(check_seed(name, seed)), labels),
        num_classes=check_num_classes(num_classes, labels, src),
    )


def _is_node_task(data: Any) -> bool:
    """A single graph whose ``y`` has one entry per node (more than one node)."""
    y, x = _field(data, "y"), _field(data, "x")
    if y is None or x is None:
        return True
    rows = as_numpy(y).shape[0] if as_numpy(y).ndim else 1
    return rows == as_numpy(x).shape[0] and rows > 1


def from_pyg(
    data: Any,
    *,
    num_classes: int | None = None,
    split: int | None = None,
    seed: int = 0,
    name: str | None = None,
) -> Dataset | GraphDataset:
    """A jgattr dataset from PyTorch Geometric data (module docstring: which becomes which).

    Args:
      data: a ``torch_geometric.data.Data`` (node classification), a ``Batch``, an
        ``InMemoryDataset`` or a list of ``Data`` (graph classification; a one-graph dataset
        whose ``y`` labels its nodes is node classification).
      num_classes: ``C``; ``None`` infers it from ``y`` (rule of :func:`load_npz`).
      split: for masks of several splits ``[N, k]`` (e.g. WikiCS), the column to use.
      seed: graph classification: seed of the stratified 80 / 10 / 10 split of the graphs
        (PyG graph datasets carry none), as for TU datasets.
      name: the dataset name; default ``"pyg:<dataset name or class>"``.

    Returns:
      A :class:`Dataset` or a :class:`GraphDataset`; your ``edge_index`` column ``i`` maps to
      jgattr's edge ids through :func:`edge_map` (``batch.edge_index`` for graph datasets).

    Raises:
      DataError: a field is missing or malformed; the message names it (``x``, ``y``,
        ``edge_index``, ``train_mask``, and the graph for graph datasets).

    Example:
      >>> from torch_geometric.datasets import Planetoid
      >>> data = Planetoid("data", "Cora")[0]
      >>> ds = from_pyg(data)
      >>> ds.num_nodes, ds.num_edges, int(ds.test_mask.sum())
      (2708, 10556, 1000)
    """
    label = _field(data, "name") or type(data).__name__
    name = name or f"pyg:{label}"
    if hasattr(data, "to_data_list"):  # a Batch
        return _pyg_graph_dataset(data.to_data_list(), name, num_classes, seed)
    if hasattr(data, "stores"):  # a Data (a dataset forwards edge_index, x, ... but not stores)
        return _pyg_node_dataset(data, name, num_classes, split)
    if not hasattr(data, "__len__") or not hasattr(data, "__getitem__"):
        raise DataError(
            f"from_pyg: data must be a PyG Data, Batch, dataset or list of Data, got "
            f"{type(data).__name__}"
        )
    graphs = [data[i] for i in range(len(data))]
    if len(graphs) == 1 and _is_node_task(graphs[0]):
        return _pyg_node_dataset(graphs[0], name, num_classes, split)
    return _pyg_graph_dataset(graphs, name, num_classes, seed)
