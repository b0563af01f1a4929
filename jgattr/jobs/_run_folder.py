"""What the jobs share: a run folder's dataset, model and parameters, whole-graph logits."""

from pathlib import Path
from typing import Any

import jax
import numpy as np

from jgattr._checkpoint import load_checkpoint
from jgattr._config import Config
from jgattr._training import normalized_graph
from jgattr.data import Dataset
from jgattr.jobs._train import load_configured_dataset
from jgattr.models import make_apply_fn


def load_run(config: Config, run: Path, data_dir) -> tuple[Dataset, Any, Any]:
    dataset = load_configured_dataset(config, data_dir=data_dir)
    trained = load_checkpoint(run, dataset=dataset.name)
    return dataset, trained.model, trained.params


def whole_graph_logits(model, params, dataset: Dataset) -> np.ndarray:
    """Whole-graph logits ``[N, C]`` of the model on the dataset."""
    return np.asarray(jax.jit(make_apply_fn(model))(params, normalized_graph(dataset)))
