"""report.md explains itself; the evaluate job's figures and default NIV node (no model trained)."""

import json
import re

import numpy as np
import pytest

from jgattr._config import default_config, replace
from jgattr.jobs import write_report
from jgattr.jobs._evaluate import _curve_figures
from jgattr.jobs._niv import default_niv_nodes
from jgattr.jobs._report import compile_cell

LEVELS = [0.0, 0.5, 1.0]


def _node_metrics(auc: float) -> dict:
    return {
        "level": "node",
        "deletion_accuracy": [0.9, 0.5, 0.1],
        "deletion_auc": auc,
        "reverse_deletion_accuracy": [0.9, 0.8, 0.1],
        "reverse_deletion_auc": 0.6,
        "probability_change_keep_top": [-0.7, -0.2, 0.0],
        "probability_change_auc": -0.2,
        "fidelity_plus": 0.7,
        "fidelity_minus": 0.3,
        "minimal_patch_probability_change": -0.1,
        "sparsity": 0.5,
        "contrastivity": 0.8,
        "delta": {"max_abs": None, "mean_abs": None},
    }


def _accuracy(node_auc: float | None) -> dict:
    return {
        "node_auc": node_auc,
        "edge_auc": 0.9,
        "node_auc_signed": node_auc,
        "edge_auc_signed": 0.6,
        "targets_scored": 34,
    }


def _explain_stats(compile_seconds: float, programs: int | None) -> dict:
    stats = {
        "targets": 70,
        "seconds": 1.5,
        "compile_seconds": compile_seconds,
        "path": "general",
        "max_abs_delta": None,
    }
    if programs is not None:
        stats["programs_compiled"] = programs
    return stats


def _run_folder(tmp_path, *, truth=True, hops=3, programs=(2, 0, 0, 1)):
    methods = ["saliency", "nam", "edge_integrated_gradients", "edge_saliency"]
    (tmp_path / "train.json").write_text(
        json.dumps(
            {
                "dataset": "ba-shapes",
                "seed": 0,
                "epochs": 10,
                "accuracy": {"train": 1.0, "val": 0.9, "test": 0.95},
                "model": {"num_layers": hops, "hidden_size": 20},
            }
        )
    )
    explained = {
        name: _explain_stats(0.5 if p else 0.0, p)
        for name, p in zip(methods, programs, strict=True)
    }
    (tmp_path / "explain.json").write_text(json.dumps({"methods": explained}))
    node = {"saliency": _node_metrics(0.12), "nam": _node_metrics(0.25)}
    edge = {"edge_integrated_gradients": {"level": "edge"}, "edge_saliency": {"level": "edge"}}
    if truth:
        for name in node:
            node[name]["explanation_accuracy"] = _accuracy(0.99)
        for name in edge:
            edge[name]["explanation_accuracy"] = _accuracy(None)
    metrics = {
        "dataset": "ba-shapes",
        "mode": "remove",
        "levels": LEVELS,
        "targets": 70,
        "num_hops": hops,
        "random": {
            "seeds": [0, 1],
            "deletion_accuracy": [[0.9, 0.6, 0.1]] * 2,
            "deletion_auc": 0.55,
        },
        "methods": node | edge,
        "figures": [str(tmp_path / "deletion_curves.png"), str(tmp_path / "deletion_curves.svg")],
    }
    (tmp_path / "eval.json").write_text(json.dumps(metrics))
    (tmp_path / "niv_408.png").write_bytes(b"")
    return metrics


def _report(tmp_path, **kw) -> str:
    _run_folder(tmp_path, **kw)
    return write_report(tmp_path).read_text()


def _table(report: str, header_start: str) -> list[list[str]]:
    lines = report.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return [rows[0], *rows[2:]]


def _legend(report: str) -> dict[str, str]:
    """``*name*: meaning`` legend lines by name."""
    return dict(re.findall(r"^- \*([^*]+)\*: (.*)$", report, flags=re.MULTILINE))


def test_every_metric_column_has_a_meaning_and_a_better_direction(tmp_path):
    report = _report(tmp_path)
    legend = _legend(report)
    for header_start in ("| method | scores", "| method | deletion AUC", "| method | node AUC"):
        header = _table(report, header_start)[0]
        for column in header[1:]:
            name = column.removesuffix(" ↑").removesuffix(" ↓")
            if name in ("scores", "node AUC (signed)", "edge AUC (signed)", "edge scores from"):
                continue  # explained together with their neighbours below
            assert name in legend, name
            if column.endswith(("↑", "↓")):
                assert re.search(r"(lower|higher) = ", legend[name]), name
    assert "(signed)" in legend and "edge scores from" in legend["edge AUC"]
    faithfulness = _legend(report)["deletion AUC"]
    assert "lower = more faithful" in faithfulness and "random order: 0.5500" in faithfulness
    assert "negative when dropping the rest lowers p" in legend["prob. change AUC"]


