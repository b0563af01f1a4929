"""Perturbed computation graphs of every target, evaluated in one batched, jitted pass.

A *keep mask* says, for every (target, node) copy, whether the node survives. Masks for many
deletion levels and orders are evaluated at once: each target keeps its own perturbed graph,
so no Python loop over targets or whole-graph forward passes is needed.

Modes (NAM paper, Fig. 6):
- ``remove``: a deleted node and its edges go, and the model re-prepares what is left through
  its own ``edge_weights`` hook (GCN: the normalization ``D̃^-1/2 (A+I) D̃^-1/2`` from the
  degrees that remain; GAT: attention over the remaining edges; GraphSAGE: the mean over them).
  The union therefore spans K + 1 hops, so that every node within K hops has all its in-edges.
- ``zero``: a deleted node's features become the baseline (zeros); the graph is unchanged.

Graph targets (a graph classifier on a :class:`~jgattr.data.GraphDataset`): a target's
neighbourhood is its whole graph, every node of it may be deleted, and the model's readout pools
what is left.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jgattr._names import MODES
from jgattr._padding import padded_size
from jgattr.attribution import Union, computation_graphs, prepare_data
from jgattr.models import Explainable, as_explainable


@dataclasses.dataclass(frozen=True)
class Neighbourhoods:
    """The perturbable neighbourhoods of T targets.

    Attributes:
      union: the (K + 1)-hop union of the targets' computation graphs (copies sorted by
        (target, node)).
      copy_target: ``[S]`` target index of each copy.
      candidate: ``[S]`` whether a copy may be deleted: within K hops and not the target
        (graph targets: every node of the graph).
      targets: ``[T]`` target node ids (graph ids for graph targets).
      padded: whether :attr:`on_device` pads copies, edges and targets to bucketed sizes (node
        targets), so that evaluation blocks of similar size share one compiled program.
    """

    union: Union
    copy_target: np.ndarray
    candidate: np.ndarray
    targets: np.ndarray
    padded: bool = False

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(copies, edges, targets)`` on the device: padded ones hold at least one spare copy,
        the sender and receiver of every spare edge, which is never kept."""
        union, targets = self.union, self.targets.shape[0]
        if not self.padded:
            return union.num_copies, union.num_edges, targets
        return (
            padded_size(union.num_copies + 1),
            padded_size(union.num_edges),
            padded_size(targets, 4),
        )

    @functools.cached_property
    def on_device(self) -> dict[str, jax.Array]:
        """The union's structure as device arrays, transferred once for every evaluation."""
        union = self.union
        copies, edges, targets = self.shape
        spare = union.num_copies  # padded edges join this spare copy to itself

        def pad(values: np.ndarray, size: int, fill: int) -> jax.Array:
            return jnp.asarray(np.pad(values, (0, size - values.shape[0]), constant_values=fill))

        return {
            "copy_node": pad(union.copy_node, copies, 0),
            "senders": pad(union.edge_sender, edges, spare),
            "receivers": pad(union.edge_receiver, edges, spare),
            "edge_id": pad(union.edge_id, edges, 0),
            "target_copy": pad(union.target_copy, targets, 0),
            "n_node": jnp.asarray(np.diff(union.node_offsets).astype(np.int32)),
        }

    @property
    def counts(self) -> np.ndarray:
        """``[T]`` number of deletable neighbours of each target."""
        return np.bincount(self.copy_target[self.candidate], minlength=self.targets.shape[0])


def neighbourhoods(model, data, targets: np.ndarray) -> Neighbourhoods:
    """The K-hop neighbourhoods of ``targets`` (K: the model's layers), with room to re-prepare.

    Args:
      model: a built-in model or an :class:`~jgattr.models.Explainable`.
      data: a Dataset or a graph.
      targets: ``[T]`` node ids (graph ids for a graph classifier).
    """
    explainable = as_explainable(model)
    prepared = prepare_data(data, explainable)
    num_hops = explainable.num_hops
    targets = np.asarray(targets, dtype=np.int32)
    if prepared.level == "graph":
        union = prepared.union(targets, num_hops)
        candidate = np.ones(union.num_copies, bool)
        return Neighbourhoods(union, union.copy_target.astype(np.int32), candidate, targets)
    wide = computation_graphs(prepared.in_edges, targets, num_hops + 1)
    inner = prepared.union(targets, num_hops)
    n = prepared.graph.nodes.shape[0]
    copy_target = wide.copy_target
    wide_keys = copy_target.astype(np.int64) * n + wide.copy_node
    inner_target = inner.copy_target
    inner_keys = inner_target.astype(np.int64) * n + inner.copy_node
    within = np.isin(wide_keys, inner_keys, assume_unique=True)
    within[wide.target_copy] = False
    return Neighbourhoods(wide, copy_target.astype(np.int32), within, targets, padded=True)


