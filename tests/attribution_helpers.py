"""Tiny graphs, every built-in model, and float64 per-target references for the engine tests.

The references never use the engine or jgattr's quadrature: they differentiate the model's
whole-graph ``apply`` one target at a time, with path-integral nodes and weights computed here
(Gauss–Legendre by the Golub–Welsch eigenvalue method, Riemann rules by their formulas).
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jgattr.models import (
    GAT,
    GCN,
    GIN,
    ConcatGCN,
    Explainable,
    GraphClassifier,
    GraphSAGE,
    as_explainable,
    init_params,
    prepare_graph,
)

NUM_NODES, NUM_FEATURES, NUM_CLASSES = 16, 6, 3
HUB, ISOLATED = 0, 15
TARGETS = np.arange(NUM_NODES)


def raw_graph(seed: int = 0, dtype=np.float64) -> jraph.GraphsTuple:
    """16 nodes: node 0 a hub linked to 9 others, node 15 isolated, a few random edges."""
    rng = np.random.default_rng(seed)
    edges = {(HUB, int(v)) for v in range(1, 10)}
    edges |= {tuple(sorted(map(int, p))) for p in rng.integers(1, 15, (10, 2)) if p[0] != p[1]}
    pairs = np.array(sorted(edges | {(b, a) for a, b in edges}), dtype=np.int32)
    nodes = rng.normal(size=(NUM_NODES, NUM_FEATURES)) * (rng.random((NUM_NODES, 1)) + 0.5)
    return jraph.GraphsTuple(
        nodes=nodes.astype(dtype),
        edges=None,
        senders=pairs[:, 0],
        receivers=pairs[:, 1],
        n_node=np.array([NUM_NODES]),
        n_edge=np.array([len(pairs)]),
        globals=None,
    )


GRAPH_SIZES = np.array([3, 5, 4, 7, 2, 6, 5, 3, 4, 6, 7, 3, 5, 4, 6, 1])  # 16 graphs, 71 nodes


def raw_graph_batch(seed: int = 0, dtype=np.float64) -> jraph.GraphsTuple:
    """16 small graphs in one disjoint union (graph 15 has a single node and no edge)."""
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(GRAPH_SIZES)])
    pairs = set()
    for g, n in enumerate(GRAPH_SIZES):
        ring = [(i, (i + 1) % n) for i in range(n)] if n > 2 else [(0, 1)] if n == 2 else []
        extra = [tuple(p) for p in rng.integers(0, n, (2, 2)) if n > 1 and p[0] != p[1]]
        pairs |= {(offsets[g] + a, offsets[g] + b) for a, b in ring + extra}
    pairs = np.array(sorted(pairs | {(b, a) for a, b in pairs}), dtype=np.int32)
    n_edge = np.bincount(np.searchsorted(offsets, pairs[:, 1], side="right") - 1, minlength=16)
    nodes = rng.normal(size=(offsets[-1], NUM_FEATURES)) * (rng.random((offsets[-1], 1)) + 0.5)
    return jraph.GraphsTuple(
        nodes=nodes.astype(dtype),
        edges=None,
        senders=pairs[:, 0],
        receivers=pairs[:, 1],
        n_node=GRAPH_SIZES.astype(np.int32),
        n_edge=n_edge.astype(np.int32),
        globals=None,
    )


def is_graph_model(model) -> bool:
    return as_explainable(model).level == "graph"


class _MeanLayer(nn.Module):
    """``W₁ h + W₂ mean_{s→r} h_s + b`` written without jgattr (the plain Explainable's layer)."""

    features: int

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, h):
        n = h.shape[0]
        total = jax.ops.segment_sum(h[graph.senders], graph.receivers, num_segments=n)
        count = jax.ops.segment_sum(jnp.ones_like(graph.receivers, h.dtype), graph.receivers, n)
        mean = total / jnp.maximum(count, 1.0)[:, None]
        return nn.Dense(self.features)(h) + nn.Dense(self.features, use_bias=False)(mean)


