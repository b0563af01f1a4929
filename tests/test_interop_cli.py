"""``[model] source = "torch"``: the CLI imports a PyG model and runs it; hostile weights files
are refused before anything in them (or the user's builder) runs.

Skipped with a one-line hint without torch / torch_geometric (failed under ``CI=true``).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from jgattr import ConfigError, load_config
from jgattr.cli import main
from tests.conftest import REPO, import_optional

torch, _ = import_optional("torch", "torch_geometric")

from jgattr.interop import read_state_dict  # noqa: E402

BUILDER = """
from pathlib import Path
import torch_geometric.nn as pyg

Path(__file__).with_name("builder-imported").touch()


def build_model():
    return pyg.{model}
"""


class _Hostile:
    """Unpickling this runs ``touch <marker>``: what a weights file must never be able to do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def _build(model: str):
    """The module the builder file of ``_config`` returns (``pyg.<model>``)."""
    import torch_geometric.nn as pyg

    return eval(f"pyg.{model}", {"pyg": pyg})


def _config(folder: Path, state_dict: Path, *, model: str, data: str = "ba-shapes") -> Path:
    builder = folder / "builder.py"
    builder.write_text(BUILDER.format(model=model))
    config = folder / "config.toml"
    config.write_text(
        f'[data]\nname = "{data}"\nnormalize_features = false\n\n'
        f'[model]\nsource = "torch"\nmodule = "{builder}:build_model"\n'
        f'state_dict = "{state_dict}"\n\n'
        '[explain]\nmethods = ["nam", "saliency", "edge_saliency"]\ntargets = [0, 300, 500]\n\n'
        "[evaluate]\nrandom_seeds = 1\nniv_nodes = [300]\n"
    )
    return config


