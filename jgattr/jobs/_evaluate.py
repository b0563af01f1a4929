"""The ``evaluate`` job: faithfulness metrics of a run's attributions, ``eval.json`` and curves."""

import os
from pathlib import Path
from typing import Any

import numpy as np

from jgattr._config import Config
from jgattr._io import atomic_write_json
from jgattr.attribution import Attributions, as_explainable, open_shards, result_complete
from jgattr.jobs._explain import configured_methods, job_explain
from jgattr.jobs._graph_figure import default_figure_graphs
from jgattr.jobs._niv import default_niv_nodes
from jgattr.jobs._run_folder import load_run, whole_graph_logits
from jgattr.metrics import (
    contrastivity,
    evaluate,
    explanation_accuracy,
    pope_metrics,
)


def _result_path(run: Path, name: str) -> Path | None:
    """A method's result in ``run``: its result folder, or the ``.npz`` of an older jgattr."""
    folder, file = run / f"attributions_{name}", run / f"attributions_{name}.npz"
    return folder if result_complete(folder) else file if file.is_file() else None


def _explained_targets(path: Path) -> np.ndarray:
    """The target ids of a result, without reading its pairs."""
    return open_shards(path).targets if path.is_dir() else Attributions.load(path).targets


def scored_targets(explained: np.ndarray, sample: int | str, seed: int) -> np.ndarray:
    """The explained targets the metrics score: all of them, or a seeded sample of ``sample``
    distinct ids (sorted), the same for every method."""
    ids = np.unique(explained)
    if sample == "all" or ids.size <= sample:
        return ids
    return np.sort(np.random.default_rng(seed).choice(ids, size=sample, replace=False))


def _attributions(config: Config, run: Path, dataset, model, params):
    """The run's results for the configured methods on the targets scored (read lazily from
    their result folders), computing any that are missing; and (scored, explained) counts."""
    methods = configured_methods(config.explain)
    found = {m.name: _result_path(run, m.name) for m in methods}
    present = [path for path in found.values() if path is not None]
    if not present:
        results = job_explain(model, params, dataset, methods=methods, targets="test")
        explained = next(iter(results.values())).targets
        return results, (np.unique(explained).size, np.unique(explained).size)
    explained = _explained_targets(present[0])
    targets = scored_targets(explained, config.evaluate.sample, config.train.seed)
    results = {name: Attributions.load(path, targets=targets) for name, path in found.items()
               if path is not None}  # fmt: skip
    missing = [m for m in methods if found[m.name] is None]
    if missing:
        results.update(job_explain(model, params, dataset, methods=missing, targets=targets))
    counts = (int(targets.size), int(np.unique(explained).size))
    return {m.name: results[m.name] for m in methods}, counts


def _scored(metrics: dict, unit: str) -> dict[str, dict]:
    """The methods whose deletion curves delete ``unit`` (``"nodes"`` or ``"edges"``)."""
    return {
        name: entry
        for name, entry in metrics["methods"].items()
        if "deletion_accuracy" in entry and entry.get("deletes", "nodes") == unit
    }


def _curve_figures(metrics: dict, out: Path) -> list[str]:
    """``deletion_curves`` and ``probability_change`` (PNG and SVG) of the node methods, and
    ``edge_deletion_curves`` / ``edge_probability_change`` of the edge methods."""
    hops = metrics.get("num_hops")
    neighbours = f"{hops}-hop neighbours" if hops else "neighbours"
    paths = []
    for unit, prefix, random_key, what in (
        ("nodes", "", "random", neighbours),
        ("edges", "edge_", "random_edges", "computation-graph edges"),
    ):
        methods = _scored(metrics, unit)
        if methods:
            paths += _figure_pair(metrics, out, methods, prefix, metrics[random_key], what)
    return paths


def _not_shown(metrics: dict, shown: dict, other_figure: str) -> str | None:
    """The line under a figure naming the methods it leaves out, and where they are."""
    others = [name for name in metrics["methods"] if name not in shown]
    drawn = [name for name in others if "deletion_accuracy" in metrics["methods"][name]]
    missing = [name for name in others if name not in drawn]
    parts = [f"{', '.join(drawn)} (in {other_figure})"] if drawn else []
    parts += [f"{', '.join(missing)} (no deletion curves in this eval.json)"] if missing else []
    return f"Not shown: {'; '.join(parts)}." if parts else None


