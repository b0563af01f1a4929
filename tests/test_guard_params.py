"""Params of another model, ``model.init()``'s wrapper, corrupt checkpoints and a full disk get
named errors (which leaf, which shape, which model; which file and how much space), never a raw
``KeyError`` from inside Flax or a bare "No space left on device"."""

import errno
from pathlib import Path

import jax
import numpy as np
import pytest

from jgattr import load_dataset
from jgattr._io import DiskFullError, atomic_write_bytes
from jgattr.attribution import explain
from jgattr.cli import main
from jgattr.models import ModelConfig, ParamsError, build_model, init_params, prepare_graph
from tests.test_bad_input_cli import _config, _one_error_line, _snapshot

DATA = load_dataset("ba-shapes")


def _params(architecture: str = "gcn", num_layers: int = 2, hidden_size: int = 8, *, whole=False):
    model = build_model(
        ModelConfig(architecture=architecture, num_layers=num_layers, hidden_size=hidden_size),
        DATA.num_classes,
    )
    graph = prepare_graph(model, DATA.graph)
    if whole:
        return model.init({"params": jax.random.key(0)}, jax.tree.map(np.asarray, graph))
    return init_params(model, graph, key=jax.random.key(0))


@pytest.mark.parametrize(
    ("given", "needles"),
    [
        (("gat", 2, 8), ["leaf 'conv_0/bias' (8,) is missing", "GAT parameters (2 layers"]),
        (
            ("gcn", 3, 8),
            ["'conv_1/bias' has shape (8,), the model needs (4,)", "GCN parameters (3 layers"],
        ),
        (("gcn", 2, 32), ["leaf 'conv_0/bias' has shape (32,), the model needs (8,)"]),
    ],
)
def test_params_of_another_model_name_the_leaf_shape_and_model(given, needles):
    model = build_model(ModelConfig(num_layers=2, hidden_size=8), DATA.num_classes)
    with pytest.raises(ParamsError) as err:
        explain(model, _params(*given), DATA, methods=["nam"], targets=[300])
    message = str(err.value)
    print(message)
    assert "params do not fit GCN(num_layers=2, hidden_size=8) with 10 input features" in message
    for needle in needles:
        assert needle in message


def test_the_output_of_model_init_is_named():
    model = build_model(ModelConfig(num_layers=2, hidden_size=8), DATA.num_classes)
    with pytest.raises(ParamsError, match=r"model.init\(\) returns: pass its inner tree"):
        explain(model, _params(whole=True), DATA, methods=["nam"], targets=[300])
    # the fitting params still run
    result = explain(model, _params(), DATA, methods=["nam"], targets=[300])
    assert result["nam"].num_targets == 1


def test_run_overwrite_retrains_over_a_corrupt_checkpoint(tmp_path, capsys):
    config, out = _config(tmp_path), tmp_path / "run"
    common = ["--config", str(config), "--out", str(out), "--methods", "nam"]
    assert main(["train", *common[:4]]) == 0
    assert main(["explain", *common]) == 0
    (out / "checkpoint.msgpack").write_bytes(b"\x00not msgpack")
    capsys.readouterr()
    assert main(["explain", *common]) == 2
    _one_error_line(
        capsys.readouterr().err, "not a readable msgpack file", "`jgattr run --overwrite`"
    )
    before = _snapshot(out)
    assert main(["run", *common]) == 2  # the attributions would go stale: nothing is replaced
    _one_error_line(capsys.readouterr().err, "holds attributions", "--overwrite")
    assert _snapshot(out) == before
    assert main(["run", *common, "--overwrite"]) == 0
    err = capsys.readouterr().err
    assert "is not a readable msgpack file: training a new one" in err
    assert (out / "checkpoint.msgpack").read_bytes() != b"\x00not msgpack"
    assert (out / "report.md").is_file()


def test_a_full_disk_names_the_file_and_the_space_needed(tmp_path, monkeypatch):
    from jgattr import _io

    def full(file, mode="r", *args, **kwargs):
        f = open(file, mode, *args, **kwargs)  # noqa: SIM115 (closed by Full.__exit__)

        class Full:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                f.close()

            def write(self, data):
                raise OSError(errno.ENOSPC, "No space left on device")

        return Full()

    monkeypatch.setattr(_io, "open", full, raising=False)  # jgattr._io's writes see it
    target = tmp_path / "result.npz"
    with pytest.raises(DiskFullError) as err:
        atomic_write_bytes(target, b"x" * 3 * 2**20)
    message = str(err.value)
    print(message)
    assert err.value.errno == errno.ENOSPC
    assert f"writing {target}: it needs 3.0 MB" in message and "free in" in message
    assert not list(Path(tmp_path).iterdir())  # no half-written file, no temporary left


def test_a_full_disk_in_the_cli_is_one_line(tmp_path, monkeypatch, capsys):
    from jgattr import _io

    def full(path, data):
        with _io.naming_disk_full(Path(path), len(data)):
            raise OSError(errno.ENOSPC, "No space left on device")

    config, out = _config(tmp_path), tmp_path / "run"
    monkeypatch.setattr("jgattr._checkpoint.atomic_write_bytes", full)
    assert main(["train", "--config", str(config), "--out", str(out)]) == 2
    _one_error_line(
        capsys.readouterr().err, f"writing {out / 'checkpoint.msgpack'}", "MB free in", "rerun"
    )
