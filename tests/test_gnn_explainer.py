"""GNNExplainer for every target at once, joint node-and-edge IG and signed saliency: the checks
the shared method table (tests/test_attribution.py, where all three also run against float64
references on every model) does not make."""

import jax
import numpy as np
import pytest

from jgattr.attribution import explain, get_method, gnn_explainer
from tests.attribution_helpers import (
    HUB,
    ISOLATED,
    NUM_NODES,
    TARGETS,
    build,
    k_hop_sets,
    predicted,
    reference_node_and_edge_ig,
)
from tests.gnn_explainer_reference import reference_gnn_explainer


def test_gnn_explainer_equals_pygs_objective_in_float64():
    """Loss, hard masks, Adam and initial masks: the engine's edge and node masks equal a
    per-target whole-graph implementation of PyG's formula after every step."""
    with jax.enable_x64(True):
        model, params, graph = build("gcn-2", seed=3)
        targets = np.array([HUB, 3, 9, ISOLATED])
        classes = predicted(model, params, graph)[targets]
        kw = {"epochs": 8, "node_mask_type": "common_attributes", "edge_size": 0.05}
        edge, node = gnn_explainer(**kw), gnn_explainer(**kw, level="node")
        results = explain(model, params, graph, methods=[edge, node], targets=targets)
        expected = reference_gnn_explainer(model, params, graph, classes, targets, **kw)
        size = graph.senders.shape[0]
        got = results["gnn_explainer"].to_dense(size)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
        expected = reference_gnn_explainer(
            model, params, graph, classes, targets, **kw, level="node"
        )
        got = results["gnn_explainer_nodes"].to_dense(NUM_NODES)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def _sparse_features(graph):
    """The graph with one or two non-zero features per node (density 1/6 to 1/3, 0.21 in all):
    GNNExplainer's per-feature mask then covers each node's non-zeros alone."""
    x = np.asarray(graph.nodes)
    keep = np.zeros(x.shape, bool)
    rows = np.arange(x.shape[0])
    keep[rows, rows % x.shape[1]] = True
    keep[rows[:4], (rows[:4] + 1) % x.shape[1]] = True
    assert keep.mean() < 0.25  # below jgattr's sparse-features threshold
    return graph._replace(nodes=np.where(keep, x, 0.0))


@pytest.mark.parametrize(
    "model_name",
    ["gcn-2", pytest.param("gat", marks=pytest.mark.slow)],  # gat: 150 s under load
)
def test_feature_masks_over_the_non_zeros_equal_pygs_dense_objective_in_float64(model_name):
    """On sparse X, the per-feature node mask lives on each node's non-zeros only; the masks
    equal the dense whole-graph float64 implementation of PyG's formula."""
    with jax.enable_x64(True):
        model, params, graph = build(model_name, seed=3)
        graph = _sparse_features(graph)
        targets = np.array([HUB, 3, 9, ISOLATED])
        classes = predicted(model, params, graph)[targets]
        kw = {"epochs": 8, "node_mask_type": "attributes"}
        edge, node = gnn_explainer(**kw), gnn_explainer(**kw, level="node")
        results = explain(model, params, graph, methods=[edge, node], targets=targets)
        expected = reference_gnn_explainer(model, params, graph, classes, targets, **kw)
        got = results["gnn_explainer"].to_dense(graph.senders.shape[0])
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
        expected = reference_gnn_explainer(
            model, params, graph, classes, targets, **kw, level="node"
        )
        got = results["gnn_explainer_nodes"].to_dense(NUM_NODES)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
        features = explain(
            model, params, graph, methods=[node], targets=targets, feature_level=True
        )["gnn_explainer_nodes"]
        values = features.values.reshape(-1, graph.nodes.shape[1])  # [pairs, F]
        np.testing.assert_allclose(values.sum(1), results["gnn_explainer_nodes"].values)
        zero = np.asarray(graph.nodes)[features.sources] == 0
        assert np.all(values[zero] == 0) and np.count_nonzero(values) > 0


@pytest.mark.parametrize(
    ("node_mask_type", "model_name"),
    [
        ("object", "gcn-2"),
        # 21-75 s each under load: each optimization compiles for its own bucket
        pytest.param("object", "gat", marks=pytest.mark.slow),
        pytest.param("attributes", "gcn-2", marks=pytest.mark.slow),
        pytest.param("attributes", "gat", marks=pytest.mark.slow),
    ],
)
def test_one_target_alone_equals_the_same_target_among_many(node_mask_type, model_name):
    """Same masks alone or among many, to float32 rounding: the optimization of one target never
    reads another's. (Not bit for bit: XLA's CPU code for a chunk depends on its padded shape,
    and on this machine one mask of 41 differed by 3e-8 after 25 Adam steps.)"""
    model, params, graph = build(model_name, seed=5, dtype=np.float32)
    method = gnn_explainer(epochs=25, node_mask_type=node_mask_type)
    many = explain(model, params, graph, methods=[method], targets=TARGETS)["gnn_explainer"]
    for t in (0, 5, 9):
        alone = explain(model, params, graph, methods=[method], targets=np.array([t]))
        sources, values = alone["gnn_explainer"].for_target(0)
        np.testing.assert_array_equal(sources, many.for_target(t)[0])
        np.testing.assert_allclose(values, many.for_target(t)[1], rtol=0, atol=1e-6)


