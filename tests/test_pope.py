"""Pope et al.'s methods (CG, CAM, Grad-CAM, Grad-CAM-avg, EB, c-EB) against float64 references
written here with dense numpy matrices, one graph (or node) at a time, and their metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jgattr.attribution import Attributions, explain, get_method
from jgattr.data import make_graph_dataset
from jgattr.data._dataset import undirected_edges
from jgattr.metrics import pope_metrics
from jgattr.models import Explainable, GraphClassifier, GraphReadout, as_explainable, init_params
from tests.attribution_helpers import random_gcn, raw_graph

EPS = 1e-5
METHODS = {
    "contrastive_gradient": {},
    "cam": {"bias": True},
    "grad_cam": {},
    "grad_cam_avg": {"variant": "paper"},
    "excitation_backprop": {},
    "contrastive_eb": {"variant": "paper"},
}
# (nodes, edges) of three tiny graphs: a 4-node path, a triangle, a single edge
GRAPHS = [(4, [(0, 1), (1, 2), (2, 3)]), (3, [(0, 1), (1, 2), (0, 2)]), (2, [(0, 1)])]


def tiny_dataset(num_features: int = 3, seed: int = 0, labels=(0, 1, 0)):
    rng = np.random.default_rng(seed)
    senders, receivers, n_edge, offset = [], [], [], 0
    for n, edges in GRAPHS:
        pairs = np.array(edges)
        s, r = undirected_edges(pairs[:, 0], pairs[:, 1], n)
        senders.append(s + offset)
        receivers.append(r + offset)
        n_edge.append(len(s))
        offset += n
    features = rng.uniform(0.1, 1.0, size=(offset, num_features)).astype(np.float32)
    g = len(GRAPHS)
    return make_graph_dataset(
        "tiny",
        features=features,
        senders=np.concatenate(senders),
        receivers=np.concatenate(receivers),
        n_node=np.array([n for n, _ in GRAPHS]),
        n_edge=np.array(n_edge),
        labels=np.array(labels),
        masks=(np.ones(g, bool), np.zeros(g, bool), np.ones(g, bool)),
        num_classes=2,
    )


def tiny_classifier(dataset, readout: str = "mean", seed: int = 4, architecture: str = "gcn"):
    model = GraphClassifier(2, architecture, (4, 5), readout)
    params = init_params(
        model, as_explainable(model).prepare_graph(dataset.graph), key=jax.random.key(seed)
    )
    rng = np.random.default_rng(seed)  # non-zero biases, weights of both signs
    params = jax.tree.map(
        lambda p: (np.asarray(p) + 0.3 * rng.normal(size=p.shape)).astype(np.float32), params
    )
    return model, params


def normalized_adjacency(n: int, edges) -> np.ndarray:
    a = np.eye(n)
    for s, r in edges:
        a[s, r] = a[r, s] = 1.0
    d = 1.0 / np.sqrt(a.sum(1))
    return d[:, None] * a * d[None, :]


def _divide(a, b):
    return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


class DenseGraph:
    """One graph of the classifier in float64: ``Hˡ = ReLU(Â Hˡ⁻¹ Wˡ + bˡ)``, mean, head."""

    def __init__(self, params, x, adjacency):
        enc = params["encoder"]
        self.kernels = [np.float64(enc[f"conv_{i}"]["kernel"]) for i in range(2)]
        self.biases = [np.float64(enc[f"conv_{i}"]["bias"]) for i in range(2)]
        self.w = np.float64(params["head"]["kernel"])
        self.b = np.float64(params["head"]["bias"])
        self.a = adjacency
        self.hs = [np.float64(x)]
        for kernel, bias in zip(self.kernels, self.biases, strict=True):
            self.hs.append(np.maximum(self.a @ self.hs[-1] @ kernel + bias, 0.0))

    def gradients(self, c: int) -> list[np.ndarray]:
        """``∂y_c / ∂Hˡ`` for l = 2, 1, 0 (returned in order 0, 1, 2), by hand."""
        n = self.hs[0].shape[0]
        g = np.tile(self.w[:, c] / n, (n, 1))
        grads = [g]
        for layer in (1, 0):
            masked = g * (self.hs[layer + 1] > 0)
            g = self.a.T @ masked @ self.kernels[layer].T
            grads.append(g)
        return grads[::-1]

    def grad_cam(self, c: int, layer: int) -> np.ndarray:
        alpha = self.gradients(c)[layer].mean(0)
        return np.maximum(self.hs[layer] @ alpha, 0.0)

    def excitation(self, start, renormalize: bool) -> np.ndarray:
        norm = (lambda p: _divide(p, p.sum())) if renormalize else (lambda p: p)
        top = self.hs[-1]
        pooled = top.mean(0)
        wp = np.maximum(self.w, 0.0)
        p = norm(pooled * (wp @ _divide(start, pooled @ wp)))  # dense step (head)
        p = norm(p * top / (EPS + top.sum(0)))  # GAP step
        for layer in (1, 0):
            h, kp = self.hs[layer], np.maximum(self.kernels[layer], 0.0)
            agg = self.a @ h
            p = norm(agg * (_divide(p, agg @ kp) @ kp.T))  # dense step: P(a_j) ∝ a_j W⁺
            p = norm(h * (self.a.T @ _divide(p, self.a @ h)))  # adjacency step
        return p


def reference_maps(dataset, params) -> dict:
    """``{method: [G, C] list of node maps}`` from :class:`DenseGraph`."""
    out = {name: [] for name in METHODS}
    out["cam_no_bias"] = []
    start = 0
    for n, edges in GRAPHS:
        dense = DenseGraph(
            params, dataset.graph.nodes[start : start + n], normalized_adjacency(n, edges)
        )
        start += n
        maps = {name: [] for name in out}
        for c in range(2):
            gx = dense.gradients(c)[0]
            maps["contrastive_gradient"].append(np.linalg.norm(np.maximum(gx, 0.0), axis=1))
            logit = dense.hs[-1] @ dense.w[:, c]
            maps["cam"].append(np.maximum(logit + dense.b[c], 0.0))
            maps["cam_no_bias"].append(np.maximum(logit, 0.0))
            maps["grad_cam"].append(dense.grad_cam(c, 2))
            eb = dense.excitation(np.eye(2)[c], False)
            maps["excitation_backprop"].append(eb.sum(1))
        layers = []
        for layer in range(3):
            both = np.stack([dense.grad_cam(c, layer) for c in range(2)])
            layers.append(_divide(both, both.max()))
        maps["grad_cam_avg"] = list(np.mean(layers, axis=0))
        contrast = [dense.excitation(np.eye(2)[c], True).sum(1) for c in range(2)]
        maps["contrastive_eb"] = [
            np.maximum(contrast[0] - contrast[1], 0.0),
            np.maximum(contrast[1] - contrast[0], 0.0),
        ]
        for name in out:
            out[name].append(maps[name])
    return out


@pytest.fixture(scope="module")
def tiny():
    dataset = tiny_dataset()
    model, params = tiny_classifier(dataset)
    methods = [get_method(name, **kwargs) for name, kwargs in METHODS.items()]
    methods.append(get_method("cam", bias=False))
    results = explain(model, params, dataset, methods=methods[:-1], targets="all", classes="all")
    no_bias = explain(model, params, dataset, methods=[methods[-1]], targets="all", classes="all")
    results["cam_no_bias"] = no_bias["cam"]
    return dataset, model, params, results


def test_graph_targets_match_dense_float64_references(tiny):
    dataset, _, params, results = tiny
    references = reference_maps(dataset, params)
    for name, reference in references.items():
        result = results[name]
        assert result.target_level == "graph"
        for t in range(result.num_targets):
            g, c = int(result.targets[t]), int(result.classes[t])
            _, values = result.for_target(t)
            np.testing.assert_allclose(values, reference[g][c], rtol=2e-4, atol=2e-6, err_msg=name)
        assert np.any(np.concatenate([np.ravel(m) for m in reference]) > 0), name


def test_grad_cam_last_layer_is_cam_without_bias_over_node_count(tiny):
    _, _, _, results = tiny
    sizes = np.array([n for n, _ in GRAPHS])[results["grad_cam"].targets]
    counts = np.repeat(sizes, sizes)
    np.testing.assert_allclose(
        results["grad_cam"].values, results["cam_no_bias"].values / counts, rtol=1e-5, atol=1e-7
    )


def test_excitation_probabilities_sum_to_one_at_every_layer(tiny):
    _, _, _, results = tiny
    eb = results["excitation_backprop"]
    assert eb.layer_totals.shape == (6, 2)
    np.testing.assert_allclose(eb.layer_totals, 1.0, atol=1e-4)  # ε = 1e-5 of the GAP step
    np.testing.assert_allclose(eb.expected, 1.0)
    assert np.all(eb.values >= 0)


def test_contrastive_eb_is_non_negative_and_code_variant_reuses_the_contrasted_map(tiny):
    dataset, model, params, results = tiny
    paper = results["contrastive_eb"]
    assert np.all(paper.values >= 0) and np.any(paper.values > 0)
    code = explain(
        model,
        params,
        dataset,
        methods=[get_method("c_eb", variant="code")],
        targets="all",
        classes="all",
    )["contrastive_eb"]
    eb = [  # each target's own and other renormalized EB node maps, from the paper map
        paper.values[paper.offsets[t] : paper.offsets[t + 1]] for t in range(paper.num_targets)
    ]
    for t in range(code.num_targets):
        _, values = code.for_target(t)
        if code.classes[t] == 0:
            np.testing.assert_allclose(values, eb[t], atol=1e-7)
        else:  # ReLU(EB1 - ReLU(EB0 - EB1)) >= ReLU(EB1 - EB0)
            assert np.all(values >= eb[t] - 1e-7)


def _dense_node_excitation(x, adjacency, kernels, target, c):
    hs = [x]
    for kernel, bias in kernels[:-1]:
        hs.append(np.maximum(adjacency @ hs[-1] @ kernel + bias, 0.0))
    p = np.zeros((x.shape[0], kernels[-1][0].shape[1]))
    p[target, c] = 1.0
    for layer in range(len(kernels) - 1, -1, -1):
        h, kp = hs[layer], np.maximum(kernels[layer][0], 0.0)
        agg = adjacency @ h
        p = agg * (_divide(p, agg @ kp) @ kp.T)
        p = h * (adjacency.T @ _divide(p, adjacency @ h))
    return p.sum(1)


def test_node_targets_contrastive_gradient_and_excitation_match_references():
    graph = raw_graph(seed=5, dtype=np.float32)
    graph = graph._replace(nodes=np.abs(graph.nodes))
    model, params = random_gcn(2, graph, seed=5, dtype=jnp.float32)
    targets = np.array([0, 3, 7, 15])
    results = explain(model, params, graph, methods=["cg", "eb"], targets=targets)
    n = graph.nodes.shape[0]
    adjacency = np.zeros((n, n))
    prepared = as_explainable(model).prepare_graph(graph)
    adjacency[prepared.receivers, prepared.senders] = prepared.edges
    kernels = [
        (np.float64(params[f"conv_{i}"]["kernel"]), np.float64(params[f"conv_{i}"]["bias"]))
        for i in range(2)
    ]
    x = np.float64(graph.nodes)
    apply = as_explainable(model).apply
    cg = results["contrastive_gradient"].to_dense(n)
    eb = results["excitation_backprop"].to_dense(n)
    for t, (node, c) in enumerate(
        zip(targets, results["contrastive_gradient"].classes, strict=True)
    ):
        grad = jax.grad(lambda xx, a=node, k=c: apply(params, prepared._replace(nodes=xx))[a, k])(
            jnp.asarray(graph.nodes)
        )
        expected = np.linalg.norm(np.maximum(np.float64(grad), 0.0), axis=1)
        np.testing.assert_allclose(cg[t], expected, rtol=1e-4, atol=1e-6)
        dense = _dense_node_excitation(x, adjacency, kernels, node, c)
        np.testing.assert_allclose(eb[t], dense, rtol=2e-4, atol=1e-6)
    totals = eb.sum(1)  # 1, or 0 where the class has no excitatory path (z⁺ = 0 at the top)
    assert np.all((np.abs(totals - 1.0) < 1e-4) | (totals == 0.0)) and np.sum(totals > 0.5) >= 2


def test_clear_errors():
    dataset = tiny_dataset()
    graph = raw_graph(seed=1, dtype=np.float32)
    node_model, node_params = random_gcn(2, graph, seed=1, dtype=jnp.float32)
    with pytest.raises(ValueError, match="cam explains graph targets"):
        explain(node_model, node_params, graph, methods=["cam"], targets=np.array([0]))
    max_model, max_params = tiny_classifier(dataset, readout="max")
    with pytest.raises(ValueError, match="readout 'max'"):
        explain(max_model, max_params, dataset, methods=["cam"], targets="all")
    gat_model, gat_params = tiny_classifier(dataset, architecture="gat")
    with pytest.raises(ValueError, match="excitation_layers"):
        explain(gat_model, gat_params, dataset, methods=["eb"], targets="all")
    model, params = tiny_classifier(dataset)
    with pytest.raises(ValueError, match=r"layer must be in \[0, 2\]"):
        explain(model, params, dataset, methods=[get_method("grad_cam", layer=3)], targets="all")
    for name, kwargs in [("grad_cam_avg", {"variant": "mean"}), ("c_eb", {"variant": "x"})]:
        with pytest.raises(ValueError, match="variant must be one of"):
            get_method(name, **kwargs)


def _sum_classifier():
    """Graph logits ``[0.5 − s, s − 0.5]`` with ``s`` the sum of feature 0 over the graph."""

    def apply(params, graph):
        del params
        graph_of = jnp.repeat(
            jnp.arange(graph.n_node.shape[0]),
            graph.n_node,
            total_repeat_length=graph.nodes.shape[0],
        )
        s = jax.ops.segment_sum(graph.nodes[:, 0], graph_of, num_segments=graph.n_node.shape[0])
        return jnp.stack([0.5 - s, s - 0.5], axis=-1)

    head = lambda params: (jnp.eye(1, 2), jnp.zeros(2))
    return Explainable(apply, num_layers=1, name="sum", graph_readout=GraphReadout("sum", head))


def _hand_attributions(maps):
    """Attributions of graph targets from ``{(graph, class): node values}`` (sources by graph)."""
    starts = np.concatenate([[0], np.cumsum([len(maps[(g, 0)]) for g in range(3)])])
    keys = sorted(maps)
    values = np.concatenate([np.asarray(maps[k], np.float32) for k in keys])
    sources = np.concatenate([np.arange(starts[g], starts[g + 1]) for g, _ in keys]).astype(
        np.int32
    )
    offsets = np.concatenate([[0], np.cumsum([len(maps[k]) for k in keys])]).astype(np.int64)
    t = len(keys)
    return Attributions(
        "hand",
        np.array([g for g, _ in keys]),
        np.array([c for _, c in keys]),
        np.zeros(t),
        offsets,
        sources,
        values,
        np.full(t, np.nan),
        np.full((t, 1), np.nan),
        target_level="graph",
    )


def _hand_dataset():
    """g0 feature 0 [1, 0, 0] label 1; g1 [0, 0] label 0; g2 [0.3, 0.4] label 1."""
    x = np.array([[1.0], [0.0], [0.0], [0.0], [0.0], [0.3], [0.4]], np.float32)
    return make_graph_dataset(
        "hand",
        features=x,
        senders=np.array([0, 1, 3, 4, 5, 6]),
        receivers=np.array([1, 0, 4, 3, 6, 5]),
        n_node=np.array([3, 2, 2]),
        n_edge=np.array([2, 2, 2]),
        labels=np.array([1, 0, 1]),
        masks=(np.ones(3, bool), np.zeros(3, bool), np.ones(3, bool)),
        num_classes=2,
    )


def test_pope_metrics_on_a_hand_made_three_graph_example():
    dataset = _hand_dataset()
    maps = {  # per graph divided by the max over both maps: g0 by 2, g1 and g2 by 1
        (0, 0): [0.0, 1.0, 0.5],
        (0, 1): [2.0, 0.0, 0.0],
        (1, 0): [1.0, 1.0],
        (1, 1): [0.0, 0.0],
        (2, 0): [0.5, 0.01],
        (2, 1): [1.0, 0.5],
    }
    out = pope_metrics(_sum_classifier(), {}, dataset, _hand_attributions(maps))
    assert out["graphs"] == 3 and out["accuracy"] == 1.0
    # class 0 map: occluding g2's node 0 (0.5) flips g2; node 1 (0.01) only at t = 0
    # class 1 map: occluding g0's node 0 and g2's nodes flips g0 and g2 at every t
    np.testing.assert_allclose(out["fidelity_per_class"], [[1 / 3] * 4, [2 / 3] * 4])
    assert out["fidelity"] == pytest.approx(0.5)
    # selected at t = 0.01: g0 {1, 2} vs {0}; g1 {0, 1} vs {}; g2 {0} vs {0, 1}
    assert out["contrastivity"] == pytest.approx(6 / 7)
    assert out["sparsity"] == pytest.approx((1 / 3 + 2 / 3 + 0 + 1 + 1 / 2 + 0) / 6)
    zero_t = pope_metrics(
        _sum_classifier(), {}, dataset, _hand_attributions(maps), thresholds=(0.0,), threshold=0.0
    )
    assert zero_t["contrastivity"] == pytest.approx(5 / 7)  # g2 {0, 1} vs {0, 1}
    with pytest.raises(ValueError, match="both classes"):
        one_class = {k: v for k, v in maps.items() if k != (2, 1)}
        pope_metrics(_sum_classifier(), {}, dataset, _hand_attributions(one_class))
    with pytest.raises(ValueError, match="threshold must be one of"):
        pope_metrics(_sum_classifier(), {}, dataset, _hand_attributions(maps), threshold=0.2)


def test_fixed_sparsity_fidelity_does_not_reward_selecting_everything():
    dataset, model = _hand_dataset(), _sum_classifier()
    focused = {(0, 0): [0.0, 1.0, 0.5], (0, 1): [2.0, 0.0, 0.0], (1, 0): [1.0, 1.0],
               (1, 1): [0.0, 0.0], (2, 0): [0.5, 0.01], (2, 1): [1.0, 0.5]}  # fmt: skip
    # class 1 positive on every node, ranked wrongly in g0 (its feature sits on node 0)
    wide = {(0, 0): [0.0] * 3, (0, 1): [0.2, 1.0, 0.6], (1, 0): [0.0] * 2,
            (1, 1): [0.0] * 2, (2, 0): [0.0] * 2, (2, 1): [0.2, 1.0]}  # fmt: skip
    kwargs = {"fractions": (0.5, 1.0), "random_seeds": (0, 1, 2)}
    a = pope_metrics(model, {}, dataset, _hand_attributions(focused), **kwargs)
    b = pope_metrics(model, {}, dataset, _hand_attributions(wide), **kwargs)
    # Pope's fidelity cannot tell them apart: both flip g0 and g2 with the class-1 map
    assert a["fidelity_per_class"][1][1] == b["fidelity_per_class"][1][1] == pytest.approx(2 / 3)
    # budgets ⌈f·n⌉: f = 0.5 -> g0 2 nodes, g1 1, g2 1; f = 1.0 -> every node
    # focused, class 0: g0 {1, 2} keeps s = 1; g1 {0} (tie -> lower id); g2 {0} flips (s = 0.4)
    # focused, class 1: g0 {0} flips (only one positive node); g1 none; g2 {0} flips
    np.testing.assert_allclose(a["fidelity_at_fraction_per_class"], [[1 / 3] * 2, [2 / 3] * 2])
    # wide, class 1 at f = 0.5: g0 {1, 2} keeps s = 1; g2 {1} flips (s = 0.3) -> 1/3
    np.testing.assert_allclose(b["fidelity_at_fraction_per_class"], [[0, 0], [1 / 3, 2 / 3]])
    np.testing.assert_allclose(b["fidelity_at_fraction"], [1 / 6, 1 / 3])
    assert a["fidelity_at_fraction"][0] > b["fidelity_at_fraction"][0]
    np.testing.assert_allclose(b["occluded_share_at_fraction"], [(2 / 3 + 1 / 2) / 6, 2 / 6])
    # random: f = 1.0 occludes every node (g0 and g2 flip); f = 0.5 flips g2 always and g0
    # when node 0 is drawn, so 1/3 or 2/3 per seed
    assert b["random_fidelity_at_fraction"][1] == pytest.approx(2 / 3)
    assert 1 / 3 - 1e-9 <= b["random_fidelity_at_fraction"][0] <= 2 / 3 + 1e-9
    again = pope_metrics(model, {}, dataset, _hand_attributions(wide), **kwargs)
    assert again["random_fidelity_at_fraction"] == b["random_fidelity_at_fraction"]
    with pytest.raises(ValueError, match="fractions must be shares"):
        pope_metrics(model, {}, dataset, _hand_attributions(wide), fractions=(0.0,))


def test_pope_metrics_of_every_method_on_an_untrained_classifier(tiny):
    dataset, model, params, results = tiny
    for name in METHODS:
        out = pope_metrics(model, params, dataset, results[name])
        assert out["graphs"] == 3
        assert 0.0 <= out["sparsity"] <= 1.0 and np.all(np.abs(out["fidelity_per_class"]) <= 1.0)


@pytest.mark.slow  # six Pope methods, two chunk shapes, three runs
def test_pope_methods_are_independent_of_chunking_and_never_recompile():
    """The shared engine checks for Pope et al.'s methods (not in the float64 table: their
    references are the dense ones above): many small chunks give the same maps, and a second
    call with other parameters compiles nothing."""
    from jgattr.attribution import compilation_count
    from tests.attribution_helpers import TARGETS, build

    model, params, graph = build("graph-gcn-mean", seed=5, dtype=np.float32)
    methods = [get_method(name, **kwargs) for name, kwargs in METHODS.items()]
    one = explain(model, params, graph, methods=methods, targets=TARGETS)
    many = explain(model, params, graph, methods=methods, targets=TARGETS, memory_budget_mb=5e-4)
    for name in one:
        assert many[name].stats["chunks"] > one[name].stats["chunks"], name
        np.testing.assert_array_equal(many[name].sources, one[name].sources)
        np.testing.assert_allclose(many[name].values, one[name].values, rtol=1e-5, atol=1e-6)
    before = compilation_count()
    explain(model, jax.tree.map(lambda a: a * 1.1, params), graph, methods=methods, targets=TARGETS)
    assert compilation_count() == before
