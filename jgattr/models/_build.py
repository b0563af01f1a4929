"""Built-in models by name: the ``[model]`` table of a config and the module it builds."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from jgattr._model_config import ModelConfig
from jgattr._types import ApplyFn, Params
from jgattr.models._graph_classifier import GraphClassifier
from jgattr.models._protocol import as_explainable
from jgattr.models._registry import node_model


def build_model(config: ModelConfig, num_classes: int, level: str = "node") -> nn.Module:
    """The Flax module described by ``config`` with ``num_classes`` outputs.

    ``level="graph"`` builds a :class:`GraphClassifier` (one row of logits per graph).
    """
    widths = config.layer_widths(level)
    if level == "graph":
        return GraphClassifier(
            num_classes=num_classes,
            architecture=config.architecture,
            hidden_sizes=widths,
            readout=config.readout,
            dropout_rate=config.dropout_rate,
            heads=config.heads,
        )
    return node_model(
        config.architecture,
        dataclasses.asdict(config),
        num_classes=num_classes,
        hidden_size=widths,
        num_layers=config.num_layers,
        dropout_rate=config.dropout_rate,
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
    """Initial parameters of ``model`` for a prepared graph (``graph.nodes`` is ``[N, F]``).

    One compiled program: run op by op, a GAT's initialization compiles each of its hundreds of
    small operations on a cold cache (seconds to tens of seconds on 2 cores).
    """
    return jax.jit(model.init)({"params": key}, jax.tree.map(jnp.asarray, graph))["params"]
