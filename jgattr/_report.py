"""Evaluation, NIV figures and the report page of a run folder (``jgattr evaluate/niv/run``)."""

import json
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jgattr._checkpoint import load_checkpoint
from jgattr._config import Config
from jgattr._io import atomic_write_bytes, atomic_write_json
from jgattr._pipeline import configured_methods, load_configured_dataset
from jgattr._training import normalized_graph
from jgattr.attribution import Attributions, explain
from jgattr.data import Dataset
from jgattr.metrics import contrastivity, evaluate, explanation_accuracy
from jgattr.models import make_apply_fn


def _load_run(config: Config, run: Path, data_dir) -> tuple[Dataset, Any, Any]:
    dataset = load_configured_dataset(config, data_dir=data_dir)
    trained = load_checkpoint(run, dataset=dataset.name)
    return dataset, trained.model(), trained.params


def _attributions(config: Config, run: Path, dataset, model, params) -> dict[str, Attributions]:
    """The run's result files for the configured methods, computing any that are missing."""
    methods = configured_methods(config.explain)
    found = {m.name: run / f"attributions_{m.name}.npz" for m in methods}
    missing = [m for m in methods if not found[m.name].is_file()]
    results = {name: Attributions.load(path) for name, path in found.items() if path.is_file()}
    if missing:
        results.update(explain(model, params, dataset, methods=missing, targets="test"))
    return {m.name: results[m.name] for m in methods}


def _curve_figures(metrics: dict, out: Path) -> list[Path]:
    from jgattr.viz import curves_figure, save_figure

    levels = np.asarray(metrics["levels"])
    deletion = {"random": np.asarray(metrics["random"]["deletion_accuracy"])}
    node_level = {n: v for n, v in metrics["methods"].items() if "deletion_accuracy" in v}
    deletion |= {n: np.asarray(v["deletion_accuracy"]) for n, v in node_level.items()}
    change = {n: np.asarray(v["probability_change_keep_top"]) for n, v in node_level.items()}
    paths = save_figure(
        curves_figure(levels, deletion, title=f"Deletion curves ({metrics['mode']})"),
        out / "deletion_curves",
    )
    paths += save_figure(
        curves_figure(
            levels,
            change,
            xlabel="fraction of top-ranked neighbours kept",
            ylabel="mean change in p(class)",
            title="Probability change",
            reference=None,
        ),
        out / "probability_change",
    )
    return paths


def evaluate_run(
    config: Config, run: str | os.PathLike, *, data_dir: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Faithfulness metrics of a run's attributions; writes ``eval.json`` and curve figures.

    Returns:
      The content of ``eval.json``.
    """
    run = Path(run)
    dataset, model, params = _load_run(config, run, data_dir)
    results = _attributions(config, run, dataset, model, params)
    nodes = {name: r for name, r in results.items() if r.level == "node"}
    seeds = tuple(range(config.evaluate.random_seeds))
    metrics = evaluate(model, params, dataset, nodes, mode=config.evaluate.mode, random_seeds=seeds)
    _add_contrastivity(metrics, config, dataset, model, params, nodes)
    if getattr(dataset, "ground_truth", None) is not None:
        for name, result in results.items():
            entry = metrics["methods"].setdefault(name, {"level": result.level})
            entry["explanation_accuracy"] = explanation_accuracy(result, dataset)
    metrics["dataset"] = dataset.name
    metrics["first_target"] = int(next(iter(results.values())).targets[0])
    metrics["figures"] = [str(p) for p in _curve_figures(metrics, run)]
    atomic_write_json(run / "eval.json", metrics)
    return metrics


def _add_contrastivity(metrics, config, dataset, model, params, results) -> None:
    """Contrastivity of each method: predicted class against each target's runner-up class."""
    first = next(iter(results.values()))
    runner_up = np.argsort(_whole_graph_logits(model, params, dataset), axis=-1)[:, -2]
    node_methods = [m for m in configured_methods(config.explain) if m.name in results]
    contrast = explain(
        model,
        params,
        dataset,
        methods=node_methods,
        targets=first.targets,
        classes=runner_up[first.targets],
    )
    for name, result in results.items():
        metrics["methods"][name]["contrastivity"] = contrastivity(result, contrast[name])


def _neighbourhood_edges(dataset: Dataset, nodes: np.ndarray) -> np.ndarray:
    senders, receivers = dataset.graph.senders, dataset.graph.receivers
    inside = np.isin(senders, nodes) & np.isin(receivers, nodes) & (senders < receivers)
    return np.stack([senders[inside], receivers[inside]])


def niv_run(
    config: Config,
    run: str | os.PathLike,
    node: int,
    *,
    data_dir: str | os.PathLike | None = None,
) -> list[Path]:
    """NIV figures of ``node``: one panel per method (``niv_<node>.png`` and ``.svg``)."""
    from jgattr.viz import niv_panel, save_figure

    run = Path(run)
    dataset, model, params = _load_run(config, run, data_dir)
    if not 0 <= node < dataset.num_nodes:
        raise ValueError(f"node must be in [0, {dataset.num_nodes}), got {node}")
    methods = [m for m in configured_methods(config.explain) if m.level == "node"]
    results = explain(model, params, dataset, methods=methods, targets=np.array([node]))
    sources = results[methods[0].name].for_target(0)[0]
    values = {name: result.for_target(0)[1] for name, result in results.items()}
    logits = _whole_graph_logits(model, params, dataset)
    figure = niv_panel(
        node,
        sources,
        values,
        _neighbourhood_edges(dataset, sources),
        logits.argmax(-1)[sources],
        top_k=config.evaluate.niv_top_k,
    )
    return save_figure(figure, run / f"niv_{node}")


def _whole_graph_logits(model, params, dataset: Dataset) -> np.ndarray:
    """Whole-graph logits ``[N, C]`` of the model on the dataset."""
    return np.asarray(jax.jit(make_apply_fn(model))(params, normalized_graph(dataset)))


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
