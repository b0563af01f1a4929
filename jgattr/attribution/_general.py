"""The general path: autodiff of any model on a chunk's disjoint union of computation graphs.

When the model reads X only through ``P = X W`` (its ``input_kernel``), the chunk is
differentiated in P-space: ``[copies, D]`` gradients instead of ``[copies, F]``, the same node
relevance (``Σ_i X_i ∂f/∂X_i = Σ_j P_j ∂f/∂P_j``, and likewise for increments along a straight
path, whose image in P-space is straight). Saliency maps its P-gradient back through ``Wᵀ``.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import jraph

from jgattr._types import Array
from jgattr.attribution._method_types import GraphHead, Method, SparseInputs, UnionModel
from jgattr.attribution._plan import segment_totals
from jgattr.models import Explainable


def uses_projection(model: Explainable, feature_level: bool) -> bool:
    """Whether the general path differentiates in P-space (needs node sums, not features)."""
    return model.input_kernel is not None and not feature_level


def _layers(model: Explainable, params, union, projected: bool):
    """The model's layers on the union, taking P (projected) or X as their first input."""
    if model.layers is None:
        return None
    layers = model.layers(params, union)
    if model.input_kernel is not None and not projected:
        first, kernel = layers[0], model.input_kernel(params)
        layers = (lambda x: first(x @ kernel), *layers[1:])
    return layers


def layer_hops(model: Explainable) -> int:
    """K when the general path runs each layer on the edges it needs alone (a node classifier
    with the ``layers`` hook and K > 1: ``_plan.layer_edges``); 0 otherwise."""
    pruned = model.layers is not None and model.graph_readout is None and model.num_layers > 1
    return model.num_layers if pruned else 0


def _layer_graphs(union, chunk: dict, w: Array) -> list:
    """The graph each layer runs on, edge weights ``w``: the union, then layer ``l >= 2`` on
    the edges into copies within ``K − l`` hops of their target alone (:func:`layer_hops`)."""
    edge, valid = chunk["layer_edge"], chunk["layer_valid"]
    return [union._replace(edges=w)] + [
        union._replace(
            edges=w[edge[row]] * valid[row].astype(w.dtype),
            senders=chunk["layer_senders"][row],
            receivers=chunk["layer_receivers"][row],
        )
        for row in range(edge.shape[0])
    ]


def _forward(model: Explainable, params, union, chunk: dict, projected: bool):
    """``(h [S, ·], w [E]) -> [S, C]``: the model on the union with inputs ``h`` and edge
    weights ``w``; the rows are right at the targets' copies (all that is read of them).

    With the chunk's layer edges (:func:`layer_hops`), layer ``l >= 2`` runs on the edges into
    copies within ``K − l`` hops of their target alone: for K = 2 the last layer aggregates
    only the edges into the targets (a tenth of the union's on Cora).
    """
    if "layer_edge" not in chunk:
        apply = model.apply_projected if projected else model.apply
        return lambda h, w: apply(params, union._replace(nodes=h, edges=w))

    def run(h: Array, w: Array) -> Array:
        for index, graph in enumerate(_layer_graphs(union, chunk, w)):
            h = _layers(model, params, graph, projected)[index](h)
        return h

    return run


def _linear_input(model: Explainable, params, union, chunk: dict, projected: bool):
    """``(linear, rows)``: layer 1's linear part on the copies' inputs (``Explainable.
    linear_input``) and ``u ↦ [S, C]`` the model's rows from its output; ``None`` when the
    model has no such split or runs on the whole union (no layer edges)."""
    if model.linear_input is None or "layer_edge" not in chunk:
        return None
    graphs = _layer_graphs(union, chunk, union.edges)
    linear, rest = model.linear_input(params, graphs[0])
    if model.input_kernel is not None and not projected:
        linear = lambda x, in_p=linear: in_p(x @ model.input_kernel(params))

    def rows(u: Array) -> Array:
        h = rest(u)
        for index, graph in enumerate(graphs[1:], start=1):
            h = _layers(model, params, graph, projected)[index](h)
        return h

    return linear, rows


def pad_layers(totals: Array, num_layers: int) -> Array:
    """``[T, k]`` layer totals padded with NaN to ``[T, K]``."""
    missing = num_layers - totals.shape[-1]
    return jnp.pad(totals, ((0, 0), (0, missing)), constant_values=jnp.nan)