def _plain_model(graph, key):
    """A 2-layer mean model given only as ``Explainable(apply, layers)``: no input projection,
    so the engine differentiates it in X-space."""
    layers = [_MeanLayer(5), _MeanLayer(NUM_CLASSES)]
    params, h = {}, jnp.asarray(graph.nodes)
    for i, (layer, k) in enumerate(zip(layers, jax.random.split(key, 2), strict=True)):
        params[f"layer_{i}"] = layer.init(k, graph, h)["params"]
        h = layer.apply({"params": params[f"layer_{i}"]}, graph, h)

    def layer_fns(p, g):
        first = lambda x: jax.nn.relu(layers[0].apply({"params": p["layer_0"]}, g, x))
        return (first, lambda x: layers[1].apply({"params": p["layer_1"]}, g, x))

    def apply(p, g):
        h = g.nodes
        for fn in layer_fns(p, g):
            h = fn(h)
        return h

    return Explainable(apply, num_layers=2, name="plain-mean", layers=layer_fns), params


MODEL_NAMES = [
    "gcn-1",
    "gcn-2",
    "gcn-3",
    "gat",
    "gin",
    "sage",
    "concat-gcn",
    "plain",
    "graph-gcn-mean",
    "graph-gin-sum",
    "graph-sage-max",
]


@functools.lru_cache(maxsize=64)
def build(name: str, seed: int = 0, dtype=np.float64):
    """(model, random params with non-zero biases, graph prepared by the model) in ``dtype``.

    Cached: callers must not modify the arrays (copy before perturbing).
    """
    raw = raw_graph_batch(seed, dtype) if name.startswith("graph") else raw_graph(seed, dtype)
    modules = {
        "gat": GAT(NUM_CLASSES, hidden_size=3, heads=2),
        "gin": GIN(NUM_CLASSES, hidden_size=5),
        "sage": GraphSAGE(NUM_CLASSES, hidden_size=5),
        "concat-gcn": ConcatGCN(NUM_CLASSES, hidden_size=(5, 4, 3), num_layers=3),
        "graph-gcn-mean": GraphClassifier(NUM_CLASSES, "gcn", (5, 4), "mean"),
        "graph-gin-sum": GraphClassifier(NUM_CLASSES, "gin", (5, 4), "sum"),
        "graph-sage-max": GraphClassifier(NUM_CLASSES, "sage", (5, 4), "max"),
    }
    if name.startswith("gcn"):
        modules[name] = GCN(NUM_CLASSES, hidden_size=5, num_layers=int(name[-1]))
    key = jax.random.key(seed)
    if name == "plain":
        graph = raw._replace(edges=np.ones(raw.senders.shape[0], dtype))
        model, params = _plain_model(graph, key)
    else:
        model = modules[name]
        graph = prepare_graph(model, raw)
        graph = graph._replace(edges=np.asarray(graph.edges).astype(dtype))
        params = init_params(model, graph, key=key)
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(seed + 100), len(leaves))
    scale = 0.5 if "gat" in name else 0.8
    leaves = [
        jax.random.normal(k, leaf.shape, dtype) * scale
        for k, leaf in zip(keys, leaves, strict=True)
    ]
    return model, jax.tree.unflatten(treedef, leaves), graph


def apply_fn(model):
    """The model's whole-graph ``(params, graph) -> logits`` in X-space."""
    return model.apply if isinstance(model, Explainable) else model.explainable().apply


def predicted(model, params, graph) -> np.ndarray:
    return np.asarray(apply_fn(model)(params, jax.tree.map(jnp.asarray, graph)).argmax(1))


# ------------------------------------------------------------------ independent quadrature


def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [0, 1] by Golub–Welsch: eigenpairs of the Jacobi matrix."""
    k = np.arange(1, n)
    off = k / np.sqrt(4.0 * k**2 - 1.0)
    values, vectors = np.linalg.eigh(np.diag(off, 1) + np.diag(off, -1))
    return (values + 1.0) / 2.0, vectors[0] ** 2


def nodes_and_weights(rule: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature on [0, 1], written out independently of jgattr."""
    if rule == "gauss_legendre":
        return gauss_legendre(n)
    if rule == "riemann_trapezoid":
        weights = np.ones(n) / (n - 1)
        weights[0] = weights[-1] = 0.5 / (n - 1)
        return np.linspace(0.0, 1.0, n), weights
    offset = {"riemann_left": 0.0, "riemann_middle": 0.5, "riemann_right": 1.0}[rule]
    return (np.arange(n) + offset) / n, np.full(n, 1.0 / n)


