"""The general path's shortcuts against its plain form, in float64 on every built-in model: path
integrals with their points batched (``UnionModel.step_batch``) and later layers run on the
edges they need alone (``_plan.layer_edges``)."""

import jax
import numpy as np
import pytest

import jgattr.attribution._programs as programs
from jgattr._padding import padded_size
from jgattr.attribution import InEdges, computation_graphs, explain, get_method
from jgattr.attribution._plan import Chunk, layer_edges
from jgattr.models import as_explainable
from tests.attribution_helpers import MODEL_NAMES, TARGETS, build, k_hop_sets

# n_steps 12 in passes of 5: two batched scan steps and a last pass of the 2 points left
STEP_METHODS = {
    "integrated_gradients": {"n_steps": 12, "quadrature_rule": "gauss_legendre"},
    "edge_integrated_gradients": {"n_steps": 12, "quadrature_rule": "riemann_middle"},
}


QUICK = ("gin",)  # in the default suite; the other models: slow (two compilations each)
pytestmark = pytest.mark.filterwarnings("ignore::jgattr.attribution.CompletenessWarning")


def _models(names, quick=QUICK):
    return [pytest.param(m, marks=() if m in quick else pytest.mark.slow) for m in names]


def _explain(model, params, graph, method):
    result = explain(model, params, graph, methods=[method], targets=TARGETS, path="general")
    return result[method.name]


EDGE_IG_MODELS = ("gat", "gin", "graph-gin-sum")  # one per aggregation kind, a graph model
STEP_CASES = [
    pytest.param(name, *param.values, marks=param.marks)
    for name in sorted(STEP_METHODS)
    for param in _models(
        EDGE_IG_MODELS if name.startswith("edge") else MODEL_NAMES,
        () if name.startswith("edge") else QUICK,  # 8-40 s under load: slow
    )
]


@pytest.mark.parametrize(("name", "model_name"), STEP_CASES)
def test_batched_path_points_equal_the_scanned_ones(monkeypatch, name, model_name):
    method = get_method(name, **STEP_METHODS[name])
    with jax.enable_x64(True):
        model, params, graph = build(model_name, seed=5)
        sequential = _explain(model, params, graph, method)
        monkeypatch.setattr(programs, "step_batch", lambda *args: 5)
        batched = _explain(model, params, graph, method)
    np.testing.assert_array_equal(batched.sources, sequential.sources)
    np.testing.assert_allclose(batched.values, sequential.values, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(batched.expected, sequential.expected, rtol=1e-12, atol=1e-13)
    assert np.abs(sequential.values).max() > 1e-3  # something to compare


@pytest.mark.parametrize("model_name", _models(["gcn-2", "gcn-3", "gat", "gin", "sage", "plain"]))
def test_later_layers_on_their_own_edges_give_the_same_relevance(monkeypatch, model_name):
    method = get_method("integrated_gradients", n_steps=8)
    with jax.enable_x64(True):
        model, params, graph = build(model_name, seed=6)
        pruned = _explain(model, params, graph, method)
        monkeypatch.setattr(programs, "layer_hops", lambda model: 0)
        whole = _explain(model, params, graph, method)
    np.testing.assert_allclose(pruned.values, whole.values, rtol=1e-12, atol=1e-13)


def test_layer_edges_are_the_edges_into_copies_near_enough_to_the_target():
    """K = 3: layer 2 gets the edges into copies within 1 hop of the target, layer 3 those into
    the target; padding entries run between padding copies."""
    with jax.enable_x64(True):
        _, _, graph = build("gcn-3", seed=0)
    union = computation_graphs(InEdges.of(graph), TARGETS.astype(np.int32), 3)
    bucket = (padded_size(union.num_copies + 1), padded_size(union.num_edges), 32, 2**12)
    layers = layer_edges(union, Chunk(0, len(TARGETS), bucket, hops=3))
    owner = np.repeat(np.arange(len(TARGETS)), np.diff(union.edge_offsets))
    receivers = np.asarray(graph.receivers)[union.edge_id]
    for row, hops in enumerate((1, 0)):
        valid = layers["layer_valid"][row]
        kept = layers["layer_edge"][row][valid]
        near = [int(r) in k_hop_sets(graph, hops)[t] for t, r in zip(owner, receivers, strict=True)]
        assert kept.tolist() == np.flatnonzero(near).tolist()
        np.testing.assert_array_equal(layers["layer_senders"][row][valid], union.edge_sender[kept])
        padding = ~valid
        assert padding.any() and (layers["layer_senders"][row][padding] == union.num_copies).all()
        assert (layers["layer_receivers"][row][padding] == union.num_copies).all()


@pytest.mark.parametrize("model_name", ["gat", "gin", "sage"])
def test_linear_input_splits_layer_one_into_a_linear_map_and_the_rest(model_name):
    """``rest(linear(P)) = layer_1(P)``, and ``linear`` is linear (what IG integrates past)."""
    with jax.enable_x64(True):
        model, params, graph = build(model_name, seed=4)
        explainable = as_explainable(model)
        p = graph.nodes @ explainable.input_kernel(params)
        q = np.random.default_rng(0).normal(size=p.shape)
        linear, rest = explainable.linear_input(params, graph)
        layer = explainable.layers(params, graph)[0]
        np.testing.assert_allclose(rest(linear(p)), layer(p), rtol=1e-12, atol=1e-12)
        mixed = jax.tree.map(lambda a, b: 2.0 * a - 3.0 * b, linear(p), linear(q))
        combined = jax.tree.leaves(linear(2.0 * p - 3.0 * q))
        for got, want in zip(combined, jax.tree.leaves(mixed), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
