"""The report page of a run folder: ``report.md`` from its JSON files and figures.

Every table is followed by a legend saying what each column means and which way is better, so the
page reads on its own. Every method that ran has a row in every table, or a footnote says why not.
"""

import json
import os
from pathlib import Path

from jgattr._io import atomic_write_bytes
from jgattr.jobs._budget import budget_table
from jgattr.jobs._report_faithfulness import fact, faithfulness_table, neighbours
from jgattr.jobs._report_graphs import graph_figures, pope_table
from jgattr.models import MODELS

EXPLAIN_LEGEND = [
    "- *targets*: {noun}s explained, one ({noun}, explained class) pair each.",
    "- *seconds*: wall time of the method over all targets, compilation included.",
    "- *compile s*: time spent compiling XLA programs for this method; *cached* when every program "
    "came from the compilation cache (compiled for an earlier method or run), so this method paid "
    "none: that time is not free, it was paid earlier.",
    "- *path*: *fast* = the exact closed-form walk sum of a GCN; *general* = automatic "
    "differentiation on each target's padded computation graph.",
    "- *max \\|delta\\|*: largest gap, over targets, between the sum of a target's relevances and "
    "what it should sum to (completeness for IG: f(x) − f(baseline); conservation for the LID "
    "family: Δlogit or Δp); lower = closer to exact; — = the method has no such identity.",
]

ACCURACY_LEGEND = [
    "- *node AUC*: ROC-AUC of \\|node score\\| against the target's own motif nodes, over the "
    "nodes of its computation graph; 0.5 = chance, 1 = every motif node ranked first; higher = "
    "better.",
    "- *edge AUC*: the same for the motif's edges; higher = better. *edge scores from* says "
    "where each row's edge scores come from: node methods score an edge by the mean of its two "
    "endpoints' node scores, edge methods by their own edge scores.",
    "- *(signed)*: the same, ranking by the signed score, positive evidence first; the ground "
    "truth is unsigned, so a low signed AUC with a high unsigned one means the motif was scored "
    "as evidence *against* the class.",
    "- *targets*: motif targets scored (whose computation graph holds motif and other nodes).",
]


def write_report(run: str | os.PathLike) -> Path:
    """``report.md``: accuracy, attribution timings, the metric tables and the figures of a run."""
    run = Path(run)
    read = lambda name: json.loads((run / name).read_text()) if (run / name).is_file() else None
    trained, explained, metrics = read("train.json"), read("explain.json"), read("eval.json")
    lines = [f"# jgattr report: {(trained or metrics or {}).get('dataset', run.name)}", ""]
    if trained:
        lines += _model_line(trained)
    if explained:
        lines += _explain_table(explained, metrics)
    if metrics:
        hops = metrics.get("num_hops") or (trained or {}).get("model", {}).get("num_layers")
        lines += _metrics_tables(metrics, hops)
        lines += _curve_figures(metrics, hops)
    lines += _niv_figures(run, metrics)
    if metrics and metrics.get("target_level") == "graph":
        lines += pope_table(metrics) + graph_figures(run, metrics)
    return atomic_write_bytes(run / "report.md", ("\n".join(lines) + "\n").encode())


def _model_line(trained: dict) -> list[str]:
    acc, model = trained["accuracy"], trained["model"]
    if model.get("source") == "torch":
        return [
            f"{model['name']}, imported from PyTorch Geometric ({model['module']}, weights "
            f"{trained['imported']}, {model['num_layers']} message-passing layers; not trained "
            f"by jgattr): test accuracy {acc['test']:.4f} (train {acc['train']:.4f}, val "
            f"{acc['val']:.4f}).",
            "",
        ]
    entry = MODELS.get(model.get("architecture", "gcn"))
    name = entry.display_name if entry is not None else "GNN"
    layers = model["num_layers"]
    depends = f"each prediction depends on the node's {layers}-hop neighbourhood"
    if trained.get("task") == "graph classification":
        name += " graph classifier"
        depends = f"then a {model.get('readout', 'mean')} readout over each graph's nodes"
    return [
        f"{name} ({layers} layers, {depends}; hidden {model['hidden_size']}), seed "
        f"{trained['seed']}, {_epochs(trained)}: test accuracy {acc['test']:.4f} "
        f"(train {acc['train']:.4f}, val {acc['val']:.4f}{_more_scores(trained)}).",
        "",
    ]