def paper_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """SIG-LID-IG's ``t = k / n``, ``k = 1..n``, weights ``1 / n``."""
    return np.arange(1, n + 1) / n, np.full(n, 1.0 / n)


# --------------------------------------------------------- float64 per-target references


def _score_fn(model, params, graph, output: str | None):
    apply = apply_fn(model)
    base = jax.tree.map(jnp.asarray, graph)

    def score(x, a, c):
        logits = apply(params, base._replace(nodes=x))
        return jax.nn.softmax(logits[a])[c] if output == "probability" else logits[a, c]

    return score


def reference_node_gradient_method(name, model, params, graph, classes, **kw) -> np.ndarray:
    """``[T, N]`` saliency, NAM or IG: ``jax.grad`` of one target's score on the whole graph."""
    score = _score_fn(model, params, graph, kw.get("output"))
    grad = jax.jit(jax.grad(score))
    x = jnp.asarray(graph.nodes)
    x_ref = jnp.zeros_like(x)
    rows = []
    for a, c in zip(TARGETS, classes, strict=True):
        if name == "saliency":
            g = grad(x, a, c)
            rows.append((jnp.abs(g) if kw.get("absolute", True) else g).sum(-1))
        elif name == "nam":
            rows.append((grad(x, a, c) * x).sum(-1))
        else:
            alphas, weights = nodes_and_weights(kw["quadrature_rule"], kw["n_steps"])
            total = sum(
                w * grad(x_ref + al * (x - x_ref), a, c)
                for al, w in zip(alphas, weights, strict=True)
            )
            rows.append((total * (x - x_ref)).sum(-1))
    return np.stack(rows)


def reference_edge_method(name, model, params, graph, classes, **kw) -> np.ndarray:
    """``[T, E]`` edge saliency or edge IG: ``jax.grad`` over a scale on every edge weight."""
    apply = apply_fn(model)
    base = jax.tree.map(jnp.asarray, graph)

    def score(m, a, c):
        return apply(params, base._replace(edges=base.edges * m))[a, c]

    grad = jax.jit(jax.grad(score))
    ones = jnp.ones(base.edges.shape[0], base.edges.dtype)
    rows = []
    for a, c in zip(TARGETS, classes, strict=True):
        if name == "edge_saliency":
            rows.append(jnp.abs(grad(ones, a, c)))
        else:
            alphas, weights = nodes_and_weights(kw["quadrature_rule"], kw["n_steps"])
            rows.append(
                sum(w * grad(al * ones, a, c) for al, w in zip(alphas, weights, strict=True))
            )
    return np.stack(rows)


def _readout(model, params, graph):
    """``hᴷ -> rows of logits``: the identity for node models, pooling + head for graphs."""
    readout = as_explainable(model).graph_readout
    if readout is None:
        return lambda h: h
    return lambda h: readout.logits(params, h, jnp.asarray(graph.n_node))


def reference_node_and_edge_ig(name, model, params, graph, classes, **kw):
    """``([T, N] or [T, E], [T] joint change f(X, 1) − f(0, 0))``: IG along one straight path
    from (features 0, edge scale 0) to (X, 1), written as a sum of ``jax.grad`` per point."""
    apply = apply_fn(model)
    base = jax.tree.map(jnp.asarray, graph)

    def score(x, m, a, c):
        return apply(params, base._replace(nodes=x, edges=base.edges * m))[a, c]

    grad = jax.jit(jax.grad(score, argnums=(0, 1)))
    x = jnp.asarray(graph.nodes)
    ones = jnp.ones(base.edges.shape[0], base.edges.dtype)
    alphas, weights = nodes_and_weights(kw["quadrature_rule"], kw["n_steps"])
    rows, changes = [], []
    for a, c in zip(TARGETS, classes, strict=True):
        gx = sum(
            w * grad(al * x, al * ones, a, c)[0] for al, w in zip(alphas, weights, strict=True)
        )
        gm = sum(
            w * grad(al * x, al * ones, a, c)[1] for al, w in zip(alphas, weights, strict=True)
        )
        rows.append((gx * x).sum(-1) if name.endswith("_nodes") else gm)
        changes.append(score(x, ones, a, c) - score(0 * x, 0 * ones, a, c))
    return np.stack(rows), np.array(changes)


