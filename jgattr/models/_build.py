"""Built-in models by name: the ``[model]`` table of a config and the module it builds."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from jgattr._types import ApplyFn, Params
from jgattr.models._gat import GAT
from jgattr.models._gcn import GCN
from jgattr.models._gin import GIN
from jgattr.models._protocol import as_explainable
from jgattr.models._sage import GraphSAGE

_MODULES = {"gcn": GCN, "gat": GAT, "gin": GIN, "sage": GraphSAGE}
ARCHITECTURES = tuple(_MODULES)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Model hyperparameters, as in the ``[model]`` table of a config file.

    Attributes:
      architecture: one of ``ARCHITECTURES``: ``gcn``, ``gat``, ``gin``, ``sage``.
      num_layers: number of message-passing layers K (>= 1).
      hidden_size: hidden width (>= 1; per head for GAT).
      dropout_rate: in [0, 1).
      heads: GAT only: heads of the hidden layers (the last layer has one).
    """

    architecture: str = "gcn"
    num_layers: int = 2
    hidden_size: int = 16
    dropout_rate: float = 0.5
    heads: int = 8

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"model.architecture must be one of {list(ARCHITECTURES)}, "
                f"got {self.architecture!r}"
            )
        if self.num_layers < 1:
            raise ValueError(f"model.num_layers must be >= 1, got {self.num_layers}")
        if self.hidden_size < 1:
            raise ValueError(f"model.hidden_size must be >= 1, got {self.hidden_size}")
        if not 0.0 <= self.dropout_rate < 1.0:
            raise ValueError(f"model.dropout_rate must be in [0, 1), got {self.dropout_rate}")
        if self.heads < 1:
            raise ValueError(f"model.heads must be >= 1, got {self.heads}")


def build_model(config: ModelConfig, num_classes: int) -> nn.Module:
    """The Flax module described by ``config`` with ``num_classes`` outputs."""
    extra = {"heads": config.heads} if config.architecture == "gat" else {}
    return _MODULES[config.architecture](
        num_classes=num_classes,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        dropout_rate=config.dropout_rate,
        **extra,
    )


def make_apply_fn(model) -> ApplyFn:
    """The pure function ``(params, graph) -> logits`` of a model with dropout off.

    ``graph`` must be prepared by the model (:func:`prepare_graph`).
    """
    return as_explainable(model).apply


def prepare_graph(model, graph: jraph.GraphsTuple) -> jraph.GraphsTuple:
    """``graph`` as ``model`` reads it (self loops, edge weights), on the host."""
    return as_explainable(model).prepare_graph(graph)


def init_params(model: nn.Module, graph: jraph.GraphsTuple, *, key: jax.Array) -> Params:
    """Initial parameters of ``model`` for a prepared graph (``graph.nodes`` is ``[N, F]``)."""
    return model.init({"params": key}, jax.tree.map(jnp.asarray, graph))["params"]
