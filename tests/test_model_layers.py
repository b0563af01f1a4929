"""Every built-in model is written once: its Flax module and the engine's hooks (``layers``,
``apply_projected``, ``linear_input``) run the same layer function, so they agree bit for bit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jgattr._names import ARCHITECTURES, NODE_ONLY_ARCHITECTURES
from jgattr.models import ModelConfig, build_model, init_params, prepare_graph
from tests.attribution_helpers import raw_graph, raw_graph_batch

CASES = [
    *[("node", architecture, layers) for architecture in ARCHITECTURES for layers in (1, 3)],
    *[
        # a graph classifier over GAT: 32 s on a cold cache, so in the slow suite
        pytest.param("graph", architecture, 2, marks=pytest.mark.slow)
        if architecture == "gat"
        else ("graph", architecture, 2)
        for architecture in ARCHITECTURES
        if architecture not in NODE_ONLY_ARCHITECTURES
    ],
]


def _model(level: str, architecture: str, num_layers: int):
    config = ModelConfig(architecture, num_layers, hidden_size=5, heads=2)
    return build_model(config, 3, level)


def _setup(level: str, architecture: str, num_layers: int):
    model = _model(level, architecture, num_layers)
    raw = raw_graph_batch(0, np.float32) if level == "graph" else raw_graph(0, np.float32)
    graph = jax.tree.map(jnp.asarray, prepare_graph(model, raw))
    return model, graph, init_params(model, graph, key=jax.random.key(0))


@pytest.mark.parametrize(("level", "architecture", "num_layers"), CASES)
def test_module_and_hooks_agree_bit_for_bit(level, architecture, num_layers):
    model, graph, params = _setup(level, architecture, num_layers)
    explainable = model.explainable()
    logits = np.asarray(model.apply({"params": params}, graph))
    projected = graph.nodes @ explainable.input_kernel(params)
    h = projected
    for layer in explainable.layers(params, graph):
        h = layer(h)
    if level == "graph":
        h = explainable.graph_readout.logits(params, h, graph.n_node)
    assert logits.shape[-1] == 3 and np.abs(logits).max() > 0
    np.testing.assert_array_equal(np.asarray(h), logits)
    through_p = explainable.apply_projected(params, graph._replace(nodes=projected))
    np.testing.assert_array_equal(np.asarray(through_p), logits)
    np.testing.assert_array_equal(np.asarray(explainable.apply(params, graph)), logits)
    if explainable.linear_input is not None:
        linear, rest = explainable.linear_input(params, graph)
        first = explainable.layers(params, graph)[0](projected)
        np.testing.assert_array_equal(np.asarray(rest(linear(projected))), np.asarray(first))


def test_training_dropout_reaches_inputs_and_attention():
    """GAT's dropout (inputs, and attention coefficients through a callback into the layer
    function) draws one stream per rng: same rng, same logits; another rng, other logits."""
    model, graph, params = _setup("node", "gat", 2)

    @jax.jit
    def apply(key):
        return model.apply({"params": params}, graph, deterministic=False, rngs={"dropout": key})

    def train(seed):
        return np.asarray(apply(jax.random.key(seed)))

    np.testing.assert_array_equal(train(1), train(1))
    assert not np.allclose(train(1), train(2))
    assert not np.allclose(train(1), np.asarray(model.explainable().apply(params, graph)))
