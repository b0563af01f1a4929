"""The attribution engine against float64 per-target references, driven by one methods table."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jgattr.attribution import (
    METHODS,
    compilation_count,
    exact_relu_average,
    explain,
    get_method,
)
from jgattr.attribution._quadrature import paper_samples
from tests.attribution_helpers import (
    HUB,
    ISOLATED,
    NUM_NODES,
    k_hop_sets,
    random_gcn,
    random_graph,
    reference_gradient_method,
    reference_lid,
    sage_model,
)

TARGETS = np.arange(NUM_NODES)

# name, factory kwargs, reference: ("grad", kwargs) or ("lid", kwargs)
METHOD_TABLE = [
    ("saliency", {}, ("grad", {})),
    ("nam", {}, ("grad", {})),
    (
        "integrated_gradients",
        {"n_steps": 24, "quadrature_rule": "gauss_legendre"},
        ("grad", {"n_steps": 24, "quadrature_rule": "gauss_legendre"}),
    ),
    (
        "integrated_gradients",
        {"n_steps": 16, "quadrature_rule": "riemann_trapezoid", "output": "probability"},
        ("grad", {"n_steps": 16, "quadrature_rule": "riemann_trapezoid", "output": "probability"}),
    ),
    ("lid_taylor", {}, ("lid", {"top": "logit", "jacobian": "local"})),
    ("st_lid_taylor", {}, ("lid", {"top": "softmax_local", "jacobian": "local"})),
    (
        "sig_lid_taylor",
        {"n_samples": 20},
        ("lid", {"top": "softmax_integrated", "jacobian": "local"}),
    ),
    (
        "lid_ig",
        {"relu_average": "n_sample", "n_samples": 7},
        ("lid", {"top": "logit", "jacobian": "path"}),
    ),
    (
        "sig_lid_ig",
        {"relu_average": "n_sample", "n_samples": 9},
        ("lid", {"top": "softmax_integrated", "jacobian": "path"}),
    ),
]
TABLE_IDS = [f"{name}-{'-'.join(map(str, kw.values()))}" for name, kw, _ in METHOD_TABLE]


def _reference(model, params, graph, classes, name, kwargs, reference):
    kind, ref_kwargs = reference
    if kind == "grad":
        return reference_gradient_method(
            name, model, params, graph, TARGETS, classes, **ref_kwargs
        ), None
    n = kwargs.get("n_samples", 50)
    ts, weights = paper_samples(n)
    return reference_lid(
        model, params, graph, TARGETS, classes, ts=ts, weights=weights, top_samples=n, **ref_kwargs
    )


def _predicted(model, params, graph):
    from jgattr.attribution import as_explainable

    return np.asarray(
        as_explainable(model).apply(params, jax.tree.map(jnp.asarray, graph)).argmax(1)
    )


@pytest.mark.parametrize(("name", "kwargs", "reference"), METHOD_TABLE, ids=TABLE_IDS)
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_every_method_matches_float64_per_target_reference(name, kwargs, reference, num_layers):
    with jax.enable_x64(True):
        graph = random_graph(seed=num_layers)
        model, params = random_gcn(num_layers, graph, seed=num_layers)
        classes = _predicted(model, params, graph)
        expected, expected_layers = _reference(
            model, params, graph, classes, name, kwargs, reference
        )
        method = get_method(name, **kwargs)
        paths = ["general"] + (["fast"] if method.has_fast_path(num_layers) else [])
        for path in paths:
            result = explain(model, params, graph, methods=[method], targets=TARGETS, path=path)[
                name
            ]
            assert result.stats["path"] == path
            np.testing.assert_allclose(result.to_dense(NUM_NODES), expected, rtol=1e-10, atol=1e-10)
            if expected_layers is not None:
                np.testing.assert_allclose(
                    result.layer_totals, expected_layers, rtol=1e-9, atol=1e-10
                )


@pytest.mark.parametrize(("name", "kwargs", "reference"), METHOD_TABLE, ids=TABLE_IDS)
def test_general_path_on_graphsage(name, kwargs, reference):
    with jax.enable_x64(True):
        graph = random_graph(seed=7)
        model, params = sage_model(graph, seed=3)
        classes = _predicted(model, params, graph)
        expected, expected_layers = _reference(
            model, params, graph, classes, name, kwargs, reference
        )
        result = explain(
            model, params, graph, methods=[get_method(name, **kwargs)], targets=TARGETS
        )[name]
        assert result.stats["path"] == "general"
        np.testing.assert_allclose(result.to_dense(NUM_NODES), expected, rtol=1e-10, atol=1e-10)
        if expected_layers is not None:
            np.testing.assert_allclose(result.layer_totals, expected_layers, rtol=1e-9, atol=1e-10)


FAST_METHODS = [
    "nam",
    "integrated_gradients",
    "lid_taylor",
    "st_lid_taylor",
    "lid_ig",
    "sig_lid_taylor",
    "sig_lid_ig",
]


@pytest.mark.parametrize("name", FAST_METHODS)
def test_fast_path_equals_general_path_in_float32(name):
    graph = random_graph(seed=11, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=5, dtype=jnp.float32)
    kwargs = (
        {}
        if name in ("nam", "integrated_gradients") or "taylor" in name
        else {"relu_average": "n_sample"}
    )
    method = get_method(name, **kwargs)
    fast = explain(model, params, graph, methods=[method], targets=TARGETS, path="fast")[name]
    general = explain(model, params, graph, methods=[method], targets=TARGETS, path="general")[name]
    np.testing.assert_allclose(fast.values, general.values, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(fast.sources, general.sources)


@pytest.mark.parametrize("name", ["lid_ig", "sig_lid_ig"])
@pytest.mark.parametrize("num_layers", [2, 3])
def test_exact_relu_averages_match_a_dense_path_integral(name, num_layers):
    with jax.enable_x64(True):
        graph = random_graph(seed=num_layers + 20)
        model, params = random_gcn(num_layers, graph, seed=num_layers + 20)
        classes = _predicted(model, params, graph)
        top = "logit" if name == "lid_ig" else "softmax_integrated"
        ts = (np.arange(8000) + 0.5) / 8000
        expected, _ = reference_lid(
            model,
            params,
            graph,
            TARGETS,
            classes,
            top=top,
            jacobian="path",
            ts=ts,
            weights=np.full(ts.size, 1 / ts.size),
            top_samples=50,
        )
        result = explain(model, params, graph, methods=[name], targets=TARGETS)[name]
        assert result.stats["path"] == "fast"
        # the midpoint rule errs by O(1/n) ~ 1e-4 on a step; local masks would be off by > 1e-2
        np.testing.assert_allclose(result.to_dense(NUM_NODES), expected, atol=2.5e-4)


def test_exact_relu_average_closed_form():
    z_ref = jnp.array([1.0, -1.0, -1.0, 2.0, 0.0])
    z = jnp.array([3.0, -2.0, 3.0, -2.0, 4.0])
    np.testing.assert_allclose(exact_relu_average(z_ref, z), [1.0, 0.0, 0.75, 0.5, 1.0])


@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("name", ["nam", "ig", "sig-lid-ig", "saliency"])
def test_exact_zeros_beyond_k_hops(name, num_layers):
    graph = random_graph(seed=3, dtype=np.float32)
    model, params = random_gcn(num_layers, graph, seed=1, dtype=jnp.float32)
    result = next(iter(explain(model, params, graph, methods=[name], targets=TARGETS).values()))
    hops = k_hop_sets(graph, num_layers)
    dense = result.to_dense(NUM_NODES)
    for t in TARGETS:
        sources, _ = result.for_target(int(t))
        assert set(sources.tolist()) == hops[t]
        outside = np.setdiff1d(np.arange(NUM_NODES), sorted(hops[t]))
        assert np.all(dense[t, outside] == 0.0)
    isolated = result.for_target(ISOLATED)[0]
    assert isolated.tolist() == [ISOLATED]
    assert len(result.for_target(HUB)[0]) >= 10


@pytest.mark.parametrize("path", ["general", "fast"])
def test_ig_delta_shrinks_as_steps_grow(path):
    graph = random_graph(seed=4, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=9, dtype=jnp.float32)
    deltas = []
    for steps in (2, 8, 64):
        method = get_method("ig", n_steps=steps, quadrature_rule="riemann_right")
        result = explain(model, params, graph, methods=[method], targets=TARGETS, path=path)
        deltas.append(float(np.abs(result["integrated_gradients"].delta).mean()))
    assert deltas[0] > deltas[1] > deltas[2]
    assert deltas[2] < 0.05 * deltas[0]


@pytest.mark.parametrize("name", ["lid_ig", "sig_lid_ig"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_lid_conservation_at_every_layer(name, num_layers):
    graph = random_graph(seed=5, dtype=np.float32)
    model, params = random_gcn(num_layers, graph, seed=6, dtype=jnp.float32)
    result = explain(model, params, graph, methods=[name], targets=TARGETS)[name]
    totals = result.layer_totals
    for layer in range(1, num_layers):
        np.testing.assert_allclose(totals[:, layer], totals[:, 0], atol=1e-5, rtol=0)
    if name == "lid_ig":  # logit top: conserved exactly, delta is float error only
        np.testing.assert_allclose(totals[:, 0], result.expected, atol=1e-5, rtol=0)
    else:  # softmax top: delta is the error of the paper's softmax rule, O(1/n_samples)
        finer = get_method(name, n_samples=800)
        finer = explain(model, params, graph, methods=[finer], targets=TARGETS)[name]
        assert np.abs(finer.delta).mean() < np.abs(result.delta).mean() / 8


def test_nam_equals_lid_taylor_with_zero_baseline_and_ig_converges_to_lid_ig():
    graph = random_graph(seed=8, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=2, dtype=jnp.float32)
    ig = get_method("ig", n_steps=4000, quadrature_rule="riemann_middle")
    results = explain(
        model, params, graph, methods=["nam", "lid_taylor", ig, "lid_ig"], targets=TARGETS
    )
    np.testing.assert_allclose(results["nam"].values, results["lid_taylor"].values, atol=1e-6)
    np.testing.assert_allclose(
        results["integrated_gradients"].values, results["lid_ig"].values, atol=1e-3
    )


@pytest.mark.parametrize("path", ["general", "fast"])
def test_results_do_not_depend_on_chunking(path):
    graph = random_graph(seed=9, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=4, dtype=jnp.float32)
    one = explain(model, params, graph, methods=["ig"], targets=TARGETS, path=path)[
        "integrated_gradients"
    ]
    many = explain(
        model, params, graph, methods=["ig"], targets=TARGETS, path=path, memory_budget_mb=0.001
    )["integrated_gradients"]
    assert many.stats["chunks"] > 4 * one.stats["chunks"]
    np.testing.assert_allclose(many.values, one.values, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(many.sources, one.sources)


def test_targets_order_and_repeats_are_kept():
    graph = random_graph(seed=9, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=4, dtype=jnp.float32)
    ids = np.array([5, 2, 5, ISOLATED])
    result = explain(model, params, graph, methods=["nam"], targets=ids)["nam"]
    full = explain(model, params, graph, methods=["nam"], targets=TARGETS)["nam"]
    np.testing.assert_array_equal(result.targets, ids)
    np.testing.assert_allclose(result.to_dense(NUM_NODES), full.to_dense(NUM_NODES)[ids], atol=1e-7)


def test_all_classes_expands_targets():
    graph = random_graph(seed=1, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=1, dtype=jnp.float32)
    result = explain(
        model, params, graph, methods=["lid_ig"], targets=np.array([3, 4]), classes="all"
    )
    lid = result["lid_ig"]
    np.testing.assert_array_equal(lid.targets, [3, 3, 3, 4, 4, 4])
    np.testing.assert_array_equal(lid.classes, [0, 1, 2, 0, 1, 2])


def test_no_recompilation_on_a_second_call_with_the_same_shapes():
    graph = random_graph(seed=2, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=3, dtype=jnp.float32)
    kwargs = dict(methods=["nam", "ig", "sig_lid_ig", "saliency"], targets=TARGETS)
    explain(model, params, graph, **kwargs)
    before = compilation_count()
    other_params = jax.tree.map(lambda a: a * 1.1, params)
    results = explain(model, other_params, graph, **kwargs)
    assert compilation_count() == before
    assert all(r.stats["compile_seconds"] == 0.0 for r in results.values())


def test_clear_errors():
    graph = random_graph(seed=2, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=3, dtype=jnp.float32)
    with pytest.raises(ValueError, match=r"method must be one of .*got 'namm'"):
        explain(model, params, graph, methods=["namm"], targets=TARGETS)
    with pytest.raises(ValueError, match=r"targets must be node ids in \[0, 16\).*e.g. 16"):
        explain(model, params, graph, targets=np.array([1, 16]))
    with pytest.raises(ValueError, match=r"classes must be integers in \[0, 3\)"):
        explain(model, params, graph, targets=TARGETS, classes=3)
    with pytest.raises(ValueError, match=r"baseline must have shape \(16, 6\).*got \(5,\)"):
        explain(
            model, params, graph, methods=[get_method("ig", baseline=np.zeros(5))], targets=TARGETS
        )
    with pytest.raises(ValueError, match="quadrature must be one of"):
        get_method("ig", quadrature_rule="simpson")
    with pytest.raises(ValueError, match="targets='test' needs a Dataset"):
        explain(model, params, graph, targets="test")
    with pytest.raises(ValueError, match="path='fast' is not available"):
        explain(model, params, graph, methods=["saliency"], targets=TARGETS, path="fast")
    bad = graph._replace(nodes=graph.nodes.copy())
    bad.nodes[3, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite features in 1 rows"):
        explain(model, params, bad, targets=TARGETS)


def test_baselines():
    graph = random_graph(seed=2, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=3, dtype=jnp.float32)
    mean = graph.nodes.mean(axis=0)
    by_name = explain(
        model, params, graph, methods=[get_method("ig", baseline="mean")], targets=TARGETS
    )
    by_row = explain(
        model, params, graph, methods=[get_method("ig", baseline=mean)], targets=TARGETS
    )
    by_full = explain(
        model,
        params,
        graph,
        methods=[get_method("ig", baseline=np.tile(mean, (NUM_NODES, 1)))],
        targets=TARGETS,
    )
    for other in (by_row, by_full):
        np.testing.assert_allclose(
            other["integrated_gradients"].values, by_name["integrated_gradients"].values, atol=1e-6
        )


def test_feature_level_attributions_sum_to_node_level():
    graph = random_graph(seed=2, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=3, dtype=jnp.float32)
    ids = np.array([0, 4])
    node = explain(model, params, graph, methods=["ig"], targets=ids)["integrated_gradients"]
    feature = explain(model, params, graph, methods=["ig"], targets=ids, feature_level=True)
    feature = feature["integrated_gradients"]
    assert feature.values.shape == (node.values.shape[0], graph.nodes.shape[1])
    np.testing.assert_allclose(feature.values.sum(-1), node.values, atol=1e-5)


def test_methods_registry_is_complete():
    assert sorted(METHODS) == sorted(
        ["saliency", "edge_saliency", "edge_integrated_gradients", *FAST_METHODS]
    )
    assert get_method("sig-lid-ig") == get_method("sig_lid_ig")
    assert get_method("ig", n_steps=8) != get_method("ig", n_steps=9)
    assert dataclasses.is_dataclass(get_method("nam"))


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_edge_methods_match_per_target_autodiff_over_edge_weights(num_layers):
    from jgattr.attribution import quadrature
    from jgattr.models import make_apply_fn

    with jax.enable_x64(True):
        graph = random_graph(seed=num_layers + 30)
        model, params = random_gcn(num_layers, graph, seed=num_layers + 30)
        apply = make_apply_fn(model)
        classes = _predicted(model, params, graph)
        weights = jnp.asarray(graph.edges)
        num_edges = weights.shape[0]
        score = lambda m, a, c: apply(params, graph._replace(edges=weights * m))[a, c]
        alphas, quad = quadrature("riemann_middle", 12)
        ig_method = get_method("edge_ig", n_steps=12, quadrature_rule="riemann_middle")
        results = explain(
            model, params, graph, methods=["edge_saliency", ig_method], targets=TARGETS
        )
        saliency, ig = results["edge_saliency"], results["edge_integrated_gradients"]
        assert saliency.level == ig.level == "edge"
        for t in TARGETS:
            grad = jax.grad(score)(jnp.ones(num_edges), t, classes[t])
            path = sum(
                w * jax.grad(score)(a * jnp.ones(num_edges), t, classes[t])
                for a, w in zip(alphas, quad, strict=True)
            )
            np.testing.assert_allclose(saliency.to_dense(num_edges)[t], np.abs(grad), atol=1e-12)
            np.testing.assert_allclose(ig.to_dense(num_edges)[t], path, atol=1e-12)
            full = score(jnp.ones(num_edges), t, classes[t]) - score(
                jnp.zeros(num_edges), t, classes[t]
            )
            assert ig.expected[t] == pytest.approx(float(full))
        # edges outside the computation graph never appear: receivers within K - 1 hops only
        hops = k_hop_sets(graph, num_layers - 1)
        for t in TARGETS:
            edge_ids, _ = ig.for_target(int(t))
            assert set(graph.receivers[edge_ids].tolist()) <= hops[t]


def test_edge_ig_completeness_delta_shrinks_with_steps():
    graph = random_graph(seed=12, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=12, dtype=jnp.float32)
    deltas = [
        float(
            np.abs(
                explain(
                    model,
                    params,
                    graph,
                    targets=TARGETS,
                    methods=[get_method("edge_ig", n_steps=n, quadrature_rule="riemann_right")],
                )["edge_integrated_gradients"].delta
            ).mean()
        )
        for n in (2, 8, 64)
    ]
    assert deltas[0] > deltas[1] > deltas[2] and deltas[2] < 0.05 * deltas[0]
