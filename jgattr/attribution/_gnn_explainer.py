"""GNNExplainer for every target of a chunk at once: one jitted ``lax.scan`` of optax Adam steps.

Each target owns its masks on its own computation graph. A chunk's union is disjoint, so the
sum of the per-target losses has, with respect to target t's masks, exactly target t's gradient;
Adam is elementwise, so every target follows its own optimization as if it ran alone. All the
reductions of the objective (mask size, mean entropy) are per target (``segment_sum`` by target),
never per chunk. The initial masks depend only on (seed, restart, target node, class, position of
the element within the target's computation graph; a per-feature mask: also the feature's id),
never on the rest of the chunk. On sparse X, a per-feature mask lives on each copy's non-zero
features alone: ``[S, nnz]``, not ``[S, F]``.

The objective is PyG's ``GNNExplainer`` (``torch_geometric.explain.algorithm.GNNExplainer``,
docs/math.md): cross entropy of the masked model's logits against the explained class, plus
``edge_size · Σ m_e + edge_ent · mean H(m_e)`` over the edge mask and ``node_feat_size · mean m
+ node_feat_ent · mean H(m)`` over the node mask, with ``m = sigmoid(parameter)`` and the sums and
means taken over the *hard* elements only: those with a non-zero gradient at the first step
(which is taken on the prediction loss alone). The result is ``sigmoid(parameter)``, 0 outside
the hard set.

References:
  Ying et al., GNNExplainer: Generating Explanations for Graph Neural Networks, NeurIPS 2019;
  PyG 2.x ``torch_geometric/explain/algorithm/gnn_explainer.py``.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jgattr._types import Array
from jgattr.attribution._gnn_explainer_loss import regularizer
from jgattr.attribution._gnn_explainer_settings import (
    FROM_PRESET,
    check_structure,
    resolve_preset,
)
from jgattr.attribution._gradients import nan_expected
from jgattr.attribution._method_types import Contribution, Method, UnionModel

NAMES = {"edge": "gnn_explainer", "node": "gnn_explainer_nodes"}  # the method of each level

_NODE_STREAM, _EDGE_STREAM = 0, 1


class Coefficients(NamedTuple):
    """PyG's ``GNNExplainer.coeffs`` (sum for the edge size, mean for the node size)."""

    edge_size: float = 0.005
    edge_ent: float = 1.0
    node_feat_size: float = 1.0
    node_feat_ent: float = 0.1
    eps: float = 1e-15


class _Layout(NamedTuple):
    """Per-element bookkeeping of one padded chunk (all int32 unless said)."""

    copy_target: Array  # [S] target of each copy
    edge_target: Array  # [E] target of each union edge
    copy_position: Array  # [S] position of the copy within its target's computation graph
    edge_position: Array  # [E] the same for edges
    target_node: Array  # [T] node id of each target
    target_nodes: Array  # [T] float: nodes of each target's computation graph (N for the init)
    self_loop: Array  # [E] bool: the edge goes from a copy to itself (padding edges included)


def _layout(model: UnionModel) -> _Layout:
    chunk = model.chunk
    n_node, n_edge = chunk["n_node"], chunk["n_edge"]
    copy_target, edge_target = chunk["copy_target"], chunk["edge_target"]
    first_copy = jnp.cumsum(n_node) - n_node
    first_edge = jnp.cumsum(n_edge) - n_edge
    return _Layout(
        copy_target=copy_target,
        edge_target=edge_target,
        copy_position=jnp.arange(copy_target.shape[0]) - first_copy[copy_target],
        edge_position=jnp.arange(edge_target.shape[0]) - first_edge[edge_target],
        target_node=chunk["copy_node"][model.target_copy],
        target_nodes=n_node,
        self_loop=chunk["senders"] == chunk["receivers"],
    )


class _NodeInputs(NamedTuple):
    """The copies' features as a per-feature node mask sees them.

    ``columns`` is ``None`` when the mask covers all F features of every copy (``values`` is
    X's ``[S, F]`` rows); else ``[S, K]``: each copy's non-zero features (padded with zeros),
    which are all a mask can change, ``values`` ``[S, K]`` their values.
    """

    values: Array
    columns: Array | None


def _node_inputs(model: UnionModel, x: Array, node_mask_type: str) -> _NodeInputs:
    """Each copy's non-zero features when the model reads sparse X as ``X W``, else X."""
    sparse = model.sparse_inputs
    if node_mask_type != "attributes" or sparse is None:
        return _NodeInputs(x, None)
    columns = jax.lax.top_k((x != 0).astype(x.dtype), sparse.row_nnz)[1]  # ties: lower first
    return _NodeInputs(jnp.take_along_axis(x, columns, axis=1), columns)


