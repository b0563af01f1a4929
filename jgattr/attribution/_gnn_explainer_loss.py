"""GNNExplainer's size and entropy terms, reduced per target (never over a whole chunk).

``layout`` is the chunk's per-element bookkeeping (``edge_target``, ``copy_target``,
``target_nodes``) and ``coeffs`` the objective's coefficients (``edge_size``, ``edge_ent``,
``node_feat_size``, ``node_feat_ent``, ``eps``), both from :mod:`._gnn_explainer`.
"""

import jax
import jax.numpy as jnp

from jgattr._types import Array


def _per_target_sum(values, segments, num_targets):
    """``[T]`` sum of ``values [rows, ...]`` per target; ``segments [rows]``: each row's target.
    Rows are reduced first, so the scatter runs over rows, never over rows x features."""
    rows = values.reshape(values.shape[0], -1).sum(-1)
    return jax.ops.segment_sum(rows, segments, num_targets)


def _per_target_mean(values, hard, segments, num_targets):
    """``[T]`` mean of ``values`` over each target's hard elements (0 for a target with none)."""
    total = _per_target_sum(jnp.where(hard, values, 0.0), segments, num_targets)
    count = _per_target_sum(hard.astype(values.dtype), segments, num_targets)
    return total / jnp.maximum(count, 1.0)


def _entropy(m, eps):
    return -m * jnp.log(m + eps) - (1 - m) * jnp.log(1 - m + eps)


def regularizer(
    params: dict, hard: dict, layout, coeffs, num_targets: int, dense_entropy: bool = False
) -> Array:
    """``[T]`` PyG's size and entropy terms of each target, over its hard elements (the edge
    entropy's mean over the ``n²`` entries of a dense mask with ``dense_entropy``)."""
    total = jnp.zeros((num_targets,), next(iter(params.values())).dtype)
    if "edge" in params:
        m, h, seg = jax.nn.sigmoid(params["edge"]), hard["edge"], layout.edge_target
        size = _per_target_sum(jnp.where(h, m, 0.0), seg, num_targets)
        if dense_entropy:  # Ying et al.: the mean over the n² entries of the dense mask
            entries = jnp.square(layout.target_nodes.astype(m.dtype))
            ent = _per_target_sum(jnp.where(h, _entropy(m, coeffs.eps), 0.0), seg, num_targets)
            ent = ent / jnp.maximum(entries, 1.0)
        else:
            ent = _per_target_mean(_entropy(m, coeffs.eps), h, seg, num_targets)
        total += coeffs.edge_size * size + coeffs.edge_ent * ent
    if "node" in params:
        m, h = jax.nn.sigmoid(params["node"]), hard["node"]
        per_target = m.shape[0] == num_targets  # common_attributes
        seg = jnp.arange(num_targets) if per_target else layout.copy_target
        size = _per_target_mean(m, h, seg, num_targets)
        ent = _per_target_mean(_entropy(m, coeffs.eps), h, seg, num_targets)
        total += coeffs.node_feat_size * size + coeffs.node_feat_ent * ent
    return total
