"""Your edge ids and jgattr's: what the loaders do to edges, and the map between the two orders.

Every jgattr graph stores each undirected edge in both directions, without self loops or
duplicates, sorted by ``(receiver, sender)`` (:func:`~jgattr.data._dataset.undirected_edges`);
node ids are kept as given. Models that add self loops (GCN, GAT) append one per node after
the ``E`` edges (:func:`~jgattr.models.prepare_graph`), so an edge method's ids ``E + v`` are
the self loop of node ``v``. Your edge ids are the positions in the edge list you gave:

* a PyG ``edge_index [2, E_user]`` (or any int array of that shape): column ``i``; for graph
  classification, the columns of the ``Batch``'s ``edge_index`` (graphs one after the other);
* a networkx graph: the ``i``-th pair of ``g.edges()`` (nodes numbered in ``g.nodes`` order);
* a scipy sparse (or dense numpy) adjacency: the ``i``-th nonzero entry of ``adj.tocoo()``
  (row-major for a dense array), ``adj[s, r] != 0`` being the edge ``s -> r``.

:func:`edge_map` gives both directions of the map (:class:`EdgeMap`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import scipy.sparse

from jgattr.data._dataset import DataError
from jgattr.data._fields import Source, check_edge_index


def as_numpy(value: Any) -> np.ndarray | None:
    """A numpy view of an array-like: torch tensors by duck typing (``.detach().cpu()``), so
    that this package never imports torch; ``None`` stays ``None``."""
    if value is None:
        return None
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def is_networkx(value: Any) -> bool:
    return all(hasattr(value, name) for name in ("nodes", "edges", "is_directed"))


def networkx_edge_index(graph: Any) -> np.ndarray:
    """int64 ``[2, E_user]``: ``graph.edges()`` in order, nodes numbered as ``graph.nodes``."""
    number = {node: i for i, node in enumerate(graph.nodes)}
    pairs = np.fromiter(
        (number[end] for edge in graph.edges() for end in edge[:2]),
        dtype=np.int64,
        count=2 * graph.number_of_edges(),
    )
    return pairs.reshape(-1, 2).T


def adjacency_edge_index(adj: Any, src: Source) -> np.ndarray:
    """int64 ``[2, E_user]``: the nonzero entries of a square adjacency in ``tocoo()`` order."""
    if scipy.sparse.issparse(adj):
        coo = adj.tocoo()
        keep = coo.data != 0
        rows, cols, shape = coo.row[keep], coo.col[keep], coo.shape
    else:
        dense = np.asarray(adj)
        if dense.ndim != 2:
            raise DataError(f"{src.where}: {src.edge_index} must be a 2-D adjacency matrix")
        rows, cols = np.nonzero(dense)
        shape = dense.shape
    if shape[0] != shape[1]:
        raise DataError(f"{src.where}: {src.edge_index} must be square [N, N], got {shape}")
    return np.stack([rows, cols]).astype(np.int64)


def user_edge_index(edges: Any, num_nodes: int, src: Source) -> np.ndarray:
    """int64 ``[2, E_user]`` of an ``edge_index``, a networkx graph or an adjacency, checked."""
    if is_networkx(edges):
        value = networkx_edge_index(edges)
    elif scipy.sparse.issparse(edges):
        value = adjacency_edge_index(edges, src)
    else:
        value = as_numpy(edges)
    return check_edge_index(value, num_nodes, src)


@dataclasses.dataclass(frozen=True, eq=False)
class EdgeMap:
    """Your edge ids and a jgattr graph's, both ways (see :func:`edge_map`).

    Attributes:
      to_jgattr: int64 ``[E_user]``: the jgattr id of your edge ``i`` (same sender, same
        receiver). Your self loop ``(v, v)`` maps to ``E + v``, the self loop GCN and GAT add
        to ``v`` (other models have none: its edge relevance is 0).
      to_user: int64 ``[E + N]``: your first edge with the sender and receiver of jgattr's edge
        ``e``; ``-1`` where you gave only the other direction (jgattr added this one) or no such
        self loop.
      reverse: int64 ``[E_user]``: the jgattr id of your edge ``i`` reversed (``-1`` for a self
        loop).
      num_edges: ``E``, the jgattr graph's edges (self loops excluded).
    """

    to_jgattr: np.ndarray
    to_user: np.ndarray
    reverse: np.ndarray
    num_edges: int

    def user_values(self, values: Any, *, undirected: bool = False) -> np.ndarray:
        """Values over jgattr's edge ids ``[E]`` or ``[E + N]`` (self loops), in your order.

        Args:
          values: ``[E]`` or ``[E + N]`` (or ``[..., F]``) per jgattr edge, e.g. a row of
            ``Attributions.to_dense(E + N)`` of an edge method.
          undirected: add the value of the reverse direction (for an edge list that holds each
            undirected edge once: networkx ``Graph``, an upper-triangular adjacency).

        Returns:
          ``[E_user]`` (or ``[E_user, F]``): your edge ``i``'s value; 0 for a self loop when
          ``values`` has no self loops.
        """
        values = np.asarray(values)
        padded = np.concatenate([values, np.zeros((1, *values.shape[1:]), values.dtype)])
        missing = values.shape[0]  # the zero row
        ids = np.where(self.to_jgattr < values.shape[0], self.to_jgattr, missing)
        out = padded[ids]
        if undirected:
            out = out + padded[np.where(self.reverse >= 0, self.reverse, missing)]
        return out


def _lookup(keys: np.ndarray, sorted_keys: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Position in the original array of each of ``keys`` (``-1`` if absent)."""
    found = np.searchsorted(sorted_keys, keys)
    found = np.minimum(found, max(sorted_keys.shape[0] - 1, 0))
    hit = sorted_keys[found] == keys if sorted_keys.size else np.zeros(keys.shape, bool)
    return np.where(hit, order[found] if order.size else -1, -1)


