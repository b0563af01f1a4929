"""Bad user data gets one named error, from the library and from the CLI.

Each case is a ``.npz`` a user could plausibly hand to jgattr. The library must raise a
``ValueError`` (``DataError`` for file contents) whose message names the field, the value and the
fix; ``jgattr run`` must exit with status 2, print that message as one line on stderr (no
traceback) and leave the output folder exactly as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import pytest

from jgattr import ModelConfig, TrainConfig, build_model, train
from jgattr.cli import main
from jgattr.data import DataError, load_dataset

NUM_NODES = 6


def _fields(**changes: np.ndarray) -> dict[str, np.ndarray]:
    """A valid 6-node, 3-class graph (a path), with ``changes`` applied."""
    fields = {
        "edge_index": np.array([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]]),
        "features": np.eye(NUM_NODES, 4, dtype=np.float32) + 0.5,
        "labels": np.array([0, 1, 2, 0, 1, 2]),
        "train_mask": np.array([1, 1, 1, 0, 0, 0], dtype=bool),
        "val_mask": np.array([0, 0, 0, 1, 1, 0], dtype=bool),
        "test_mask": np.array([0, 0, 0, 0, 0, 1], dtype=bool),
    }
    return {**fields, **changes}


def _savez(**changes: np.ndarray) -> Callable[[Path], None]:
    return lambda path: np.savez(path, **_fields(**changes))


def _text(path: Path) -> None:
    path.write_text("node,label\n0,1\n1,0\n")  # a CSV saved under the wrong name


@dataclasses.dataclass(frozen=True)
class Case:
    """A bad input: how to write it, the error class, and what the message must say."""

    write: Callable[[Path], None]
    error: type[Exception]
    says: tuple[str, ...]


STRAY = 10**6
CASES = {
    "features-without-columns": Case(
        _savez(features=np.zeros((NUM_NODES, 0), dtype=np.float32)),
        DataError,
        ("field 'features'", "F >= 1", "got (6, 0)", "numpy.ones((6, 1))"),
    ),
    "stray-label": Case(
        _savez(labels=np.array([0, 1, 2, 0, STRAY, 2])),
        DataError,
        (
            f"labels[4] = {STRAY}",
            f"{STRAY + 1} classes",
            f"only 4 distinct class ids are used (0, 1, 2, {STRAY})",
            "fix labels[4]",
            f"num_classes = {STRAY + 1}",
        ),
    ),
    "text-file": Case(
        _text,
        DataError,
        ("not a valid .npz file", "zip archive", "b'node,lab'", "numpy.savez"),
    ),
    "empty-train-mask": Case(
        _savez(train_mask=np.zeros(NUM_NODES, dtype=bool)),
        ValueError,
        ("train_mask", "selects no node (0 of 6)", "mark the training nodes in train_mask"),
    ),
}


def _library_call(path: Path) -> None:
    """What ``jgattr run`` does first: load the dataset, then train on it."""
    dataset = load_dataset(path)
    model = build_model(ModelConfig(hidden_size=4), dataset.num_classes)
    train(model, dataset, TrainConfig(epochs=2, early_stopping=0), key=jax.random.key(0))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_library_names_the_problem(tmp_path: Path, case: Case) -> None:
    path = tmp_path / "graph.npz"
    case.write(path)
    with pytest.raises(case.error) as info:
        _library_call(path)
    message = str(info.value)
    for fragment in case.says:
        assert fragment in message
    if case.error is DataError:
        assert message.startswith(f"{path}: ")


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every result file's bytes (the run folder's lock file, which jobs leave behind, aside)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".jgattr.lock"
    }


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_cli_exits_2_with_one_line_and_leaves_the_output_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: Case
) -> None:
    data = tmp_path / "graph.npz"
    case.write(data)
    config = tmp_path / "bad.toml"
    config.write_text(f'[data]\nname = "{data.as_posix()}"\n\n[train]\nepochs = 2\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.json").write_text('{"from": "an earlier run"}')
    before = _snapshot(out)

    code = main(["run", "--config", str(config), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 2
    errors = [line for line in captured.err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and captured.err.endswith(errors[0] + "\n"), captured.err
    assert errors[0].startswith("jgattr run: error: ") and "Traceback" not in captured.err
    for fragment in case.says:
        assert fragment in captured.err
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "graph.npz", "out"]
