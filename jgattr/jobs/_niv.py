"""The ``niv`` job: the NIV figure of one node, one panel per method."""

import os
from pathlib import Path

import numpy as np

from jgattr._config import Config
from jgattr.attribution import explain
from jgattr.data import Dataset
from jgattr.jobs._explain import configured_methods
from jgattr.jobs._run_folder import load_run, whole_graph_logits


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
    dataset, model, params = load_run(config, run, data_dir)
    if not 0 <= node < dataset.num_nodes:
        raise ValueError(f"node must be in [0, {dataset.num_nodes}), got {node}")
    methods = [m for m in configured_methods(config.explain) if m.level == "node"]
    results = explain(model, params, dataset, methods=methods, targets=np.array([node]))
    sources = results[methods[0].name].for_target(0)[0]
    values = {name: result.for_target(0)[1] for name, result in results.items()}
    logits = whole_graph_logits(model, params, dataset)
    figure = niv_panel(
        node,
        sources,
        values,
        _neighbourhood_edges(dataset, sources),
        logits.argmax(-1)[sources],
        top_k=config.evaluate.niv_top_k,
    )
    return save_figure(figure, run / f"niv_{node}")
