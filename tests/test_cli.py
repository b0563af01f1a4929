"""The jgattr command line: help for every command, a smoke run, clear errors."""

import json
import subprocess
import sys

import pytest

from jgattr.cli import main
from tests.conftest import REPO

COMMANDS = ["train", "run"]


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_its_options(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--config", "--out", "--data-dir", "--seed"):
        assert option in out


def test_console_script_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "jgattr.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "usage: jgattr" in result.stdout


def test_cli_smoke_run(tmp_path, planetoid_dir, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "run",
            "--config",
            str(REPO / "configs/test.toml"),
            "--out",
            str(out),
            "--data-dir",
            str(planetoid_dir),
            "--epochs",
            "3",
        ]
    )
    assert code == 0
    summary = json.loads((out / "train.json").read_text())
    assert summary["epochs"] == 3 and summary["dataset"] == "cora"
    assert (out / "checkpoint.msgpack").is_file()
    assert str(out / "train.json") in capsys.readouterr().out


def test_cli_reports_bad_config_cleanly(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nnum_layers = 0\n")
    code = main(["train", "--config", str(bad), "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "num_layers must be >= 1" in err and "Traceback" not in err