def _edge_scale(model: Explainable, union: jraph.GraphsTuple) -> Callable[[Array], Array]:
    """``m ↦`` the union's edge weights scaled by the edge mask ``m``; self loops keep their
    weight unless the model's edge masks cover them (``Explainable.edge_mask_self_loops``)."""

    def scaled(m: Array) -> Array:
        if not model.edge_mask_self_loops:
            m = jnp.where(union.senders == union.receivers, jnp.ones_like(m), m)
        return union.edges * m

    return scaled


def general_chunk(
    method: Method,
    model: Explainable,
    projected: bool,
    feature_level: bool,
    row_nnz: int | None = None,
    step_batch: int = 1,
):
    """``(params, inputs, inputs_ref, weights, chunk) -> outputs`` of one padded chunk.

    ``inputs``/``inputs_ref``: the whole graph's P and P̂ (``projected``) or X and X̂.
    ``row_nnz``: a bound on the non-zeros of a row of sparse X, for methods that read X of a
    model with an ``input_kernel`` (:attr:`UnionModel.sparse_inputs`); ``None`` otherwise.
    ``step_batch``: path-integral points per pass (:attr:`UnionModel.step_batch`).
    """

    def run(params, inputs, inputs_ref, weights, chunk):
        union = jraph.GraphsTuple(
            nodes=inputs[chunk["copy_node"]],
            edges=weights[chunk["edge_id"]] * chunk["edge_mask"].astype(weights.dtype),
            senders=chunk["senders"],
            receivers=chunk["receivers"],
            n_node=chunk["n_node"],
            n_edge=chunk["n_edge"],
            globals=None,
        )
        target_copy = chunk["target_copy"]
        to_input = (lambda g: g @ model.input_kernel(params).T) if projected else (lambda g: g)
        head = None
        if model.graph_readout is None:
            select = lambda rows: rows[target_copy]
            readout = select
        else:  # one graph per target: the model's rows are the targets'
            select = lambda rows: rows
            readout = lambda h: model.graph_readout.logits(params, h, union.n_node)
            head = GraphHead(model.graph_readout.pool, *model.graph_readout.head(params))
        excitation = None
        if model.excitation_layers is not None:
            excitation = model.excitation_layers(params, union)
        scaled = _edge_scale(model, union)
        forward = _forward(model, params, union, chunk, projected)
        linear = _linear_input(model, params, union, chunk, projected)
        sparse = None
        if row_nnz is not None:
            in_p = _forward(model, params, union, chunk, True)
            sparse = SparseInputs(
                row_nnz, model.input_kernel(params), lambda p, m: select(in_p(p, scaled(m)))
            )
        contribution = method.attribute(
            UnionModel(
                logits=lambda h: select(forward(h, union.edges)),
                layers=_layers(model, params, union, projected),
                target_copy=target_copy,
                readout=readout,
                edge_logits=lambda m: select(forward(union.nodes, scaled(m))),
                edge_ones=jnp.ones_like(union.edges),
                to_input=to_input,
                copy_target=chunk["copy_target"],
                head=head,
                excitation=excitation,
                joint_logits=lambda h, m: select(forward(h, scaled(m))),
                chunk=chunk,
                sparse_inputs=sparse,
                step_batch=step_batch,
                linear_input=None
                if linear is None
                else (linear[0], lambda u: select(linear[1](u))),
            ),
            union.nodes,
            inputs_ref[chunk["copy_node"]],
            chunk["classes"],
        )
        if method.level == "edge":
            total = jax.ops.segment_sum(
                contribution.relevance, chunk["edge_target"], num_segments=target_copy.shape[0]
            )
            return {
                "values": contribution.relevance,
                "expected": contribution.expected,
                "layer_totals": pad_layers(total[:, None], model.num_layers),
            }
        node_relevance = contribution.relevance.sum(axis=-1)
        totals = [segment_totals(node_relevance, chunk)]
        totals += [segment_totals(h, chunk) for h in contribution.hidden]
        return {
            "values": contribution.relevance if feature_level else node_relevance,
            "expected": contribution.expected,
            "layer_totals": pad_layers(jnp.stack(totals, axis=-1), model.num_layers),
        }

    return run
