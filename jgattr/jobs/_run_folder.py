"""What the jobs share: a run folder's dataset, model and parameters, whole-graph logits, and
the checks that keep a run folder's files consistent with each other."""

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from jgattr._checkpoint import checkpoint_path, load_checkpoint
from jgattr._config import Config
from jgattr._graph_batches import GraphBatches
from jgattr._graph_training import graph_logits
from jgattr.data import (
    Dataset,
    GraphDataset,
    is_graph_dataset,
    load_dataset,
    load_graph_dataset,
)
from jgattr.models import as_explainable, make_apply_fn, prepare_graph

EXPLAIN_JSON = "explain.json"
GRAPHS_PER_BATCH = 256  # whole_graph_logits of a graph dataset, a batch at a time


class RunFolderConflict(ValueError):
    """A job would silently replace results of another target set or checkpoint in a run folder."""


def load_configured_dataset(
    config: Config, *, data_dir: str | os.PathLike | None
) -> Dataset | GraphDataset:
    """The dataset named by ``config.data``, looked up in ``data_dir`` (see :mod:`jgattr.data`):
    a node-classification :class:`Dataset` or, for graph dataset names (``ba-2motifs``,
    ``tu:MUTAG``, ``moleculenet:bbbp``, ...), a :class:`GraphDataset`."""
    data = config.data
    if is_graph_dataset(data.name):
        columns = {
            key: value
            for key, value in (
                ("smiles_column", data.smiles_column),
                ("label_column", data.label_column),
            )
            if value
        }
        return load_graph_dataset(data.name, data_dir=data_dir, seed=data.seed, **columns)
    return load_dataset(
        config.data.name,
        data_dir=data_dir,
        normalize_features=config.data.normalize_features,
        verify_checksums=config.data.verify_checksums,
        directed=config.data.directed,
    )


class TrainedModel(NamedTuple):
    """A run's model: from its jgattr checkpoint, or the PyG model of ``[model] source =
    "torch"`` (then ``file`` is the ``state_dict`` and nothing was trained by jgattr)."""

    model: Any
    params: Any
    num_features: int
    num_classes: int
    file: Path


def load_trained(
    config: Config, checkpoint: str | os.PathLike, dataset: Dataset | GraphDataset
) -> TrainedModel:
    """The model the run explains: the checkpoint in ``checkpoint`` (a run folder or file), or
    with ``[model] source = "torch"`` the configured PyG model, imported and checked on
    ``dataset`` (:func:`jgattr.interop.load_torch_model`)."""
    if config.model.source == "torch":
        from jgattr.interop import load_torch_model  # torch only for this source

        model, params = load_torch_model(config.model.module, config.model.state_dict, data=dataset)
        explainable = as_explainable(model)
        prepared = explainable.prepare_graph(dataset.graph)
        logits = jax.eval_shape(explainable.apply, params, prepared)
        file = Path(config.model.state_dict)
        return TrainedModel(model, params, dataset.num_features, int(logits.shape[1]), file)
    trained = load_checkpoint(checkpoint, dataset=dataset.name)
    return TrainedModel(
        trained.model,
        trained.params,
        trained.num_features,
        trained.num_classes,
        checkpoint_path(checkpoint),
    )


def load_run(config: Config, run: Path, data_dir) -> tuple[Dataset, Any, Any]:
    dataset = load_configured_dataset(config, data_dir=data_dir)
    trained = load_trained(config, run, dataset)
    return dataset, trained.model, trained.params


def target_pool(dataset: Dataset | GraphDataset) -> int:
    """How many targets a dataset offers: its nodes, or its graphs for graph classification."""
    return dataset.num_graphs if dataset.level == "graph" else dataset.num_nodes


def whole_graph_logits(model, params, dataset: Dataset | GraphDataset) -> np.ndarray:
    """Whole-graph logits ``[N, C]`` of the model on the dataset (``[G, C]`` for graphs,
    computed ``GRAPHS_PER_BATCH`` graphs at a time, so memory does not grow with the dataset)."""
    prepared = prepare_graph(model, dataset.graph)
    if dataset.level == "graph":
        batches = GraphBatches.from_prepared(prepared, dataset.graph.n_node, GRAPHS_PER_BATCH)
        return graph_logits(model, params, batches, np.arange(dataset.num_graphs))
    return np.asarray(jax.jit(make_apply_fn(model))(params, prepared))


def read_json(run: str | os.PathLike, name: str) -> dict | None:
    """``run/name`` parsed, ``None`` if absent; unreadable JSON is a :class:`RunFolderConflict`."""
    file = Path(run) / name
    if not file.is_file():
        return None
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as err:
        raise RunFolderConflict(
            f"{file} is not readable JSON ({err}): write to another --out, or pass --overwrite "
            "to replace the run folder's results"
        ) from err


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (a checkpoint's identity, whatever its path)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discard_attributions(run: str | os.PathLike) -> list[Path]:
    """Delete the attributions of a run folder (``--overwrite``): the result folders (and
    ``.npz`` files of older runs) ``explain.json`` lists, ``explain.json``, ``eval.json`` and
    unfinished rounds in ``parts/``; returns what went."""
    run = Path(run)
    try:
        previous = read_json(run, EXPLAIN_JSON)
    except RunFolderConflict:
        previous = None
    names = list((previous or {}).get("methods", {}))
    files = [run / f"attributions_{name}.npz" for name in names]
    files += [run / EXPLAIN_JSON, run / "eval.json"]
    gone = [f for f in files if f.is_file()]
    for f in gone:
        f.unlink()
    for folder in [run / f"attributions_{name}" for name in names] + [run / "parts"]:
        if folder.is_dir():
            shutil.rmtree(folder)
            gone.append(folder)
    return gone
