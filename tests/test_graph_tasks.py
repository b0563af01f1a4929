"""Graph classification end to end: the classifier, training, checkpoints, graph-target metrics,
the graph figure, and `jgattr run` on a TU zip and a SMILES file written by the tests.

The attribution methods on graph targets are checked against float64 references in the shared
method x model table (tests/test_attribution.py, models ``graph-*``).
"""

import dataclasses
import json
import zipfile
from pathlib import Path

import jax
import numpy as np
import pytest

from jgattr._checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from jgattr._names import NODE_ONLY_ARCHITECTURES
from jgattr._training import TrainConfig, class_weights, train
from jgattr.attribution import explain
from jgattr.cli import main
from jgattr.data import GroundTruth, make_graph_dataset
from jgattr.metrics import evaluate, evaluate_keep_masks, explanation_accuracy, neighbourhoods
from jgattr.models import (
    ARCHITECTURES,
    POOLS,
    GraphClassifier,
    ModelConfig,
    build_model,
    init_params,
    prepare_graph,
)
from jgattr.viz import graph_layout, graph_panels
from tests.attribution_helpers import build, raw_graph_batch


def _dataset(num_graphs: int = 24, seed: int = 0):
    """Rings (class 0) and paths (class 1) of 4-7 nodes, features = one column of ones plus
    noise; node 0 of every ring is marked as the 'motif'."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 8, num_graphs)
    labels = np.arange(num_graphs) % 2
    senders, receivers, n_edge, motif = [], [], [], []
    offset = 0
    for size, label in zip(sizes, labels, strict=True):
        pairs = [(i, i + 1) for i in range(size - 1)] + ([(size - 1, 0)] if label == 0 else [])
        both = sorted(
            {(a, b) for a, b in pairs} | {(b, a) for a, b in pairs}, key=lambda p: p[::-1]
        )
        senders += [offset + a for a, _ in both]
        receivers += [offset + b for _, b in both]
        n_edge.append(len(both))
        motif += [label == 0] + [False] * (size - 1)
        offset += size
    features = np.concatenate([np.ones((offset, 1)), rng.normal(size=(offset, 2)) * 0.1], 1)
    test = np.zeros(num_graphs, bool)
    test[-8:] = True
    return make_graph_dataset(
        "rings-and-paths",
        features=features,
        senders=np.array(senders),
        receivers=np.array(receivers),
        n_node=sizes,
        n_edge=np.array(n_edge),
        labels=labels,
        masks=(~test, np.zeros(num_graphs, bool), test),
        num_classes=2,
    )


@pytest.mark.parametrize(
    "architecture", [a for a in ARCHITECTURES if a not in NODE_ONLY_ARCHITECTURES]
)
@pytest.mark.parametrize("pool", POOLS)
def test_classifier_paths_agree(architecture, pool):
    """apply, apply_projected (P = X W) and layers + readout give the same graph logits, and
    each graph's logits do not depend on the other graphs of the batch."""
    model = GraphClassifier(3, architecture, (5, 4), pool, heads=2)
    explainable = model.explainable()
    graph = prepare_graph(model, raw_graph_batch(0, np.float32))
    params = init_params(model, graph, key=jax.random.key(0))
    logits = explainable.apply(params, graph)
    projected = graph.nodes @ explainable.input_kernel(params)
    h = projected
    for layer in explainable.layers(params, graph):
        h = layer(h)
    assert logits.shape == (16, 3)
    np.testing.assert_allclose(
        explainable.apply_projected(params, graph._replace(nodes=projected)), logits, atol=1e-5
    )
    np.testing.assert_allclose(
        explainable.graph_readout.logits(params, h, graph.n_node), logits, atol=1e-5
    )


def test_model_config_widths_and_readout():
    with pytest.raises(ValueError, match=r"needs 3 \(one per layer\)"):
        build_model(ModelConfig(num_layers=3, hidden_size=(8, 8)), 2, "graph")
    with pytest.raises(ValueError, match=r"model\.readout must be one of"):
        ModelConfig(readout="median")
    model = build_model(ModelConfig(num_layers=3, hidden_size=(8, 16, 32)), 2, "graph")
    assert isinstance(model, GraphClassifier) and model.hidden_sizes == (8, 16, 32)


def test_training_learns_rings_from_paths_and_the_checkpoint_round_trips(tmp_path):
    data = _dataset()
    model = GraphClassifier(2, "gin", (16, 16), "sum")
    result = train(
        model, data, TrainConfig(0.01, 0.0, 150, 0, balance_classes=True), key=jax.random.key(0)
    )
    assert result.accuracy["train"] == 1.0 and result.accuracy["test"] == 1.0
    config = ModelConfig("gin", 2, (16, 16), 0.0, readout="sum")
    save_checkpoint(tmp_path, Checkpoint(result.params, config, data.name, 3, 2, "graph"))
    loaded = load_checkpoint(tmp_path, dataset=data.name)
    assert loaded.level == "graph" and loaded.model_config.hidden_size == (16, 16)
    graph = prepare_graph(loaded.model, data.graph)
    np.testing.assert_array_equal(
        loaded.model.explainable().apply(loaded.params, graph),
        model.explainable().apply(result.params, graph),
    )


