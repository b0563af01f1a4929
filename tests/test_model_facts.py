"""Model facts live in the model registry and on the model: display names and extra settings
(jgattr.models.MODELS), and the receptive field in hops (``Explainable.num_hops``), which the
engine reads instead of assuming hops = layers."""

import dataclasses

import jax
import jax.numpy as jnp
import jraph
import numpy as np
import pytest

from jgattr import _names
from jgattr.attribution import explain
from jgattr.models import MODELS, Explainable, ModelConfig, build_model


def test_every_architecture_has_a_display_name_and_known_settings():
    assert tuple(MODELS) == _names.ARCHITECTURES
    assert {n for n, e in MODELS.items() if e.undirected_only} == set(_names.UNDIRECTED_ONLY)
    config_keys = {f.name for f in dataclasses.fields(ModelConfig)}
    for name, entry in MODELS.items():
        assert entry.display_name and set(entry.settings) <= config_keys, name
        model = build_model(ModelConfig(architecture=name, heads=2), num_classes=3)
        assert isinstance(model, entry.module)
        for key in entry.settings:  # a setting of the config reaches the module
            assert getattr(model, key) == 2


def _propagating_model(times: int, features: int, classes: int):
    """One linear layer after ``times`` rounds of ``h ← h + Σ_in h``: ``times`` hops, 1 layer."""

    def apply(params, graph):
        h, n = graph.nodes, graph.nodes.shape[0]
        for _ in range(times):
            messages = h[graph.senders] * graph.edges[:, None]
            h = h + jax.ops.segment_sum(messages, graph.receivers, n)
        return h @ params["kernel"]

    kernel = jax.random.normal(jax.random.key(0), (features, classes), jnp.float64)
    return apply, {"kernel": kernel}


def _path_graph(n: int, features: int) -> jraph.GraphsTuple:
    senders = np.concatenate([np.arange(n - 1), np.arange(1, n)]).astype(np.int32)
    receivers = np.concatenate([np.arange(1, n), np.arange(n - 1)]).astype(np.int32)
    nodes = np.random.default_rng(1).normal(size=(n, features))
    return jraph.GraphsTuple(
        nodes=nodes, edges=None, senders=senders, receivers=receivers,
        n_node=np.array([n]), n_edge=np.array([senders.size]), globals=None,
    )  # fmt: skip


@pytest.mark.parametrize("hops", [None, 3])
def test_the_engine_explains_on_num_hops_not_num_layers(hops):
    """Gradient × input of a 1-layer, 3-hop model against whole-graph autodiff: exact with
    ``hops=3``; with the default (hops = layers = 1) the nodes 2 and 3 hops away are missing."""
    with jax.enable_x64(True):
        _check_against_autodiff(hops)


def _check_against_autodiff(hops: int | None) -> None:
    graph = _path_graph(8, 4)
    apply, params = _propagating_model(3, 4, 2)
    model = Explainable(apply, num_layers=1, name="propagate-3", hops=hops)
    assert model.num_hops == (hops or 1)
    targets = np.array([0, 4])
    result = explain(model, params, graph, methods=["nam"], targets=targets, classes=0)["nam"]
    prepared = model.prepare_graph(graph)
    for t, target in enumerate(targets):
        grad = jax.grad(lambda x, a=int(target): apply(params, prepared._replace(nodes=x))[a, 0])
        reference = np.sum(np.asarray(grad(jnp.asarray(graph.nodes))) * graph.nodes, axis=1)
        sources, values = result.for_target(t)
        dense = np.zeros(graph.nodes.shape[0])
        dense[sources] = values
        if hops == 3:
            np.testing.assert_allclose(dense, reference, atol=1e-10)
        else:  # the 1-hop graph sees only the target and its neighbours
            assert np.abs(reference[np.abs(np.arange(8) - target) > 1]).max() > 1e-3
            assert np.all(dense[np.abs(np.arange(8) - target) > 1] == 0)


def test_hops_must_be_positive():
    with pytest.raises(ValueError, match="hops must be None or >= 1"):
        Explainable(lambda p, g: g.nodes, num_layers=1, hops=0)
