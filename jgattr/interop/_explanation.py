"""Attributions as PyTorch Geometric ``Explanation`` objects, in your node and edge indexing.

torch and torch_geometric are imported only when a conversion runs (the ``torch`` extra).

An explanation of a node target ``v`` covers the whole graph, as PyG's ``Explainer`` gives it:

* ``node_mask`` float32 ``[N, 1]`` (``[N, F]`` for feature-level results) of a node method:
  each source's relevance at its node id, 0 outside ``v``'s computation graph;
* ``edge_mask`` float32 ``[E_user]`` of an edge method, over *your* ``edge_index``
  (:func:`~jgattr.data.edge_map`): your edge ``i`` gets the relevance of jgattr's edge with its
  sender and receiver. Your self loop ``(u, u)`` gets the self loop that GCN and GAT add (PyG's
  ``GCNConv`` adds its own and never masks it: those values are only reachable this way);
* ``x``, ``edge_index``, ``index = [v]`` and ``target`` ``[N]`` (``-1`` except ``target[v]``, the
  explained class), so that ``fidelity`` (``explanation_type="model"``), ``visualize_graph``
  (edge methods) and ``groundtruth_metrics`` take it as they take PyG's own.

A graph target ``g`` (:class:`~jgattr.data.GraphDataset`) gives ``g``'s own graph: its nodes
renumbered from 0, its edges (your ``batch.edge_index`` columns inside ``g``, in order) and
``target = [class]``, as PyG explains one graph.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from jgattr.data import EdgeMap, edge_map

_EXTRA = "pip install 'jgattr[torch]' (torch and torch_geometric)"


def _pyg() -> tuple[Any, Any]:
    """(torch, torch_geometric.explain.Explanation), or an ImportError naming the extra."""
    try:
        import torch
        from torch_geometric.explain import Explanation
    except ImportError as err:
        raise ImportError(f"PyG explanations need torch_geometric ({err}): {_EXTRA}") from None
    return torch, Explanation


@dataclasses.dataclass(frozen=True)
class _Graph:
    """What every explanation of one result shares: the graph in your indexing."""

    x: Any  # torch [N, F]
    edge_index: np.ndarray  # [2, E_user]
    edges: EdgeMap
    node_offsets: np.ndarray | None  # [G + 1] for graph targets


def _graph(result: Any, dataset: Any, edge_index: Any, torch: Any) -> _Graph:
    if edge_index is None:
        edge_index = np.stack([dataset.graph.senders, dataset.graph.receivers]).astype(np.int64)
    edges = edge_map(dataset, edge_index)
    user = np.asarray(edge_index.detach().cpu() if hasattr(edge_index, "detach") else edge_index)
    offsets = getattr(dataset, "node_offsets", None) if result.target_level == "graph" else None
    if result.target_level == "graph" and offsets is None:
        raise ValueError(
            f"result has graph targets; dataset must be the GraphDataset they came from, got "
            f"{type(dataset).__name__}"
        )
    x = torch.from_numpy(np.asarray(dataset.graph.nodes, np.float32))
    return _Graph(x, user.astype(np.int64), edges, offsets)


def _rows(result: Any, target: Any, class_id: Any) -> int:
    """The one row of ``result`` for ``target`` (and ``class_id``), or a named error."""
    rows = np.flatnonzero(np.asarray(result.targets) == target)
    if class_id is not None:
        rows = rows[np.asarray(result.classes)[rows] == class_id]
    if rows.size == 1:
        return int(rows[0])
    if rows.size == 0:
        what = "" if class_id is None else f" with class {class_id}"
        raise ValueError(
            f"target {target!r}{what} is not among the result's {result.num_targets} targets "
            f"(e.g. {np.asarray(result.targets)[:5].tolist()})"
        )
    raise ValueError(
        f"target {target!r} was explained for classes {np.asarray(result.classes)[rows].tolist()}"
        "; pass class_id= to choose one"
    )


def _node_mask(values: np.ndarray, sources: np.ndarray, size: int) -> np.ndarray:
    values = values.reshape(values.shape[0], -1)
    mask = np.zeros((size, values.shape[1]), np.float32)
    mask[sources] = values
    return mask


def _edge_mask(graph: _Graph, values: np.ndarray, sources: np.ndarray) -> np.ndarray:
    dense = np.zeros(graph.edges.to_user.shape[0], np.float32)  # E + N: self loops last
    dense[sources] = values.reshape(values.shape[0], -1).sum(axis=1)
    return graph.edges.user_values(dense)


def _explain_row(result: Any, row: int, graph: _Graph, torch: Any, explanation: Any) -> Any:
    sources, values = (np.asarray(a) for a in result.for_target(row))
    target, label = int(result.targets[row]), int(result.classes[row])
    x, edge_index = graph.x, graph.edge_index
    keep = slice(None)
    fields: dict[str, Any] = {}
    if graph.node_offsets is not None:  # graph target: its own nodes and edges
        low, high = int(graph.node_offsets[target]), int(graph.node_offsets[target + 1])
        keep = (edge_index[0] >= low) & (edge_index[0] < high)
        x, edge_index = x[low:high], edge_index[:, keep] - low
        fields["target"] = torch.tensor([label])
        if result.level == "node":
            sources = sources - low
    else:
        fields["index"] = torch.tensor([target])
        fields["target"] = torch.full((x.shape[0],), -1, dtype=torch.long)
        fields["target"][target] = label
    if result.level == "edge":
        fields["edge_mask"] = torch.from_numpy(_edge_mask(graph, values, sources)[keep])
    else:
        fields["node_mask"] = torch.from_numpy(_node_mask(values, sources, x.shape[0]))
    out = explanation(x=x, edge_index=torch.from_numpy(np.ascontiguousarray(edge_index)), **fields)
    out._model_args = []  # what PyG's Explainer records; fidelity reads it
    return out


def pyg_explanation(
    result: Any, target: Any, dataset: Any, *, edge_index: Any = None, class_id: Any = None
) -> Any:
    """One target's attributions as a ``torch_geometric.explain.Explanation`` (module docstring).

    Args:
      result: an :class:`~jgattr.attribution.Attributions`.
      target: the node id (graph id for graph targets) to convert.
      dataset: the :class:`~jgattr.data.Dataset` / :class:`~jgattr.data.GraphDataset` explained.
      edge_index: your ``[2, E_user]`` edge list (tensor or array; ``batch.edge_index`` for a
        graph dataset) that ``edge_mask`` follows; ``None``: jgattr's own edges (self loops
        left out).
      class_id: the class, when ``target`` was explained for several (``classes="all"``).

    Returns:
      The ``Explanation``.

    Raises:
      ValueError: ``target`` (with ``class_id``) is not one row of ``result``.
      ImportError: torch_geometric is not installed (names the extra to install).
      DataError: ``edge_index`` is not the edge list ``dataset`` was built from.
    """
    torch, explanation = _pyg()
    graph = _graph(result, dataset, edge_index, torch)
    return _explain_row(result, _rows(result, target, class_id), graph, torch, explanation)


def pyg_explanations(
    result: Any, dataset: Any, *, targets: Any = None, edge_index: Any = None
) -> list[Any]:
    """Many targets' ``Explanation`` objects, sharing one ``x`` and ``edge_index`` tensor.

    Args:
      result: an :class:`~jgattr.attribution.Attributions`.
      dataset: the dataset explained.
      targets: node (graph) ids; ``None``: every row of ``result`` in order (one per
        (target, class) pair).
      edge_index: as for :func:`pyg_explanation`.

    Returns:
      One ``Explanation`` per row of ``result`` whose target is in ``targets``, in row order.
      Each holds dense ``[N, 1]`` masks, as PyG's do: on a big graph pass the ``targets`` you
      look at (the sparse result, or ``to_parquet``, holds every target).
    """
    torch, explanation = _pyg()
    graph = _graph(result, dataset, edge_index, torch)
    rows = range(result.num_targets)
    if targets is not None:
        rows = np.flatnonzero(np.isin(np.asarray(result.targets), np.asarray(targets)))
    return [_explain_row(result, int(row), graph, torch, explanation) for row in rows]
