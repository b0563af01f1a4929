"""jgattr: attributions for every node of a graph at once, in JAX.

The public surface is small: data loading, the GCN and its training, checkpoints and configs.
"""

from jgattr._checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from jgattr._config import Config, ConfigError, DataConfig, load_config
from jgattr._training import TrainConfig, TrainResult, train
from jgattr.data import DATASETS, DataError, Dataset, load_dataset, load_npz
from jgattr.models import GCN, ModelConfig, build_model, gcn_normalize, make_apply_fn

__version__ = "0.1.0"

__all__ = [
    "DATASETS",
    "GCN",
    "Checkpoint",
    "CheckpointError",
    "Config",
    "ConfigError",
    "DataConfig",
    "DataError",
    "Dataset",
    "ModelConfig",
    "TrainConfig",
    "TrainResult",
    "build_model",
    "gcn_normalize",
    "load_checkpoint",
    "load_config",
    "load_dataset",
    "load_npz",
    "make_apply_fn",
    "save_checkpoint",
    "train",
]
