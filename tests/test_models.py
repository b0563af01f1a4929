"""GCN normalization and forward passes (GCN, Ying et al.'s concat-GCN) against dense references."""

import jax
import jax.numpy as jnp
import jraph
import numpy as np
import pytest

from jgattr.models import (
    GCN,
    ModelConfig,
    build_model,
    gcn_normalize,
    init_params,
    make_apply_fn,
    prepare_graph,
)


def _tiny_graph(n=5, edges=((0, 1), (1, 2), (2, 3), (1, 3)), features=3, seed=0):
    pairs = np.array(edges + tuple((b, a) for a, b in edges), dtype=np.int32)
    rng = np.random.default_rng(seed)
    return jraph.GraphsTuple(
        nodes=rng.normal(size=(n, features)).astype(np.float32),
        edges=None,
        senders=pairs[:, 0],
        receivers=pairs[:, 1],
        n_node=np.array([n]),
        n_edge=np.array([len(pairs)]),
        globals=None,
    )


def _dense_normalized(graph):
    n = graph.nodes.shape[0]
    a = np.zeros((n, n))
    a[graph.receivers, graph.senders] = 1.0
    a_tilde = a + np.eye(n)
    d = np.diag(1.0 / np.sqrt(a_tilde.sum(axis=1)))
    return d @ a_tilde @ d


def test_gcn_normalize_matches_dense_formula():
    graph = _tiny_graph()  # node 4 is isolated: its only entry is its self loop, weight 1
    normalized = gcn_normalize(graph)
    n = graph.nodes.shape[0]
    dense = np.zeros((n, n))
    np.add.at(dense, (normalized.receivers, normalized.senders), normalized.edges)
    np.testing.assert_allclose(dense, _dense_normalized(graph), rtol=1e-6, atol=1e-7)
    assert dense[4, 4] == pytest.approx(1.0)
    assert normalized.n_edge[0] == graph.senders.shape[0] + n


def test_gcn_normalize_refuses_self_loops():
    graph = _tiny_graph(edges=((0, 0), (1, 2)))
    with pytest.raises(ValueError, match="self loops"):
        gcn_normalize(graph)


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_gcn_forward_equals_dense_matrix_form(num_layers):
    graph = gcn_normalize(_tiny_graph())
    model = GCN(num_classes=2, hidden_size=4, num_layers=num_layers)
    params = init_params(model, graph, key=jax.random.key(1))
    logits = make_apply_fn(model)(params, jax.tree.map(jnp.asarray, graph))

    a_hat = _dense_normalized(_tiny_graph())
    h = np.asarray(graph.nodes, dtype=np.float64)
    for layer in range(num_layers):
        p = params[f"conv_{layer}"]
        h = a_hat @ h @ np.asarray(p["kernel"]) + np.asarray(p["bias"])
        if layer < num_layers - 1:
            h = np.maximum(h, 0.0)
    np.testing.assert_allclose(np.asarray(logits), h, rtol=1e-5, atol=1e-5)


def test_dropout_only_when_training():
    graph = jax.tree.map(jnp.asarray, gcn_normalize(_tiny_graph()))
    model = GCN(num_classes=2, hidden_size=4, dropout_rate=0.5)
    params = init_params(model, graph, key=jax.random.key(0))
    eval_a = model.apply({"params": params}, graph)
    eval_b = model.apply({"params": params}, graph)
    train_a = model.apply(
        {"params": params}, graph, deterministic=False, rngs={"dropout": jax.random.key(3)}
    )
    np.testing.assert_array_equal(eval_a, eval_b)
    assert not np.allclose(eval_a, train_a)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("architecture", "gatt", "architecture"),
        ("num_layers", 0, "num_layers"),
        ("hidden_size", 0, "hidden_size"),
        ("dropout_rate", 1.0, "dropout_rate"),
    ],
)
def test_model_config_rejects_bad_values(field, value, match):
    with pytest.raises(ValueError, match=match):
        ModelConfig(**{field: value})


def test_build_model_uses_config():
    model = build_model(ModelConfig(num_layers=3, hidden_size=7, dropout_rate=0.1), num_classes=4)
    assert (model.num_layers, model.hidden_size, model.num_classes) == (3, 7, 4)


def _ying_forward(graph, params, num_layers):
    """Ying et al.'s GcnEncoderNode in numpy: raw adjacency, L2-normalized rows, ReLU between
    layers, every layer's output concatenated before the linear head."""
    n = graph.nodes.shape[0]
    adjacency = np.zeros((n, n))
    adjacency[graph.receivers, graph.senders] = 1.0
    h, outputs = np.asarray(graph.nodes, np.float64), []
    for layer in range(num_layers):
        p = params[f"conv_{layer}"]
        z = adjacency @ h @ np.asarray(p["kernel"], np.float64) + np.asarray(p["bias"])
        z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
        h = np.maximum(z, 0.0) if layer < num_layers - 1 else z
        outputs.append(h)
    head = params["head"]
    return np.concatenate(outputs, axis=1) @ np.asarray(head["kernel"]) + np.asarray(head["bias"])


@pytest.mark.parametrize("num_layers", [1, 3])
def test_concat_gcn_equals_ying_et_al_dense_form_and_its_layers(num_layers):
    config = ModelConfig(architecture="gcn_concat", num_layers=num_layers, hidden_size=4)
    model = build_model(config, num_classes=3)
    graph = prepare_graph(model, _tiny_graph())  # node 4 isolated: its rows are the biases
    assert graph.senders.shape[0] == 8 and np.all(np.asarray(graph.edges) == 1.0)
    params = init_params(model, graph, key=jax.random.key(2))
    params = jax.tree.map(lambda a: a + 0.3, params)  # non-zero biases
    on_device = jax.tree.map(jnp.asarray, graph)
    logits = make_apply_fn(model)(params, on_device)
    np.testing.assert_allclose(
        np.asarray(logits), _ying_forward(graph, params, num_layers), rtol=1e-5, atol=1e-5
    )
    explainable = model.explainable()
    projected = on_device._replace(nodes=on_device.nodes @ explainable.input_kernel(params))
    np.testing.assert_allclose(explainable.apply_projected(params, projected), logits, atol=1e-5)
    assert explainable.num_layers == num_layers and explainable.excitation_layers is None


def test_concat_gcn_config_widths_and_level():
    config = ModelConfig(architecture="gcn_concat", num_layers=3, hidden_size=(5, 4, 3))
    assert config.layer_widths("node") == (5, 4, 3)  # every layer feeds the head
    with pytest.raises(ValueError, match=r"needs 3 \(one per layer\)"):
        ModelConfig(architecture="gcn_concat", num_layers=3, hidden_size=(5, 4)).layer_widths(
            "node"
        )
    with pytest.raises(ValueError, match=r"'gcn_concat' classifies nodes.*set architecture"):
        config.layer_widths("graph")
    with pytest.raises(ValueError, match="did you mean 'gcn_concat'"):
        ModelConfig(architecture="gcn_concatt")