def edge_map(dataset: Any, edges: Any) -> EdgeMap:
    """The map between your edge ids and ``dataset``'s (module docstring: what counts as yours).

    Args:
      dataset: a :class:`~jgattr.data.Dataset` or :class:`~jgattr.data.GraphDataset` built
        from ``edges`` (:func:`from_pyg`, :func:`from_networkx`, :func:`from_scipy`,
        :func:`load_npz`).
      edges: your edge list: an int ``[2, E_user]`` array or tensor, a networkx graph or an
        adjacency matrix.

    Returns:
      The :class:`EdgeMap`.

    Raises:
      DataError: ``edges`` is malformed, or holds an edge (not a self loop) that ``dataset``
        lacks: then it is not the edge list the dataset was built from.

    Example:
      >>> ds = from_pyg(data)
      >>> ids = edge_map(ds, data.edge_index)
      >>> edge_mask = ids.user_values(result.to_dense(ds.num_edges + ds.num_nodes)[0])
    """
    n, e = dataset.num_nodes, dataset.num_edges
    src = Source("edge_map", edge_index="edges")
    user = user_edge_index(edges, n, src)
    senders = np.asarray(dataset.graph.senders, np.int64)
    receivers = np.asarray(dataset.graph.receivers, np.int64)
    keys = receivers * n + senders
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    loop = user[0] == user[1]
    to_jgattr = np.where(loop, e + user[0], _lookup(user[1] * n + user[0], sorted_keys, order))
    reverse = np.where(loop, -1, _lookup(user[0] * n + user[1], sorted_keys, order))
    absent = np.flatnonzero(to_jgattr < 0)
    if absent.size:
        i = int(absent[0])
        raise DataError(
            f"edge_map: edges[:, {i}] = ({user[0, i]} -> {user[1, i]}) is not an edge of "
            f"{dataset.name!r} ({absent.size} such edges); pass the edge list the dataset was "
            "built from"
        )
    ids, first = np.unique(to_jgattr, return_index=True)
    to_user = np.full(e + n, -1, dtype=np.int64)
    to_user[ids] = first
    return EdgeMap(to_jgattr.astype(np.int64), to_user, reverse.astype(np.int64), e)
