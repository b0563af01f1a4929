"""Graph-classification figures: one graph of a run drawn per (class, method), and which graphs
``jgattr run`` draws."""

import os
from pathlib import Path

import numpy as np

from jgattr._config import Config
from jgattr.data import GraphDataset
from jgattr.jobs._explain import configured_methods, job_explain
from jgattr.jobs._run_folder import load_run, whole_graph_logits


def default_figure_graphs(
    dataset: GraphDataset, targets: np.ndarray, predicted: np.ndarray
) -> tuple[int, ...]:
    """For each class, the first explained graph the model classifies correctly (a graph with a
    planted motif first, when the dataset has ground truth)."""
    targets = np.asarray(targets)
    correct = targets[predicted[targets] == dataset.labels[targets]]
    chosen = []
    for k in range(dataset.num_classes):
        of_class = correct[dataset.labels[correct] == k]
        if of_class.size:
            chosen.append(int(of_class[0]))
    return tuple(chosen)


def graph_figure_run(
    config: Config,
    run: str | os.PathLike,
    graph: int,
    *,
    data_dir: str | os.PathLike | None = None,
) -> list[Path]:
    """``graph_<g>.png`` / ``.svg``: graph ``g`` once per (class, node-level method), every class
    explained; the ground-truth motif is outlined and atoms are labelled when known."""
    from jgattr.viz import graph_panels, save_figure

    run = Path(run)
    dataset, model, params = load_run(config, run, data_dir)
    if dataset.level != "graph":
        raise ValueError(
            f"graph figures draw a graph of a graph-classification dataset; {dataset.name!r} "
            "classifies nodes: use `jgattr niv --node N`"
        )
    if not 0 <= graph < dataset.num_graphs:
        raise ValueError(f"graph must be in [0, {dataset.num_graphs}), got {graph}")
    methods = [m for m in configured_methods(config.explain) if m.level == "node"]
    if not methods:
        raise ValueError(
            "graph figures colour nodes; [explain] methods lists only edge methods "
            f"{list(config.explain.methods)}: add a node method such as nam"
        )
    results = job_explain(
        model, params, dataset, methods=methods, targets=np.array([graph]), classes="all"
    )
    first, last = dataset.node_offsets[graph], dataset.node_offsets[graph + 1]
    maps = {
        name: np.stack([result.for_target(k)[1] for k in range(result.num_targets)])
        for name, result in results.items()
    }
    edges_first, edges_last = dataset.edge_offsets[graph], dataset.edge_offsets[graph + 1]
    edges = np.stack(
        [
            dataset.graph.senders[edges_first:edges_last] - first,
            dataset.graph.receivers[edges_first:edges_last] - first,
        ]
    )
    names = dataset.class_names or tuple(str(k) for k in range(dataset.num_classes))
    truth = dataset.ground_truth
    predicted = int(whole_graph_logits(model, params, dataset)[graph].argmax())
    figure = graph_panels(
        edges,
        maps,
        class_names=names,
        node_names=None if dataset.node_names is None else dataset.node_names[first:last],
        highlight=None if truth is None else truth.node_mask[first:last],
        predicted=predicted,
        title=(
            f"Graph {graph} of {dataset.name} ({last - first} nodes; label "
            f"{names[int(dataset.labels[graph])]}, predicted {names[predicted]})"
        ),
    )
    return save_figure(figure, run / f"graph_{graph}")
