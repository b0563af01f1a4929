"""Every measured table of the README and of docs/benchmarks.md comes from a command: the tables
are checked against the JSON files they name, on the page that holds them, and the cheap ones
(BA-2Motifs, BA-Shapes) are rerun (slow tests)."""

import importlib.util
import json
import sys

import numpy as np
import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
BENCHMARKS = (REPO / "docs" / "benchmarks.md").read_text()  # every other measured table
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


def test_readme_captum_table_is_the_peers_json():
    rows = _script("readme_tables").peers_rows()
    assert len(rows) == 5  # header, rule, three methods
    for row in rows:
        assert row in README, row
    assert "benchmarks/results/peers.json" in README


def test_docs_explanation_accuracy_rows_are_the_ground_truth_json():
    rows = _script("readme_tables").ground_truth_rows()
    assert len(rows) == 8  # header, rule, six benchmarks
    for row in rows:
        assert row in BENCHMARKS, row


def test_docs_accuracy_table_is_the_accuracy_json():
    results = json.loads((RESULTS / "accuracy_cpu_2core.json").read_text())["results"]
    for entry in results:
        cells = (
            f"| `{entry['config']}` |",
            f"| {100 * entry['test_mean']:.2f} ± {100 * entry['test_std']:.2f} | "
            f"{100 * entry['test_min']:.1f} | {entry['epochs_mean']:.0f} |",
        )
        lines = BENCHMARKS.splitlines()
        (line,) = [line for line in lines if line.startswith(cells[0]) and " ± " in line]
        assert cells[1] in line, (line, cells[1])


def test_readme_ba2motifs_tables_are_what_jgattr_run_gives(tmp_path):
    """Reruns ``jgattr run --config configs/ba-2motifs.toml`` (about a minute) and checks the
    accuracies and both tables of docs/benchmarks.md against its output."""
    from jgattr.cli import main

    out = tmp_path / "ba-2motifs"
    assert (
        main(["run", "--config", str(REPO / "configs" / "ba-2motifs.toml"), "--out", str(out)]) == 0
    )
    tables = _script("readme_tables")
    assert tables.ba2motifs_accuracy(out) in BENCHMARKS.replace("\n", " ")
    for table in tables.ba2motifs_tables(out):
        assert table in BENCHMARKS, table


def test_readme_ba_shapes_column_is_what_ground_truth_py_gives():
    """Reruns ``benchmarks/ground_truth.py`` on BA-Shapes (no GNNExplainer, whose rows come from
    its own JSON) and checks the JSON, hence the BA-Shapes column of docs/benchmarks.md, against
    it."""
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


@pytest.mark.parametrize(
    "name",
    [
        "accuracy_cpu_2core",
        "attribution_cpu_2core",
        "scale_cpu_2core",
        "general_path_cpu_2core",
        "ground_truth_cpu_2core",
        "gnn_explainer_cpu_2core",
        "evaluation_cpu_2core",
        "graph_methods_cpu_2core",
        "peers",
        "peers_pyg",
    ],
)
def test_docs_name_the_json_beside_each_benchmark_table(name):
    text = BENCHMARKS.replace("\n", " ").replace("benchmarks/results/ ", "benchmarks/results/")
    assert f"benchmarks/results/{name}.json" in text, name
    assert (RESULTS / f"{name}.json").is_file(), name


def _table(header: str) -> list[list[str]]:
    """The cells of the docs/benchmarks.md table whose header line starts with ``header``."""
    lines = BENCHMARKS.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _shows(cell: str, value: float) -> bool:
    """Whether ``cell`` (``**3,760**``, ``326x``, ``+0.036``) is ``value`` rounded to the digits
    it shows."""
    text = cell.replace("*", "").replace(",", "").removesuffix("x").removeprefix("+")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text) - value) <= 0.5 * 10**-decimals + 1e-9


def _check_row(cells: list[str], values: list[float]) -> None:
    for cell, value in zip(cells, values, strict=True):
        assert _shows(cell, value), (cells, cell, value)


def test_docs_evaluation_table_is_the_evaluation_json():
    table = json.loads((RESULTS / "evaluation_cpu_2core.json").read_text())["table"]
    rows = {row[0]: row[1:] for row in _table("| method | deletion AUC")}
    assert _shows(rows.pop("random order")[0], table["random"]["deletion_auc"])
    keys = {
        "saliency": "saliency", "NAM": "nam", "IG (50 steps)": "integrated_gradients",
        "LID-IG": "lid_ig", "SIG-LID-Taylor": "sig_lid_taylor", "SIG-LID-IG": "sig_lid_ig",
    }  # fmt: skip
    assert set(rows) == set(keys)
    for label, cells in rows.items():
        t = table[keys[label]]
        fields = ("deletion_auc", "fidelity_plus", "fidelity_minus")
        _check_row(cells, [*(t[f] for f in fields), t["minimal_patch_probability_change"]])


def test_docs_scale_table_is_the_scale_json():
    runs = json.loads((RESULTS / "scale_cpu_2core.json").read_text())["runs"]
    rows = _table("| N | method | warm s")
    assert len(rows) == len(runs) == 6
    for cells, run in zip(rows, runs, strict=True):
        assert cells[1].lower().startswith(run["method"])
        fields = ("warm_seconds", "warm_cpu_seconds", "prep_seconds", "compile_seconds")
        values = [run[f] for f in fields] + [run["peak_rss_mb"], run["pairs"]]
        _check_row(cells[2:], [*values, run["bytes_on_disk"] / 1e6, run["blocks"]])


def test_docs_general_path_table_is_the_general_path_json():
    results = json.loads((RESULTS / "general_path_cpu_2core.json").read_text())["results"]
    order = ("nam/general", "nam/fast", "ig/general", "ig/fast")
    runs = [r["methods"][key] for r in results for key in order if key in r["methods"]]
    rows = _table("| model | method, path")
    assert len(rows) == len(runs) == 10
    for cells, run in zip(rows, runs, strict=True):
        engine, loop = run["engine"], run["per_target_loop"]
        values = [engine["seconds"], engine["compile_seconds"], loop["seconds"], run["speedup"]]
        _check_row(cells[2:], values)
