"""The ``evaluate`` job: faithfulness metrics of a run's attributions, ``eval.json`` and curves."""

import os
from pathlib import Path
from typing import Any

import numpy as np

from jgattr._config import Config
from jgattr._io import atomic_write_json
from jgattr.attribution import Attributions, explain
from jgattr.jobs._explain import configured_methods
from jgattr.jobs._run_folder import load_run, whole_graph_logits
from jgattr.metrics import contrastivity, evaluate, explanation_accuracy


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
    dataset, model, params = load_run(config, run, data_dir)
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
    runner_up = np.argsort(whole_graph_logits(model, params, dataset), axis=-1)[:, -2]
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
