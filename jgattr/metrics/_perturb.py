"""Perturbed computation graphs of every target, evaluated in one batched, jitted pass.

A *keep mask* says, for every (target, node) copy, whether the node survives. Masks for many
deletion levels and orders are evaluated at once: each target keeps its own perturbed graph,
so no Python loop over targets or whole-graph forward passes is needed.

Modes (NAM paper, Fig. 6):
- ``remove``: a deleted node and its edges go and the GCN normalization ``D̃^-1/2 (A+I) D̃^-1/2``
  is recomputed from the degrees that remain. The union therefore spans K + 1 hops, so that every
  node within K hops has all its in-edges for its new degree.
- ``zero``: a deleted node's features become the baseline (zeros); the graph is unchanged.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jgattr.attribution._engine import Explainable, _gcn_pre_activations, _prepared, as_explainable
from jgattr.attribution._subgraphs import Union, computation_graphs

MODES = ("remove", "zero")


@dataclasses.dataclass(frozen=True)
class Neighbourhoods:
    """The perturbable neighbourhoods of T targets.

    Attributes:
      union: the (K + 1)-hop union of the targets' computation graphs (copies sorted by
        (target, node)).
      copy_target: ``[S]`` target index of each copy.
      candidate: ``[S]`` whether a copy may be deleted: within K hops and not the target.
      targets: ``[T]`` target node ids.
    """

    union: Union
    copy_target: np.ndarray
    candidate: np.ndarray
    targets: np.ndarray

    @functools.cached_property
    def on_device(self) -> dict[str, jax.Array]:
        """The union's structure as device arrays, transferred once for every evaluation."""
        union = self.union
        return {
            "copy_node": jnp.asarray(union.copy_node),
            "senders": jnp.asarray(union.edge_sender),
            "receivers": jnp.asarray(union.edge_receiver),
            "edge_id": jnp.asarray(union.edge_id),
            "edge_mask": jnp.ones(union.edge_id.shape[0], jnp.float32),
            "target_copy": jnp.asarray(union.target_copy),
        }

    @property
    def counts(self) -> np.ndarray:
        """``[T]`` number of deletable neighbours of each target."""
        return np.bincount(self.copy_target[self.candidate], minlength=self.targets.shape[0])


def neighbourhoods(data, targets: np.ndarray, num_hops: int) -> Neighbourhoods:
    """The ``num_hops``-hop neighbourhoods of ``targets`` with room to recompute degrees."""
    prepared = _prepared(data)
    targets = np.asarray(targets, dtype=np.int32)
    wide = computation_graphs(prepared.in_edges, targets, num_hops + 1)
    inner = prepared.union(targets, num_hops)
    n = prepared.graph.nodes.shape[0]
    copy_target = np.repeat(np.arange(targets.shape[0]), np.diff(wide.node_offsets))
    wide_keys = copy_target.astype(np.int64) * n + wide.copy_node
    inner_target = np.repeat(np.arange(targets.shape[0]), np.diff(inner.node_offsets))
    inner_keys = inner_target.astype(np.int64) * n + inner.copy_node
    within = np.isin(wide_keys, inner_keys, assume_unique=True)
    within[wide.target_copy] = False
    return Neighbourhoods(wide, copy_target.astype(np.int32), within, targets)


def _remove_weights(keep: jax.Array, senders, receivers, edge_mask) -> jax.Array:
    """GCN weights of the graph left after deleting ``~keep`` copies (self loops included)."""
    alive = keep[senders] * keep[receivers] * edge_mask
    degree = jax.ops.segment_sum(alive, receivers, num_segments=keep.shape[0])
    inv_sqrt = jnp.where(degree > 0, 1.0 / jnp.sqrt(jnp.maximum(degree, 1e-12)), 0.0)
    return alive * inv_sqrt[senders] * inv_sqrt[receivers]


@functools.lru_cache(maxsize=32)
def _evaluator(model: Explainable, mode: str):
    def logits_for(params, graph, projected, baseline_projected, union, keep):
        keep = keep.astype(projected.dtype)
        node = union["copy_node"]
        edge_mask = union["edge_mask"].astype(projected.dtype)
        if mode == "remove":
            weights = _remove_weights(keep, union["senders"], union["receivers"], edge_mask)
            inputs = projected[node]
        else:
            weights = graph.edges[union["edge_id"]] * edge_mask
            inputs = jnp.where(keep[:, None] > 0, projected[node], baseline_projected[node])
        sub = graph._replace(
            nodes=None, edges=weights, senders=union["senders"], receivers=union["receivers"]
        )
        pre = _gcn_pre_activations(model, params, sub, inputs)
        return pre[-1][union["target_copy"]]

    batched = jax.vmap(logits_for, in_axes=(None, None, None, None, None, 0))
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
) -> np.ndarray:
    """Logits of every target under every keep mask.

    Args:
      model: the built-in GCN (or its :class:`~jgattr.attribution.Explainable`).
      params: its parameters.
      data: the Dataset (or graph) the neighbourhoods come from.
      neighbourhood: from :func:`neighbourhoods`.
      keep: ``[M, S]`` bool, one mask over the union's copies per perturbation.
      mode: ``"remove"`` (recompute normalization) or ``"zero"`` (features to zero).
      batch: masks evaluated per vmapped call (memory: ``batch * S * hidden`` floats).

    Returns:
      ``[M, T, C]`` logits.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    explainable = as_explainable(model)
    if not explainable.is_gcn:
        raise ValueError("perturbation metrics need the built-in GCN (its normalization)")
    keep = np.asarray(keep, dtype=bool)
    if keep.ndim != 2 or keep.shape[1] != neighbourhood.union.num_copies:
        raise ValueError(
            f"keep must be [M, {neighbourhood.union.num_copies}], got shape {keep.shape}"
        )
    prepared = _prepared(data)
    graph = prepared.on_device
    projected = graph.nodes @ params["conv_0"]["kernel"]
    evaluator = _evaluator(explainable, mode)
    union = neighbourhood.on_device
    padded = -keep.shape[0] % batch
    rows = np.concatenate([keep, np.ones((padded, keep.shape[1]), bool)])
    outputs = [
        np.asarray(
            evaluator(
                params,
                graph,
                projected,
                jnp.zeros_like(projected),
                union,
                jnp.asarray(rows[i : i + batch]),
            )
        )
        for i in range(0, rows.shape[0], batch)
    ]
    return np.concatenate(outputs)[: keep.shape[0]]
