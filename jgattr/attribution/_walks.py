"""The exact walk-sum fast path for models with :class:`~jgattr.models.WalkSum` hooks (GCN).

Every walk-sum method fixes the ReLU masks of the hidden layers, a top vector per target and an
input increment (its *linearization*); the relevance is then one linear backward pass in the
``P = X W¹`` space, with whole-graph tables that make the widest steps C-wide (docs/math.md).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jraph

from jgattr._scan_blocks import ROWS_PER_BLOCK, in_blocks
from jgattr._types import Array
from jgattr.attribution._cache import BoundedCache
from jgattr.attribution._method_types import Method, WalkForward
from jgattr.attribution._plan import segment_totals
from jgattr.models import Explainable

_JITTED: BoundedCache = BoundedCache("jitted_walk_prep", 256)


class WalkTables(NamedTuple):
    """Whole-graph tables that make the fast path's widest steps C-wide (``Q_c`` in the math).

    Attributes:
      kernels: ``(W_0, ..., W_{K-1})`` of the convolutions (0-based).
      masks: ReLU Jacobians of ``Z¹..Zᴷ⁻¹``, ``[N, H_l]``.
      hidden_projections: ``ΔHˡ W_l`` for ``l = 1..K-1``, ``[N, out_l]``: with them the
        relevance of hidden layer l is ``Σ a ⊙ ΔHˡ W_l`` (no ``[S, H]`` product needed).
      edge_table: for K >= 2, ``Q[e] = (M¹[j] ⊙ ΔP[φ]) W_1`` per graph edge ``e = φ → j``,
        ``[E, out_1]``, so the input relevance is one ``out_1``-wide dot product per walk;
        for K = 1 the P-space increment ``ΔP`` ``[N, C]`` itself.
    """

    kernels: tuple[Array, ...]
    masks: tuple[Array, ...]
    hidden_projections: tuple[Array, ...]
    edge_table: Array


def _walk_tables(linear, kernels: tuple[Array, ...], graph: jraph.GraphsTuple) -> WalkTables:
    projections = tuple(
        increment @ kernels[layer + 1] for layer, increment in enumerate(linear.hidden_increments)
    )
    if len(kernels) == 1:
        return WalkTables(kernels, linear.masks, projections, linear.increment)
    mask, increment, kernel = linear.masks[0], linear.increment, kernels[1]
    edge_rows = lambda block: (mask[block[0]] * increment[block[1]]) @ kernel
    blocks = in_blocks((graph.receivers, graph.senders), ROWS_PER_BLOCK)
    table = jax.lax.map(edge_rows, blocks).reshape(-1, kernel.shape[1])
    return WalkTables(kernels, linear.masks, projections, table[: graph.senders.shape[0]])


def gathered_dot(x: Array, x_rows: Array | None, table: Array, table_rows: Array) -> Array:
    """``Σ_c x[x_rows, c] · table[table_rows, c]`` per row, ``x_rows=None``: ``x`` as it is.

    Written as one 1-D gather per column inside the sum: XLA:CPU fuses those into the product
    and runs them several times faster than gathering ``[R, C]`` rows (docs/architecture.md).
    """
    columns = range(table.shape[1])
    pick = (lambda c: x[:, c]) if x_rows is None else (lambda c: x[:, c][x_rows])
    return sum(pick(c) * table[:, c][table_rows] for c in columns)


def walk_chunk(num_layers: int):
    """Fast path on one padded chunk: the linear backward pass with fixed masks.

    ``a = ∂/∂(H W_c)`` of conv ``c`` (0-based, ``Z = Â H W_c + b``) on every copy starts as
    ``Â[a_t, j] top_t`` (only the target copy has a gradient at the top). At each hidden layer the
    relevance is ``Σ a ⊙ (ΔHᶜ W_c)``, then ``g = (a W_cᵀ) ⊙ Mᶜ`` and ``a ← Âᵀ g`` (messages sent
    back along every union edge). At conv 1 each union edge ``φ → j`` (graph edge ``e``) gives
    ``w_e ⟨a[j], Q[e]⟩`` to copy φ.
    """

    def run(weights, tables: WalkTables, chunk):
        node, senders, receivers = chunk["copy_node"], chunk["senders"], chunk["receivers"]
        edge_weights = weights[chunk["edge_id"]] * chunk["edge_mask"].astype(weights.dtype)
        top_edge = chunk["top_edge"]
        top_weights = jnp.where(top_edge >= 0, weights[jnp.maximum(top_edge, 0)], 0.0)
        a = top_weights[:, None] * chunk["top"][chunk["copy_target"]]
        hidden_totals = []
        for conv in range(num_layers - 1, -1, -1):
            if conv == 0:  # K = 1: a = ∂/∂P
                values = gathered_dot(a, None, tables.edge_table, node)
                break
            projection = tables.hidden_projections[conv - 1]
            hidden_totals.append(segment_totals(gathered_dot(a, None, projection, node), chunk))
            if conv == 1:
                per_walk = edge_weights * gathered_dot(
                    a, receivers, tables.edge_table, chunk["edge_id"]
                )
                values = jax.ops.segment_sum(per_walk, senders, num_segments=node.shape[0])
                break
            g = (a @ tables.kernels[conv].T) * tables.masks[conv - 1][node]
            messages = edge_weights[:, None] * g[receivers]
            a = jax.ops.segment_sum(messages, senders, num_segments=node.shape[0])
        totals = [segment_totals(values, chunk), *reversed(hidden_totals)]
        return {
            "values": values,
            "expected": chunk["expected"],
            "layer_totals": jnp.stack(totals, axis=-1),
        }

    return run


def walk_prep(method: Method, model: Explainable):
    """Jitted reference forward, linearization and walk tables of one method (one program).

    ``(params, graph, projected, pre, x_ref, nodes, classes) -> (tables, top [T, C],
    expected [T])``; ``x_ref`` is ``None`` for a zero reference (then ``P̂ = 0``, no matmul).
    """

    def prepare(params, graph, projected, pre, x_ref, nodes, classes):
        kernels = model.walk_sum.kernels(params)
        projected_ref = jnp.zeros_like(projected) if x_ref is None else x_ref @ kernels[0]
        pre_ref = model.walk_sum.pre_activations(params, graph, projected_ref)
        forward = WalkForward(pre, pre_ref, projected, projected_ref)
        linear = method.linearize(forward, nodes, classes)
        return _walk_tables(linear, kernels, graph), linear.top, linear.expected

    return _JITTED.get_or_make((method, model), lambda: jax.jit(prepare))[0]
