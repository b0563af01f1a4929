"""Every measured table of the README comes from a command: the tables are checked against the
JSON files they name, and the cheap ones (BA-2Motifs, BA-Shapes) are rerun (slow tests)."""

import importlib.util
import json
import sys

import numpy as np
import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
RESULTS = REPO / "benchmarks" / "results"


def _script(name: str):
    """A module of ``benchmarks/`` (scripts import their siblings by name)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


def test_readme_explanation_accuracy_rows_are_the_ground_truth_json():
    rows = _script("readme_tables").ground_truth_rows()
    assert len(rows) == 8  # header, rule, six benchmarks
    for row in rows:
        assert row in README, row


def test_readme_accuracy_table_is_the_accuracy_json():
    results = json.loads((RESULTS / "accuracy_cpu_2core.json").read_text())["results"]
    for entry in results:
        cells = (
            f"| `{entry['config']}` |",
            f"| {100 * entry['test_mean']:.2f} ± {100 * entry['test_std']:.2f} | "
            f"{100 * entry['test_min']:.1f} | {entry['epochs_mean']:.0f} |",
        )
        lines = README.splitlines()
        (line,) = [line for line in lines if line.startswith(cells[0]) and " ± " in line]
        assert cells[1] in line, (line, cells[1])


@pytest.mark.slow  # `jgattr run` on BA-2Motifs (about 70 s quiet)
def test_readme_ba2motifs_tables_are_what_jgattr_run_gives(tmp_path):
    """Reruns ``jgattr run --config configs/ba-2motifs.toml`` (about a minute) and checks the
    README's accuracies and both tables against its output."""
    from jgattr.cli import main

    out = tmp_path / "ba-2motifs"
    assert (
        main(["run", "--config", str(REPO / "configs" / "ba-2motifs.toml"), "--out", str(out)]) == 0
    )
    tables = _script("readme_tables")
    assert tables.ba2motifs_accuracy(out) in README.replace("\n", " ")
    for table in tables.ba2motifs_tables(out):
        assert table in README, table


@pytest.mark.slow  # ground_truth.py on BA-Shapes
def test_readme_ba_shapes_column_is_what_ground_truth_py_gives():
    """Reruns ``benchmarks/ground_truth.py`` on BA-Shapes (no GNNExplainer, whose rows come from
    its own JSON) and checks the JSON, hence the README's BA-Shapes column, against it."""
    ground_truth = _script("ground_truth")
    methods = ["saliency", "nam", "ig", "sig_lid_ig", "edge_ig", "edge_saliency"]
    fresh = ground_truth._benchmark("ba-shapes", methods, 1, False)
    runs = json.loads((RESULTS / "ground_truth_cpu_2core.json").read_text())["results"]
    (recorded,) = [r for r in runs if r["dataset"] == "ba-shapes"]
    assert fresh["accuracy"] == recorded["accuracy"]
    for name, scores in fresh["methods"].items():
        for key in ("node_auc", "edge_auc"):
            want = recorded["methods"][name][key]
            got = scores[key]
            assert (got is None) == (want is None), (name, key)
            if got is not None:
                np.testing.assert_allclose(got, want, atol=5e-4, err_msg=f"{name} {key}")


@pytest.mark.parametrize("name", ["accuracy", "general_path", "ground_truth", "evaluation"])
def test_readme_names_the_json_beside_each_benchmark_table(name):
    assert f"benchmarks/results/{name}_cpu_2core.json" in README.replace("\n", " ")
