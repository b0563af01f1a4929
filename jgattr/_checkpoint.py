"""Checkpoints: parameters, model config, dataset name and format version in one msgpack file.

Written with ``flax.serialization`` (msgpack, no pickle), atomically. Loading checks the format,
its version and the parameter tree against the model the config describes.
"""

import dataclasses
import os
from pathlib import Path

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from jgattr._io import atomic_write_bytes
from jgattr._types import Params
from jgattr.models import ModelConfig, build_model, describe_params, param_template, params_mismatch

CHECKPOINT_FILE = "checkpoint.msgpack"
FORMAT = "jgattr-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt or incompatible with this version of jgattr."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A trained model and what is needed to rebuild it.

    Attributes:
      params: parameter pytree.
      model: (property) the Flax module of ``model_config``, built on access.
      model_config: the model's hyperparameters.
      dataset: name of the dataset it was trained on.
      num_features: input width F.
      num_classes: output width C.
      level: ``"node"`` (a node classifier) or ``"graph"`` (a graph classifier).
    """

    params: Params
    model_config: ModelConfig
    dataset: str
    num_features: int
    num_classes: int
    level: str = "node"

    @property
    def model(self) -> nn.Module:
        """The Flax module these parameters belong to (a property, like :attr:`params`)."""
        return build_model(self.model_config, self.num_classes, self.level)


def checkpoint_path(path: str | os.PathLike) -> Path:
    """``path`` itself if it is a file name, else ``path / checkpoint.msgpack``."""
    path = Path(path)
    return path if path.suffix == ".msgpack" else path / CHECKPOINT_FILE


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` (a run folder or a ``.msgpack`` file); returns the file."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dataset": checkpoint.dataset,
        "num_features": checkpoint.num_features,
        "num_classes": checkpoint.num_classes,
        "level": checkpoint.level,
        "model": {  # msgpack stores lists, not tuples (per-layer widths)
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(checkpoint.model_config).items()
        },
        "params": jax.tree.map(np.asarray, flax.serialization.to_state_dict(checkpoint.params)),
    }
    return atomic_write_bytes(checkpoint_path(path), flax.serialization.msgpack_serialize(payload))


def _read_payload(file: Path) -> dict:
    if not file.is_file():
        raise CheckpointError(
            f"no checkpoint at {file}: train one with "
            f"`jgattr train --config ... --out {file.parent}`"
        )
    try:
        payload = flax.serialization.msgpack_restore(file.read_bytes())
    except Exception as err:
        raise CheckpointError(
            f"checkpoint {file} is not a readable msgpack file ({err}): retrain over it with "
            "`jgattr run --overwrite` or `jgattr train --overwrite`"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{file} is not a jgattr checkpoint (missing format {FORMAT!r})")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {file} has format_version {payload.get('format_version')!r}; this jgattr "
            f"reads version {FORMAT_VERSION}. Retrain with `jgattr train`."
        )
    return payload


def _restore_params(file: Path, template: Params, raw: dict) -> Params:
    problem = params_mismatch(template, raw)
    if problem is not None:
        raise CheckpointError(
            f"checkpoint {file}: its parameters do not fit the model config it stores: {problem} "
            f"(they are {describe_params(raw)}); the file is damaged or was edited: retrain with "
            "`jgattr train --overwrite` (or `jgattr run --overwrite`)"
        )
    try:
        params = flax.serialization.from_state_dict(template, raw)
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(
            f"checkpoint {file}: parameters do not match its model config: {err}"
        ) from err
    return jax.tree.map(jnp.asarray, params)


def unreadable_checkpoint(path: str | os.PathLike) -> str | None:
    """Why the checkpoint file at ``path`` (a run folder or ``.msgpack`` file) cannot be read,
    or ``None`` when it reads (or is absent: nothing to replace)."""
    file = checkpoint_path(path)
    if not file.is_file():
        return None
    try:
        _read_payload(file)
    except CheckpointError as err:
        return str(err)
    return None


def load_checkpoint(path: str | os.PathLike, *, dataset: str | None = None) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
      path: a run folder or a ``.msgpack`` file.
      dataset: if given, the dataset the caller will use; a checkpoint trained on another one is
        refused.

    Raises:
      CheckpointError: missing, unreadable, another format or version, parameters that do not
        fit the stored model config, or trained on another dataset.
    """
    file = checkpoint_path(path)
    payload = _read_payload(file)
    try:
        config = ModelConfig(**{k: _tuple(v) for k, v in payload["model"].items()})
        num_features, num_classes = int(payload["num_features"]), int(payload["num_classes"])
        name = str(payload["dataset"])
        level = str(payload.get("level", "node"))
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"checkpoint {file} has an invalid header: {err}") from err
    if dataset is not None and dataset != name:
        raise CheckpointError(
            f"checkpoint {file} was trained on {name!r}, not on dataset {dataset!r}: "
            "use a checkpoint of that dataset or train one"
        )
    template = param_template(build_model(config, num_classes, level), num_features)
    params = _restore_params(file, template, payload["params"])
    return Checkpoint(params, config, name, num_features, num_classes, level)


def _tuple(value):
    """Per-layer widths come back from msgpack as a list; the config holds a tuple."""
    return tuple(value) if isinstance(value, list) else value