def test_class_weights_balance_the_training_classes():
    labels = np.array([0, 0, 0, 1, 1, 0])
    mask = np.array([True, True, True, True, False, False])
    np.testing.assert_allclose(class_weights(labels, mask, 3), [1 / 3, 1.0, 0.0])


@pytest.mark.slow  # rebuilds every perturbed graph: 87 s cold
def test_deletion_on_graph_targets_matches_rebuilt_graphs():
    """Keep masks in remove mode equal the model run on each graph with those nodes (and their
    edges) taken out; keeping everything gives the batch's logits."""
    model, params, graph = build("graph-gcn-mean", seed=2, dtype=np.float32)
    targets = np.array([3, 0, 9], np.int32)
    nb = neighbourhoods(model, graph, targets)
    assert nb.candidate.all() and nb.counts.tolist() == graph.n_node[targets].tolist()
    rng = np.random.default_rng(0)
    keep = rng.random((2, nb.union.num_copies)) < 0.6
    keep[0] = True
    logits = evaluate_keep_masks(model, params, graph, nb, keep, mode="remove")
    full = model.explainable().apply(params, graph)
    np.testing.assert_allclose(logits[0], np.asarray(full)[targets], atol=1e-5)
    raw = raw_graph_batch(2, np.float32)
    offsets = np.concatenate([[0], np.cumsum(raw.n_node)])
    for row, g in enumerate(targets):
        kept = np.flatnonzero(keep[1, nb.copy_target == row]) + offsets[g]
        if not kept.size:
            continue
        inside = np.isin(raw.senders, kept) & np.isin(raw.receivers, kept)
        relabel = {int(v): i for i, v in enumerate(kept)}
        sub = raw._replace(
            nodes=raw.nodes[kept],
            senders=np.array([relabel[int(s)] for s in raw.senders[inside]], np.int32),
            receivers=np.array([relabel[int(r)] for r in raw.receivers[inside]], np.int32),
            n_node=np.array([kept.size]),
            n_edge=np.array([int(inside.sum())]),
        )
        alone = model.explainable().apply(params, prepare_graph(model, sub))
        np.testing.assert_allclose(logits[1, row], np.asarray(alone)[0], atol=1e-5)


def test_graph_evaluation_and_ground_truth():
    data = _dataset()
    model = GraphClassifier(2, "gcn", (8, 8), "mean")
    params = init_params(model, prepare_graph(model, data.graph), key=jax.random.key(1))
    results = explain(model, params, data, methods=["nam", "saliency"], targets="test")
    metrics = evaluate(model, params, data, results, mode="remove", random_seeds=(0, 1))
    assert metrics["targets"] == 8
    curve = metrics["methods"]["nam"]["deletion_accuracy"]
    assert len(curve) == 11 and 0.0 <= min(curve) <= max(curve) <= 1.0
    # a hand-made ground truth: node 0 of every ring; a score that ranks it first scores AUC 1
    nam = results["nam"]
    first_nodes = np.isin(nam.sources, data.node_offsets[:-1])
    perfect = dataclasses.replace(nam, values=first_nodes.astype(np.float32))
    motif = np.full(data.num_nodes, -1, np.int32)
    rings = np.flatnonzero(data.labels == 0)
    motif[data.node_offsets[rings]] = rings
    truth = GroundTruth(motif >= 0, np.zeros(data.num_edges, bool), motif)
    with_truth = dataclasses.replace(data, ground_truth=truth)
    scored = explanation_accuracy(perfect, with_truth)
    assert scored["node_auc"] == 1.0 and scored["targets_scored"] == 4  # the 4 rings


def test_graph_layout_puts_bonded_nodes_one_apart_and_is_deterministic():
    ring = np.array([[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]])
    positions = graph_layout(6, ring)
    lengths = np.linalg.norm(positions[ring[0]] - positions[ring[1]], axis=1)
    np.testing.assert_allclose(lengths, lengths.mean(), rtol=0.02)
    np.testing.assert_allclose(lengths.mean(), 1.0, rtol=0.2)  # stress trades 1, 2, 3 hops
    np.testing.assert_array_equal(positions, graph_layout(6, ring))
    two_parts = graph_layout(4, np.array([[0, 2], [1, 3]]))
    assert np.linalg.norm(two_parts[0] - two_parts[2]) > 1.0


