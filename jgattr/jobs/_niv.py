"""The ``niv`` job: the NIV figure of one node, one panel per method."""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jgattr._config import Config
from jgattr._dataset_table import find_dataset
from jgattr._io import atomic_write_json
from jgattr.data import Dataset
from jgattr.jobs._budget import budget_line, budgets_of
from jgattr.jobs._explain import configured_methods, job_explain
from jgattr.jobs._run_folder import load_run, whole_graph_logits
from jgattr.models import as_explainable


def default_niv_nodes(
    config: Config,
    dataset: Dataset,
    targets: Sequence[int],
    *,
    predicted: np.ndarray | None = None,
) -> tuple[int, ...]:
    """Nodes whose NIV ``jgattr run`` draws: ``[evaluate] niv_nodes``, else one chosen target.

    On a synthetic benchmark (a dataset with ``ground_truth``) the chosen target is a motif node,
    so the headline figure shows a motif: the first one (in ``targets`` order) whose whole motif
    the model classifies correctly (given ``predicted``), then whose own class is right, then whose
    ``num_layers``-hop neighbourhood holds more than ``niv_top_k`` nodes outside the motif (so the
    figure shows the motif competing with other nodes). Otherwise the first target.

    Args:
      config: the run's config (``[evaluate] niv_nodes``, ``niv_top_k``, ``[model] num_layers``).
      dataset: the run's dataset.
      targets: ``[T]`` the explained targets, in order.
      predicted: ``[N]`` the model's predicted classes; ``None`` to ignore correctness.

    Returns:
      The node ids to draw.

    Example:
      >>> default_niv_nodes(default_config(), synthetic_dataset("ba-shapes"), [0, 650, 651])
      (650,)
    """
    if config.evaluate.niv_nodes:
        return tuple(int(n) for n in config.evaluate.niv_nodes)
    targets = np.asarray(targets, dtype=np.int64).reshape(-1)
    if targets.size == 0:
        raise ValueError("targets must hold at least one node to pick an NIV node from")
    truth = getattr(dataset, "ground_truth", None)
    motif = targets[truth.motif_id[targets] >= 0] if truth is not None else targets[:0]
    if motif.size == 0:
        return (int(targets[0]),)
    right = np.ones(dataset.num_nodes, dtype=bool)
    if predicted is not None:
        right = np.asarray(predicted) == dataset.labels
    motif_right = np.ones(int(truth.motif_id.max()) + 1, dtype=bool)
    np.logical_and.at(motif_right, truth.motif_id[truth.node_mask], right[truth.node_mask])
    rich = [
        np.count_nonzero(_within(dataset, t, config.model.num_layers) & ~truth.node_mask)
        > config.evaluate.niv_top_k
        for t in motif.tolist()
    ]
    order = np.lexsort((~np.array(rich), ~right[motif], ~motif_right[truth.motif_id[motif]]))
    return (int(motif[order[0]]),)


def _within(dataset: Dataset, node: int, hops: int) -> np.ndarray:
    """``[N]`` bool: the node is at most ``hops`` edges from ``node``."""
    senders, receivers = np.asarray(dataset.graph.senders), np.asarray(dataset.graph.receivers)
    reached = np.zeros(dataset.num_nodes, dtype=bool)
    reached[node] = True
    for _ in range(hops):
        reached[receivers[reached[senders]]] = True
    return reached


def _neighbourhood_edges(dataset: Dataset, nodes: np.ndarray) -> np.ndarray:
    senders, receivers = dataset.graph.senders, dataset.graph.receivers
    inside = np.isin(senders, nodes) & np.isin(receivers, nodes) & (senders < receivers)
    return np.stack([senders[inside], receivers[inside]])


def motif_of(dataset: Dataset, node: int) -> np.ndarray | None:
    """Node ids of ``node``'s ground-truth motif, or ``None`` (real data or a base node)."""
    truth = getattr(dataset, "ground_truth", None)
    if truth is None or truth.motif_id[node] < 0:
        return None
    return np.flatnonzero(truth.motif_id == truth.motif_id[node])


def class_names_of(dataset: Dataset) -> tuple[str, ...]:
    """A name per class: the dataset table's (synthetic benchmarks), else ``class k``."""
    entry = find_dataset(dataset.name)
    names = entry.class_names if entry is not None else None
    if names is None or len(names) < dataset.num_classes:
        return tuple(f"class {k}" for k in range(dataset.num_classes))
    return names


def niv_run(
    config: Config,
    run: str | os.PathLike,
    node: int,
    *,
    data_dir: str | os.PathLike | None = None,
) -> list[Path]:
    """NIV figures of ``node``: one panel per node-level method (``niv_<node>.png`` and ``.svg``).

    On a synthetic benchmark the node's ground-truth motif (if any) is outlined.
    """
    from jgattr.viz import niv_panel, save_figure

    run = Path(run)
    dataset, model, params = load_run(config, run, data_dir)
    if not 0 <= node < dataset.num_nodes:
        raise ValueError(f"node must be in [0, {dataset.num_nodes}), got {node}")
    methods = [m for m in configured_methods(config.explain) if m.level == "node"]
    if not methods:
        raise ValueError(
            "NIV draws node relevance; [explain] methods lists only edge methods "
            f"{list(config.explain.methods)}: add a node method such as nam"
        )
    results = job_explain(model, params, dataset, methods=methods, targets=np.array([node]))
    sources = results[methods[0].name].for_target(0)[0]
    values = {name: result.for_target(0)[1] for name, result in results.items()}
    logits = whole_graph_logits(model, params, dataset)
    predicted = logits.argmax(-1)
    units = {m.name: m.unit for m in methods}
    budgets = budgets_of(methods, results, np.asarray(logits[node]))
    names = class_names_of(dataset)
    label = int(dataset.labels[node])
    truth = f", true {names[label]}" if label >= 0 else ""
    motif = motif_of(dataset, node)
    figure = niv_panel(
        node,
        sources,
        values,
        _neighbourhood_edges(dataset, sources),
        predicted[sources],
        class_names=names,
        top_k=config.evaluate.niv_top_k,
        units=units,
        highlight=motif,
        subtitles={name: budget_line(b, "\n") for name, b in budgets.items()},
        note=_budget_note(budgets.values()),
        title=(
            f"NIV of node {node} ({dataset.name}, {as_explainable(model).num_hops}-hop "
            f"neighbourhood; predicted {names[int(predicted[node])]}{truth})"
        ),
    )
    explained = int(results[methods[0].name].classes[0])
    record = {"node": node, "class": explained, "budgets": [b.as_dict() for b in budgets.values()]}
    atomic_write_json(run / f"niv_{node}.json", record)
    return save_figure(figure, run / f"niv_{node}")


def _budget_note(budgets) -> str:
    """What the line under each panel title says, and a sentence when, for some methods, the
    rest outweighs the nodes' sum."""
    text = (
        "Under each method: the explained quantity at the target = the sum of the node "
        "relevances + the rest (biases; for IG and the LID family the baseline's own value "
        "and the method's gap)."
    )
    heavy = [b for b in budgets if b.rest_dominates]
    if not heavy:
        return text
    names = ", ".join(b.method for b in heavy)
    return (
        f"{text} For {names} the rest outweighs the nodes' sum, so it carries the prediction: a "
        "node's sign says how that node moves the prediction from there, not whether it "
        "supports the class."
    )
