"""``jgattr.interop.from_pyg``: PyG models run by jgattr give PyG's logits and gradients.

Skipped with a one-line hint without torch / torch_geometric (failed under ``CI=true``).
"""

import numpy as np
import pytest

from tests.conftest import import_optional

torch, _ = import_optional("torch", "torch_geometric")

import jraph  # noqa: E402

from jgattr.attribution import explain  # noqa: E402
from jgattr.interop import UnsupportedModelError, from_pyg, torch_logits  # noqa: E402
from jgattr.interop import _pyg as interop_pyg  # noqa: E402
from tests import pyg_models  # noqa: E402
from tests.pyg_models import FEATURES, GRAPH_MODELS, NODE_MODELS, TRAINED, UNSUPPORTED  # noqa: E402

TOLERANCE = 1e-5  # relative: max |jgattr - PyG| / max |PyG|


def _graph(sizes=(40,), seed: int = 0) -> jraph.GraphsTuple:
    rng = np.random.default_rng(seed)
    senders, receivers = pyg_models.random_graph(rng, sizes)
    n = sum(sizes)
    return jraph.GraphsTuple(
        nodes=rng.normal(size=(n, FEATURES)).astype(np.float32),
        edges=None,
        senders=senders.astype(np.int32),
        receivers=receivers.astype(np.int32),
        n_node=np.asarray(sizes, np.int32),
        n_edge=np.array([senders.shape[0]], np.int32),
        globals=None,
    )


def _gap(module, graph: jraph.GraphsTuple) -> float:
    model, params = from_pyg(module)
    ours = np.asarray(model.apply(params, model.prepare_graph(graph)))  # eager: no compilation
    theirs = torch_logits(module, graph)
    assert ours.shape == theirs.shape
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def _torch_inputs(graph: jraph.GraphsTuple):
    x = torch.from_numpy(np.asarray(graph.nodes))
    edge_index = torch.from_numpy(np.stack([graph.senders, graph.receivers]).astype(np.int64))
    return x, edge_index


@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch.set_num_threads(1)  # pytest-xdist runs one worker per core


@pytest.mark.parametrize("name", sorted(NODE_MODELS))
def test_node_models_give_pygs_logits_with_random_weights(name):
    torch.manual_seed(0)
    module = NODE_MODELS[name]().eval()
    assert _gap(module, _graph()) <= TOLERANCE


@pytest.mark.parametrize("name", sorted(GRAPH_MODELS))
def test_graph_classifiers_give_pygs_logits_with_random_weights(name):
    torch.manual_seed(0)
    module = GRAPH_MODELS[name]().eval()
    graph = _graph(sizes=(12, 20, 15))
    assert _gap(module, graph) <= TOLERANCE
    model, _ = from_pyg(module)
    assert model.level == "graph"


@pytest.mark.parametrize("name", [*TRAINED, "mean-pool-gcn", "max-pool-gin"])
def test_briefly_trained_models_give_pygs_logits(name):
    torch.manual_seed(1)
    graph_level = name in GRAPH_MODELS
    graph = _graph(sizes=(12, 20, 15) if graph_level else (40,), seed=1)
    module = (GRAPH_MODELS if graph_level else NODE_MODELS)[name]()
    x, edge_index = _torch_inputs(graph)
    count = len(graph.n_node) if graph_level else x.shape[0]
    labels = torch.from_numpy(np.random.default_rng(1).integers(0, 3, count))
    batch = torch.from_numpy(np.repeat(np.arange(len(graph.n_node)), graph.n_node))
    pyg_models.train_briefly(module, x, edge_index, labels, batch=batch if graph_level else None)
    assert _gap(module, graph) <= TOLERANCE


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_layers_raise_a_named_error(name):
    build, words = UNSUPPORTED[name]
    with pytest.raises(UnsupportedModelError) as error:
        from_pyg(build())
    for word in words:
        assert word in str(error.value)


def test_a_gcn_runs_as_jgattrs_own_gcn_with_the_walk_sum_path():
    model, params = from_pyg(NODE_MODELS["ready-gcn"]())
    assert model.walk_sum is not None and model.input_kernel is not None
    assert "as jgattr's GCN" in model.name and set(params) == {"conv_0", "conv_1"}
    chain, _ = from_pyg(NODE_MODELS["ready-gat"]())
    assert chain.walk_sum is None and chain.input_kernel is not None and chain.layers is not None