def test_config_requires_module_and_state_dict_for_the_torch_source(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[model]\nsource = "torch"\nmodule = "pkg.mod:build"\n')
    with pytest.raises(ConfigError, match="state_dict"):
        load_config(config)
    config.write_text('[model]\nsource = "onnx"\n')
    with pytest.raises(ConfigError, match="source must be one of"):
        load_config(config)
    shipped = load_config(REPO / "configs" / "cora-pyg.toml").model
    assert shipped.source == "torch" and shipped.module.endswith("pyg_cora.py:build_model")


def test_a_hostile_state_dict_is_refused_and_nothing_runs(tmp_path, capsys):
    marker = tmp_path / "pwned"
    weights = tmp_path / "model.pt"
    torch.save({"conv.lin.weight": _Hostile(marker)}, weights)
    config = _config(tmp_path, weights, model="GCN(10, 8, 2, 4)")
    code = main(["run", "--config", str(config), "--out", str(tmp_path / "run")])
    assert code == 2
    error = capsys.readouterr().err
    assert "was refused" in error and "weights_only" in error
    assert not marker.exists()
    assert not (tmp_path / "builder-imported").exists()  # refused before the builder is imported


@pytest.mark.parametrize(
    ("model", "named"),
    [("ChebConv(10, 4, K=2)", "ChebConv"), ("GCN(10, 8, 2, 4, jk='cat')", "jk='cat'")],
)
def test_an_unsupported_model_exits_2_naming_the_layer(tmp_path, capsys, model, named):
    weights = tmp_path / "model.pt"
    torch.save(_build(model).state_dict(), weights)
    config = _config(tmp_path, weights, model=model)
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert named in error and "nearest supported form" in error
    assert not (tmp_path / "run" / "explain.json").exists()


def test_read_state_dict_accepts_only_a_flat_mapping_of_tensors(tmp_path):
    path = tmp_path / "w.pt"
    torch.save({"a": torch.zeros(2)}, path)
    assert set(read_state_dict(path)) == {"a"}
    for bad in ([torch.zeros(2)], {"model": {"a": torch.zeros(2)}, "epoch": 3}):
        torch.save(bad, path)
        with pytest.raises(ValueError, match="not a state_dict"):
            read_state_dict(path)
    with pytest.raises(ValueError, match="does not exist"):
        read_state_dict(tmp_path / "missing.pt")


def _train_pyg(module, dataset, epochs: int = 40) -> None:
    x = torch.from_numpy(np.asarray(dataset.graph.nodes))
    edges = np.stack([dataset.graph.senders, dataset.graph.receivers]).astype(np.int64)
    y = torch.from_numpy(np.asarray(dataset.labels, np.int64))
    mask = torch.from_numpy(dataset.train_mask)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    for _ in range(epochs):
        optimizer.zero_grad()
        out = module(x, torch.from_numpy(edges))
        torch.nn.functional.cross_entropy(out[mask], y[mask]).backward()
        optimizer.step()
    module.eval()


@pytest.mark.slow  # a PyG GraphSAGE trained, then imported
def test_jgattr_run_imports_a_pyg_graphsage_and_reports(tmp_path, capsys):
    import torch_geometric.nn as pyg

    from jgattr import load_dataset

    torch.manual_seed(0)
    dataset = load_dataset("ba-shapes")
    model = f"GraphSAGE({dataset.num_features}, 8, 2, {dataset.num_classes})"
    module = pyg.GraphSAGE(dataset.num_features, 8, 2, dataset.num_classes)
    _train_pyg(module, dataset)
    weights = tmp_path / "model.pt"
    torch.save(module.state_dict(), weights)
    config = _config(tmp_path, weights, model=model)
    out = tmp_path / "run"
    assert main(["run", "--config", str(config), "--out", str(out)]) == 0
    trained = json.loads((out / "train.json").read_text())
    assert trained["epochs"] == 0 and trained["model"]["source"] == "torch"
    assert trained["model"]["name"] == "PyG GraphSAGE"
    explained = json.loads((out / "explain.json").read_text())
    assert set(explained["methods"]) == {"nam", "saliency", "edge_saliency"}
    for name in ("eval.json", "report.md", "niv_300.png", "deletion_curves.png"):
        assert (out / name).is_file(), name
    assert "imported from PyTorch Geometric" in (out / "report.md").read_text()
    capsys.readouterr()


@pytest.mark.slow  # a PyG GCN trained on Cora, then imported
def test_jgattr_run_on_a_pyg_trained_cora_gcn(tmp_path, real_planetoid_dir, monkeypatch):
    """The shipped configs/cora-pyg.toml with examples/pyg_cora.py's GCN (trained briefly)."""
    import importlib.util

    from jgattr import load_dataset

    spec = importlib.util.spec_from_file_location("pyg_cora", REPO / "examples" / "pyg_cora.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    dataset = load_dataset("cora", data_dir=real_planetoid_dir)
    weights = tmp_path / "runs" / "cora-pyg-model.pt"
    weights.parent.mkdir()
    torch.save(example.train(dataset, epochs=60).state_dict(), weights)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "pyg_cora.py").write_text((REPO / "examples/pyg_cora.py").read_text())
    monkeypatch.chdir(tmp_path)  # the config's paths are relative to the working directory
    out = tmp_path / "runs" / "cora-pyg"
    config = REPO / "configs" / "cora-pyg.toml"
    args = ["--config", str(config), "--out", str(out), "--data-dir", str(real_planetoid_dir)]
    assert main(["run", *args]) == 0
    trained = json.loads((out / "train.json").read_text())
    assert trained["accuracy"]["test"] > 0.7
    assert "as jgattr's GCN" in trained["model"]["name"]
    explained = json.loads((out / "explain.json").read_text())
    assert explained["methods"]["nam"]["path"] == "fast"
    assert explained["methods"]["nam"]["targets"] == 1000
    for name in ("eval.json", "report.md", "niv_1358.png", "deletion_curves.png"):
        assert (out / name).is_file(), name
