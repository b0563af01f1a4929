"""The ``train`` job: train the configured model, write its checkpoint and ``train.json``."""

import os
from pathlib import Path
from typing import Any

import jax

from jgattr._checkpoint import Checkpoint, checkpoint_path, save_checkpoint
from jgattr._config import Config
from jgattr._io import atomic_write_json
from jgattr._training import train
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
