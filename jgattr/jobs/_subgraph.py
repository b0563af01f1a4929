"""The ``subgraph`` job: one node's explanatory subgraph, edges and nodes drawn by relevance."""

import dataclasses
import os
from pathlib import Path

import numpy as np

from jgattr._config import Config
from jgattr.attribution import get_method
from jgattr.jobs._budget import budget_line, budgets_of
from jgattr.jobs._explain import configured_methods, job_explain
from jgattr.jobs._niv import class_names_of, motif_of
from jgattr.jobs._run_folder import load_run, whole_graph_logits
from jgattr.models import as_explainable, prepare_graph


def subgraph_methods(
    config: Config, edge_method: str | None, node_method: str | None
) -> tuple[str, str | None]:
    """(edge method, node method or ``None``): the given names, else the first configured edge
    method (``gnn_explainer`` if none) and its node part (the method's ``partner``: the same
    computation's node result), else the first configured node method."""
    configured = configured_methods(config.explain)
    if edge_method is None:
        edges = [m.name for m in configured if m.level == "edge"]
        edge_method = edges[0] if edges else "gnn_explainer"
    edge = get_method(edge_method)
    edge_method = edge.name
    if edge.level != "edge":
        raise ValueError(
            f"edge_method must be an edge method (e.g. gnn_explainer, edge_ig), got {edge_method!r}"
        )
    if node_method is None:
        nodes = [m.name for m in configured if m.level == "node"]
        node_method = edge.partner or (nodes[0] if nodes else None)
    elif get_method(node_method).level != "node":
        raise ValueError(f"node_method must be a node method (e.g. nam), got {node_method!r}")
    return edge_method, None if node_method is None else get_method(node_method).name


def subgraph_run(
    config: Config,
    run: str | os.PathLike,
    node: int,
    *,
    edge_method: str | None = None,
    node_method: str | None = None,
    top_k: int | None = 30,
    data_dir: str | os.PathLike | None = None,
) -> list[Path]:
    """The subgraph figure of ``node`` (``subgraph_<node>.png`` and ``.svg`` in ``run``).

    The methods take the settings of ``[explain]`` (and ``[explain.per_method.<name>]``); see
    :func:`subgraph_methods` for which are drawn. On a synthetic benchmark the node's
    ground-truth motif is marked.
    """
    from jgattr.viz import save_figure, subgraph_figure

    run = Path(run)
    dataset, model, params = load_run(config, run, data_dir)
    if not 0 <= node < dataset.num_nodes:
        raise ValueError(f"node must be in [0, {dataset.num_nodes}), got {node}")
    edge_name, node_name = subgraph_methods(config, edge_method, node_method)
    names = tuple(n for n in (edge_name, node_name) if n is not None)
    methods = configured_methods(dataclasses.replace(config.explain, methods=names))
    results = job_explain(model, params, dataset, methods=methods, targets=np.array([node]))
    graph = prepare_graph(model, dataset.graph)
    edge_ids, edge_values = results[edge_name].for_target(0)
    senders, receivers = np.asarray(graph.senders), np.asarray(graph.receivers)
    node_ids, node_values = (
        results[node_name].for_target(0) if node_name else (np.zeros(0, np.int64), None)
    )
    logits = whole_graph_logits(model, params, dataset)
    predicted = logits.argmax(-1)
    classes = class_names_of(dataset)
    label = int(dataset.labels[node])
    truth = f", true {classes[label]}" if label >= 0 else ""
    figure = subgraph_figure(
        node,
        np.stack([senders[edge_ids], receivers[edge_ids]]),
        edge_values,
        node_ids,
        node_values,
        predicted,
        class_names=classes,
        top_k=top_k,
        highlight=motif_of(dataset, node),
        edge_method=edge_name,
        node_method=node_name,
        budget=_budget_text(results, node_name, methods, np.asarray(logits[node])),
        title=(
            f"Node {node} ({dataset.name}, {as_explainable(model).num_hops}-hop computation graph; "
            f"predicted {classes[int(predicted[node])]}{truth})"
        ),
    )
    return save_figure(figure, run / f"subgraph_{node}")


def _budget_text(results, node_name: str | None, methods, logits: np.ndarray) -> str | None:
    """Where the prediction comes from, by the node method (and a sentence if the rest wins)."""
    if node_name is None:
        return None
    method = next(m for m in methods if m.name == node_name)
    node_result = {node_name: results[node_name]}
    budget = budgets_of([method], node_result, logits)[node_name]
    heavy = (
        f"\nThe rest outweighs the nodes' sum: it carries the prediction; a node's sign says how "
        f"it moves the {budget.quantity} from there."
    )
    return f"{node_name}: {budget_line(budget)}" + (heavy if budget.rest_dominates else "")
