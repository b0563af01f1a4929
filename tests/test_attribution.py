"""The attribution engine against float64 per-target references: one table of every method
(node and edge, with their settings) x every built-in model drives the shared checks."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jgattr.attribution import (
    METHODS,
    Explainable,
    compilation_count,
    exact_relu_average,
    explain,
    get_method,
)
from tests.attribution_helpers import (
    ISOLATED,
    MODEL_NAMES,
    NUM_NODES,
    TARGETS,
    build,
    graph_node_sets,
    is_graph_model,
    k_hop_sets,
    nodes_and_weights,
    paper_rule,
    predicted,
    random_gcn,
    random_graph,
    reference_edge_method,
    reference_lid,
    reference_node_and_edge_ig,
    reference_node_gradient_method,
)
from tests.gnn_explainer_reference import reference_gnn_explainer

# name, factory kwargs, reference: ("grad" | "edge" | "lid" | "joint" | "gnnx", kwargs)
JOINT = {"n_steps": 10, "quadrature_rule": "gauss_legendre"}
GNNX_NODES = {"epochs": 12, "node_mask_type": "attributes", "restarts": 2}
YING = {  # preset "ying" written out (jgattr.attribution._gnn_explainer_settings)
    "lr": 0.1,
    "node_mask_type": "common_attributes",
    "node_feat_ent": 0.0,
    "edge_init_mean": 1.0,
    "node_init_std": 0.0,
    "edge_entropy_mean": "dense",
}
METHOD_TABLE = [
    ("saliency", {}, ("grad", {})),
    ("saliency", {"absolute": False}, ("grad", {"absolute": False})),
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
    ("edge_saliency", {}, ("edge", {})),
    (
        "edge_integrated_gradients",
        {"n_steps": 12, "quadrature_rule": "riemann_middle"},
        ("edge", {"n_steps": 12, "quadrature_rule": "riemann_middle"}),
    ),
    ("node_and_edge_integrated_gradients_nodes", JOINT, ("joint", JOINT)),
    ("node_and_edge_integrated_gradients_edges", JOINT, ("joint", JOINT)),
    ("gnn_explainer", {"epochs": 15}, ("gnnx", {"epochs": 15})),
    ("gnn_explainer", {"epochs": 15, "preset": "ying"}, ("gnnx", {"epochs": 15, **YING})),
    ("gnn_explainer_nodes", GNNX_NODES, ("gnnx", {**GNNX_NODES, "level": "node"})),
]
TABLE_IDS = [f"{name}-{'-'.join(map(str, kw.values()))}" for name, kw, _ in METHOD_TABLE]
TABLE_METHODS = list(
    {name: get_method(name, **kwargs) for name, kwargs, _ in reversed(METHOD_TABLE)}.values()
)  # one of each name (a call takes distinct methods)


def _reference(model, params, graph, classes, name, kwargs, reference):
    kind, ref_kwargs = reference
    if kind == "grad":
        return reference_node_gradient_method(
            name, model, params, graph, classes, **ref_kwargs
        ), None
    if kind == "edge":
        return reference_edge_method(name, model, params, graph, classes, **ref_kwargs), None
    if kind == "joint":
        return reference_node_and_edge_ig(name, model, params, graph, classes, **ref_kwargs)[
            0
        ], None
    if kind == "gnnx":
        return reference_gnn_explainer(model, params, graph, classes, **ref_kwargs), None
    n = kwargs.get("n_samples", 50)
    ts, weights = paper_rule(n)
    return reference_lid(
        model, params, graph, classes, ts=ts, weights=weights, top_samples=n, **ref_kwargs
    )


def _num_layers(model) -> int:
    return model.num_layers


def _paths(method, model) -> list[str]:
    walks = not isinstance(model, Explainable) and model.explainable().walk_sum is not None
    return ["general"] + (["fast"] if walks and method.has_fast_path(model.num_layers) else [])


def _check_receptive_field(result, graph, num_layers: int) -> None:
    """Sources are exactly the K-hop nodes (node methods) or the edges into K-1 hops (edges);
    for graph targets, the graph's own nodes (or every edge into them)."""
    if result.target_level == "graph":
        for t, nodes in enumerate(graph_node_sets(graph)):
            sources, _ = result.for_target(t)
            if result.level == "edge":
                inside = np.isin(np.asarray(graph.receivers), sorted(nodes))
                assert sorted(sources.tolist()) == np.flatnonzero(inside).tolist()
            else:
                assert set(sources.tolist()) == nodes
        return
    for t in TARGETS:
        sources, _ = result.for_target(int(t))
        if result.level == "edge":
            receivers = set(np.asarray(graph.receivers)[sources].tolist())
            assert receivers <= k_hop_sets(graph, num_layers - 1)[t]
            inside = np.isin(
                np.asarray(graph.receivers), sorted(k_hop_sets(graph, num_layers - 1)[t])
            )
            assert sorted(sources.tolist()) == np.flatnonzero(inside).tolist()
        else:
            assert set(sources.tolist()) == k_hop_sets(graph, num_layers)[t]


