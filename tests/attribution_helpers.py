"""Tiny graphs, models and float64 per-target references for the attribution tests."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jgattr.attribution import Explainable, quadrature
from jgattr.attribution._quadrature import paper_samples
from jgattr.models import GCN, gcn_normalize, init_params

NUM_NODES, NUM_FEATURES, NUM_CLASSES = 16, 6, 3
HUB, ISOLATED = 0, 15


def random_graph(seed: int = 0, dtype=np.float64) -> jraph.GraphsTuple:
    """16 nodes: node 0 a hub linked to 9 others, node 15 isolated, a few random edges."""
    rng = np.random.default_rng(seed)
    edges = {(HUB, int(v)) for v in range(1, 10)}
    edges |= {tuple(sorted(map(int, p))) for p in rng.integers(1, 15, (10, 2)) if p[0] != p[1]}
    pairs = np.array(sorted(edges | {(b, a) for a, b in edges}), dtype=np.int32)
    nodes = rng.normal(size=(NUM_NODES, NUM_FEATURES)) * (rng.random((NUM_NODES, 1)) + 0.5)
    graph = jraph.GraphsTuple(
        nodes=nodes.astype(dtype),
        edges=None,
        senders=pairs[:, 0],
        receivers=pairs[:, 1],
        n_node=np.array([NUM_NODES]),
        n_edge=np.array([len(pairs)]),
        globals=None,
    )
    normalized = gcn_normalize(graph)
    return normalized._replace(edges=normalized.edges.astype(dtype))


def random_gcn(num_layers: int, graph, seed: int = 0, dtype=jnp.float64):
    """A GCN with random weights and non-zero biases (so reference and input masks differ)."""
    model = GCN(num_classes=NUM_CLASSES, hidden_size=5, num_layers=num_layers)
    params = init_params(model, jax.tree.map(jnp.asarray, graph), key=jax.random.key(seed))
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(seed + 100), len(leaves))
    leaves = [
        jax.random.normal(k, leaf.shape, dtype) * 0.8 for k, leaf in zip(keys, leaves, strict=True)
    ]
    return model, jax.tree.unflatten(treedef, leaves)


class SAGEMean(nn.Module):
    """GraphSAGE with mean aggregation over incoming edges: ``W₁ h + W₂ mean_{s→r} h_s + b``."""

    features: int

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, h):
        n = h.shape[0]
        total = jax.ops.segment_sum(h[graph.senders], graph.receivers, num_segments=n)
        count = jax.ops.segment_sum(jnp.ones_like(graph.receivers, h.dtype), graph.receivers, n)
        mean = total / jnp.maximum(count, 1.0)[:, None]
        return nn.Dense(self.features)(h) + nn.Dense(self.features, use_bias=False)(mean)


def sage_model(graph, seed: int = 0):
    """A 2-layer GraphSAGE-mean as an :class:`Explainable` plus random float64 params."""
    widths = (5, NUM_CLASSES)
    layers = [SAGEMean(w) for w in widths]
    keys = jax.random.split(jax.random.key(seed), 2)
    h = jnp.asarray(graph.nodes)
    params = {}
    for i, (layer, key) in enumerate(zip(layers, keys, strict=True)):
        params[f"layer_{i}"] = layer.init(key, graph, h)["params"]
        params[f"layer_{i}"] = jax.tree.map(
            lambda a, k=key: jax.random.normal(k, a.shape, jnp.float64) * 0.7, params[f"layer_{i}"]
        )
        h = layer.apply({"params": params[f"layer_{i}"]}, graph, h)

    def convolutions(p, g):
        return tuple(
            (lambda x, i=i, layer=layer: layer.apply({"params": p[f"layer_{i}"]}, g, x))
            for i, layer in enumerate(layers)
        )

    def apply(p, g):
        convs = convolutions(p, g)
        return convs[1](jax.nn.relu(convs[0](g.nodes)))

    return Explainable(apply, num_layers=2, convolutions=convolutions), params


# ---------------------------------------------------------------- float64 per-target references


def convolutions_of(model, params, graph):
    if isinstance(model, Explainable):
        return model.convolutions(params, graph)
    from jgattr.models import gcn_convolutions

    return gcn_convolutions(model, params, graph)


def _logits_fn(model, params, graph):
    convs = convolutions_of(model, params, graph)

    def logits(x):
        h = x
        for i, conv in enumerate(convs):
            h = conv(h) if i == len(convs) - 1 else jax.nn.relu(conv(h))
        return h

    return logits


def reference_gradient_method(name, model, params, graph, targets, classes, **kw):
    """Per-target ``jax.grad`` on the whole graph: saliency, NAM, IG (a Python loop of targets)."""
    logits = _logits_fn(model, params, graph)
    x = jnp.asarray(graph.nodes)
    x_ref = jnp.asarray(kw.get("x_ref", np.zeros_like(graph.nodes)))
    rows = []
    for a, c in zip(targets, classes, strict=True):
        if kw.get("output") == "probability":
            score = lambda y, a=a, c=c: jax.nn.softmax(logits(y)[a])[c]
        else:
            score = lambda y, a=a, c=c: logits(y)[a, c]
        if name == "saliency":
            rows.append(jnp.abs(jax.grad(score)(x)).sum(-1))
        elif name == "nam":
            rows.append((jax.grad(score)(x) * x).sum(-1))
        else:
            alphas, weights = quadrature(kw["quadrature_rule"], kw["n_steps"])
            grads = jax.vmap(lambda al, s=score: jax.grad(s)(x_ref + al * (x - x_ref)))(alphas)
            total = jnp.tensordot(jnp.asarray(weights), grads, axes=1)
            rows.append((total * (x - x_ref)).sum(-1))
    return np.stack(rows)


def reference_lid(
    model, params, graph, targets, classes, *, top, jacobian, ts, weights, top_samples
):
    """Per-target layer-wise increment decomposition on the whole graph (MATH.md).

    ``ts``/``weights``: points on each layer's own line for path-averaged Jacobians.
    Returns (relevance [T, N], layer totals [T, K]).
    """
    convs = convolutions_of(model, params, graph)
    layers = [
        c if i == len(convs) - 1 else (lambda h, c=c: jax.nn.relu(c(h)))
        for i, c in enumerate(convs)
    ]
    x = jnp.asarray(graph.nodes)
    hs, hs_ref = [x], [jnp.zeros_like(x)]
    for layer in layers:
        hs.append(layer(hs[-1]))
        hs_ref.append(layer(hs_ref[-1]))
    relevances, totals = [], []
    for a, c in zip(targets, classes, strict=True):
        z, z_ref = hs[-1][a], hs_ref[-1][a]
        onehot = jax.nn.one_hot(c, z.shape[0], dtype=z.dtype)

        def softmax_row(v, c=c, onehot=onehot):
            p = jax.nn.softmax(v)
            return p[c] * (onehot - p)

        if top == "logit":
            vector = onehot
        elif top == "softmax_local":
            vector = softmax_row(z)
        else:
            samples = paper_samples(top_samples)[0]
            vector = sum(softmax_row(z_ref + t * (z - z_ref)) for t in samples) / len(samples)
        g = jnp.zeros_like(hs[-1]).at[a].set(vector)
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
            layer_totals.append(float(jnp.sum(g * (h - h_ref))))
        relevances.append(np.asarray(jnp.sum(g * (x - hs_ref[0]), -1)))
        totals.append(layer_totals[::-1])
    return np.stack(relevances), np.array(totals)


def k_hop_sets(graph, num_hops: int) -> list[set[int]]:
    """Nodes within ``num_hops`` of each node (BFS on the normalized graph's edges)."""
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
