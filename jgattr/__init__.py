"""jgattr: attributions for every node of a graph at once, in JAX.

The public surface is small: data loading, the built-in models and their training, checkpoints
and configs, and :func:`explain`. Names are imported on first use (PEP 562), so ``import jgattr``
and ``jgattr --help`` do not pay for importing JAX.
"""

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "DATASETS": "jgattr.data",
    "GAT": "jgattr.models",
    "GCN": "jgattr.models",
    "GIN": "jgattr.models",
    "GraphSAGE": "jgattr.models",
    "Explainable": "jgattr.models",
    "Checkpoint": "jgattr._checkpoint",
    "CheckpointError": "jgattr._checkpoint",
    "Config": "jgattr._config",
    "ConfigError": "jgattr._config",
    "DataConfig": "jgattr._config",
    "DataError": "jgattr.data",
    "Dataset": "jgattr.data",
    "ModelConfig": "jgattr.models",
    "TrainConfig": "jgattr._training",
    "TrainResult": "jgattr._training",
    "build_model": "jgattr.models",
    "explain": "jgattr.attribution",
    "gcn_normalize": "jgattr.models",
    "load_checkpoint": "jgattr._checkpoint",
    "load_config": "jgattr._config",
    "load_dataset": "jgattr.data",
    "load_npz": "jgattr.data",
    "make_apply_fn": "jgattr.models",
    "prepare_graph": "jgattr.models",
    "save_checkpoint": "jgattr._checkpoint",
    "train": "jgattr._training",
}

__all__ = [  # the keys of _EXPORTS and the TYPE_CHECKING imports (tests/test_repo.py checks)
    "DATASETS",
    "GAT",
    "GCN",
    "GIN",
    "Checkpoint",
    "CheckpointError",
    "Config",
    "ConfigError",
    "DataConfig",
    "DataError",
    "Dataset",
    "Explainable",
    "GraphSAGE",
    "ModelConfig",
    "TrainConfig",
    "TrainResult",
    "build_model",
    "explain",
    "gcn_normalize",
    "load_checkpoint",
    "load_config",
    "load_dataset",
    "load_npz",
    "make_apply_fn",
    "prepare_graph",
    "save_checkpoint",
    "train",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jgattr' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # static checkers and IDEs see the eager imports
    from jgattr._checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
    from jgattr._config import Config, ConfigError, DataConfig, load_config
    from jgattr._training import TrainConfig, TrainResult, train
    from jgattr.attribution import explain
    from jgattr.data import DATASETS, DataError, Dataset, load_dataset, load_npz
    from jgattr.models import (
        GAT,
        GCN,
        GIN,
        Explainable,
        GraphSAGE,
        ModelConfig,
        build_model,
        gcn_normalize,
        make_apply_fn,
        prepare_graph,
    )
