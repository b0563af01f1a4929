"""Bad input gets a clear error and loses nothing: exit 2 and one line naming the argument, the
value and the fix; no traceback; interrupted or concurrent runs never corrupt or replace results.

Everything runs on the offline BA-Shapes graph with a 20-epoch 2-layer GCN (seconds).
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jgattr import cli
from jgattr.cli import main
from tests.conftest import REPO

TINY = """
[data]
name = "ba-shapes"
normalize_features = false

[model]
num_layers = 2
hidden_size = 8
dropout_rate = 0.0

[train]
epochs = 20
early_stopping = 0

[explain]
methods = ["nam", "saliency"]
targets = [300, 301, 302]

[evaluate]
random_seeds = 1
"""


def _config(folder: Path, explain: str = "", name: str = "tiny.toml") -> Path:
    """The tiny config, with ``explain`` lines added to its ``[explain]`` table."""
    path = folder / name
    path.write_text(TINY.replace("[evaluate]", explain + "\n[evaluate]"))
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every result file's bytes (not the lock file, which holds the last writer's pid)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != ".jgattr.lock")
    return {p.name: p.read_bytes() for p in files}


def _one_error_line(err: str, *needles: str) -> str:
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A run folder with a checkpoint (trained once per module, copied per test)."""
    folder = tmp_path_factory.mktemp("trained")
    assert main(["train", "--config", str(_config(folder)), "--out", str(folder / "run")]) == 0
    return folder / "run"


@pytest.fixture
def run(trained, tmp_path) -> tuple[Path, list[str]]:
    """(a fresh copy of the trained run folder, the common arguments that point at it)."""
    out = tmp_path / "run"
    shutil.copytree(trained, out)
    return out, ["--config", str(_config(tmp_path)), "--out", str(out)]


# ---------------------------------------------------------------------------- help, options


def test_explain_help_is_fast():
    """``--help`` under 1 s is a product promise (2 s allowed here for a busy test machine)."""
    cmd = [sys.executable, "-m", "jgattr.cli", "explain", "--help"]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    print(f"jgattr explain --help: {seconds:.2f} s")
    assert result.returncode == 0 and "--targets" in result.stdout
    assert seconds < 2.0


def test_first_progress_line_comes_before_the_heavy_imports(tmp_path):
    cmd = [sys.executable, "-m", "jgattr.cli", "train", "--config", str(_config(tmp_path))]
    start = time.perf_counter()
    with subprocess.Popen([*cmd, "--out", str(tmp_path / "r")], stderr=subprocess.PIPE) as proc:
        line = proc.stderr.readline().decode()
        seconds = time.perf_counter() - start
        proc.kill()
    print(f"first line after {seconds:.2f} s: {line.strip()}")
    assert line.startswith("jgattr train: loading ba-shapes")
    assert seconds < 2.0


def test_an_option_of_another_command_is_named(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--epochs", "3", "--distributed"])
    assert exit_.value.code == 2
    _one_error_line(
        capsys.readouterr().err,
        "jgattr evaluate: error: unrecognized arguments: --epochs 3 --distributed",
        "--epochs is an option of train, run",
        "--distributed is an option of explain, run",
    )


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["explain", "--targets", ""], ["argument --targets", "got ''", "test, val, train, all"]),
        (["explain", "--targets", "-1"], ["argument --targets", "got '-1'", "node ids >= 0"]),
        (["run", "--targets", "3,x"], ["argument --targets", "got '3,x'"]),
        (["explain", "--methods", ""], ["argument --methods", "got ''", "nam,ig,sig-lid-ig"]),
        (["explain", "--methods", "nam,"], ["argument --methods", "got 'nam,'"]),
        (["explain", "--classes", "nine"], ["argument --classes", "got 'nine'", "class id"]),
        (["run", "--classes", "-1"], ["argument --classes", "got '-1'", "an int >= 0"]),
        (["explain", "--path", "quick"], ["argument --path", "'quick'", "'general'"]),
        (["explain", "--memory-budget-mb", "0"], ["argument --memory-budget-mb", "got '0'"]),
        (["train", "--epochs", "0"], ["argument --epochs", "int >= 1", "got '0'"]),
        (["niv", "--node", "-3"], ["argument --node", "int >= 0", "got '-3'"]),
        (["evaluate", "--mode", "drop"], ["argument --mode", "'drop'", "'remove'"]),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv, needles, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    line = _one_error_line(capsys.readouterr().err, *needles)
    assert line.startswith(f"jgattr {argv[0]}: error: ")


