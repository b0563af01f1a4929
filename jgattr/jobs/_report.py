"""The report page of a run folder: ``report.md`` from its JSON files and figures."""

import json
import os
from pathlib import Path

from jgattr._io import atomic_write_bytes


def write_report(run: str | os.PathLike) -> Path:
    """``report.md``: accuracy, attribution timings, the metrics table and the figures of a run."""
    run = Path(run)
    read = lambda name: json.loads((run / name).read_text()) if (run / name).is_file() else None
    trained, explained, metrics = read("train.json"), read("explain.json"), read("eval.json")
    lines = [f"# jgattr report: {(trained or metrics or {}).get('dataset', run.name)}", ""]
    if trained:
        acc, model = trained["accuracy"], trained["model"]
        lines += [
            f"GCN ({model['num_layers']} layers, hidden {model['hidden_size']}),"
            f" seed {trained['seed']}, {trained['epochs']} epochs: test accuracy {acc['test']:.4f}"
            f" (train {acc['train']:.4f}, val {acc['val']:.4f}).",
            "",
        ]
    if explained:
        lines += [
            "| method | targets | seconds | compile s | path | max \\|delta\\| |",
            "|---|---|---|---|---|---|",
        ]
        for name, s in explained["methods"].items():
            delta = "—" if s["max_abs_delta"] is None else f"{s['max_abs_delta']:.2e}"
            lines.append(
                f"| {name} | {s['targets']} | {s['seconds']} | {s['compile_seconds']} | "
                f"{s['path']} | {delta} |"
            )
        lines.append("")
    if metrics:
        lines += _metrics_table(metrics)
        lines += [
            f"![{Path(p).stem}]({Path(p).name})" for p in metrics["figures"] if p.endswith(".png")
        ]
        lines.append("")
    lines += [f"![{p.stem}]({p.name})" for p in sorted(run.glob("niv_*.png"))]
    return atomic_write_bytes(run / "report.md", ("\n".join(lines) + "\n").encode())


def _metrics_table(metrics: dict) -> list[str]:
    rows = [
        f"Faithfulness on {metrics['targets']} targets (mode `{metrics['mode']}`; lower deletion "
        f"area = more faithful; random order area {metrics['random']['deletion_auc']:.4f}).",
        "",
        "| method | deletion AUC | reverse AUC | prob. change AUC | fidelity+ | fidelity- | "
        "minimal patch Δp | sparsity | contrastivity |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in metrics["methods"].items():
        if "deletion_auc" not in m:
            continue
        rows.append(
            f"| {name} | {m['deletion_auc']:.4f} | {m['reverse_deletion_auc']:.4f} | "
            f"{m['probability_change_auc']:.4f} | {m['fidelity_plus']:.3f} | "
            f"{m['fidelity_minus']:.3f} | {m['minimal_patch_probability_change']:+.4f} | "
            f"{m['sparsity']:.3f} | {m.get('contrastivity', float('nan')):.3f} |"
        )
    accuracy = {
        name: m["explanation_accuracy"]
        for name, m in metrics["methods"].items()
        if "explanation_accuracy" in m
    }
    if accuracy:
        rows += [
            "",
            "Explanation accuracy against the motif ground truth (ROC-AUC of |score|, and of the "
            "signed score; mean over motif targets; edge scores are the mean of their endpoints' "
            "node scores).",
            "",
            "| method | node AUC | edge AUC | node AUC (signed) | edge AUC (signed) | targets |",
            "|---|---|---|---|---|---|",
        ]
        rows += [
            f"| {name} | {_fmt(a['node_auc'])} | {_fmt(a['edge_auc'])} | "
            f"{_fmt(a['node_auc_signed'])} | {_fmt(a['edge_auc_signed'])} | {a['targets_scored']} |"
            for name, a in accuracy.items()
        ]
    return [*rows, ""]


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