@functools.lru_cache(maxsize=32)
def _evaluator(model: Explainable, mode: str):
    """Jitted ``(params, graph, inputs, union, keep [B, S], edge_keep [B, E_u]) -> [B, T, C]``
    logits."""
    projected = model.input_kernel is not None
    apply = model.apply_projected if projected else model.apply

    def logits_for(params, graph, inputs, union, keep, edge_keep):
        keep = keep.astype(inputs.dtype)
        node, senders, receivers = union["copy_node"], union["senders"], union["receivers"]
        edge_mask = edge_keep.astype(inputs.dtype)
        if mode == "remove":
            alive = keep[senders] * keep[receivers] * edge_mask
            weights = model.edge_weights(senders, receivers, alive, keep.shape[0])
            copies = inputs[node]
        else:
            weights = graph.edges[union["edge_id"]] * edge_mask
            copies = jnp.where(keep[:, None] > 0, inputs[node], 0.0)
        sub = jraph.GraphsTuple(
            nodes=copies,
            edges=weights,
            senders=senders,
            receivers=receivers,
            n_node=jnp.array([node.shape[0]]) if model.level == "node" else union["n_node"],
            n_edge=jnp.array([senders.shape[0]]),
            globals=None,
        )
        if model.level == "node":
            return apply(params, sub)[union["target_copy"]]
        if mode == "zero":
            return apply(params, sub)
        h = sub.nodes  # removed nodes leave the readout too
        for layer in model.layers(params, sub):
            h = layer(h)
        return model.graph_readout.logits(params, h, union["n_node"], keep)

    batched = jax.vmap(logits_for, in_axes=(None, None, None, None, 0, 0))
    return jax.jit(batched)


def evaluate_keep_masks(
    model,
    params,
    data,
    neighbourhood: Neighbourhoods,
    keep: np.ndarray,
    *,
    mode: str = "remove",
    batch: int = 16,
    edge_keep: np.ndarray | None = None,
) -> np.ndarray:
    """Logits of every target under every keep mask (of nodes, and optionally of edges).

    Args:
      model: a built-in model or an :class:`~jgattr.models.Explainable`.
      params: its parameters.
      data: the Dataset (or graph) the neighbourhoods come from.
      neighbourhood: from :func:`neighbourhoods`.
      keep: ``[M, S]`` bool, one mask over the union's copies per perturbation.
      mode: ``"remove"`` (recompute normalization) or ``"zero"`` (features to zero).
      batch: masks evaluated per vmapped call (memory: ``batch * S * width`` floats).
      edge_keep: optional ``[M, E_u]`` bool, which of the union's edges survive under each
        mask (default: all). ``remove``: a deleted edge goes and the model re-prepares the
        rest (GCN: the degrees drop); ``zero``: its weight becomes 0, the others stay.

    Returns:
      ``[M, T, C]`` logits.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    explainable = as_explainable(model)
    if explainable.level == "graph" and mode == "remove" and explainable.layers is None:
        raise ValueError(
            f"mode='remove' on graph targets needs model {explainable.name!r}'s layers hook "
            "(removed nodes must leave the readout); give Explainable(layers=...) or use "
            "mode='zero'"
        )
    keep = np.asarray(keep, dtype=bool)
    if keep.ndim != 2 or keep.shape[1] != neighbourhood.union.num_copies:
        raise ValueError(
            f"keep must be [M, {neighbourhood.union.num_copies}], got shape {keep.shape}"
        )
    edges = neighbourhood.union.num_edges
    if edge_keep is None:
        edge_keep = np.ones((keep.shape[0], edges), bool)
    edge_keep = np.asarray(edge_keep, dtype=bool)
    if edge_keep.shape != (keep.shape[0], edges):
        raise ValueError(f"edge_keep must be [{keep.shape[0]}, {edges}], got {edge_keep.shape}")
    prepared = prepare_data(data, explainable)
    graph = prepared.input_graph(explainable)  # sparse X stays sparse: no dense copy
    inputs = graph.nodes
    if explainable.input_kernel is not None:  # zeroing X zeroes P = X W: same logits, D wide
        x = graph.nodes if prepared.sparse_features is None else prepared.sparse_features
        inputs = x @ explainable.input_kernel(params)
    evaluator = _evaluator(explainable, mode)
    union = neighbourhood.on_device
    copies, edges, _ = neighbourhood.shape  # spare copies and edges are never kept
    rows = _padded_rows(keep, batch, copies)
    edge_rows = _padded_rows(edge_keep, batch, edges)
    outputs = [
        np.asarray(
            evaluator(
                params,
                graph,
                inputs,
                union,
                jnp.asarray(rows[i : i + batch]),
                jnp.asarray(edge_rows[i : i + batch]),
            )
        )
        for i in range(0, rows.shape[0], batch)
    ]
    return np.concatenate(outputs)[: keep.shape[0], : neighbourhood.targets.shape[0]]


def _padded_rows(masks: np.ndarray, batch: int, width: int) -> np.ndarray:
    """``masks [M, w]`` as ``[⌈M / batch⌉ · batch, width]``: extra rows keep everything real,
    extra columns (spare copies or edges) keep nothing."""
    rows = np.concatenate([masks, np.ones((-masks.shape[0] % batch, masks.shape[1]), bool)])
    return np.pad(rows, ((0, 0), (0, width - masks.shape[1])))
