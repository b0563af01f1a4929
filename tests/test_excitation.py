"""Excitation backprop (EB) and c-EB on GIN and GraphSAGE against dense float64 numpy references
(the GCN's are in tests/test_pope.py), a case computed by hand, and why EB maps are flat."""

import jax
import numpy as np
import pytest

from jgattr.attribution import explain, get_method
from jgattr.data import make_graph_dataset
from jgattr.data._dataset import undirected_edges
from jgattr.models import GIN, GraphClassifier, GraphSAGE, as_explainable, init_params
from tests.attribution_helpers import raw_graph
from tests.test_pope import GRAPHS, tiny_classifier, tiny_dataset

EPS = 1e-5


def _divide(a, b):
    return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def _z_plus(a, p, forward, backward):
    """``a ⊙ J⁺ᵀ (p / z⁺(a))`` of a positive linear map given as forward and transpose."""
    return a * backward(_divide(p, forward(a)))


def _relu(w):
    return np.maximum(np.float64(w), 0.0)


class DenseLayers:
    """One graph (or the whole node graph) of a GIN or GraphSAGE encoder, float64, dense.

    ``adjacency[r, s]`` holds the model's edge weight of ``s → r`` (GIN: 1, SAGE: 1/deg(r)).
    ``last_relu``: the encoder's last layer is followed by a ReLU (graph classifiers).
    """

    def __init__(self, architecture, params, x, adjacency, last_relu):
        self.architecture, self.params, self.a = architecture, params, adjacency
        self.num_layers = len({k.split("_")[1] for k in params if k.startswith("layer_")})
        self.hs, self.inner = [np.float64(x)], []
        for layer in range(self.num_layers):
            last = layer == self.num_layers - 1
            out = self._layer(layer, self.hs[-1])
            self.hs.append(np.maximum(out, 0.0) if (last_relu or not last) else out)

    def _layer(self, index, h):
        if self.architecture == "gin":
            first = self.params[f"layer_{index}_in"]["kernel"]
            bias = self.params[f"layer_{index}_in_bias"]
            out = self.params[f"layer_{index}_out"]
            r = np.maximum((h + self.a @ h) @ np.float64(first) + bias, 0.0)
            self.inner.append(r)
            return r @ np.float64(out["kernel"]) + out["bias"]
        weights = self.params[f"layer_{index}"]
        root, neigh = np.split(np.float64(weights["kernel"]), 2, axis=1)
        return h @ root + self.a @ h @ neigh + weights["bias"]

    def excite(self, p, renormalize=False):
        """``P(X)`` from ``p``, the probabilities of the last layer's output ``[N, D]``."""
        norm = (lambda q: _divide(q, q.sum())) if renormalize else (lambda q: q)
        a = self.a
        for index in range(self.num_layers - 1, -1, -1):
            h = self.hs[index]
            if self.architecture == "gin":
                w_in = _relu(self.params[f"layer_{index}_in"]["kernel"])
                w_out = _relu(self.params[f"layer_{index}_out"]["kernel"])
                up, down = (lambda r, w=w_out: r @ w), (lambda g, w=w_out: g @ w.T)
                p = norm(_z_plus(self.inner[index], p, up, down))
                m = np.eye(len(a)) + a  # (1 + ε) self term, ε = 0, plus the neighbour sum
                forward = lambda u, m=m, w=w_in: m @ u @ w
                backward = lambda g, m=m, w=w_in: m.T @ g @ w.T
            else:
                root, neigh = np.split(_relu(self.params[f"layer_{index}"]["kernel"]), 2, axis=1)
                forward = lambda u, r=root, n=neigh: u @ r + a @ u @ n
                backward = lambda g, r=root, n=neigh: g @ r.T + a.T @ g @ n.T
            p = norm(_z_plus(h, p, forward, backward))
        return p


def _graph_excitation(params, x, adjacency, architecture, c, renormalize):
    dense = DenseLayers(architecture, params["encoder"], x, adjacency, last_relu=True)
    norm = (lambda q: _divide(q, q.sum())) if renormalize else (lambda q: q)
    top = dense.hs[-1]
    pooled, wp = top.mean(0), _relu(params["head"]["kernel"])
    p = norm(pooled * (wp @ _divide(np.eye(wp.shape[1])[c], pooled @ wp)))  # head
    p = norm(p * top / (EPS + top.sum(0)))  # GAP step
    return dense.excite(p, renormalize).sum(1)


def _adjacency(architecture, n, edges):
    a = np.zeros((n, n))
    for s, r in edges:
        a[s, r] = a[r, s] = 1.0
    if architecture == "sage":
        a = a / np.maximum(a.sum(1, keepdims=True), 1.0)
    return a