def _epochs(trained: dict) -> str:
    """``"100 epochs"``, or ``"100 epochs run, parameters of epoch 37 kept (lowest val loss)"``."""
    run, kept = trained["epochs"], trained.get("epoch_kept")
    batch = trained.get("settings", {}).get("train", {}).get("batch_size")
    steps = f" of mini-batches of {batch} graphs" if batch else ""
    if kept is None or kept == run:
        return f"{run} epochs{steps}"
    return f"{run} epochs{steps} run, parameters of epoch {kept} kept (lowest validation loss)"


def _more_scores(trained: dict) -> str:
    """The whole-dataset accuracy and ROC-AUCs of mini-batch graph training, if recorded."""
    acc, auc = trained["accuracy"], trained.get("roc_auc") or {}
    text = f", whole dataset {acc['all']:.4f}" if "all" in acc else ""
    order = ("train", "val", "test", "all")
    aucs = [f"{name} {auc[name]:.4f}" for name in order if auc.get(name) is not None]
    return text + (f"; ROC-AUC {', '.join(aucs)}" if aucs else "")


def compile_cell(stats: dict) -> str:
    """The *compile s* cell: ``cached`` when no program was compiled, else the seconds."""
    compiled = stats.get("programs_compiled")
    if compiled is None:  # an explain.json written before the engine counted programs
        return f"{stats['compile_seconds']}"
    if compiled == 0:
        return "cached"
    plural = "" if compiled == 1 else "s"
    return f"{stats['compile_seconds']} ({compiled} program{plural})"


def _level(name: str, metrics: dict | None) -> str:
    return fact(name, metrics, "level")