def _feature_normals(keys: Array, columns: Array, dtype) -> Array:
    """``[S, K]`` N(0, 1): entry (s, k) from ``fold_in(keys[s], columns[s, k])``, so that a
    feature's initial mask does not depend on which other features are stored."""
    one = lambda key, column: jax.random.normal(jax.random.fold_in(key, column), (), dtype)
    return jax.vmap(jax.vmap(one, in_axes=(None, 0)))(keys, columns)


def _keys(seed: int, stream: int, restart: Array, node: Array, cls: Array, position: Array):
    """One PRNG key per element from (seed, stream, restart, target node, class, position)."""

    def one(n, c, p):
        key = jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), stream), restart)
        return jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, n), c), p)

    return jax.vmap(one)(node, cls, position)


def _init(layout: _Layout, classes, restart, *, settings: dict, inputs: _NodeInputs, dtype):
    """The initial masks: node ``N(0, node_init_std²)`` (PyG: 0.1; Ying et al.: 0); edge
    ``N(edge_init_mean, 2 / N)`` (PyG: mean 0; Ying et al.: 1) with N = ``init_nodes``, or the
    nodes of the target's computation graph (``calculate_gain('relu') · sqrt(2 / 2N)``). A
    per-feature mask has one entry per stored feature of ``inputs`` (:class:`_NodeInputs`)."""
    seed, node_mask_type = settings["seed"], settings["node_mask_type"]
    init_nodes, node_std = settings["init_nodes"], settings["node_init_std"]
    params = {}
    normal = lambda keys, shape: jax.vmap(lambda k: jax.random.normal(k, shape, dtype))(keys)
    if settings["edge_mask"]:
        t = layout.edge_target
        keys = _keys(
            seed, _EDGE_STREAM, restart, layout.target_node[t], classes[t], layout.edge_position
        )
        nodes = layout.target_nodes[t] if init_nodes is None else jnp.full_like(t, init_nodes)
        std = jnp.sqrt(2.0) * jnp.sqrt(1.0 / jnp.maximum(nodes, 1))
        params["edge"] = normal(keys, ()) * std.astype(dtype) + settings["edge_init_mean"]
    features = inputs.values.shape[1]
    if node_mask_type in ("object", "attributes"):
        t = layout.copy_target
        keys = _keys(
            seed, _NODE_STREAM, restart, layout.target_node[t], classes[t], layout.copy_position
        )
        if node_mask_type == "object":
            params["node"] = normal(keys, (1,)) * node_std
        else:
            columns = inputs.columns
            if columns is None:
                columns = jnp.broadcast_to(jnp.arange(features), inputs.values.shape)
            params["node"] = _feature_normals(keys, columns, dtype) * node_std
    elif node_mask_type == "common_attributes":
        keys = _keys(
            seed, _NODE_STREAM, restart, layout.target_node, classes, jnp.zeros_like(classes)
        )
        params["node"] = normal(keys, (features,)) * node_std
    return params


def _masked_logits(
    model: UnionModel, layout: _Layout, x, inputs: _NodeInputs, params, mask_self_loops: bool
):
    """Logits of every target with the sigmoid masks applied (self loops unmasked, as in PyG,
    unless ``mask_self_loops``). A mask on stored features (``inputs.columns``) enters through
    ``P = (X ⊙ σ(M)) W``, summed over each copy's non-zeros: no ``[S, F]`` array."""
    edge = model.edge_ones
    if "edge" in params:
        edge = jax.nn.sigmoid(params["edge"])
        if not mask_self_loops:
            edge = jnp.where(layout.self_loop, 1.0, edge).astype(x.dtype)
    if "node" in params:
        node = jax.nn.sigmoid(params["node"])
        if inputs.columns is not None:
            kernel = model.sparse_inputs.input_kernel
            p = jnp.einsum("sk,skd->sd", inputs.values * node, kernel[inputs.columns])
            return model.sparse_inputs.projected_logits(p, edge)
        if node.shape[0] != x.shape[0]:  # common_attributes: one feature mask per target
            node = node[layout.copy_target]
        x = x * node
    return model.joint_logits(x, edge)


def _prediction_loss(logits, classes):
    """``[T]`` cross entropy of each target's logits against its explained class."""
    return (
        jax.nn.logsumexp(logits, axis=-1)
        - jnp.take_along_axis(logits, classes[:, None], axis=-1)[:, 0]
    )