@pytest.mark.parametrize("architecture", ["gin", "sage"])
def test_graph_classifier_excitation_matches_dense_float64_reference(architecture):
    dataset = tiny_dataset()
    model, params = tiny_classifier(dataset, architecture=architecture, readout="mean")
    methods = ["eb", get_method("c_eb")]
    results = explain(model, params, dataset, methods=methods, targets="all", classes="all")
    eb, ceb = results["excitation_backprop"], results["contrastive_eb"]
    start = 0
    for g, (n, edges) in enumerate(GRAPHS):
        x, a = dataset.graph.nodes[start : start + n], _adjacency(architecture, n, edges)
        start += n
        own = [_graph_excitation(params, x, a, architecture, c, False) for c in range(2)]
        contrast = [_graph_excitation(params, x, a, architecture, c, True) for c in range(2)]
        for t in np.flatnonzero(eb.targets == g):
            c = int(eb.classes[t])
            np.testing.assert_allclose(eb.for_target(t)[1], own[c], rtol=2e-4, atol=2e-6)
            expected = np.maximum(contrast[c] - contrast[1 - c], 0.0)
            np.testing.assert_allclose(ceb.for_target(t)[1], expected, rtol=2e-4, atol=2e-6)
    assert np.all(eb.values >= 0) and np.any(eb.values > 1e-3)
    # conservation: every layer's probabilities sum to 1 (short by the GAP step's ε only)
    active = np.abs(eb.layer_totals[:, -1] - 1.0) < 1e-3
    assert np.sum(active) >= 3, eb.layer_totals
    np.testing.assert_allclose(eb.layer_totals[active], 1.0, atol=1e-3)


@pytest.mark.parametrize("module", [GIN, GraphSAGE])
def test_node_model_excitation_matches_dense_float64_reference(module):
    graph = raw_graph(seed=5, dtype=np.float32)
    graph = graph._replace(nodes=np.abs(graph.nodes))  # EB assumes non-negative inputs
    model = module(3, hidden_size=5)
    architecture = "gin" if module is GIN else "sage"
    explainable = as_explainable(model)
    prepared = explainable.prepare_graph(graph)
    params = init_params(model, prepared, key=jax.random.key(5))
    rng = np.random.default_rng(5)
    params = jax.tree.map(
        lambda p: (np.asarray(p) + 0.3 * rng.normal(size=p.shape)).astype(np.float32), params
    )
    targets = np.array([0, 3, 7, 15])
    eb = explain(model, params, graph, methods=["eb"], targets=targets)["excitation_backprop"]
    n = graph.nodes.shape[0]
    adjacency = np.zeros((n, n))
    adjacency[prepared.receivers, prepared.senders] = prepared.edges
    dense = DenseLayers(architecture, params, graph.nodes, adjacency, last_relu=False)
    maps = eb.to_dense(n)
    for t, (node, c) in enumerate(zip(targets, eb.classes, strict=True)):
        p = np.zeros_like(dense.hs[-1])
        p[node, c] = 1.0
        np.testing.assert_allclose(maps[t], dense.excite(p).sum(1), rtol=2e-4, atol=1e-6)
    totals = maps.sum(1)  # 1, or 0 where the class has no excitatory path
    assert np.all((np.abs(totals - 1.0) < 1e-4) | (totals == 0.0)) and np.sum(totals > 0.5) >= 2


def _oxetane():
    """C0-C1-O2-C3-C0, a 4-ring: every node has degree 2, so ``Â = (A + I) / 3``."""
    senders, receivers = undirected_edges(np.array([0, 1, 2, 3]), np.array([1, 2, 3, 0]), 4)
    features = np.array([[1, 0], [1, 0], [0, 1], [1, 0]], np.float32)  # one-hot (C, O)
    return make_graph_dataset(
        "oxetane",
        features=features,
        senders=senders,
        receivers=receivers,
        n_node=np.array([4]),
        n_edge=np.array([len(senders)]),
        labels=np.array([1]),
        masks=(np.ones(1, bool), np.zeros(1, bool), np.ones(1, bool)),
        num_classes=2,
    )


HAND_PARAMS = {  # a 1-layer GCN classifier, mean readout: H = ReLU(Â X W), y = mean(H) V
    "encoder": {
        "conv_0": {
            "kernel": np.array([[1.0, 0.0], [-1.0, 3.0]], np.float32),
            "bias": np.zeros(2, np.float32),
        }
    },
    "head": {
        "kernel": np.array([[2.0, -1.0], [-1.0, 1.0]], np.float32),
        "bias": np.zeros(2, np.float32),
    },
}


def _authors_code_rule(x, adjacency, params, c):
    """Pope et al.'s code's EB steps as GRAPH_LEVEL_SPECS.md states them (not the z⁺ rule):
    head as ours; GAP ``p = P_k F/(ε + Σ_n F)`` renormalized per column; per-node dense
    ``mean_l P[n,l] a[n,k] W⁺[k,l]``; adjacency ``P(F) = (Â F) ⊙ P(Â F)``."""
    w, v = np.float64(params["encoder"]["conv_0"]["kernel"]), _relu(params["head"]["kernel"])
    a = adjacency @ x
    h = np.maximum(a @ w, 0.0)
    pooled = h.mean(0)
    p = pooled * (v @ _divide(np.eye(2)[c], pooled @ v))
    p = p * h / (EPS + h.sum(0))
    p = p / (p.sum(0) + EPS)
    p = (p[:, None, :] * a[:, :, None] * _relu(w)[None]).mean(2)
    return ((adjacency @ x) * p).sum(1)