def _explain_table(explained: dict, metrics: dict | None) -> list[str]:
    lines = [
        "## Attributions",
        "",
        "| method | scores | targets | seconds | compile s | path | max \\|delta\\| ↓ |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in explained["methods"].items():
        delta = "—" if s["max_abs_delta"] is None else f"{s['max_abs_delta']:.2e}"
        lines.append(
            f"| {name} | {_level(name, metrics)}s | {s['targets']} | {s['seconds']} | "
            f"{compile_cell(s)} | {s['path']} | {delta} |"
        )
    noun = (metrics or {}).get("target_level", "node")
    legend = [line.format(noun=noun) for line in EXPLAIN_LEGEND]
    return [*lines, "", *_completeness_notes(explained), *legend, ""]


def _completeness_notes(explained: dict) -> list[str]:
    """One sentence per method whose completeness gap exceeds its tolerance on some target."""
    notes = []
    for name, s in explained["methods"].items():
        if s.get("completeness_misses"):
            notes.append(
                f"**{name} misses completeness**: on {s['completeness_misses']} of "
                f"{s['targets']} targets the relevances miss f(x) − f(baseline) by more than "
                f"{s['completeness_tolerance']:.0%} of it (worst {s['max_relative_delta']:.1%}):"
                " its quadrature has too few steps for this model; raise `n_steps` or use "
                '`n_steps = "auto"`.'
            )
    return [*notes, ""] if notes else []


def _metrics_tables(metrics: dict, hops: int | None) -> list[str]:
    lines = faithfulness_table(metrics, hops)
    accuracy = {
        name: m["explanation_accuracy"]
        for name, m in metrics["methods"].items()
        if "explanation_accuracy" in m
    }
    if accuracy:
        lines += _accuracy_table(metrics, accuracy)
    return lines


def _accuracy_table(metrics: dict, accuracy: dict) -> list[str]:
    rows = [
        "## Explanation accuracy",
        "",
        "Against the benchmark's ground truth: for a target inside a motif (e.g. a house), the "
        "nodes and edges of its own motif are the true explanation"
        + (
            " (graph targets: the motif planted in the graph)."
            if metrics.get("target_level") == "graph"
            else "."
        ),
        "",
        "| method | node AUC ↑ | edge AUC ↑ | node AUC (signed) | edge AUC (signed) | "
        "edge scores from | targets |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, a in accuracy.items():
        source = (
            "own edge scores"
            if _level(name, metrics) == "edge"
            else "mean of endpoints' node scores"
        )
        node_auc = _fmt(a["node_auc"]) if a["node_auc"] is not None else "—³"
        node_signed = _fmt(a["node_auc_signed"]) if a["node_auc_signed"] is not None else "—³"
        rows.append(
            f"| {name} | {node_auc} | {_fmt(a['edge_auc'])} | {node_signed} | "
            f"{_fmt(a['edge_auc_signed'])} | {source} | {a['targets_scored']} |"
        )
    rows += ["", *ACCURACY_LEGEND]
    if any(a["node_auc"] is None for a in accuracy.values()):
        rows.append("- ³ edge methods score edges only, so they have no node AUC.")
    return [*rows, ""]


def _curve_figures(metrics: dict, hops: int | None) -> list[str]:
    nb = neighbours(hops, metrics.get("target_level", "node"))
    figures = {Path(p).stem: Path(p).name for p in metrics.get("figures", []) if p.endswith(".png")}
    seeds = len(metrics["random"].get("seeds", [])) or "several"
    captions = {
        "deletion_curves": (
            f"Test accuracy of the targets as the most relevant fraction of each target's "
            f"{nb} is deleted; lower = more faithful. Dashed grey: random order "
            f"(mean ± std over {seeds} seeds)."
        ),
        "probability_change": (
            f"Mean change in p(explained class) when only the most relevant fraction of each "
            f"target's {nb} is kept; higher = more faithful."
        ),
        "edge_deletion_curves": (
            "Edge methods: test accuracy of the targets as the most relevant fraction of each "
            "target's computation-graph edges is deleted (every node kept); lower = more "
            f"faithful. Dashed grey: random edge order (mean ± std over {seeds} seeds)."
        ),
        "edge_probability_change": (
            "Edge methods: mean change in p(explained class) when only the most relevant "
            "fraction of each target's computation-graph edges is kept; higher = more faithful."
        ),
    }
    lines = []
    for stem, name in figures.items():
        lines += [f"![{stem}]({name})", "", captions.get(stem, ""), ""]
    return lines


def _niv_figures(run: Path, metrics: dict | None) -> list[str]:
    pngs = sorted(run.glob("niv_*.png"))
    if not pngs:
        return []
    lines = [
        "## Node importance (NIV)",
        "",
        "One panel per node method: the target (star) and its most relevant neighbours, node "
        "area ∝ \\|relevance\\| (scale under each panel), fill = predicted class, dashed red "
        "hatched outline = negative relevance, grey dots = nodes outside the top k on the path to "
        "the target"
        + ("; yellow halo = the target's ground-truth motif" if _has_truth(metrics) else "")
        + "."
        + (" Edge methods are not drawn (they score edges)." if _has_edge(metrics) else ""),
        "",
    ]
    for png in pngs:
        lines += [f"![{png.stem}]({png.name})", ""]
        lines += budget_table(run / f"{png.stem}.json")
    return lines


def _has_edge(metrics: dict | None) -> bool:
    return any(m.get("level") == "edge" for m in (metrics or {}).get("methods", {}).values())


def _has_truth(metrics: dict | None) -> bool:
    return any("explanation_accuracy" in m for m in (metrics or {}).get("methods", {}).values())


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