def _layers_in_x_space(model, params, graph):
    if isinstance(model, Explainable):
        return model.layers(params, graph)
    explainable = model.explainable()
    layers = explainable.layers(params, graph)
    kernel = explainable.input_kernel(params)
    return (lambda x: layers[0](x @ kernel), *layers[1:])


def reference_lid(model, params, graph, classes, *, top, jacobian, ts, weights, top_samples):
    """Per-target layer-wise increment decomposition on the whole graph (docs/math.md).

    ``ts``/``weights``: points on each layer's own line for path-averaged Jacobians.
    Returns (relevance [T, N], layer totals [T, K]).
    """
    layers = _layers_in_x_space(model, params, jax.tree.map(jnp.asarray, graph))
    readout = _readout(model, params, graph)
    x = jnp.asarray(graph.nodes)
    hs, hs_ref = [x], [jnp.zeros_like(x)]
    for layer in layers:
        hs.append(layer(hs[-1]))
        hs_ref.append(layer(hs_ref[-1]))
    samples = jnp.asarray(paper_rule(top_samples)[0])

    def one_target(a, c):
        out, readout_vjp = jax.vjp(readout, hs[-1])
        z, z_ref = out[a], readout(hs_ref[-1])[a]
        onehot = jax.nn.one_hot(c, z.shape[0], dtype=z.dtype)

        def softmax_row(v):
            p = jax.nn.softmax(v)
            return p[c] * (onehot - p)

        if top == "logit":
            vector = onehot
        elif top == "softmax_local":
            vector = softmax_row(z)
        else:
            vector = jax.vmap(lambda t: softmax_row(z_ref + t * (z - z_ref)))(samples).mean(0)
        g = readout_vjp(jnp.zeros_like(out).at[a].set(vector))[0]
        layer_totals = []
        for index in range(len(layers) - 1, -1, -1):
            h, h_ref = hs[index], hs_ref[index]
            if jacobian == "local":
                g = jax.vjp(layers[index], h)[1](g)[0]
            else:
                on_line = lambda t, f=layers[index], h=h, h_ref=h_ref, g=g: jax.vjp(
                    f, h_ref + t * (h - h_ref)
                )[1](g)[0]
                g = jnp.tensordot(jnp.asarray(weights), jax.vmap(on_line)(jnp.asarray(ts)), axes=1)
            layer_totals.append(jnp.sum(g * (h - h_ref)))
        return jnp.sum(g * (x - hs_ref[0]), -1), jnp.stack(layer_totals[::-1])

    one_target = jax.jit(one_target)
    rows = [one_target(a, c) for a, c in zip(TARGETS, classes, strict=True)]
    return np.stack([np.asarray(r) for r, _ in rows]), np.stack([np.asarray(t) for _, t in rows])


def graph_node_sets(graph) -> list[set[int]]:
    """The nodes of each graph of a batch (what a graph target's attributions cover)."""
    offsets = np.concatenate([[0], np.cumsum(graph.n_node)])
    return [set(range(offsets[g], offsets[g + 1])) for g in range(len(graph.n_node))]


def k_hop_sets(graph, num_hops: int) -> list[set[int]]:
    """Nodes within ``num_hops`` of each node (BFS over the graph's edges, receivers ← senders)."""
    n = graph.nodes.shape[0]
    adjacency = [set() for _ in range(n)]
    for s, r in zip(graph.senders, graph.receivers, strict=True):
        adjacency[int(r)].add(int(s))
    result = []
    for a in range(n):
        seen, frontier = {a}, {a}
        for _ in range(num_hops):
            frontier = {s for v in frontier for s in adjacency[v]} - seen
            seen |= frontier
        result.append(seen)
    return result


def random_graph(seed: int = 0, dtype=np.float64) -> jraph.GraphsTuple:
    """The raw graph prepared for a GCN (self loops, normalized weights) in ``dtype``."""
    return build("gcn-2", seed, dtype)[2]


def random_gcn(num_layers: int, graph, seed: int = 0, dtype=jnp.float64):
    """A GCN with random weights and non-zero biases (so reference and input masks differ)."""
    model, params, _ = build(f"gcn-{num_layers}", seed, dtype)
    return model, params