def _optimize(model, layout, x, inputs, classes, restart, settings) -> dict:
    """Final masks ``sigmoid(parameter)``, 0 outside the hard set, of one restart."""
    num_targets = classes.shape[0]
    params = _init(layout, classes, restart, settings=settings, inputs=inputs, dtype=x.dtype)
    coeffs, optimizer = settings["coeffs"], optax.adam(settings["lr"])

    def prediction(p):
        logits = _masked_logits(model, layout, x, inputs, p, settings["mask_self_loops"])
        return jnp.sum(_prediction_loss(logits, classes))

    def full(p, hard):
        dense = settings["edge_entropy_mean"] == "dense"
        terms = regularizer(p, hard, layout, coeffs, num_targets, dense)
        return prediction(p) + jnp.sum(terms)

    grads = jax.grad(prediction)(params)
    hard = jax.tree.map(lambda g: g != 0, grads)
    state = optimizer.init(params)
    updates, state = optimizer.update(grads, state)
    params = optax.apply_updates(params, updates)

    def step(carry, _):
        p, s = carry
        updates, s = optimizer.update(jax.grad(full)(p, hard), s)
        return (optax.apply_updates(p, updates), s), None

    (params, _), _ = jax.lax.scan(step, (params, state), None, length=settings["epochs"] - 1)
    return jax.tree.map(lambda p, h: jnp.where(h, jax.nn.sigmoid(p), 0.0), params, hard)


def _make_attribute(settings: dict, level: str, statistic: str):
    def attribute(model: UnionModel, x, x_ref, classes) -> Contribution:
        del x_ref
        layout = _layout(model)
        inputs = _node_inputs(model, x, settings["node_mask_type"])
        restarts = jnp.arange(settings["restarts"])
        masks = jax.lax.map(
            lambda r: _optimize(model, layout, x, inputs, classes, r, settings), restarts
        )
        reduce = (lambda m: jnp.mean(m, 0)) if statistic == "mean" else (lambda m: jnp.std(m, 0))
        mask = reduce(masks["edge" if level == "edge" else "node"])
        if level == "node" and mask.shape[0] == classes.shape[0]:  # common_attributes
            mask = mask[layout.copy_target]
        if level == "node" and inputs.columns is not None:  # back to [S, F]
            rows = jnp.arange(mask.shape[0])[:, None]
            mask = jnp.zeros_like(x).at[rows, inputs.columns].set(mask)
        return Contribution(mask, nan_expected(classes, x.dtype), ())

    return attribute