# The default suite keeps one method of each family per model; CI (``slow``) runs every row on
# every built-in model (GCN, GAT, GIN, GraphSAGE, concat-GCN) and on the graph classifiers. The
# ``nightly`` pairs add the other rows on the GCN's depth variants (1 and 3 layers) and the plain
# layer chain (GNNExplainer's 100-step float64 references take up to 50 s each):
# ``pytest -m nightly``.
DEFAULT_PAIRS = ("nam", "integrated_gradients-24", "sig_lid_ig", "edge_integrated_gradients")
VARIANT_MODELS = ("gcn-1", "gcn-3", "plain")


def _pair_marks(row_id: str, model_name: str):
    if row_id.startswith(DEFAULT_PAIRS):
        return ()
    return pytest.mark.nightly if model_name in VARIANT_MODELS else pytest.mark.slow


PAIRS = [
    pytest.param(
        *row, model_name, id=f"{row_id}-{model_name}", marks=_pair_marks(row_id, model_name)
    )
    for row, row_id in zip(METHOD_TABLE, TABLE_IDS, strict=True)
    for model_name in MODEL_NAMES
]


@pytest.mark.parametrize(("name", "kwargs", "reference", "model_name"), PAIRS)
def test_every_method_and_model_match_a_float64_per_target_reference(
    name, kwargs, reference, model_name
):
    with jax.enable_x64(True):
        model, params, graph = build(model_name, seed=3)
        classes = predicted(model, params, graph)
        expected, expected_layers = _reference(
            model, params, graph, classes, name, kwargs, reference
        )
        method = get_method(name, **kwargs)
        size = graph.senders.shape[0] if method.level == "edge" else graph.nodes.shape[0]
        for path in _paths(method, model):
            result = explain(model, params, graph, methods=[method], targets=TARGETS, path=path)[
                name
            ]
            assert result.stats["path"] == path
            np.testing.assert_allclose(result.to_dense(size), expected, rtol=1e-10, atol=1e-10)
            if expected_layers is not None:
                np.testing.assert_allclose(
                    result.layer_totals, expected_layers, rtol=1e-9, atol=1e-10
                )
            _check_receptive_field(result, graph, _num_layers(model))


QUICK_METHODS = ("nam", "integrated_gradients")
ALL_METHODS = tuple(m.name for m in TABLE_METHODS)


CHUNKING_CASES = [
    pytest.param(
        model_name,
        names,
        id=f"{model_name}-{label}",
        marks=()
        if model_name == "gcn-2" and label == "nam-ig"
        else pytest.mark.slow
        if model_name in ("gcn-2", "graph-gcn-mean")
        or (label == "nam-ig" and model_name not in VARIANT_MODELS)
        else pytest.mark.nightly,
    )
    for model_name in MODEL_NAMES
    for names, label in ((QUICK_METHODS, "nam-ig"), (ALL_METHODS, "every-method"))
]