def test_from_pyg_checks_the_logits_on_the_data_it_is_given():
    module = NODE_MODELS["sage-normalize"]().eval()
    from_pyg(module, _graph())  # agrees: no error
    with torch.no_grad():
        module.lin_l.weight.mul_(2.0)  # a setting jgattr does not read, as far as it knows
    model, params = from_pyg(module)
    with torch.no_grad():
        module.lin_l.weight.mul_(0.5)
    with pytest.raises(ValueError, match="differ from the PyG module"):
        interop_pyg._check(module, interop_pyg.Imported(model, params), _graph())


def test_the_module_keeps_its_mode_and_lazy_layers_are_initialized_on_data():
    lazy = pyg_models.pyg.GCN(-1, 16, 2, 3)
    lazy.train()
    with pytest.raises(UnsupportedModelError, match="lazy layer"):
        from_pyg(lazy)
    assert lazy.training
    _model, params = from_pyg(lazy, _graph())
    assert lazy.training and params["conv_0"]["kernel"].shape == (FEATURES, 16)


def _torch_node_gradients(module, graph, targets, classes):
    """Saliency (``Σ |∂Z/∂X|``) and input x gradient (``Σ X ∂Z/∂X``) per node, by torch."""
    x, edge_index = _torch_inputs(graph)
    saliency, nam = [], []
    for target, cls in zip(targets, classes, strict=True):
        inputs = x.clone().requires_grad_(True)
        module(inputs, edge_index)[target, cls].backward()
        saliency.append(inputs.grad.abs().sum(-1).numpy())
        nam.append((inputs.grad * x).sum(-1).numpy())
    return np.stack(saliency), np.stack(nam)


@pytest.mark.parametrize("name", ["ready-gcn", "ready-gat"])
def test_explain_takes_the_imported_model_and_matches_torch_gradients(name):
    torch.manual_seed(0)
    module = NODE_MODELS[name]().eval()
    graph = _graph()
    model, params = from_pyg(module, graph)
    targets = np.array([0, 5, 17, 38])
    classes = torch_logits(module, graph)[targets].argmax(-1)
    saliency, nam = _torch_node_gradients(module, graph, targets, classes)
    results = explain(
        model, params, graph, methods=["saliency", "nam"], targets=targets, classes=classes
    )
    for method, theirs in (("saliency", saliency), ("nam", nam)):
        ours = results[method].to_dense(graph.nodes.shape[0])
        scale = np.abs(theirs).max(axis=1, keepdims=True)
        assert np.all(np.abs(ours - theirs) <= 1e-5 * scale + 1e-7), method


@pytest.mark.parametrize("name", ["ready-gcn", "gat-heads-concat", "sage-mean"])
def test_edge_masks_follow_pyg_self_loops_are_never_masked(name):
    from torch_geometric.explain.algorithm.utils import clear_masks, set_masks

    torch.manual_seed(0)
    module = NODE_MODELS[name]().eval()
    graph = _graph()
    model, params = from_pyg(module, graph)
    x, edge_index = _torch_inputs(graph)
    num_edges = edge_index.shape[1]
    target = 5
    cls = int(torch_logits(module, graph)[target].argmax())
    mask = torch.ones(num_edges, requires_grad=True)
    set_masks(module, mask, edge_index, apply_sigmoid=False)
    module(x, edge_index)[target, cls].backward()
    clear_masks(module)
    theirs = mask.grad.abs().numpy()
    result = explain(
        model, params, graph, methods=["edge_saliency"], targets=np.array([target]), classes=cls
    )["edge_saliency"]
    sources, values = result.for_target(0)
    ours = np.zeros(model.prepare_graph(graph).senders.shape[0], np.float32)
    ours[sources] = values
    assert np.allclose(ours[:num_edges], theirs, rtol=1e-5, atol=1e-6 * theirs.max())
    assert np.all(ours[num_edges:] == 0)  # the self loops GCNConv / GATConv add