def test_excitation_by_hand_on_a_four_atom_ring():
    """Oxetane C0-C1-O2-C3, one-hot (C, O); ``Â = (A + I)/3``; node n's neighbours n ± 1.

    ``A X`` per node (C, O): node 0 sees C0, C1, C3: (1, 0); nodes 1, 2, 3 see two carbons and
    the oxygen: (2/3, 1/3). ``W = [[1, 0], [-1, 3]]`` gives ``H = ReLU(Â X W)``:
    H0 = (1, 0), H1 = H2 = H3 = (2/3 − 1/3, 3·1/3) = (1/3, 1). pooled = mean = (1/2, 3/4).

    Class 0 (head column (2, −1), W⁺ column (2, 0)): z⁺ = 1/2·2 = 1, so P(pooled) = (1, 0).
    GAP: column 0 sums to 1 + 3·1/3 = 2, so P(H[:, 0]) = (1/2, 1/6, 1/6, 1/6) (times 2/(2+ε)).
    Dense step (W⁺ = [[1, 0], [0, 3]]): z⁺[n, 0] = a[n, 0], so P(a[:, 0]) = P(H[:, 0]) and
    P(a[:, 1]) = 0. Adjacency step: P(X[m, C]) = X[m, C] · Σ_{n ∈ N(m) ∪ m} (1/3) P(a[n,0])/a[n,0]
    with P/a = (1/2, 1/4, 1/4, 1/4): node 0: (1/2 + 1/4 + 1/4)/3 = 1/3; node 1: (1/4 + 1/2 +
    1/4)/3 = 1/3; node 3 likewise 1/3; the oxygen has no C feature: 0. EB = (1/3, 1/3, 0, 1/3):
    node 0's hidden activation is 3x the others', yet the adjacency step spreads its mass over
    its neighbours and the map is flat over the carbons (sum 1).

    Class 1 (head column (−1, 1), W⁺ column (0, 1)): P(pooled) = (0, 1); column 1 sums to 3:
    P(H[:, 1]) = (0, 1/3, 1/3, 1/3); dense: z⁺[n, 1] = 3 a[n, 1], P(a[:, 1]) = P(H[:, 1]);
    adjacency: only the oxygen has the O feature: P(X[2, O]) = (1 + 1 + 1)/3 = 1. EB = (0, 0, 1, 0).

    The authors' code's steps (no z⁺ division, no Âᵀ, see ``_authors_code_rule``), by hand:
    class 0: GAP column 0 renormalized: (1/2, 1/6, 1/6, 1/6); dense: P[n,0] a[n,0] · 1 / 2 (mean
    over 2 outputs) = (1/4, 1/18, 1/18, 1/18); adjacency: times (Â X)[n, 0] = (1, 2/3, 2/3, 2/3):
    (1/4, 1/27, 1/27, 1/27), the oxygen included, total 13/36. Class 1: (0, 1/3, 1/3, 1/3) →
    P[n,1] a[n,1] · 3 / 2 = (0, 1/6, 1/6, 1/6) → times (Â X)[n, 1] = 1/3: (0, 1/18, 1/18, 1/18):
    the carbons next to the oxygen get as much as the oxygen.
    """
    dataset = _oxetane()
    classifier = GraphClassifier(2, "gcn", (2,), "mean")
    results = explain(
        classifier, HAND_PARAMS, dataset, methods=["eb", "c_eb"], targets="all", classes="all"
    )
    eb = results["excitation_backprop"]
    by_class = {int(eb.classes[t]): eb.for_target(t)[1] for t in range(eb.num_targets)}
    np.testing.assert_allclose(by_class[0], np.array([1, 1, 0, 1]) / 3 * 2 / (2 + EPS), rtol=1e-5)
    np.testing.assert_allclose(by_class[1], np.array([0, 0, 1, 0]) * 3 / (3 + EPS), rtol=1e-5)
    ceb = results["contrastive_eb"]  # ReLU of the renormalized maps' difference
    contrast = {int(ceb.classes[t]): ceb.for_target(t)[1] for t in range(ceb.num_targets)}
    np.testing.assert_allclose(contrast[0], np.array([1, 1, 0, 1]) / 3, rtol=1e-5)
    np.testing.assert_allclose(contrast[1], np.array([0, 0, 1, 0]), rtol=1e-5)
    ring = np.array([[1, 1, 0, 1], [1, 1, 1, 0], [0, 1, 1, 1], [1, 0, 1, 1]]) / 3.0
    x = np.float64(dataset.graph.nodes)
    code = [_authors_code_rule(x, ring, HAND_PARAMS, c) for c in range(2)]
    np.testing.assert_allclose(code[0], [1 / 4, 1 / 27, 1 / 27, 1 / 27], rtol=1e-4)
    np.testing.assert_allclose(code[1], [0, 1 / 18, 1 / 18, 1 / 18], rtol=1e-4)