@pytest.mark.parametrize(("model_name", "names"), CHUNKING_CASES)
def test_methods_are_independent_of_chunking_and_never_recompile(model_name, names):
    """Split into many chunks (other padded buckets) the results are the same, and a second
    call with new parameters compiles nothing. Every (model, method) pair runs under ``slow``."""
    model, params, graph = build(model_name, seed=5, dtype=np.float32)
    for path in ("general", "fast"):
        methods = [m for m in TABLE_METHODS if m.name in names and path in _paths(m, model)]
        if not methods:
            continue
        one = explain(model, params, graph, methods=methods, targets=TARGETS, path=path)
        many = explain(
            model,
            params,
            graph,
            methods=methods,
            targets=TARGETS,
            path=path,
            memory_budget_mb=0.0005,
        )
        for name in one:
            assert many[name].stats["chunks"] > one[name].stats["chunks"], name
            np.testing.assert_array_equal(many[name].sources, one[name].sources)
            np.testing.assert_allclose(many[name].values, one[name].values, rtol=1e-5, atol=1e-6)
        before = compilation_count()
        other = jax.tree.map(lambda a: a * 1.1, params)
        again = explain(model, other, graph, methods=methods, targets=TARGETS, path=path)
        assert compilation_count() == before
        assert all(r.stats["programs_compiled"] == 0 for r in again.values())


def test_layer_wise_methods_name_the_model_and_the_missing_hook():
    model, params, graph = build("plain", seed=1, dtype=np.float32)
    bare = dataclasses.replace(model, layers=None)
    lid = get_method("lid_ig", relu_average="n_sample")
    with pytest.raises(ValueError, match=r"lid_ig needs the 'layers' hook.*'plain-mean'"):
        explain(bare, params, graph, methods=[lid], targets=TARGETS)
    with pytest.raises(ValueError, match=r"relu_average='exact'.*'plain-mean' does not have"):
        explain(model, params, graph, methods=["sig_lid_ig"], targets=TARGETS)
    gat, gat_params, gat_graph = build("gat", seed=1, dtype=np.float32)
    with pytest.raises(ValueError, match=r"path='fast' is not available for nam .* on GAT"):
        explain(gat, gat_params, gat_graph, methods=["nam"], targets=TARGETS, path="fast")