def test_compile_time_says_cached_when_no_program_was_compiled(tmp_path):
    rows = {r[0]: r for r in _table(_report(tmp_path), "| method | scores")[1:]}
    header = _table(_report(tmp_path), "| method | scores")[0]
    column = header.index("compile s")
    assert rows["saliency"][column] == "0.5 (2 programs)"
    assert rows["nam"][column] == "cached"
    assert rows["edge_saliency"][column] == "0.5 (1 program)"
    assert "*cached* when every program came from the compilation cache" in _report(tmp_path)


def test_compile_time_without_a_program_count_keeps_the_seconds():
    assert compile_cell({"compile_seconds": 0.0}) == "0.0"
    assert compile_cell({"compile_seconds": 1.25}) == "1.25"
    assert compile_cell({"compile_seconds": 0.0, "programs_compiled": 0}) == "cached"


@pytest.mark.parametrize("truth", [True, False])
def test_edge_methods_are_in_every_table_or_explained(tmp_path, truth):
    report = _report(tmp_path, truth=truth)
    explain = {r[0]: r for r in _table(report, "| method | scores")[1:]}
    assert explain["edge_saliency"][1] == "edges" and explain["nam"][1] == "nodes"
    faithful = {r[0]: r[1:] for r in _table(report, "| method | deletion AUC")[1:]}
    assert set(faithful) == {"saliency", "nam", "edge_integrated_gradients", "edge_saliency"}
    assert set(faithful["edge_saliency"]) == {"—¹"}
    footnote = next(line for line in report.splitlines() if line.startswith("- ¹"))
    assert "edge_integrated_gradients, edge_saliency score edges, not nodes" in footnote
    assert "no edge deletion for them" in footnote
    assert "## Faithfulness of edge methods" not in report
    if truth:
        accuracy = {r[0]: r for r in _table(report, "| method | node AUC")[1:]}
        assert set(accuracy) == set(faithful)
        assert accuracy["edge_saliency"][1] == "—³"
        assert accuracy["edge_saliency"][5] == "own edge scores"
        assert accuracy["nam"][5] == "mean of endpoints' node scores"
        assert "next table" in footnote
    else:
        assert "no ground truth" in footnote and "Explanation accuracy" not in report
    assert "Edge methods are not drawn (they score edges)" in report


def test_unsigned_method_has_no_minimal_patch(tmp_path):
    report = _report(tmp_path)
    header, *rows = _table(report, "| method | deletion AUC")
    column = header.index("minimal patch Δp ↑")
    assert {r[0]: r[column] for r in rows}["saliency"] == "n/a²"
    assert {r[0]: r[column] for r in rows}["nam"] == "-0.1000"
    assert any(
        line.startswith("- ² saliency scores are magnitudes") for line in report.splitlines()
    )


@pytest.mark.parametrize("hops", [2, 3])
def test_hop_count_comes_from_the_model(tmp_path, hops, monkeypatch):
    import jgattr.viz

    report = _report(tmp_path, hops=hops)
    assert f"each target's {hops}-hop neighbours are deleted" in report
    assert f"fraction of each target's {hops}-hop neighbours is deleted" in report
    drawn = []
    monkeypatch.setattr(jgattr.viz, "save_figure", lambda fig, path: drawn.append(fig) or [path])
    metrics = json.loads((tmp_path / "eval.json").read_text())
    _curve_figures(metrics, tmp_path)
    deletion, change = (fig.axes[0] for fig in drawn)
    assert deletion.get_xlabel() == (
        f"fraction of each target's {hops}-hop neighbours deleted (most relevant first)"
    )
    assert change.get_xlabel().startswith(f"fraction of each target's {hops}-hop neighbours kept")
    for fig in drawn:  # the edge methods are named, with the reason they are not plotted
        assert fig.get_supxlabel() == (
            "Not shown: edge_integrated_gradients, edge_saliency "
            "(no deletion curves in this eval.json)."
        )
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert "nam" in labels and "edge_saliency" not in labels


def test_curve_figures_without_hop_count_do_not_guess(tmp_path, monkeypatch):
    import jgattr.viz

    metrics = _run_folder(tmp_path)
    del metrics["num_hops"]
    drawn = []
    monkeypatch.setattr(jgattr.viz, "save_figure", lambda fig, path: drawn.append(fig) or [path])
    _curve_figures(metrics, tmp_path)
    assert "-hop" not in drawn[0].axes[0].get_xlabel()