def gnn_explainer(
    *,
    preset: str = "pyg",
    epochs: int | None = None,
    lr: float | None = None,
    edge_size: float | None = None,
    edge_ent: float | None = None,
    node_feat_size: float | None = None,
    node_feat_ent: float | None = None,
    eps: float = 1e-15,
    node_mask_type: str | None = FROM_PRESET,
    edge_init_mean: float | None = None,
    node_init_std: float | None = None,
    edge_entropy_mean: str | None = None,
    edge_mask: bool = True,
    mask_self_loops: bool = False,
    restarts: int = 1,
    seed: int = 0,
    init_nodes: int | None = None,
    level: str = "edge",
    statistic: str = "mean",
) -> Method:
    """GNNExplainer (PyG's objective; PyG's or Ying et al.'s defaults), every target at once.

    Per target (node ``a``, class ``c``) and per restart, masks ``M_e`` (one per edge of ``a``'s
    computation graph) and ``M_x`` (``node_mask_type``) minimize, with Adam (``lr``) for
    ``epochs`` steps::

        CE(Z_masked[a], c) + edge_size Σ σ(M_e) + edge_ent mean H(σ(M_e))
                           + node_feat_size mean σ(M_x) + node_feat_ent mean H(σ(M_x))

    ``H(m) = −m log(m + eps) − (1 − m) log(1 − m + eps)``; sums and means run over the hard
    elements (non-zero gradient at the first step, which uses the cross entropy alone). The
    masked model scales each edge's weight by ``σ(M_e)`` and multiplies the input by ``σ(M_x)``.

    ``preset`` gives every setting left unset: ``"pyg"`` (PyG's defaults) or ``"ying"`` (Ying
    et al.'s code: lr 0.1, one feature mask shared by all nodes starting at σ = 0.5, the edge
    mask starting around 1, no feature-mask entropy; :mod:`._gnn_explainer_presets` lists both
    and what of theirs is not followed).

    Initialization (PyG): ``M_x ~ N(0, 0.1²)``; ``M_e ~ N(0, 2 / N_t)`` where ``N_t`` is the
    number of nodes of the target's computation graph (PyG uses the whole graph's N; per
    target, a result does not depend on the graph outside the receptive field). The random
    numbers depend only on (``seed``, restart, target node, class, position in the computation
    graph; a per-feature mask entry also on the feature's id), so a target's result is the same
    alone or among many.

    On sparse X (bag-of-words features, under a quarter non-zero) and a model whose first layer
    is linear in X (every built-in model), ``node_mask_type="attributes"`` keeps its mask on
    each node's non-zero features only and enters the model through ``P = (X ⊙ σ(M)) W``: a
    mask entry on a zero feature has no gradient, so it is outside the hard set and 0 in the
    result either way. Same masks as the dense form; on Cora ``[copies, 32]`` instead of
    ``[copies, 1433]``.

    Self loops added by the model (GCN, GAT) are not masked (PyG's behaviour): their scale
    stays 1 and their reported value is 0. ``mask_self_loops=True`` masks them too.

    Args:
      preset: ``"pyg"`` or ``"ying"``: the defaults of the settings below left unset.
      epochs: Adam steps (unset: the preset's, as for ``lr`` and the four weights below).
      lr: Adam's learning rate.
      edge_size: weight of the edge mask's size term (its sum).
      edge_ent: weight of the edge mask's entropy term.
      node_feat_size: weight of the node mask's size term (its mean).
      node_feat_ent: weight of the node mask's entropy term.
      eps: the entropy terms' guard against ``log 0``.
      node_mask_type: ``"object"`` (one mask per node), ``"attributes"`` (per node and
        feature), ``"common_attributes"`` (per feature, shared by the target's nodes) or
        ``"none"`` (or ``None``); unset: the preset's.
      edge_init_mean: the initial edge masks' mean (unset: the preset's; PyG 0, Ying et al. 1).
      node_init_std: the initial node masks' standard deviation (PyG 0.1, Ying et al. 0).
      edge_entropy_mean: ``"edges"`` (PyG: the edge entropy's mean over the target's hard
        edges) or ``"dense"`` (Ying et al.: over the ``n²`` entries of the computation graph's
        dense adjacency, so each edge's entropy weighs ``1 / n²``).
      edge_mask: learn an edge mask (PyG ``edge_mask_type="object"``) or not (``False``).
      mask_self_loops: also mask edges from a node to itself.
      restarts: R independent initializations per target; the result is their mean mask
        (``statistic="mean"``) or the per-element standard deviation (``statistic="std"``).
      seed: the PRNG seed.
      init_nodes: the N of the edge mask's initial ``N(0, 2 / N)``; ``None``: the nodes of each
        target's computation graph. PyG uses the whole graph's node count: pass it to start
        from PyG's (smaller) initial spread.
      level: ``"edge"``: the edge mask, an edge-level result (method ``gnn_explainer``);
        ``"node"``: the node mask summed over features per node (method
        ``gnn_explainer_nodes``; ``feature_level=True`` keeps features).
      statistic: ``"mean"`` or ``"std"`` over restarts.

    References:
      Ying et al., GNNExplainer: Generating Explanations for Graph Neural Networks, NeurIPS 2019.

    Example:
      >>> method = gnn_explainer(epochs=100, node_mask_type="attributes", restarts=5)
    """
    chosen = resolve_preset(
        preset,
        {
            "epochs": epochs,
            "lr": lr,
            "edge_size": edge_size,
            "edge_ent": edge_ent,
            "node_feat_size": node_feat_size,
            "node_feat_ent": node_feat_ent,
            "node_mask_type": "none" if node_mask_type is None else node_mask_type,
            "edge_init_mean": edge_init_mean,
            "node_init_std": node_init_std,
            "edge_entropy_mean": edge_entropy_mean,
        },
    )
    node_mask_type = chosen["node_mask_type"]
    check_structure(node_mask_type, level, statistic, init_nodes, restarts, edge_mask, eps)
    coeffs = Coefficients(*(chosen[k] for k in Coefficients._fields[:-1]), eps)
    settings = {
        "preset": preset,
        "edge_init_mean": float(chosen["edge_init_mean"]),
        "node_init_std": float(chosen["node_init_std"]),
        "edge_entropy_mean": chosen["edge_entropy_mean"],
        "epochs": chosen["epochs"],
        "lr": chosen["lr"],
        "coeffs": coeffs,
        "node_mask_type": node_mask_type,
        "edge_mask": edge_mask,
        "mask_self_loops": mask_self_loops,
        "restarts": restarts,
        "seed": seed,
        "init_nodes": init_nodes,
    }
    hyperparameters = {k: v for k, v in settings.items() if k != "coeffs"}
    hyperparameters |= coeffs._asdict() | {"statistic": statistic}
    return Method(
        NAMES[level],
        tuple(sorted(hyperparameters.items(), key=lambda kv: kv[0])),
        _make_attribute(settings, level, statistic),
        None,
        level=level,
        needs_features=node_mask_type in ("attributes", "common_attributes"),
        reads_nonzeros=node_mask_type == "attributes",
        unit="mask" if statistic == "mean" else "mask std over restarts",
        signed=False,
        partner=NAMES["node" if level == "edge" else "edge"],
    )
