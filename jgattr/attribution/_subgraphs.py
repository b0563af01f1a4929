"""Host-side K-hop computation graphs of many targets at once, chunked and padded for ``jit``.

The computation graph of target node ``a`` holds every node within K hops of ``a`` (a *copy* per
target) and every edge ``s → r`` whose receiver ``r`` is within K − 1 hops: exactly what K rounds
of message passing need to reproduce ``a``'s logits. A chunk of targets is the disjoint union of
their computation graphs, a ``jraph.GraphsTuple`` with one graph per target, so per-target work
follows its own computation graph and never the whole graph. Everything here is vectorized numpy.
"""

import dataclasses

import jraph
import numpy as np

from jgattr.attribution._cache import BoundedCache


@dataclasses.dataclass(frozen=True)
class InEdges:
    """Incoming edges of a graph in CSR form (by receiver).

    Attributes:
      indptr: ``[N + 1]``; the in-edges of node ``r`` are ``order[indptr[r]:indptr[r + 1]]``.
      order: ``[E]`` edge ids sorted by receiver.
      senders: ``[E]`` ``senders[order]``.
    """

    indptr: np.ndarray
    order: np.ndarray
    senders: np.ndarray

    @classmethod
    def of(cls, graph: jraph.GraphsTuple) -> "InEdges":
        receivers = np.asarray(graph.receivers)
        n = int(np.asarray(graph.n_node).sum())
        order = np.argsort(receivers, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(receivers, minlength=n), out=indptr[1:])
        return cls(indptr, order, np.asarray(graph.senders)[order])

    @property
    def num_nodes(self) -> int:
        return self.indptr.shape[0] - 1

    def expand(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All in-edges of ``nodes [m]``: (entry of ``nodes`` each belongs to, edge position)."""
        counts, position = self.in_edges_of(nodes)
        return np.repeat(np.arange(nodes.shape[0]), counts), position

    def in_edges_of(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(in-degree of each of ``nodes [m]``, the positions of all their in-edges, node by
        node): what :meth:`expand` gives, without the ``[E]`` owner array."""
        first = self.indptr[nodes]
        counts = self.indptr[nodes + 1] - first
        starts = np.cumsum(counts) - counts
        position = np.repeat(first - starts, counts) + np.arange(int(counts.sum()))
        return counts, position


@dataclasses.dataclass(frozen=True, eq=False)
class Union:
    """The disjoint union of the computation graphs of ``T`` targets (unpadded, host arrays).

    Copies are sorted by (target, node); edges by (target, receiver copy).

    Attributes:
      copy_node: ``[S]`` graph node id of each copy.
      node_offsets: ``[T + 1]``; target ``t`` owns copies ``node_offsets[t]:node_offsets[t + 1]``.
      target_copy: ``[T]`` the copy of each target node itself.
      edge_sender: ``[E_u]`` sender copy of each union edge.
      edge_receiver: ``[E_u]`` receiver copy.
      edge_id: ``[E_u]`` id of the graph edge it copies (index into the graph's ``edges``).
      edge_offsets: ``[T + 1]``; target ``t`` owns edges ``edge_offsets[t]:edge_offsets[t + 1]``.
      copy_top_edge: ``[S]`` graph edge id from each copy into its own target (``-1`` if none):
        the one-hop weights ``Â[a, j]`` that start the walk-sum backward pass.
      device_cache: padded chunk structures already on the devices, reused by later methods.
    """

    copy_node: np.ndarray
    node_offsets: np.ndarray
    target_copy: np.ndarray
    edge_sender: np.ndarray
    edge_receiver: np.ndarray
    edge_id: np.ndarray
    edge_offsets: np.ndarray
    copy_top_edge: np.ndarray
    device_cache: BoundedCache = dataclasses.field(
        default_factory=lambda: BoundedCache("device_structure", 64), compare=False, repr=False
    )

    @property
    def num_targets(self) -> int:
        return self.target_copy.shape[0]

    @property
    def copy_target(self) -> np.ndarray:
        """``[S]`` the target (position) each copy belongs to."""
        return np.repeat(np.arange(self.num_targets), np.diff(self.node_offsets))

    @property
    def num_copies(self) -> int:
        return self.copy_node.shape[0]

    @property
    def num_edges(self) -> int:
        return self.edge_id.shape[0]


def _reach(in_edges: InEdges, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One hop back from sorted (target, node) keys ``t * N + v``: for every in-edge of their
    nodes, its key's target, the edge's position in ``in_edges`` and the sender's key."""
    n = keys.dtype.type(in_edges.num_nodes)
    counts, position = in_edges.in_edges_of(keys % n)
    edge_target = np.repeat(keys // n, counts)
    return edge_target, position, edge_target * n + in_edges.senders[position].astype(keys.dtype)


def computation_graphs(in_edges: InEdges, targets: np.ndarray, num_hops: int) -> Union:
    """The union of the ``num_hops``-hop computation graphs of ``targets``.

    A node within ``d`` hops of a target stays in its computation graph at every later hop (a
    model reads a node's own state through a self loop, GCN, or a root term, GIN and
    GraphSAGE), so graphs with and without self loops give the same node sets.

    Args:
      in_edges: incoming edges of the prepared graph.
      targets: ``[T]`` node ids; repeats are separate targets.
      num_hops: K >= 1, the number of message-passing layers.

    Returns:
      A :class:`Union`.
    """
    n, num_targets = in_edges.num_nodes, targets.shape[0]
    # (target, node) keys t * N + v; int32 when they fit: numpy sorts those several times faster
    dtype = np.int32 if num_targets * n < 2**31 else np.int64
    keys = np.arange(num_targets, dtype=dtype) * dtype(n) + targets.astype(dtype)
    target_keys = keys  # increasing: one per target
    for _ in range(num_hops - 1):
        keys = _unique(np.concatenate([keys, _reach(in_edges, keys)[2]]))
    edge_target, position, sender_keys = _reach(in_edges, keys)
    copy_keys, inverse = _unique_inverse(np.concatenate([keys, sender_keys]))
    receiver_copy, edge_sender = inverse[: keys.shape[0]], inverse[keys.shape[0] :]
    target_copy = np.searchsorted(copy_keys, target_keys).astype(np.int32)
    edge_receiver = np.repeat(receiver_copy, np.diff(in_edges.indptr)[keys % dtype(n)])
    edge_id = in_edges.order[position].astype(np.int32)
    into_target = edge_receiver == target_copy[edge_target]
    copy_top_edge = np.full(copy_keys.shape[0], -1, dtype=np.int32)
    copy_top_edge[edge_sender[into_target]] = edge_id[into_target]
    bounds = np.arange(num_targets + 1, dtype=np.int64)
    return Union(
        copy_node=(copy_keys % dtype(n)).astype(np.int32),
        node_offsets=np.searchsorted(copy_keys, bounds * n),
        target_copy=target_copy,
        edge_sender=edge_sender,
        edge_receiver=edge_receiver,
        edge_id=edge_id,
        edge_offsets=np.searchsorted(edge_target, bounds),
        copy_top_edge=copy_top_edge,
    )


def receiver_depths(
    target_copy: np.ndarray, senders: np.ndarray, receivers: np.ndarray, num_copies: int, hops: int
) -> np.ndarray:
    """``[E]`` the hop distance from its target of each edge's receiver (0..K − 1) in a union
    of computation graphs (``target_copy [T]``, edges ``senders → receivers``, K = ``hops``).

    Layer ``l`` of a K-layer model needs only the edges whose receiver is within ``K − l`` hops
    of its target: its rows elsewhere never reach the target's logits.
    """
    depth = np.full(num_copies, hops, np.int8)
    depth[target_copy] = 0
    for hop in range(1, hops):
        near = senders[depth[receivers] < hop]
        depth[near] = np.minimum(depth[near], hop)
    return depth[receivers]


def graph_unions(in_edges: InEdges, node_offsets: np.ndarray, graphs: np.ndarray) -> Union:
    """The union of whole graphs ``graphs [T]`` of a batch whose graph ``g`` owns the nodes
    ``node_offsets[g]:node_offsets[g + 1]`` (graph targets: a graph's logits read all of it).

    Each target copies its graph's nodes and every edge into them (self loops included); its
    ``target_copy`` is its first copy. Vectorized: no loop over graphs.
    """
    starts, stops = node_offsets[graphs], node_offsets[graphs + 1]
    counts = stops - starts
    copy_offsets = _offsets(np.repeat(np.arange(graphs.shape[0]), counts), graphs.shape[0])
    within = np.arange(copy_offsets[-1]) - np.repeat(copy_offsets[:-1], counts)
    copy_node = np.repeat(starts, counts) + within
    first_edge, last_edge = in_edges.indptr[starts], in_edges.indptr[stops]
    edge_counts = last_edge - first_edge
    edge_owner = np.repeat(np.arange(graphs.shape[0]), edge_counts)
    edge_offsets = _offsets(edge_owner, graphs.shape[0])
    position = np.repeat(first_edge, edge_counts) + (
        np.arange(edge_offsets[-1]) - np.repeat(edge_offsets[:-1], edge_counts)
    )
    shift = (copy_offsets[:-1] - starts)[edge_owner]  # graph node id -> copy index
    receivers = np.repeat(np.arange(in_edges.num_nodes), np.diff(in_edges.indptr))[position]
    return Union(
        copy_node=copy_node.astype(np.int32),
        node_offsets=copy_offsets,
        target_copy=copy_offsets[:-1].astype(np.int32),
        edge_sender=(in_edges.senders[position] + shift).astype(np.int32),
        edge_receiver=(receivers + shift).astype(np.int32),
        edge_id=in_edges.order[position].astype(np.int32),
        edge_offsets=edge_offsets,
        copy_top_edge=np.full(copy_node.shape[0], -1, dtype=np.int32),
    )


def _unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct ``keys`` (a sort and a mask: several times faster than ``np.unique``'s
    hash table on these keys)."""
    keys = np.sort(keys)
    return keys[_first_of_runs(keys)]


def _unique_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct ``keys``, int32 index of each key among them), as ``np.unique(...,
    return_inverse=True)`` but from one unstable argsort."""
    order = np.argsort(keys)
    ordered = keys[order]
    first = _first_of_runs(ordered)
    inverse = np.empty(keys.shape[0], dtype=np.int32)
    inverse[order] = np.cumsum(first, dtype=np.int32) - 1
    return ordered[first], inverse


def _first_of_runs(ordered: np.ndarray) -> np.ndarray:
    first = np.empty(ordered.shape[0], dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


def _offsets(sorted_owner: np.ndarray, num_groups: int) -> np.ndarray:
    offsets = np.zeros(num_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(sorted_owner, minlength=num_groups), out=offsets[1:])
    return offsets
