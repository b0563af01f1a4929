"""Batches of whole graphs cut from a prepared disjoint union, padded to a few bucketed shapes.

The union is prepared once (self loops, edge weights: both are per graph, so preparing the union
and cutting it equals cutting it and preparing each piece). A batch gathers its graphs' nodes and
edges, renumbers them, and pads as jraph's ``pad_with_graphs`` does: one padding graph holds the
padding nodes and every padding edge (weight 0) joins its first node, then empty graphs up to a
fixed graph count. Node and edge counts are rounded up to ``2^k`` or ``1.5 * 2^k``, so ``jit``
compiles a handful of shapes per dataset.
"""

from __future__ import annotations

import dataclasses

import jraph
import numpy as np

from jgattr._padding import padded_size


def _ranges(offsets: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The concatenated index ranges ``offsets[i]:offsets[i + 1]`` of every ``i`` in ``ids``."""
    starts, lengths = offsets[ids], offsets[ids + 1] - offsets[ids]
    begin = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.repeat(starts - begin, lengths) + np.arange(int(lengths.sum()))


@dataclasses.dataclass(frozen=True)
class GraphBatches:
    """A prepared union whose edges are grouped by graph, ready to be cut into batches.

    Attributes:
      graph: the prepared union (numpy): nodes ``[N, F]``, edges (weights) ``[E, ...]`` or
        ``None``, senders / receivers ``[E]`` sorted by the graph that owns them.
      node_offsets: ``[G + 1]`` graph ``g`` owns nodes ``node_offsets[g]:node_offsets[g + 1]``.
      edge_offsets: ``[G + 1]`` and edges ``edge_offsets[g]:edge_offsets[g + 1]``.
      graphs_per_batch: ``B``; every batch has ``B + 1`` graph rows (the last ones padding).
    """

    graph: jraph.GraphsTuple
    node_offsets: np.ndarray
    edge_offsets: np.ndarray
    graphs_per_batch: int

    @classmethod
    def from_prepared(
        cls, prepared: jraph.GraphsTuple, n_node: np.ndarray, graphs_per_batch: int
    ) -> GraphBatches:
        """Group ``prepared``'s edges (a model's ``prepare_graph`` of a union of graphs of
        ``n_node [G]`` nodes each) by the graph of their receiver."""
        node_offsets = np.concatenate([[0], np.cumsum(n_node, dtype=np.int64)])
        receivers = np.asarray(prepared.receivers)
        owner = np.searchsorted(node_offsets, receivers, side="right") - 1
        order = np.argsort(owner, kind="stable")
        counts = np.bincount(owner, minlength=len(n_node))
        edges = None if prepared.edges is None else np.asarray(prepared.edges)[order]
        graph = prepared._replace(
            nodes=np.asarray(prepared.nodes),
            edges=edges,
            senders=np.asarray(prepared.senders)[order],
            receivers=receivers[order],
        )
        edge_offsets = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        return cls(graph, node_offsets, edge_offsets, int(graphs_per_batch))

    def node_ids(self, ids: np.ndarray) -> np.ndarray:
        """The union's node ids of graphs ``ids``, in the order of their batch's real nodes."""
        return _ranges(self.node_offsets, np.asarray(ids, np.int64))

    def batch(self, ids: np.ndarray) -> jraph.GraphsTuple:
        """Graphs ``ids`` (at most ``graphs_per_batch``) as one padded prepared batch (numpy):
        nodes ``[N_pad, F]``, ``n_node [B + 1]``; graph ``ids[i]`` is row ``i`` of its logits."""
        ids = np.asarray(ids, np.int64)
        if len(ids) > self.graphs_per_batch:
            raise ValueError(
                f"a batch holds at most {self.graphs_per_batch} graphs, got {len(ids)}"
            )
        nodes, edges = self.node_ids(ids), _ranges(self.edge_offsets, ids)
        n_node = np.diff(self.node_offsets)[ids]
        n_edge = np.diff(self.edge_offsets)[ids]
        new_offsets = np.concatenate([[0], np.cumsum(n_node)[:-1]])
        shift = np.repeat(new_offsets - self.node_offsets[ids], n_edge)
        n_real, e_real = len(nodes), len(edges)
        n_pad, e_pad = padded_size(n_real + 1), padded_size(e_real)
        g = self.graph
        return jraph.GraphsTuple(
            nodes=_pad_rows(g.nodes[nodes], n_pad, 0),
            edges=None if g.edges is None else _pad_rows(g.edges[edges], e_pad, 0),
            senders=_pad_rows((g.senders[edges] + shift).astype(np.int32), e_pad, n_real),
            receivers=_pad_rows((g.receivers[edges] + shift).astype(np.int32), e_pad, n_real),
            n_node=_graph_counts(n_node, n_pad - n_real, self.graphs_per_batch + 1),
            n_edge=_graph_counts(n_edge, e_pad - e_real, self.graphs_per_batch + 1),
            globals=None,
        )


def _pad_rows(values: np.ndarray, size: int, fill: float) -> np.ndarray:
    """``values`` with rows of ``fill`` appended up to ``size`` rows."""
    pad = np.full((size - values.shape[0], *values.shape[1:]), fill, values.dtype)
    return np.concatenate([values, pad])


def _graph_counts(real: np.ndarray, padding: int, rows: int) -> np.ndarray:
    """``[rows]`` int32: the real graphs' counts, the padding graph's, then zeros."""
    counts = np.zeros(rows, np.int32)
    counts[: len(real)] = real
    counts[len(real)] = padding
    return counts