def test_graph_panels_draw_a_panel_per_class_and_method():
    edges = np.array([[0, 1, 2], [1, 2, 0]])
    maps = {"nam": np.array([[1.0, -0.5, 0.0], [0.2, 0.1, 0.0]]), "cam": np.ones((2, 3))}
    fig = graph_panels(
        edges, maps, class_names=("a", "b"), node_names=["C", "N", "O"], predicted=1, title="t"
    )
    assert len(fig.axes) == 4
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"C", "N", "O"} <= texts
    assert "class b (predicted)" in {ax.get_ylabel() for ax in fig.axes}
    with pytest.raises(ValueError, match=r"maps\['nam'\] must be finite"):
        graph_panels(edges, {"nam": np.full((2, 3), np.nan)}, class_names=("a", "b"))


def _graph_config(tmp_path: Path, data: str, methods: list[str], extra: str = "") -> Path:
    config = tmp_path / "graphs.toml"
    config.write_text(
        f'[data]\nname = "{data}"\n{extra}\n'
        '[model]\narchitecture = "gcn"\nnum_layers = 2\nhidden_size = [8, 8]\n'
        'dropout_rate = 0.0\nreadout = "mean"\n'
        "[train]\nepochs = 30\nweight_decay = 0.0\nearly_stopping = 0\n"
        f'[explain]\nmethods = {json.dumps(methods)}\ntargets = "all"\n'
        '[evaluate]\nmode = "remove"\nrandom_seeds = 2\n'
    )
    return config


TU = {  # nine small molecules: paths (label -1) and rings (label 1), atoms C, N, O
    "A": "",
    "graph_indicator": "",
    "graph_labels": "",
    "node_labels": "",
}


def _tu_zip(path: Path) -> Path:
    lines = {key: [] for key in TU}
    node = 0
    for g in range(9):
        size, ring = 4 + g % 3, g % 2 == 1
        pairs = [(i, i + 1) for i in range(size - 1)] + ([(size - 1, 0)] if ring else [])
        for a, b in pairs:
            lines["A"] += [f"{node + a + 1}, {node + b + 1}", f"{node + b + 1}, {node + a + 1}"]
        lines["graph_indicator"] += [str(g + 1)] * size
        lines["node_labels"] += [str(i % 3) for i in range(size)]
        lines["graph_labels"].append("1" if ring else "-1")
        node += size
    with zipfile.ZipFile(path, "w") as archive:
        for part, rows in lines.items():
            archive.writestr(f"RINGS/RINGS_{part}.txt", "\n".join(rows) + "\n")
    return path


@pytest.mark.slow  # `jgattr run` end to end (60-90 s)
def test_jgattr_run_on_a_tu_zip(tmp_path):
    config = _graph_config(tmp_path, str(_tu_zip(tmp_path / "RINGS.zip")), ["nam", "cam", "eb"])
    out = tmp_path / "run"
    assert main(["run", "--config", str(config), "--out", str(out)]) == 0
    metrics = json.loads((out / "eval.json").read_text())
    assert metrics["target_level"] == "graph" and metrics["targets"] == 9
    assert set(metrics["methods"]) == {"nam", "cam", "excitation_backprop"}
    assert 0.0 <= metrics["methods"]["nam"]["pope"]["fidelity"] <= 1.0
    assert metrics["figure_graphs"] and (out / f"graph_{metrics['figure_graphs'][0]}.png").is_file()
    report = (out / "report.md").read_text()
    assert "## Pope et al.'s metrics" in report and "## Graphs" in report
    pope = metrics["methods"]["cam"]["pope"]
    assert pope["fractions"] == [0.1, 0.2] and len(pope["random_fidelity_at_fraction"]) == 2
    assert "fidelity at f = 10% ↑" in report and "| random nodes |" in report


@pytest.mark.slow  # `jgattr run` end to end (60-90 s)
def test_jgattr_run_on_smiles(tmp_path):
    pytest.importorskip("rdkit")
    csv = tmp_path / "mols.csv"
    csv.write_text(
        "smiles,active\nCCO,1\nc1ccccc1,0\nCCN,1\nOc1ccccc1,0\nCC(=O)O,1\nc1ccncc1,0\n"
        "CCCC,1\nc1ccc2ccccc2c1,0\nC1CC,1\n"
    )
    extra = 'smiles_column = "smiles"\nlabel_column = "active"'
    config = _graph_config(tmp_path, str(csv), ["nam", "cg", "grad_cam"], extra)
    out = tmp_path / "run"
    with pytest.warns(UserWarning, match="skipped 1 of 9 rows"):  # C1CC is no valid SMILES
        assert main(["run", "--config", str(config), "--out", str(out)]) == 0
    trained = json.loads((out / "train.json").read_text())
    assert trained["task"] == "graph classification"
    assert json.loads((out / "eval.json").read_text())["targets"] == 8
    assert list(out.glob("graph_*.png"))


def test_node_model_on_graph_data_is_a_clear_error():
    data = _dataset()
    from jgattr.models import GCN

    model = GCN(2)
    params = init_params(model, prepare_graph(model, data.graph), key=jax.random.key(0))
    with pytest.raises(ValueError, match="classifies nodes but the dataset 'rings-and-paths'"):
        explain(model, params, data, methods=["nam"])
