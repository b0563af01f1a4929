"""The jgattr command line: help for every command, a smoke run, clear errors."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jgattr.cli import main
from tests.conftest import REPO

COMMANDS = ["train", "explain", "evaluate", "niv", "run"]


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


def test_top_level_help_says_what_jgattr_is_and_lists_methods_and_datasets(capsys):
    from jgattr._names import DATASET_NAMES, METHOD_ALIASES, METHOD_NAMES

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "explains graph neural network predictions" in out
    assert "configured GCN" not in out
    words = set(re.findall(r"[\w:<>-]+", out))
    missing = [n for n in (*METHOD_NAMES, *METHOD_ALIASES, *DATASET_NAMES) if n not in words]
    assert not missing, missing
    assert {"powerlaw:<N>", "tu:<NAME>"} <= words


def test_version_comes_from_the_package_metadata(capsys):
    import importlib.metadata

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"jgattr {importlib.metadata.version('jgattr')}"


COMMON = ("--config", "--out", "--data-dir", "--no-verify-checksums")
EXPLAIN = ("--methods", "--targets", "--classes", "--path", "--memory-budget-mb", "--max-host-mb")
OPTIONS = {  # each command lists exactly the options it uses
    "train": (*COMMON, "--seed", "--epochs", "--overwrite"),
    "explain": (*COMMON, "--checkpoint", *EXPLAIN, "--overwrite", "--distributed"),
    "evaluate": (*COMMON, "--mode"),
    "niv": (*COMMON, "--node", "--graph"),
    "run": (*COMMON, "--seed", "--epochs", *EXPLAIN, "--overwrite", "--distributed"),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_only_its_options(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    listed = set(re.findall(r"^  (--[a-z-]+)", out, re.M))
    assert listed == set(OPTIONS[command])


def test_console_script_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "jgattr.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "usage: jgattr" in result.stdout


@pytest.mark.slow  # trains, explains and evaluates the real Cora
def test_cli_smoke_run(tmp_path, real_planetoid_dir, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "run",
            "--config",
            str(REPO / "configs/test.toml"),
            "--out",
            str(out),
            "--data-dir",
            str(real_planetoid_dir),
            "--epochs",
            "3",
        ]
    )
    assert code == 0
    summary = json.loads((out / "train.json").read_text())
    assert summary["epochs"] == 3 and summary["dataset"] == "cora"
    assert (out / "checkpoint.msgpack").is_file()
    printed = capsys.readouterr().out
    assert str(out / "train.json") in printed and str(out / "explain.json") in printed


def test_cli_explain_writes_results_and_explain_json(tmp_path, real_planetoid_dir, capsys):
    from jgattr.attribution import Attributions

    out = tmp_path / "run"
    common = ["--config", str(REPO / "configs/test.toml"), "--data-dir", str(real_planetoid_dir)]
    assert main(["train", *common, "--out", str(out)]) == 0
    code = main(
        [
            "explain",
            *common,
            "--checkpoint",
            str(out),
            "--out",
            str(out / "explained"),
            "--methods",
            "nam,ig,sig-lid-ig",
            "--targets",
            "test",
        ]
    )
    assert code == 0
    summary = json.loads((out / "explained" / "explain.json").read_text())
    assert set(summary["methods"]) == {"nam", "integrated_gradients", "sig_lid_ig"}
    for name, stats in summary["methods"].items():
        for key in (
            "targets",
            "seconds",
            "compile_seconds",
            "peak_rss_mb",
            "max_abs_delta",
            "mean_abs_delta",
        ):
            assert key in stats
        assert stats["targets"] == 1000
        result = Attributions.load(stats["file"])
        assert result.method == name and result.num_targets == 1000
    assert summary["methods"]["integrated_gradients"]["max_abs_delta"] < 0.05
    assert summary["methods"]["nam"]["max_abs_delta"] is None  # NAM has no completeness identity
    assert not (out / "explained" / "parts").exists()
    printed = capsys.readouterr().out
    assert "explain.json" in printed and "1000 targets" in printed


@pytest.mark.slow  # the real Cora end to end
def test_cli_run_trains_explains_evaluates_and_reports(tmp_path, real_planetoid_dir, capsys):
    out = tmp_path / "main"
    code = main(
        [
            "run",
            "--config",
            str(REPO / "configs/test.toml"),
            "--out",
            str(out),
            "--data-dir",
            str(real_planetoid_dir),
            "--methods",
            "nam,sig-lid-ig",
            "--targets",
            "1358,7,100",
        ]
    )
    assert code == 0
    summary = json.loads((out / "explain.json").read_text())
    assert summary["methods"]["nam"]["targets"] == 3
    metrics = json.loads((out / "eval.json").read_text())
    assert metrics["targets"] == 3 and len(metrics["levels"]) == 11
    assert set(metrics["methods"]) == {"nam", "sig_lid_ig"}
    for name in ("deletion_curves", "probability_change", "niv_1358"):
        assert (out / f"{name}.png").stat().st_size > 1000
        assert (out / f"{name}.svg").is_file()
    report = (out / "report.md").read_text()
    assert "| nam |" in report and "deletion_curves.png" in report and "niv_1358.png" in report
    assert 0.0 <= metrics["methods"]["nam"]["contrastivity"] <= 1.0
    printed = capsys.readouterr().out
    assert f"report: {out / 'report.md'}" in printed


@pytest.mark.slow  # trains the real Cora first
def test_cli_evaluate_and_niv_on_a_trained_run(tmp_path, real_planetoid_dir, capsys):
    out = tmp_path / "e"
    common = ["--config", str(REPO / "configs/test.toml"), "--data-dir", str(real_planetoid_dir)]
    assert main(["train", *common, "--out", str(out)]) == 0
    assert main(["evaluate", *common, "--out", str(out), "--mode", "zero"]) == 0
    metrics = json.loads((out / "eval.json").read_text())
    assert metrics["mode"] == "zero" and metrics["targets"] == 1000
    assert main(["niv", *common, "--out", str(out), "--node", "42"]) == 0
    assert (out / "niv_42.png").is_file()
    capsys.readouterr()
    assert main(["niv", *common, "--out", str(out), "--node", "5000"]) == 2
    assert "node must be in [0, 2708)" in capsys.readouterr().err


def test_cli_explain_errors_are_clean(tmp_path, real_planetoid_dir, capsys):
    common = ["--config", str(REPO / "configs/test.toml"), "--data-dir", str(real_planetoid_dir)]
    code = main(["explain", *common, "--out", str(tmp_path / "none")])
    assert code == 2 and "no checkpoint" in capsys.readouterr().err
    main(["train", *common, "--out", str(tmp_path / "t")])
    capsys.readouterr()
    code = main(["explain", *common, "--out", str(tmp_path / "t"), "--methods", "shap"])
    err = capsys.readouterr().err
    assert code == 2 and "method must be one of" in err and "'shap'" in err
    code = main(["explain", *common, "--out", str(tmp_path / "t"), "--targets", "99999"])
    assert code == 2 and "targets must be node ids in [0, 2708)" in capsys.readouterr().err


def test_cli_without_config_runs_offline_on_ba_shapes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JGATTR_DATA_DIR", str(tmp_path / "empty"))  # no Planetoid files needed
    assert main(["run", "--epochs", "30", "--methods", "nam,saliency"]) == 0
    out = tmp_path / "runs" / "ba-shapes"
    metrics = json.loads((out / "eval.json").read_text())
    assert metrics["dataset"] == "ba-shapes"
    accuracy = metrics["methods"]["saliency"]["explanation_accuracy"]
    assert accuracy["targets_scored"] > 0 and 0.0 <= accuracy["node_auc"] <= 1.0
    assert "Explanation accuracy" in (out / "report.md").read_text()
    assert f"report: {Path('runs/ba-shapes/report.md')}" in capsys.readouterr().out


def test_cli_reports_bad_config_cleanly(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nnum_layers = 0\n")
    code = main(["train", "--config", str(bad), "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "num_layers must be >= 1" in err and "Traceback" not in err