def test_cli_choices_agree_with_the_engine_and_the_config():
    from jgattr import _config
    from jgattr.attribution import CLASS_CHOICES, PATHS, TARGET_SETS
    from jgattr.metrics import MODES

    assert set(cli.TARGET_SETS) == set(_config.TARGET_SETS) == set(TARGET_SETS)
    assert set(cli.CLASS_CHOICES) == set(_config.CLASS_CHOICES) == set(CLASS_CHOICES)
    assert set(cli.PATHS) == set(_config.PATHS) == set(PATHS)
    assert set(cli.MODES) == set(MODES)


# ---------------------------------------------------------------------------- config values


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        ("targets = []\n", ["[explain] targets = [] is empty", "list of node ids"]),
        ("methods = []\n", ["[explain] methods = [] is empty", 'methods = ["nam"']),
        ('methods = ["nam", "nam"]\n', ["[explain] methods lists ['nam'] more than once"]),
        ('classes = "best"\n', ["[explain] classes must be one of", "'best'"]),
        ("classes = -2\n", ["[explain] classes must be a class id >= 0, got -2"]),
        ('path = "quick"\n', ["[explain] path must be one of", "'quick'"]),
    ],
)
def test_bad_explain_table_names_the_key(tmp_path, extra, needles, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[explain]\n" + extra)
    out = tmp_path / "out"
    assert main(["explain", "--config", str(config), "--out", str(out)]) == 2
    _one_error_line(capsys.readouterr().err, str(config), *needles)
    assert not out.exists()


def test_config_values_checked_against_the_data_name_the_key(run, tmp_path, capsys):
    out, _ = run
    config = _config(tmp_path, "classes = 7\n", name="c.toml")
    assert main(["explain", "--config", str(config), "--out", str(out)]) == 2
    _one_error_line(capsys.readouterr().err, "[explain] classes must be", "[0, 4)", "got 7")
    config = tmp_path / "t.toml"
    config.write_text(TINY.replace("[300, 301, 302]", "[5, 7000]"))
    assert main(["explain", "--config", str(config), "--out", str(out)]) == 2
    _one_error_line(
        capsys.readouterr().err, "[explain] targets must be node ids in [0, 700)", "got 7000"
    )


# ---------------------------------------------------------------------------- flags vs data


def test_out_of_range_flags_name_the_flag_value_and_range(run, capsys):
    out, common = run
    before = _snapshot(out)
    assert main(["explain", *common, "--targets", "5,99999"]) == 2
    _one_error_line(capsys.readouterr().err, "--targets must be node ids in [0, 700)", "99999")
    assert main(["explain", *common, "--classes", "9"]) == 2
    _one_error_line(capsys.readouterr().err, "--classes must be", "class id in [0, 4)", "got 9")
    assert main(["explain", *common, "--methods", "nam,shap"]) == 2
    _one_error_line(capsys.readouterr().err, "--methods: method must be one of", "'shap'")
    assert main(["explain", *common, "--methods", "ig,integrated-gradients"]) == 2
    _one_error_line(capsys.readouterr().err, "--methods names integrated_gradients twice")
    assert _snapshot(out) == before


def test_classes_accepts_one_class_id(run, capsys):
    from jgattr.attribution import Attributions

    out, common = run
    assert main(["explain", *common, "--classes", "2", "--methods", "nam"]) == 0
    result = Attributions.load(out / "attributions_nam")
    np.testing.assert_array_equal(result.classes, [2, 2, 2])
    assert json.loads((out / "explain.json").read_text())["classes"] == 2


# ---------------------------------------------------------------------------- run folders


def test_explain_merges_methods_into_explain_json(run, capsys):
    out, common = run
    assert main(["explain", *common, "--methods", "nam"]) == 0
    nam = _snapshot(out / "attributions_nam")
    capsys.readouterr()
    assert main(["explain", *common, "--methods", "saliency"]) == 0
    summary = json.loads((out / "explain.json").read_text())
    assert list(summary["methods"]) == ["nam", "saliency"]
    assert summary["targets"] == [300, 301, 302] and summary["classes"] == "predicted"
    assert _snapshot(out / "attributions_nam") == nam
    printed = capsys.readouterr().out
    assert "(kept from an earlier run)" in printed.splitlines()[0]


def test_another_target_set_is_refused_then_replaced_with_overwrite(run, capsys):
    out, common = run
    assert main(["explain", *common]) == 0
    before = _snapshot(out)
    assert main(["explain", *common, "--targets", "1,2", "--methods", "nam"]) == 2
    _one_error_line(
        capsys.readouterr().err,
        f"{out} already holds attributions for targets 300,301,302 with classes 'predicted'",
        "this run asks for targets 1,2",
        "another --out, or pass --overwrite",
    )
    assert _snapshot(out) == before
    assert main(["explain", *common, "--targets", "1,2", "--methods", "nam", "--overwrite"]) == 0
    summary = json.loads((out / "explain.json").read_text())
    assert summary["targets"] == [1, 2] and list(summary["methods"]) == ["nam"]
    assert not (out / "attributions_saliency").exists()  # it was for the old target set


def test_an_explain_json_without_a_target_set_is_not_merged_into(run, capsys):
    out, common = run
    (out / "explain.json").write_text(json.dumps({"dataset": "ba-shapes", "methods": {}}))
    assert main(["explain", *common, "--methods", "nam"]) == 2
    _one_error_line(capsys.readouterr().err, "written by an older jgattr", "--overwrite")


def test_train_refuses_to_make_attributions_stale(run, capsys):
    out, common = run
    assert main(["explain", *common, "--methods", "nam"]) == 0
    before = _snapshot(out)
    assert main(["train", *common, "--seed", "1"]) == 2
    _one_error_line(capsys.readouterr().err, "holds attributions of its checkpoint", "--overwrite")
    assert _snapshot(out) == before


def test_run_reuses_a_checkpoint_trained_with_the_same_settings(run, tmp_path, capsys):
    from jgattr._config import load_config, replace
    from jgattr.jobs._train import reusable_training

    out, common = run
    config = load_config(_config(tmp_path))
    assert reusable_training(config, out) == json.loads((out / "train.json").read_text())
    assert reusable_training(replace(config, "train", epochs=3), out) is None
    assert reusable_training(replace(config, "model", hidden_size=4), out) is None
    assert reusable_training(config, tmp_path / "elsewhere") is None
    checkpoint = (out / "checkpoint.msgpack").read_bytes()
    assert main(["run", *common, "--methods", "nam"]) == 0
    assert f"jgattr run: reusing the checkpoint in {out}" in capsys.readouterr().err
    assert (out / "checkpoint.msgpack").read_bytes() == checkpoint
    assert (out / "report.md").is_file()


def test_a_second_writer_is_refused_while_the_folder_is_locked(run, capsys):
    out, common = run
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from jgattr._io import run_folder_lock\n"
            f"with run_folder_lock({str(out)!r}, 'jgattr explain'):\n"
            "    print('locked', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = _snapshot(out)
        assert main(["explain", *common]) == 2
        _one_error_line(
            capsys.readouterr().err,
            f"run folder {out} is in use by another jgattr job (pid {holder.pid}, "
            "`jgattr explain`)",
            "another --out",
        )
        assert _snapshot(out) == before
    finally:
        holder.communicate("\n", timeout=30)
    assert main(["explain", *common, "--methods", "nam"]) == 0  # released when the holder ends


def test_lock_is_reentrant_in_a_process_and_leaves_no_empty_folder(tmp_path):
    from jgattr._io import LOCK_FILE, run_folder_lock

    with run_folder_lock(tmp_path / "a") as folder, run_folder_lock(folder):
        assert (folder / LOCK_FILE).is_file()
    assert not (tmp_path / "a").exists()  # created for a job that wrote nothing
    (tmp_path / "b").mkdir()
    with run_folder_lock(tmp_path / "b"):
        pass
    assert (tmp_path / "b").is_dir()


# ---------------------------------------------------------------------------- Ctrl-C, resume


def test_ctrl_c_prints_one_line_and_keeps_the_finished_rounds(run, monkeypatch, capsys):
    import jgattr.jobs._explain as job

    out, common = run

    def interrupted(model, params, data, out_dir, **kwargs):
        parts = Path(out_dir) / "parts" / "nam-0123456789ab"
        parts.mkdir(parents=True)
        (parts / "manifest.json").write_text(json.dumps({"fingerprint": "f", "rounds": 5}))
        for index in range(2):
            (parts / f"round_{index:06d}.npz").write_bytes(b"x")
        raise KeyboardInterrupt

    monkeypatch.setattr(job, "explain_to_folder", interrupted)
    assert main(["explain", *common]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"interrupted: 2 of 5 rounds kept in {out / 'parts'}; rerun the same command to resume"
    )
    assert len(list((out / "parts").glob("*/round_*.npz"))) == 2


def test_ctrl_c_counts_rounds_over_a_methods_blocks(tmp_path):
    from jgattr.cli._messages import interrupted_message

    for block, (rounds, kept) in enumerate([(5, 5), (4, 2)]):
        parts = tmp_path / "parts" / f"ig-0123456789ab-block{block:06d}"
        parts.mkdir(parents=True)
        manifest = {"fingerprint": "f", "rounds": rounds, "block": block, "blocks": 3}
        (parts / "manifest.json").write_text(json.dumps(manifest))
        for index in range(kept):
            (parts / f"round_{index:06d}.npz").write_bytes(b"x")
    assert interrupted_message(tmp_path) == (
        f"interrupted: 7 rounds kept in {tmp_path / 'parts'} (of 9 planned in the 2 of 3 blocks "
        "begun); rerun the same command to resume"
    )


def test_a_rerun_after_ctrl_c_does_not_recompute_a_finished_method(run, monkeypatch, capsys):
    import jgattr.jobs._explain as job

    out, common = run
    real, computed = job.explain_to_folder, []

    def second_interrupted(*args, methods, **kwargs):
        if methods[0].name == "saliency":
            raise KeyboardInterrupt
        return real(*args, methods=methods, **kwargs)

    monkeypatch.setattr(job, "explain_to_folder", second_interrupted)
    assert main(["explain", *common]) == 130
    nam = _snapshot(out / "attributions_nam")
    capsys.readouterr()

    def counted(*args, methods, **kwargs):
        computed.extend(m.name for m in methods)
        return real(*args, methods=methods, **kwargs)

    monkeypatch.setattr(job, "explain_to_folder", counted)
    assert main(["explain", *common]) == 0
    assert computed == ["saliency"]
    assert _snapshot(out / "attributions_nam") == nam
    err = capsys.readouterr().err
    assert f"jgattr explain: nam: kept from an earlier run ({out / 'explain.json'})" in err
    computed.clear()
    assert main(["explain", *common, "--overwrite"]) == 0  # --overwrite recomputes
    assert computed == ["nam", "saliency"]


def test_a_resumed_run_says_so(run, monkeypatch, capsys):
    import jgattr.jobs._explain as job

    out, common = run
    real = job.explain_to_folder

    def resumed(*args, **kwargs):
        folders = real(*args, **kwargs)
        for folder in folders.values():  # as if 3 of 5 rounds had been kept in parts/
            (index,) = folder.glob("index-*.json")
            record = json.loads(index.read_text())
            record["stats"].update(resumed_rounds=3, rounds=5)
            index.write_text(json.dumps(record))
        return folders

    monkeypatch.setattr(job, "explain_to_folder", resumed)
    assert main(["explain", *common, "--methods", "nam"]) == 0
    err = capsys.readouterr().err
    assert f"jgattr explain: nam: resumed 3 of 5 rounds from {out / 'parts'}" in err


# ---------------------------------------------------------------------------- progress


def test_progress_goes_to_stderr_and_results_to_stdout(tmp_path, capsys):
    common = ["--config", str(_config(tmp_path)), "--out", str(tmp_path / "r")]
    assert main(["train", *common]) == 0
    assert main(["explain", *common, "--methods", "nam"]) == 0
    captured = capsys.readouterr()
    for line in (
        "jgattr train: loading ba-shapes",
        "jgattr train: epoch 1/20: train loss ",
        "jgattr train: epoch 20/20: train loss ",
        "jgattr train: trained 20 epochs in ",
        "jgattr explain: nam: explaining 3 targets ...",
        "jgattr explain: nam: done in ",
    ):
        assert line in captured.err
    assert "train loss" not in captured.out and "wrote" in captured.out
    assert "jgattr explain:" not in captured.out


def test_checkpoint_model_is_a_property(trained):
    from jgattr import load_checkpoint
    from jgattr.models import GCN

    checkpoint = load_checkpoint(trained)
    assert isinstance(checkpoint.model, GCN)
    assert checkpoint.model.num_classes == checkpoint.num_classes == 4


# ---------------------------------------------------------------- where a prediction comes from


def test_niv_and_report_show_the_logit_the_nodes_sum_and_the_rest(run):
    from jgattr.attribution import Attributions
    from jgattr.jobs import write_report

    out, common = run
    assert main(["explain", *common, "--methods", "nam", "--targets", "300"]) == 0
    assert main(["niv", *common, "--node", "300"]) == 0
    record = json.loads((out / "niv_300.json").read_text())
    nam = Attributions.load(out / "attributions_nam")
    (budget,) = [b for b in record["budgets"] if b["method"] == "nam"]
    assert budget["value"] == pytest.approx(float(nam.logits[0]), rel=1e-5)
    assert budget["nodes"] == pytest.approx(float(nam.values.sum()), rel=1e-4, abs=1e-5)
    assert budget["rest"] == pytest.approx(budget["value"] - budget["nodes"])
    assert budget["rest_is"] == "biases" and budget["quantity"] == "logit"
    report = write_report(out).read_text()
    assert "| method | quantity | at the target | Σ node relevances | rest | rest is |" in report
    assert f"| nam | logit | {budget['value']:+.4g} |".replace("-", "−") in report


def test_subgraph_figure_says_where_the_prediction_comes_from(run, monkeypatch):
    import jgattr.viz

    _, common = run
    drawn = []
    real = jgattr.viz.save_figure
    monkeypatch.setattr(
        jgattr.viz, "save_figure", lambda fig, path: (drawn.append(fig), real(fig, path))[1]
    )
    args = ["subgraph", *common, "--node", "300", "--edge-method", "edge_saliency"]
    assert main([*args, "--node-method", "nam"]) == 0
    (text,) = [t.get_text() for t in drawn[0].texts if t.get_gid() == "subgraph-budget"]
    assert text.startswith("nam: logit +") and " = nodes " in text and " + biases " in text