def test_reference_quadrature_is_independent_and_exact():
    """The tests' own rules: Golub-Welsch Gauss-Legendre is exact to degree 2n - 1."""
    for n in (1, 3, 8):
        alphas, weights = nodes_and_weights("gauss_legendre", n)
        for degree in range(2 * n):
            assert np.dot(weights, alphas**degree) == pytest.approx(1 / (degree + 1), abs=1e-13)


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
@pytest.mark.slow  # an 8000-point dense path integral per target
def test_exact_relu_averages_match_a_dense_path_integral(name, num_layers):
    with jax.enable_x64(True):
        graph = random_graph(seed=num_layers + 20)
        model, params = random_gcn(num_layers, graph, seed=num_layers + 20)
        classes = predicted(model, params, graph)
        top = "logit" if name == "lid_ig" else "softmax_integrated"
        ts = (np.arange(8000) + 0.5) / 8000
        expected, _ = reference_lid(
            model,
            params,
            graph,
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


@pytest.mark.parametrize("path", ["general", "fast"])
@pytest.mark.filterwarnings("ignore::jgattr.attribution.CompletenessWarning")  # 2 steps: it must
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
    with pytest.raises(ValueError, match="targets='test' needs a dataset"):
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


POPE_METHODS = [  # tests/test_pope.py
    "contrastive_gradient",
    "cam",
    "grad_cam",
    "grad_cam_avg",
    "excitation_backprop",
    "contrastive_eb",
]


def test_methods_registry_is_complete():
    assert sorted(METHODS) == sorted(
        [
            *("saliency", "edge_saliency", "edge_integrated_gradients"),
            *("gnn_explainer", "gnn_explainer_nodes"),
            "node_and_edge_integrated_gradients_nodes",
            "node_and_edge_integrated_gradients_edges",
            *FAST_METHODS,
            *POPE_METHODS,
        ]
    )
    assert get_method("sig-lid-ig") == get_method("sig_lid_ig")
    assert get_method("ig", n_steps=8) != get_method("ig", n_steps=9)
    assert dataclasses.is_dataclass(get_method("nam"))


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


@pytest.mark.parametrize(
    ("rule", "degree"),
    [
        ("gauss_legendre", None),  # exact to degree 2n - 1
        ("riemann_middle", 1),
        ("riemann_trapezoid", 1),
        ("riemann_left", 0),
        ("riemann_right", 0),
    ],
)
@pytest.mark.parametrize("n_steps", [2, 5, 16])
def test_quadrature_rules_are_exact_to_their_advertised_degree(rule, degree, n_steps):
    from jgattr.attribution import quadrature

    alphas, weights = quadrature(rule, n_steps)
    top = 2 * n_steps - 1 if degree is None else degree
    for power in range(top + 1):
        assert np.dot(weights, alphas**power) == pytest.approx(1 / (power + 1), abs=1e-12)
    if degree is not None:  # the low-order rules are not exact one degree higher
        beyond = np.dot(weights, alphas ** (top + 1))
        assert beyond != pytest.approx(1 / (top + 2), abs=1e-9)
    assert np.all((alphas >= 0) & (alphas <= 1))


JIT_METHODS = ("nam", "integrated_gradients", "sig_lid_ig", "edge_integrated_gradients")
JIT_CASES = [
    pytest.param(
        model_name,
        names,
        id=f"{model_name}-{len(names)}",
        # op by op (jax.disable_jit) compiles every operation: 54 s for gcn-2 on a cold cache
        marks=pytest.mark.slow
        if model_name in ("gcn-2", "graph-gcn-mean")
        else pytest.mark.nightly,
    )
    for model_name in MODEL_NAMES
    for names in (("nam", "edge_integrated_gradients"), JIT_METHODS)
]


@pytest.mark.parametrize(("model_name", "names"), JIT_CASES)
def test_chunk_programs_give_the_same_numbers_with_and_without_jit(model_name, names):
    """The general path's chunk function, compiled and run op by op (``jax.disable_jit``)."""
    from jgattr._padding import padded_size
    from jgattr.attribution import InEdges, as_explainable, computation_graphs, graph_unions
    from jgattr.attribution._general import general_chunk, uses_projection
    from jgattr.attribution._plan import Chunk, chunk_structure

    model, params, graph = build(model_name, seed=1, dtype=np.float32)
    explainable = as_explainable(model)
    if is_graph_model(model):
        offsets = np.concatenate([[0], np.cumsum(graph.n_node)])
        union = graph_unions(InEdges.of(graph), offsets, TARGETS.astype(np.int32))
    else:
        union = computation_graphs(InEdges.of(graph), TARGETS.astype(np.int32), model.num_layers)
    bucket = (padded_size(union.num_copies + 1), padded_size(union.num_edges), 32)
    chunk = {k: jnp.asarray(v) for k, v in chunk_structure(union, Chunk(0, 16, bucket)).items()}
    classes = np.zeros(32, np.int32)
    classes[:16] = predicted(model, params, graph)
    chunk["classes"] = jnp.asarray(classes)
    projected = uses_projection(explainable, feature_level=False)
    x = jnp.asarray(graph.nodes)
    inputs = x @ explainable.input_kernel(params) if projected else x
    args = (params, inputs, jnp.zeros_like(inputs), jnp.asarray(graph.edges), chunk)
    methods = [m for m in TABLE_METHODS if m.name in names]
    for method in methods:
        run = general_chunk(method, explainable, projected, False)
        compiled = jax.jit(run)(*args)
        with jax.disable_jit():
            eager = run(*args)
        for key in ("values", "expected", "layer_totals"):
            np.testing.assert_allclose(compiled[key], eager[key], rtol=1e-5, atol=1e-6)
