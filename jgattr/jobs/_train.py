"""The ``train`` job: train the configured model, write its checkpoint and ``train.json``."""

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jgattr._checkpoint import (
    Checkpoint,
    checkpoint_path,
    save_checkpoint,
    unreadable_checkpoint,
)
from jgattr._config import Config
from jgattr._io import atomic_write_json, run_folder_lock
from jgattr._training import train
from jgattr.jobs._run_folder import (
    EXPLAIN_JSON,
    RunFolderConflict,
    discard_attributions,
    file_sha256,
    load_configured_dataset,
    load_trained,
    read_json,
    whole_graph_logits,
)
from jgattr.models import as_explainable, build_model

__all__ = ["load_configured_dataset", "reusable_training", "train_and_save", "training_settings"]


def training_settings(config: Config) -> dict[str, Any]:
    """The ``[data]``, ``[model]`` and ``[train]`` tables a checkpoint depends on, as JSON."""
    tables = {
        name: dataclasses.asdict(getattr(config, name)) for name in ("data", "model", "train")
    }
    return json.loads(json.dumps(tables))


def reusable_training(config: Config, out: str | os.PathLike) -> dict[str, Any] | None:
    """``out``'s ``train.json`` if its checkpoint was trained with the same ``[data]``,
    ``[model]`` and ``[train]`` settings as ``config`` (``jgattr run`` then skips training),
    else ``None`` (also when the checkpoint is corrupt: ``jgattr run`` retrains over it)."""
    out = Path(out)
    try:
        trained = read_json(out, "train.json")
    except RunFolderConflict:
        return None
    same = trained is not None and trained.get("settings") == training_settings(config)
    if config.model.source == "torch":  # imported: the same weights file, byte for byte
        weights = Path(config.model.state_dict)
        same = same and weights.is_file() and trained.get("sha256") == file_sha256(weights)
        return trained if same else None
    readable = checkpoint_path(out).is_file() and unreadable_checkpoint(out) is None
    return trained if same and readable else None


def train_and_save(
    config: Config,
    out: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    before: Callable[[Any, Any], None] | None = None,
) -> dict[str, Any]:
    """Train the configured model, write ``checkpoint.msgpack`` and ``train.json`` into ``out``.

    Args:
      config: the run's config (``[data]``, ``[model]`` and ``[train]`` are used).
      out: the run folder; locked while the job writes to it.
      data_dir: where the dataset files are.
      overwrite: retrain even if ``out`` holds attributions of its current checkpoint, and delete
        them (they would be stale). Without it that is a :class:`RunFolderConflict`.
      on_epoch: called after every epoch with ``(epoch, metrics)`` (see :func:`jgattr.train`).
      before: called with ``(dataset, model)`` before training (``jgattr run``: its explain
        step's estimate, :func:`~jgattr.jobs.explain_fits`, so that work far beyond the machine
        stops before training).

    Returns:
      The content of ``train.json``: dataset, seed, epochs run and the epoch whose parameters
      were kept, train/val/test accuracy (mini-batch graph training: also ``all`` and the
      ROC-AUCs of a binary task), seconds, the settings (see :func:`reusable_training`) and
      the paths written.
    """
    out = Path(out)
    with run_folder_lock(out, "jgattr train"):
        has_results = (out / EXPLAIN_JSON).is_file()
        if has_results and not overwrite:
            raise RunFolderConflict(
                f"{out} holds attributions of its checkpoint ({out / EXPLAIN_JSON}); training "
                "again would replace the checkpoint and leave them stale: write to another --out, "
                "or pass --overwrite to retrain and delete them"
            )
        if config.model.source == "torch":
            summary = _import(config, out, data_dir)
        else:
            summary = _train(config, out, data_dir, on_epoch, before)
        if has_results:
            discard_attributions(out)
        return summary


def _train(config: Config, out: Path, data_dir, on_epoch, before) -> dict[str, Any]:
    dataset = load_configured_dataset(config, data_dir=data_dir)
    model = build_model(config.model, dataset.num_classes, dataset.level)
    if before is not None:
        before(dataset, model)
    result = train(
        model, dataset, config.train, key=jax.random.key(config.train.seed), on_epoch=on_epoch
    )
    checkpoint = Checkpoint(
        result.params,
        config.model,
        dataset.name,
        dataset.num_features,
        dataset.num_classes,
        dataset.level,
    )
    save_checkpoint(out, checkpoint)
    summary = {
        "dataset": dataset.name,
        "task": f"{dataset.level} classification",
        "seed": config.train.seed,
        "epochs": result.epochs,
        "epoch_kept": result.epoch_kept,
        "accuracy": result.accuracy,
        "roc_auc": result.roc_auc,
        "seconds": round(result.seconds, 3),
        "model": {
            "architecture": config.model.architecture,
            "num_layers": config.model.num_layers,
            "hidden_size": config.model.hidden_size,
            "readout": config.model.readout,
        },
        "settings": training_settings(config),
        "edge_changes": getattr(dataset, "edge_changes", None),
        "checkpoint": str(checkpoint_path(out)),
    }
    atomic_write_json(out / "train.json", summary)
    return summary


def _import(config: Config, out: Path, data_dir) -> dict[str, Any]:
    """``[model] source = "torch"``: import the PyG model (checked against PyG's own logits on
    the dataset), record its accuracy; no training, no jgattr checkpoint."""
    start = time.perf_counter()
    dataset = load_configured_dataset(config, data_dir=data_dir)
    trained = load_trained(config, out, dataset)
    logits = whole_graph_logits(trained.model, trained.params, dataset)
    predicted = logits.argmax(axis=-1)
    accuracy = {
        name: float(np.mean(predicted[mask] == labels[mask])) if np.any(mask) else 0.0
        for name in ("train", "val", "test")
        for labels, mask in [(np.asarray(dataset.labels), getattr(dataset, f"{name}_mask"))]
    }
    explainable = as_explainable(trained.model)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "dataset": dataset.name,
        "task": f"{dataset.level} classification",
        "seed": None,
        "epochs": 0,
        "accuracy": accuracy,
        "seconds": round(time.perf_counter() - start, 3),
        "model": {
            "source": "torch",
            "name": explainable.name,
            "num_layers": explainable.num_layers,
            "module": config.model.module,
        },
        "imported": str(trained.file),
        "sha256": file_sha256(trained.file),
        "settings": training_settings(config),
        "checkpoint": str(trained.file),
    }
    atomic_write_json(out / "train.json", summary)
    return summary
