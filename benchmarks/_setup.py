"""What views.py and reproduce.py share: the real files' folders and a configured, trained model."""

import dataclasses
import os
from pathlib import Path

import jax

from jgattr import build_model, load_config, train
from jgattr.jobs import configured_methods, load_configured_dataset

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("JGATTR_SHARED_DATA", REPO.parent / "shared" / "data"))
DATA_DIRS = {  # dataset name prefix -> sub-folder of the shared data
    "cora": "planetoid",
    "tu:": "tu",
    "moleculenet:": "moleculenet",
    "twitch:": "twitch",
    "gnnexplainer:": "gnnexplainer",
}


def data_dir(name: str) -> Path:
    """The folder of the shared data holding ``name``'s files."""
    sub = next(folder for prefix, folder in DATA_DIRS.items() if name.startswith(prefix))
    return SHARED_DATA / sub


def trained_run(config_name: str, **changes) -> tuple:
    """``(config, dataset, model, TrainResult)`` for ``configs/<config_name>.toml``; ``changes``
    replace fields of its sections, e.g. ``data={"name": "twitch:EN"}``."""
    config = load_config(REPO / "configs" / f"{config_name}.toml")
    for section, fields in changes.items():
        config = dataclasses.replace(
            config, **{section: dataclasses.replace(getattr(config, section), **fields)}
        )
    dataset = load_configured_dataset(config, data_dir=data_dir(config.data.name))
    model = build_model(config.model, dataset.num_classes, dataset.level)
    result = train(model, dataset, config.train, key=jax.random.key(config.train.seed))
    return config, dataset, model, result


def methods_of(config, names: list[str]) -> list:
    """``names`` as configured methods (the config's shared ``[explain]`` settings)."""
    return configured_methods(dataclasses.replace(config.explain, methods=list(names)))
