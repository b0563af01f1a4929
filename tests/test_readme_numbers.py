"""Every measured table of the README and of docs/benchmarks.md comes from a command: the tables
are checked against the JSON files they name, on the page that holds them, and the cheap ones
(BA-2Motifs, BA-Shapes) are rerun (slow tests)."""

import importlib.util
import json
import re
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
    logits = json.loads((RESULTS / "peers.json").read_text())["max_abs_logit_difference"]
    (shown,) = re.findall(r"logits within ([\d.e-]+)\)", README)
    assert _shows(shown, logits), (shown, logits)


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


@pytest.mark.slow  # `jgattr run` on BA-2Motifs (about 70 s quiet)
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


@pytest.mark.slow  # ground_truth.py on BA-Shapes
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
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))  # "\|" is a pipe in a cell
        rows.append([cell.strip() for cell in cells])
    return rows


def _shows(cell: str, value: float) -> bool:
    """Whether ``cell`` (``**3,760**``, ``326x``, ``+0.036``, ``2.2e-7``) is ``value`` rounded to
    the digits it shows."""
    text = cell.replace("*", "").replace(",", "").removesuffix("x").removeprefix("+")
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    unit = 10.0 ** (int(exponent or 0) - decimals)
    return abs(float(text) - value) <= 0.5 * unit * (1 + 1e-9) + 1e-12


def _pair(cell: str) -> list[str]:
    """``"0.0149 (0.0073)"`` -> ``["0.0149", "0.0073"]``; ``"445 (20 measured, ...)"`` -> the
    first number only."""
    first, _, rest = cell.partition(" (")
    second = rest.removesuffix(")")
    return [first, second] if second and " " not in second else [first]


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


def test_docs_attribution_table_is_the_attribution_json():
    results = json.loads((RESULTS / "attribution_cpu_2core.json").read_text())["results"]
    rows = _table("| dataset (targets) | method")
    assert len(rows) == 4 * len(results) == 12
    for i, run in enumerate(results):
        group = rows[4 * i : 4 * i + 4]
        for cells, key in zip(group, ("nam", "ig", "sig_lid_ig"), strict=False):
            m = run["methods"][key]
            engine = [m["engine"]["seconds"], m["engine"]["cached_union_seconds"]]
            _check_row(_pair(cells[2]), engine)
            _check_row(
                [_pair(cells[3])[0], cells[4]], [m["per_target_loop"]["seconds"], m["speedup"]]
            )
        three = run["all_three_methods"]
        _check_row(_pair(group[3][2]), [three["seconds"], three["cached_union_seconds"]])


def test_docs_pyg_models_table_is_the_peers_pyg_json():
    models = json.loads((RESULTS / "peers_pyg.json").read_text())["models"]
    rows = _table("| PyG model (test acc.)")
    order = [(name, method) for name in ("gcn", "gat", "gin", "sage") for method in
             ("saliency", "nam", "ig")]  # fmt: skip
    assert len(rows) == len(order) == 12
    for cells, (name, method) in zip(rows, order, strict=True):
        if cells[0]:
            assert _shows(_pair(cells[0])[1], models[name]["test_accuracy"]), cells
        m = models[name]["methods"][method]
        assert cells[2] == method
        jgattr = m["jgattr"]
        _check_row(
            [*_pair(cells[3]), cells[4], *_pair(cells[5]), *_pair(cells[6])],
            [
                m["max_relative_difference"], m["median_relative_difference"],
                m["captum_seconds_per_target"], jgattr["cold_seconds_per_target"],
                jgattr["warm_seconds_per_target"], m["speed_ratio_cold"], m["speed_ratio_warm"],
            ],
        )  # fmt: skip


def test_docs_gnn_explainer_and_graph_methods_tables_are_their_json():
    results = json.loads((RESULTS / "gnn_explainer_cpu_2core.json").read_text())["results"]
    for cells in _table("| node mask | jgattr"):
        r = results[cells[0]]
        loop, _, faster = cells[3].partition(" (batched ")
        values = [r["engine"]["seconds"], r["engine"]["compile_seconds"]]
        _check_row([c.removesuffix(" s") for c in cells[1:3]], values)
        _check_row([loop.removesuffix(" s"), faster.removesuffix("x faster)")],
                   [r["per_target_loop"]["seconds"], r["speedup_vs_loop"]])  # fmt: skip
        assert _shows(cells[4].removesuffix(" s"), r["pyg_2_8_1_seconds"])
    methods = json.loads((RESULTS / "graph_methods_cpu_2core.json").read_text())["methods"]
    rows = _table("| method | 1000 graphs, one run")
    assert len(rows) == len(methods) == 9
    for cells in rows:
        m = methods[cells[0].split(" ")[0]]
        engine, loop = m["engine"], m["per_graph_loop"]
        _check_row(
            [cells[1], cells[2], *_pair(cells[3]), cells[4]],
            [engine["warm_seconds"], engine["compile_seconds"], loop["seconds"],
             loop["seconds_per_graph"], m["speedup"]],
        )  # fmt: skip


def test_docs_captum_table_is_the_peers_json():
    methods = json.loads((RESULTS / "peers.json").read_text())["methods"]
    rows = _table("| jgattr method | Captum / PyG peer")
    for cells, name in zip(rows, ("saliency", "nam", "ig"), strict=False):
        assert cells[0].startswith(f"`{name}`"), cells
        m = methods[name]
        _check_row(
            [*_pair(cells[2]), cells[3], *_pair(cells[4]), *_pair(cells[5])],
            [
                m["max_relative_difference"], m["median_relative_difference"],
                m["captum_seconds_per_target"], m["jgattr"]["cold_seconds_per_target"],
                m["jgattr"]["warm_seconds_per_target"], m["speed_ratio_cold"],
                m["speed_ratio_warm"],
            ],
        )  # fmt: skip
