"""Graph convolutional network (Kipf & Welling 2017) as a Flax module over ``jraph.GraphsTuple``.

The model never normalizes: it reads the symmetric normalization ``Â = D̃^{-1/2} (A + I) D̃^{-1/2}``
as one weight per directed edge from ``graph.edges``, computed once from the graph's structure by
:func:`gcn_normalize`. Attribution on a target's computation subgraph therefore keeps the weights
of the whole graph and reproduces the whole-graph logits exactly.
"""

import dataclasses
import functools
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jgattr._types import ApplyFn, Array

ARCHITECTURES = ("gcn",)


def gcn_normalize(graph: jraph.GraphsTuple) -> jraph.GraphsTuple:
    """Add self loops and the symmetric GCN edge weights, on the host.

    Args:
      graph: one graph, ``senders``/``receivers`` int ``[E]`` holding both directions of every
        undirected edge, without self loops or duplicates (as :mod:`jgattr.data` builds them).

    Returns:
      The graph with ``E + N`` edges: the input edges followed by one self loop per node, and
      ``edges`` float32 ``[E + N]`` with ``Â[r, s] = 1 / sqrt(d̃(r) d̃(s))``, ``d̃ = deg + 1``.

    Example:
      >>> normalized = gcn_normalize(dataset.graph)
    """
    senders = np.asarray(graph.senders)
    receivers = np.asarray(graph.receivers)
    n = int(np.asarray(graph.nodes).shape[0])
    if np.any(senders == receivers):
        raise ValueError(
            "graph must not contain self loops: gcn_normalize adds one per node; "
            f"found {int(np.sum(senders == receivers))}. Remove them first."
        )
    loops = np.arange(n, dtype=np.int32)
    senders = np.concatenate([senders.astype(np.int32), loops])
    receivers = np.concatenate([receivers.astype(np.int32), loops])
    degree = np.bincount(receivers, minlength=n).astype(np.float64)
    inv_sqrt = 1.0 / np.sqrt(degree)
    weights = (inv_sqrt[receivers] * inv_sqrt[senders]).astype(np.float32)
    return graph._replace(
        senders=senders,
        receivers=receivers,
        edges=weights,
        n_edge=np.array([senders.shape[0]], dtype=np.int32),
    )


def propagate(graph: jraph.GraphsTuple, h: Array) -> Array:
    """Weighted neighbourhood sum ``Â h``: ``out[r] = Σ_{(s→r)} w[s→r] h[s]``.

    Args:
      graph: normalized graph, ``edges`` float ``[E]``.
      h: node values ``[N, D]``.

    Returns:
      ``[N, D]``.
    """
    messages = graph.edges[:, None] * h[graph.senders]
    return jax.ops.segment_sum(messages, graph.receivers, num_segments=h.shape[0])


class GCNConv(nn.Module):
    """One graph convolution ``Â H W + b`` (bias added after aggregation).

    Attributes:
      features: output width.
    """

    features: int

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, h: Array) -> Array:
        kernel = self.param(
            "kernel", nn.initializers.glorot_uniform(), (h.shape[-1], self.features)
        )
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        return propagate(graph, h @ kernel) + bias[None, :]


class GCN(nn.Module):
    """K-layer GCN: ``H⁰ = X``, ``Hˡ = ReLU(Â Hˡ⁻¹ Wˡ + bˡ)``, logits ``Â Hᴷ⁻¹ Wᴷ + bᴷ``.

    Dropout (rate ``dropout_rate``) is applied to the input of every layer while training.

    Attributes:
      num_classes: width of the logits.
      hidden_size: width of the hidden layers.
      num_layers: K, the number of graph convolutions (the receptive field is K hops).
      dropout_rate: dropout probability during training.
      input_dropout: whether dropout also hits the input features; training turns it off and
        drops only the non-zero features itself, as Kipf & Welling's sparse dropout does.

    References:
      Kipf & Welling, Semi-Supervised Classification with Graph Convolutional Networks, ICLR 2017.
    """

    num_classes: int
    hidden_size: int = 16
    num_layers: int = 2
    dropout_rate: float = 0.5
    input_dropout: bool = True

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, *, deterministic: bool = True) -> Array:
        """Logits ``[N, num_classes]`` of a normalized graph (``graph.nodes`` is ``[N, F]``)."""
        h = graph.nodes
        for layer in range(self.num_layers):
            skip = layer == 0 and not self.input_dropout
            h = nn.Dropout(self.dropout_rate)(h, deterministic=deterministic or skip)
            last = layer == self.num_layers - 1
            width = self.num_classes if last else self.hidden_size
            h = GCNConv(width, name=f"conv_{layer}")(graph, h)
            if not last:
                h = jax.nn.relu(h)
        return h


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Model hyperparameters, as in the ``[model]`` table of a config file.

    Attributes:
      architecture: one of ``ARCHITECTURES``.
      num_layers: number of graph convolutions K (>= 1).
      hidden_size: hidden width (>= 1).
      dropout_rate: in [0, 1).
    """

    architecture: str = "gcn"
    num_layers: int = 2
    hidden_size: int = 16
    dropout_rate: float = 0.5

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


def build_model(config: ModelConfig, num_classes: int) -> GCN:
    """The Flax module described by ``config`` with ``num_classes`` outputs."""
    return GCN(
        num_classes=num_classes,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        dropout_rate=config.dropout_rate,
    )


def make_apply_fn(model: nn.Module) -> ApplyFn:
    """The pure function ``(params, graph) -> logits`` of ``model`` with dropout off.

    This is the function the attribution engine differentiates.
    """

    def apply_fn(params, graph: jraph.GraphsTuple) -> Array:
        return model.apply({"params": params}, graph, deterministic=True)

    return apply_fn


def gcn_convolutions(
    model: GCN, params, graph: jraph.GraphsTuple
) -> tuple[Callable[[Array], Array], ...]:
    """The K convolutions ``h ↦ Â h Wˡ + bˡ`` of ``model`` (pre-activation) on ``graph``.

    Composing them with ReLU between consecutive ones gives the model's logits.
    """
    return tuple(
        functools.partial(
            GCNConv(model.hidden_size if layer < model.num_layers - 1 else model.num_classes).apply,
            {"params": params[f"conv_{layer}"]},
            graph,
        )
        for layer in range(model.num_layers)
    )


def init_params(model: nn.Module, graph: jraph.GraphsTuple, *, key: jax.Array):
    """Initial parameters of ``model`` for graphs with ``graph.nodes.shape[-1]`` features."""
    return model.init({"params": key}, jax.tree.map(jnp.asarray, graph))["params"]