# --- default NIV node ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ba_shapes():
    from jgattr.data import synthetic_dataset

    return synthetic_dataset("ba-shapes")


def test_default_niv_node_is_a_motif_node_on_synthetic_benchmarks(ba_shapes):
    config = default_config()
    targets = np.flatnonzero(ba_shapes.test_mask)
    base_first = targets[np.argsort(ba_shapes.ground_truth.motif_id[targets] >= 0, kind="stable")]
    assert ba_shapes.ground_truth.motif_id[base_first[0]] < 0  # the first target is a base node
    (node,) = default_niv_nodes(config, ba_shapes, base_first)
    assert ba_shapes.ground_truth.motif_id[node] >= 0


def test_default_niv_node_prefers_a_correctly_classified_motif(ba_shapes):
    truth = ba_shapes.ground_truth
    motif_nodes = np.flatnonzero(truth.node_mask)
    first, second = motif_nodes[0], motif_nodes[truth.motif_id[motif_nodes] == 1][0]
    predicted = ba_shapes.labels.copy()
    predicted[truth.motif_id == 0] = 0  # the model gets the whole first house wrong
    config = default_config()
    assert default_niv_nodes(config, ba_shapes, [first, second], predicted=predicted) == (second,)
    assert default_niv_nodes(config, ba_shapes, [first, second]) == (first,)


def test_default_niv_node_follows_the_config_and_real_data(ba_shapes, real_cora):
    config = replace(default_config(), "evaluate", niv_nodes=(5, 9))
    assert default_niv_nodes(config, ba_shapes, [400]) == (5, 9)
    assert default_niv_nodes(default_config(), real_cora, [1358, 1]) == (1358,)
    with pytest.raises(ValueError, match="targets"):
        default_niv_nodes(default_config(), real_cora, [])


def test_a_method_that_misses_completeness_gets_a_sentence(tmp_path):
    _run_folder(tmp_path)
    explained = json.loads((tmp_path / "explain.json").read_text())
    gaps = {"completeness_tolerance": 0.01, "max_relative_delta": 0.111}
    explained["methods"]["nam"] |= gaps | {"completeness_misses": 3}
    explained["methods"]["saliency"] |= gaps | {"completeness_misses": 0}
    (tmp_path / "explain.json").write_text(json.dumps(explained))
    report = write_report(tmp_path).read_text()
    assert (
        "**nam misses completeness**: on 3 of 70 targets the relevances miss f(x) − f(baseline) by "
        "more than 1% of it (worst 11.1%)"
    ) in report
    assert "saliency misses" not in report


def test_edge_methods_with_edge_deletion_get_their_own_table_and_figures(tmp_path, monkeypatch):
    import jgattr.viz

    metrics = _run_folder(tmp_path)
    for name, auc in (("edge_integrated_gradients", 0.2), ("edge_saliency", 0.3)):
        metrics["methods"][name] |= _node_metrics(auc) | {"level": "edge", "deletes": "edges"}
        del metrics["methods"][name]["contrastivity"]
    metrics["random_edges"] = metrics["random"] | {"deletion_auc": 0.61}
    metrics["edges_mean"] = 12.25
    (tmp_path / "eval.json").write_text(json.dumps(metrics))
    report = write_report(tmp_path).read_text()
    nodes = {r[0] for r in _table(report, "| method | deletion AUC")[1:]}
    assert nodes == {"saliency", "nam"} and "- ¹" not in report
    section = report[report.index("## Faithfulness of edge methods") :]
    header, *rows = _table(section, "| method | deletion AUC")
    edge = {r[0]: dict(zip(header[1:], r[1:], strict=True)) for r in rows}
    assert set(edge) == {"edge_integrated_gradients", "edge_saliency"}
    assert edge["edge_saliency"]["deletion AUC ↓"] == "0.3000"
    assert edge["edge_saliency"]["contrastivity ↑"] == "—"
    assert "edges into a node within 2 hops (mean 12.2 per target" in section
    assert "random edge order reaches deletion AUC 0.6100" in section
    drawn = []
    monkeypatch.setattr(
        jgattr.viz, "save_figure", lambda fig, path: drawn.append((path.name, fig)) or [path]
    )
    _curve_figures(metrics, tmp_path)
    assert [name for name, _ in drawn] == [
        "deletion_curves",
        "probability_change",
        "edge_deletion_curves",
        "edge_probability_change",
    ]
    edge_figure = dict(drawn)["edge_deletion_curves"]
    labels = [t.get_text() for t in edge_figure.axes[0].get_legend().get_texts()]
    assert labels == ["random", "edge_integrated_gradients", "edge_saliency"]
    assert edge_figure.get_supxlabel() == "Not shown: saliency, nam (in deletion_curves)."