def _figure_pair(metrics, out: Path, methods: dict, prefix: str, random: dict, what: str):
    from jgattr.viz import curves_figure, save_figure

    levels = np.asarray(metrics["levels"])
    deletion = {"random": np.asarray(random["deletion_accuracy"])}
    deletion |= {n: np.asarray(v["deletion_accuracy"]) for n, v in methods.items()}
    change = {n: np.asarray(v["probability_change_keep_top"]) for n, v in methods.items()}
    note = _not_shown(metrics, methods, "deletion_curves" if prefix else "edge_deletion_curves")
    targets = f"{metrics['targets']} targets, mode {metrics['mode']}"
    paths = save_figure(
        curves_figure(
            levels,
            deletion,
            xlabel=f"fraction of each target's {what} deleted (most relevant first)",
            ylabel="test accuracy",
            title=f"{'Edge d' if prefix else 'D'}eletion curves ({targets}; lower = more faithful)",
            note=note,
        ),
        out / f"{prefix}deletion_curves",
    )
    paths += save_figure(
        curves_figure(
            levels,
            change,
            xlabel=f"fraction of each target's {what} kept (most relevant first)",
            ylabel="mean change in p(explained class)",
            title=f"Probability change ({targets}; higher = more faithful)",
            reference=None,
            note=note,
            scale_after_first=True,  # keeping nothing is one drop for all: it would squeeze them
        ),
        out / f"{prefix}probability_change",
    )
    return paths


def evaluate_run(
    config: Config, run: str | os.PathLike, *, data_dir: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Faithfulness metrics of a run's attributions; writes ``eval.json`` and curve figures.

    The metrics score a seeded sample of ``[evaluate] sample`` explained targets (read lazily
    from the result folders; ``targets_scored`` and ``targets_explained`` in ``eval.json``).
    Besides the metrics of :func:`jgattr.metrics.evaluate` (node methods delete nodes, edge
    methods the edges of each target's computation graph), ``eval.json`` holds ``num_hops`` (the
    model's number of layers: deletion acts on each target's ``num_hops``-hop neighbours),
    ``first_target`` and ``niv_nodes`` (the nodes ``jgattr run`` draws, see
    :func:`~jgattr.jobs._niv.default_niv_nodes`). For graph classification, deletion acts on
    each target graph's nodes, ``figure_graphs`` replaces ``niv_nodes``, and binary tasks get
    Pope et al.'s fidelity, contrastivity and sparsity per method (``pope``).

    Returns:
      The content of ``eval.json``.
    """
    run = Path(run)
    dataset, model, params = load_run(config, run, data_dir)
    results, (scored, explained) = _attributions(config, run, dataset, model, params)
    nodes = {name: r for name, r in results.items() if r.level == "node"}
    seeds = tuple(range(config.evaluate.random_seeds))
    metrics = evaluate(
        model, params, dataset, results, mode=config.evaluate.mode, random_seeds=seeds
    )
    if nodes:
        _add_contrastivity(metrics, config, dataset, model, params, nodes)
    for name, result in results.items():  # every method, edge methods included (level "edge")
        entry = metrics["methods"].setdefault(name, {})
        entry["level"] = result.level
        if getattr(dataset, "ground_truth", None) is not None:
            entry["explanation_accuracy"] = explanation_accuracy(result, dataset)
    metrics["dataset"] = dataset.name
    metrics["targets_scored"], metrics["targets_explained"] = scored, explained
    metrics["target_level"] = dataset.level
    metrics["num_hops"] = as_explainable(model).num_hops
    targets = next(iter(results.values())).targets
    metrics["first_target"] = int(targets[0])
    predicted = whole_graph_logits(model, params, dataset).argmax(-1)
    if dataset.level == "graph":
        metrics["niv_nodes"] = []
        metrics["figure_graphs"] = list(default_figure_graphs(dataset, targets, predicted))
        _add_pope_metrics(metrics, config, dataset, model, params, targets)
    else:
        metrics["niv_nodes"] = list(
            default_niv_nodes(config, dataset, targets, predicted=predicted)
        )
    metrics["figures"] = [str(p) for p in _curve_figures(metrics, run)]
    atomic_write_json(run / "eval.json", metrics)
    return metrics


def _add_pope_metrics(metrics, config, dataset, model, params, targets) -> None:
    """Pope et al.'s metrics of every node-level method (binary graph classification only):
    each target graph explained for both classes."""
    if dataset.num_classes != 2:
        return
    methods = [m for m in configured_methods(config.explain) if m.level == "node"]
    both = job_explain(model, params, dataset, methods=methods, targets=targets, classes="all")
    for name, result in both.items():
        metrics["methods"][name]["pope"] = pope_metrics(model, params, dataset, result)


def _add_contrastivity(metrics, config, dataset, model, params, results) -> None:
    """Contrastivity of each method: predicted class against each target's runner-up class."""
    first = next(iter(results.values()))
    runner_up = np.argsort(whole_graph_logits(model, params, dataset), axis=-1)[:, -2]
    node_methods = [m for m in configured_methods(config.explain) if m.name in results]
    contrast = job_explain(
        model,
        params,
        dataset,
        methods=node_methods,
        targets=first.targets,
        classes=runner_up[first.targets],
    )
    for name, result in results.items():
        metrics["methods"][name]["contrastivity"] = contrastivity(result, contrast[name])