def test_masks_are_zero_outside_the_computation_graph_and_on_self_loops():
    model, params, graph = build("gcn-2", seed=2, dtype=np.float32)
    methods = [gnn_explainer(epochs=5), gnn_explainer(epochs=5, level="node")]
    results = explain(model, params, graph, methods=methods, targets=TARGETS)
    edges, nodes = results["gnn_explainer"], results["gnn_explainer_nodes"]
    senders, receivers = np.asarray(graph.senders), np.asarray(graph.receivers)
    inner = k_hop_sets(graph, 1)
    for t in TARGETS:
        sources, values = edges.for_target(int(t))
        inside = np.flatnonzero(np.isin(receivers, sorted(inner[t])))
        assert sorted(sources.tolist()) == inside.tolist()  # the computation graph's edges only
        loop = senders[sources] == receivers[sources]
        assert np.all(values[loop] == 0) and np.all((values >= 0) & (values < 1))
        assert loop.all() or values[~loop].max() > 0
        assert set(nodes.for_target(int(t))[0].tolist()) == k_hop_sets(graph, 2)[t]


@pytest.mark.slow  # four GNNExplainer optimizations: 73 s cold
def test_seeded_and_deterministic_and_restarts_report_their_spread():
    model, params, graph = build("gcn-2", seed=4, dtype=np.float32)

    def run(**kw):
        method = gnn_explainer(epochs=10, **kw)
        return explain(model, params, graph, methods=[method], targets=TARGETS)["gnn_explainer"]

    first, again, other = run(seed=7), run(seed=7), run(seed=8)
    np.testing.assert_array_equal(first.values, again.values)
    assert not np.array_equal(first.values, other.values)
    mean, std = run(restarts=3), run(restarts=3, statistic="std")
    assert np.all(std.values >= 0) and std.values.max() > 0
    one = run(restarts=1)  # restart 0 is the first of the three
    assert not np.array_equal(mean.values, one.values)
    np.testing.assert_array_equal(run(restarts=1, statistic="std").values, 0)


def test_clear_errors():
    with pytest.raises(ValueError, match=r"node_mask_type must be one of .*got 'feature'"):
        gnn_explainer(node_mask_type="feature")
    with pytest.raises(ValueError, match=r"edge_mask=False learns no edge mask.*level='node'"):
        gnn_explainer(edge_mask=False)
    with pytest.raises(ValueError, match=r"node_mask_type='none' learns no node mask"):
        get_method("gnn_explainer_nodes", node_mask_type=None)
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1, got 0"):
        gnn_explainer(epochs=0)


def test_node_and_edge_ig_is_jointly_complete_and_both_parts_report_the_joint_delta():
    with jax.enable_x64(True):
        model, params, graph = build("gat", seed=6)
        classes = predicted(model, params, graph)
        kw = {"n_steps": 64, "quadrature_rule": "gauss_legendre"}
        names = ["node_and_edge_ig_nodes", "node_and_edge_ig_edges"]
        results = explain(
            model, params, graph, methods=[get_method(n, **kw) for n in names], targets=TARGETS
        )
        nodes = results["node_and_edge_integrated_gradients_nodes"]
        edges = results["node_and_edge_integrated_gradients_edges"]
        _, change = reference_node_and_edge_ig(names[0], model, params, graph, classes, **kw)
        joint = nodes.totals + edges.totals - change
        np.testing.assert_allclose(nodes.delta, joint, atol=1e-10)
        np.testing.assert_allclose(edges.delta, joint, atol=1e-10)
        assert np.abs(joint).max() < 1e-3 * np.abs(change).max()


def test_signed_saliency_keeps_the_sign():
    model, params, graph = build("gcn-2", seed=1, dtype=np.float32)
    signed = get_method("saliency", absolute=False)
    plain = explain(model, params, graph, methods=["saliency"], targets=TARGETS)["saliency"]
    both = explain(model, params, graph, methods=[signed], targets=TARGETS)["saliency"]
    assert (both.values < 0).any()
    assert np.all(np.abs(both.values) <= plain.values + 1e-6)


def test_presets_give_the_unset_settings_and_are_checked_before_jax():
    from jgattr._config import config_from_dict
    from jgattr._names import GNN_EXPLAINER_PRESETS
    from jgattr.attribution._gnn_explainer_settings import PRESETS

    assert tuple(PRESETS) == GNN_EXPLAINER_PRESETS
    ying = dict(gnn_explainer(preset="ying").hyperparameters)
    assert (ying["lr"], ying["node_mask_type"], ying["edge_init_mean"]) == (
        0.1,
        "common_attributes",
        1.0,
    )
    assert (ying["node_init_std"], ying["node_feat_ent"], ying["preset"]) == (0.0, 0.0, "ying")
    assert ying["edge_entropy_mean"] == "dense"
    pyg = dict(gnn_explainer().hyperparameters)
    assert (pyg["lr"], pyg["node_mask_type"], pyg["edge_init_mean"]) == (0.01, "object", 0.0)
    mixed = dict(gnn_explainer(preset="ying", lr=0.02, node_mask_type=None).hyperparameters)
    assert (mixed["lr"], mixed["node_mask_type"], mixed["epochs"]) == (0.02, "none", 100)
    with pytest.raises(ValueError, match=r"preset must be one of \['pyg', 'ying'\], got 'paper'"):
        gnn_explainer(preset="paper")
    with pytest.raises(ValueError, match=r"lr must be a positive number, got 0"):
        gnn_explainer(preset="ying", lr=0)
    raw = {"explain": {"per_method": {"gnn_explainer": {"preset": "yng"}}}}
    with pytest.raises(ValueError, match=r"preset.*'yng'.*did you mean 'ying'"):
        config_from_dict(raw)
