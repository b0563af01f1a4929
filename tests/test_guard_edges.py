"""What loading does to a graph's edges is counted, logged and written to train.json; a ``.npz``
graph can stay directed for the models that read in-edges only."""

import json

import jax
import numpy as np
import pytest

from jgattr.attribution import explain
from jgattr.cli import main
from jgattr.data import cleaned_edges, edge_changes_line, load_dataset, load_npz
from jgattr.models import ModelConfig, build_model, init_params, prepare_graph

# 0 -> 1 twice (a duplicate), 1 -> 2 -> 3 one-way, 3 -> 3 a self loop, 2 <-> 4 both ways
EDGES = np.array([[0, 0, 1, 2, 3, 2, 4], [1, 1, 2, 3, 3, 4, 2]])


def _npz(folder, name="g.npz"):
    path = folder / name
    rng = np.random.default_rng(0)
    np.savez(
        path,
        edge_index=EDGES,
        features=rng.random((5, 3)).astype(np.float32),
        labels=np.array([0, 1, 0, 1, 0]),
        train_mask=np.array([1, 1, 1, 0, 0], bool),
        val_mask=np.array([0, 0, 0, 1, 0], bool),
        test_mask=np.array([0, 0, 0, 0, 1], bool),
    )
    return path


def test_the_changes_are_counted(tmp_path):
    senders, _, changes = cleaned_edges(EDGES[0], EDGES[1], 5)
    assert changes == {
        "made_two_way": 3,
        "duplicates_merged": 1,
        "self_loops_dropped": 1,
        "directed": 0,
    }
    assert len(senders) == 2 * 4  # 0-1, 1-2, 2-3, 2-4, both ways
    assert load_npz(_npz(tmp_path)).edge_changes == changes
    kept = load_npz(_npz(tmp_path), directed=True)
    assert kept.num_edges == 5 and kept.edge_changes["made_two_way"] == 0
    assert sorted(zip(kept.graph.senders.tolist(), kept.graph.receivers.tolist(), strict=True)) == [
        (0, 1), (1, 2), (2, 3), (2, 4), (4, 2),
    ]  # fmt: skip
    assert edge_changes_line(changes) == (
        "graph made undirected: 3 one-way edges made two-way, 1 duplicate edges merged, "
        "1 self loops dropped"
    )
    assert load_dataset("ba-shapes").edge_changes["made_two_way"] == 2065


def test_a_directed_graph_keeps_its_receptive_field_one_way(tmp_path):
    """On 0 -> 1 -> 2 -> 3, node 2's 2-hop computation graph holds 0 and 1, never 3."""
    relevance = {}
    for directed in (True, False):
        data = load_npz(_npz(tmp_path), directed=directed)
        model = build_model(ModelConfig(architecture="sage", num_layers=2, hidden_size=4), 2)
        params = init_params(model, prepare_graph(model, data.graph), key=jax.random.key(0))
        result = explain(model, params, data, methods=["saliency"], targets=[2], path="general")
        sources, values = result["saliency"].for_target(0)
        relevance[directed] = dict(zip(np.asarray(sources).tolist(), np.abs(values), strict=True))
    assert 3 not in relevance[True] and relevance[True][0] > 0
    assert relevance[False][3] > 0


def test_directed_is_refused_for_the_gcn_and_for_built_in_datasets(tmp_path, capsys):
    path = _npz(tmp_path)
    for text, needle in (
        (f'[data]\nname = "{path}"\ndirected = true\n', "the gcn model's symmetric normalization"),
        ('[data]\nname = "cora"\ndirected = true\n[model]\narchitecture = "gin"\n', "'cora'"),
    ):
        config = tmp_path / "c.toml"
        config.write_text(text)
        assert main(["train", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert "error:" in err and "[data] directed = true" in err and needle in err
        assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("directed", [False, True])
def test_train_logs_the_changes_and_writes_them_to_train_json(tmp_path, capsys, directed):
    config = tmp_path / "c.toml"
    config.write_text(
        f'[data]\nname = "{_npz(tmp_path)}"\nnormalize_features = false\n'
        f"directed = {str(directed).lower()}\n"
        '[model]\narchitecture = "gin"\nhidden_size = 4\n[train]\nepochs = 2\n'
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(config), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    made = 0 if directed else 3
    line = f": {made} one-way edges made two-way, 1 duplicate edges merged, 1 self loops dropped"
    assert ("kept directed" if directed else "made undirected") + line in err
    changes = json.loads((out / "train.json").read_text())["edge_changes"]
    assert changes == {
        "made_two_way": made,
        "duplicates_merged": 1,
        "self_loops_dropped": 1,
        "directed": int(directed),
    }
