"""The jobs behind the CLI as library functions: each writes its result files, returns a summary."""

import os
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jgattr._checkpoint import Checkpoint, checkpoint_path, load_checkpoint, save_checkpoint
from jgattr._config import Config, ExplainConfig
from jgattr._io import atomic_write_json
from jgattr._training import train
from jgattr.attribution import Method, explain, get_method
from jgattr.data import Dataset, load_dataset
from jgattr.models import build_model


def load_configured_dataset(config: Config, *, data_dir: str | os.PathLike | None) -> Dataset:
    """The dataset named by ``config.data``, looked up in ``data_dir`` (see :mod:`jgattr.data`)."""
    return load_dataset(
        config.data.name,
        data_dir=data_dir,
        normalize_features=config.data.normalize_features,
        verify_checksums=config.data.verify_checksums,
    )


def train_and_save(
    config: Config, out: str | os.PathLike, *, data_dir: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Train the configured model, write ``checkpoint.msgpack`` and ``train.json`` into ``out``.

    Returns:
      The content of ``train.json``: dataset, seed, epochs, train/val/test accuracy, seconds and
      the paths written.
    """
    out = Path(out)
    dataset = load_configured_dataset(config, data_dir=data_dir)
    model = build_model(config.model, dataset.num_classes)
    result = train(model, dataset, config.train, key=jax.random.key(config.train.seed))
    checkpoint = Checkpoint(
        result.params, config.model, dataset.name, dataset.num_features, dataset.num_classes
    )
    save_checkpoint(out, checkpoint)
    summary = {
        "dataset": dataset.name,
        "seed": config.train.seed,
        "epochs": result.epochs,
        "accuracy": result.accuracy,
        "seconds": round(result.seconds, 3),
        "model": {
            "architecture": config.model.architecture,
            "num_layers": config.model.num_layers,
            "hidden_size": config.model.hidden_size,
        },
        "checkpoint": str(checkpoint_path(out)),
    }
    atomic_write_json(out / "train.json", summary)
    return summary


def configured_methods(config: ExplainConfig) -> list[Method]:
    """The methods of ``[explain]`` with the hyperparameters that apply to each."""
    shared = {"baseline": config.baseline}
    per_family = {
        "integrated_gradients": {
            "n_steps": config.n_steps,
            "quadrature_rule": config.quadrature,
            "output": config.output,
            **shared,
        },
        "lid": {"relu_average": config.relu_average, "n_samples": config.n_samples, **shared},
        "edge_integrated_gradients": {
            "n_steps": config.n_steps,
            "quadrature_rule": config.quadrature,
        },
    }
    methods = []
    for name in config.methods:
        key = get_method(name).name
        family = "lid" if "lid" in key else key
        methods.append(get_method(key, **per_family.get(family, {})))
    return methods


def _targets_spec(targets: str | tuple[int, ...]):
    return targets if isinstance(targets, str) else np.asarray(targets, dtype=np.int64)


def explain_and_save(
    config: Config,
    checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Explain the configured targets with the configured methods; write results into ``out``.

    Writes ``attributions_<method>.npz`` per method (see the README for the format) and
    ``explain.json``; an interrupted run resumes from ``out/parts``.

    Returns:
      The content of ``explain.json``.
    """
    out = Path(out)
    dataset = load_configured_dataset(config, data_dir=data_dir)
    trained = load_checkpoint(checkpoint, dataset=dataset.name)
    if trained.num_features != dataset.num_features:
        raise ValueError(
            f"checkpoint {checkpoint} expects {trained.num_features} features, dataset "
            f"{dataset.name} has {dataset.num_features}"
        )
    methods = configured_methods(config.explain)
    results = explain(
        trained.model(),
        trained.params,
        dataset,
        methods=methods,
        targets=_targets_spec(config.explain.targets),
        classes=config.explain.classes,
        path=config.explain.path,
        memory_budget_mb=config.explain.memory_budget_mb,
        out_dir=out,
        progress=progress,
    )
    summary = {
        "dataset": dataset.name,
        "checkpoint": str(checkpoint_path(checkpoint)),
        "methods": {},
    }
    for name, result in results.items():
        file = result.save(out / f"attributions_{name}.npz")
        summary["methods"][name] = {**result.stats, "file": str(file)}
    atomic_write_json(out / "explain.json", summary)
    return summary
