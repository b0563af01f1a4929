"""The CLI streams: ``jgattr explain`` writes a result folder per method (one shard per block of
targets, ``[explain] top_k_sources``), and ``evaluate`` scores a seeded sample of the explained
targets read lazily from those folders (``[evaluate] sample``), saying so in the report.

Runs on the offline BA-Shapes graph with a 20-epoch GCN (seconds).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from jgattr.attribution import Attributions, explain, open_shards, result_complete
from jgattr.cli import main
from jgattr.jobs import write_report
from jgattr.jobs._evaluate import scored_targets
from jgattr.jobs._run_folder import load_run
from tests.test_bad_input_cli import TINY

TARGETS = list(range(300, 312))
CONFIG = TINY.replace("targets = [300, 301, 302]", f"targets = {TARGETS}\nEXPLAIN").replace(
    "random_seeds = 1", "random_seeds = 1\nEVALUATE"
)


def _config(folder: Path, explain: str = "", evaluate: str = "") -> Path:
    path = folder / "streamed.toml"
    path.write_text(CONFIG.replace("EXPLAIN", explain).replace("EVALUATE", evaluate))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("streamed")
    assert main(["train", "--config", str(_config(folder)), "--out", str(folder / "run")]) == 0
    return folder / "run"


def test_explain_writes_result_folders_that_equal_the_in_memory_result(trained, tmp_path):
    config = _config(tmp_path, explain="top_k_sources = 3")
    args = ["--config", str(config), "--out", str(trained)]
    assert main(["explain", *args]) == 0
    summary = json.loads((trained / "explain.json").read_text())
    for name in ("nam", "saliency"):
        folder = trained / f"attributions_{name}"
        assert result_complete(folder) and summary["methods"][name]["file"] == str(folder)
        assert not (trained / f"attributions_{name}.npz").exists()
    dataset, model, params = load_run(_load(config), trained, None)
    full = explain(model, params, dataset, methods=["nam"], targets=np.array(TARGETS))["nam"]
    kept = Attributions.load(trained / "attributions_nam")
    np.testing.assert_array_equal(kept.targets, TARGETS)
    for row in range(len(TARGETS)):
        sources, values = kept.for_target(row)
        all_sources, all_values = full.for_target(row)
        assert sources.size == min(3, all_sources.size)
        top = np.sort(np.abs(all_values))[::-1][: sources.size]
        np.testing.assert_allclose(np.sort(np.abs(values))[::-1], top, rtol=1e-6)
    assert not (trained / "parts").exists()  # every block is a shard: no rounds left


def test_evaluate_scores_a_seeded_sample_and_the_report_says_so(trained, tmp_path):
    config = _config(tmp_path, evaluate="sample = 5")
    args = ["--config", str(config), "--out", str(trained)]
    assert main(["explain", *args, "--overwrite"]) == 0
    assert main(["evaluate", *args]) == 0
    first = json.loads((trained / "eval.json").read_text())
    assert (first["targets_scored"], first["targets_explained"]) == (5, len(TARGETS))
    assert first["targets"] == 5
    assert main(["evaluate", *args]) == 0
    again = json.loads((trained / "eval.json").read_text())
    assert again["methods"] == first["methods"]  # the same seeded sample
    report = write_report(trained).read_text()
    assert f"a seeded sample of 5 of the {len(TARGETS)} explained targets" in report


def test_scored_targets_are_a_sorted_seeded_subset():
    explained = np.array([9, 3, 3, 7, 1, 5, 11, 2])
    np.testing.assert_array_equal(scored_targets(explained, "all", 0), [1, 2, 3, 5, 7, 9, 11])
    np.testing.assert_array_equal(scored_targets(explained, 50, 0), [1, 2, 3, 5, 7, 9, 11])
    some = scored_targets(explained, 3, 0)
    assert some.size == 3 and np.all(np.diff(some) > 0) and set(some) <= set(explained)
    np.testing.assert_array_equal(scored_targets(explained, 3, 0), some)
    others = [tuple(scored_targets(explained, 3, seed)) for seed in range(1, 8)]
    assert any(o != tuple(some) for o in others)


@pytest.mark.parametrize(
    ("explain_lines", "evaluate_lines", "needle"),
    [
        ("top_k_sources = 0", "", "[explain] top_k_sources must be >= 1"),
        ("", "sample = 0", "[evaluate] sample must be >= 1"),
        ("", 'sample = "some"', '[evaluate] sample must be "all" or an int'),
    ],
)
def test_bad_streaming_settings_are_named(tmp_path, capsys, explain_lines, evaluate_lines, needle):
    config = _config(tmp_path, explain=explain_lines, evaluate=evaluate_lines)
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def _load(path: Path):
    from jgattr import load_config

    return load_config(path)


def test_a_result_folder_opens_without_reading_its_pairs(trained, tmp_path):
    config = _config(tmp_path)
    assert main(["explain", "--config", str(config), "--out", str(trained), "--overwrite"]) == 0
    view = open_shards(trained / "attributions_nam")
    np.testing.assert_array_equal(view.targets, TARGETS)
    assert isinstance(view.shard(0).values, np.memmap)
