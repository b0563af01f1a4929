"""A float64 GNNExplainer written as PyG writes it: one target at a time on the whole graph,
regularizers over boolean-indexed hard masks, Adam by hand (no optax). Only the initial masks
follow jgattr's documented seeding (fold_in of seed, stream, restart, node, class, position),
so that both start from the same numbers."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from tests.attribution_helpers import TARGETS, apply_fn, is_graph_model, k_hop_sets

EDGE_STREAM, NODE_STREAM = 1, 0


@functools.partial(jax.jit, static_argnums=(6,))  # jitted for speed; same numbers
def _normal(seed, stream, restart, node, cls, position, shape):
    key = jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), stream), restart)
    key = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, node), cls), position)
    return jax.random.normal(key, shape, jnp.float64)


@functools.partial(jax.jit, static_argnums=(5,))
def _feature_normals(seed, restart, node, cls, position, features):
    key = jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), NODE_STREAM), restart)
    key = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, node), cls), position)
    one = lambda j: jax.random.normal(jax.random.fold_in(key, j), (), jnp.float64)
    return jax.vmap(one)(jnp.arange(features))


def _adam(lr, b1=0.9, b2=0.999, eps=1e-8):
    state = {"t": 0, "m": None, "v": None}

    def step(params, grads):
        state["t"] += 1
        if state["m"] is None:
            state["m"] = jax.tree.map(jnp.zeros_like, params)
            state["v"] = jax.tree.map(jnp.zeros_like, params)
        state["m"] = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        state["v"] = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
        t = state["t"]
        return jax.tree.map(
            lambda p, m, v: p - lr * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps),
            params,
            state["m"],
            state["v"],
        )

    return step


def _init(graph, a, c, restart, seed, node_mask_type, nodes, edges, mean=0.0, node_std=0.1):
    """Edge masks ``N(mean, 2 / n)`` (PyG: mean 0; Ying et al.: 1), node masks
    ``N(0, node_std²)`` (PyG: 0.1; Ying et al.: 0)."""
    n, f = graph.nodes.shape
    params = {"edge": np.zeros(graph.senders.shape[0])}
    std = np.sqrt(2.0) * np.sqrt(1.0 / len(nodes))
    for p, e in enumerate(edges):
        normal = np.asarray(_normal(seed, EDGE_STREAM, restart, a, c, p, ()))
        params["edge"][e] = normal * std + mean
    if node_mask_type == "common_attributes":
        params["node"] = _normal(seed, NODE_STREAM, restart, a, c, 0, (f,))[None] * node_std
    elif node_mask_type == "object":
        params["node"] = np.zeros((n, 1))
        for p, v in enumerate(nodes):
            params["node"][v] = _normal(seed, NODE_STREAM, restart, a, c, p, (1,)) * node_std
    elif node_mask_type == "attributes":  # feature j of a node: its own key, fold_in(key, j)
        params["node"] = np.zeros((n, f))
        for p, v in enumerate(nodes):
            params["node"][v] = _feature_normals(seed, restart, a, c, p, f) * node_std
    return jax.tree.map(jnp.asarray, params)


def _entropy(m, eps):
    return -m * jnp.log(m + eps) - (1 - m) * jnp.log(1 - m + eps)


def _loss_gradients(model, params, graph, kw):
    """``(grad without regularizers, grad with them)`` of PyG's loss, each
    ``(masks, hard, target, class) -> grads``; jitted once for all targets (for speed only: the
    regularizers read the hard masks through ``where``, which sums the entries PyG's boolean
    indexing picks; in float64 equal far below the tests' 1e-10)."""
    apply, base = apply_fn(model), jax.tree.map(jnp.asarray, graph)
    loop = jnp.asarray(np.asarray(graph.senders) == np.asarray(graph.receivers))
    eps = kw.get("eps", 1e-15)

    def masked_mean(values, hard):  # the mean over the boolean-indexed entries
        count = jnp.sum(hard)
        total = jnp.sum(jnp.where(hard, values, 0.0))
        return jnp.where(count > 0, total / jnp.maximum(count, 1), 0.0)

    def loss(p, hard, a, c, entries=1.0):
        x = base.nodes * jax.nn.sigmoid(p["node"]) if "node" in p else base.nodes
        scale = jnp.where(loop, 1.0, jax.nn.sigmoid(p["edge"]))
        z = apply(params, base._replace(nodes=x, edges=base.edges * scale))[a]
        total = jax.nn.logsumexp(z) - z[c]
        if hard is None:
            return total
        m = jax.nn.sigmoid(p["edge"])
        total += kw.get("edge_size", 0.005) * jnp.sum(jnp.where(hard["edge"], m, 0.0))
        if kw.get("edge_entropy_mean", "edges") == "dense":  # over the n² dense entries
            entropy = jnp.sum(jnp.where(hard["edge"], _entropy(m, eps), 0.0)) / entries
        else:
            entropy = masked_mean(_entropy(m, eps), hard["edge"])
        total += kw.get("edge_ent", 1.0) * entropy
        if "node" in p:
            m = jax.nn.sigmoid(p["node"])
            total += kw.get("node_feat_size", 1.0) * masked_mean(m, hard["node"])
            total += kw.get("node_feat_ent", 0.1) * masked_mean(_entropy(m, eps), hard["node"])
        return total

    first = jax.jit(lambda p, a, c: jax.grad(loss)(p, None, a, c))
    return first, jax.jit(jax.grad(loss))


def _one_target(model, graph, a, c, restart, kw, gradients):
    receivers = np.asarray(graph.receivers)
    if is_graph_model(model):  # a graph target: its graph's nodes, seeded by its first node
        first, last = np.concatenate([[0], np.cumsum(graph.n_node)])[[a, a + 1]]
        nodes = inner = list(range(first, last))
        seed_node = int(first)
    else:
        nodes = sorted(k_hop_sets(graph, model.num_layers)[a])
        inner = sorted(k_hop_sets(graph, model.num_layers - 1)[a])
        seed_node = a
    inside = np.flatnonzero(np.isin(receivers, inner))
    edges = inside[np.argsort(receivers[inside], kind="stable")]  # the union's edge order
    node_type = kw.get("node_mask_type", "object")
    masks = _init(
        graph,
        seed_node,
        c,
        restart,
        kw.get("seed", 0),
        node_type,
        nodes,
        edges,
        kw.get("edge_init_mean", 0.0),
        kw.get("node_init_std", 0.1),
    )
    if node_type == "none":
        del masks["node"]
    first_gradient, gradient = gradients
    adam = _adam(kw.get("lr", 0.01))
    grads = first_gradient(masks, a, c)
    hard = jax.tree.map(lambda g: np.asarray(g) != 0, grads)
    masks = adam(masks, grads)
    for _ in range(kw["epochs"] - 1):
        masks = adam(masks, gradient(masks, hard, a, c, float(len(nodes)) ** 2))
    final = jax.tree.map(lambda p, h: np.where(h, jax.nn.sigmoid(p), 0.0), masks, hard)
    if kw.get("level", "edge") == "edge":
        return final["edge"]
    node = final["node"].sum(-1)
    row = np.zeros(graph.nodes.shape[0])
    row[nodes] = node[0] if node.shape[0] == 1 else node[nodes]
    return row


def reference_gnn_explainer(model, params, graph, classes, targets=TARGETS, **kw) -> np.ndarray:
    """``[T, E]`` edge masks (``level="edge"``) or ``[T, N]`` node masks of ``targets`` (with
    their ``classes``), mean over restarts (``statistic="std"``: their standard deviation)."""
    rows, gradients = [], _loss_gradients(model, params, graph, kw)
    for a, c in zip(targets, classes, strict=True):
        runs = np.stack(
            [
                _one_target(model, graph, int(a), int(c), r, kw, gradients)
                for r in range(kw.get("restarts", 1))
            ]
        )
        rows.append(runs.std(0) if kw.get("statistic") == "std" else runs.mean(0))
    return np.stack(rows)
