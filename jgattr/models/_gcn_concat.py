"""Ying et al.'s GNNExplainer node classifier: a GCN whose head reads every layer's output.

Layer ``l`` (``l = 1..K``): ``Zˡ = A Hˡ⁻¹ Wˡ + bˡ`` over the graph as it is (sum of the
neighbours, no self loops, no degree normalization: ``A`` is the raw adjacency), then each row
scaled to unit L2 norm, ``Eˡ = Zˡ / max(‖Zˡ‖, 1e-12)``, then ReLU for ``l < K``
(``Hˡ = ReLU(Eˡ)``; ``Hᴷ = Eᴷ``). The logits are one linear head on the concatenation of every
layer: ``[H¹ | … | Hᴷ⁻¹ | Hᴷ] W_head + b_head``.

This is ``GcnEncoderNode`` of Ying et al.'s public code (``models.py``) with its defaults for the
synthetic benchmarks: no batch norm, no ``add_self`` term, no prediction MLP. ``w = graph.edges``
is 1 on every edge, so an edge mask scales each message.

The ``layers`` hook carries the concatenation as its state: layer ``l < K`` maps
``[H¹ | … | Hˡ⁻¹] ↦ [H¹ | … | Hˡ]`` and layer K gives the logits, so the layer-wise methods
decompose the model as it is (the head's skip connections included).

References:
  Ying, Bourgeois, You, Zitnik & Leskovec, GNNExplainer: Generating Explanations for Graph
  Neural Networks, NeurIPS 2019 (https://github.com/RexYing/gnn-model-explainer, ``models.py``).
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from jgattr._types import Array, Params
from jgattr.models._gcn import pre_activation
from jgattr.models._layered import (
    LayerAt,
    Parameters,
    dense,
    dropped,
    flax_forward,
    glorot_linear,
    layered_explainable,
)
from jgattr.models._protocol import Explainable, hidden_width

NORM_EPS = 1e-12  # torch.nn.functional.normalize's eps


def unit_rows(z: Array) -> Array:
    """``z / max(‖z‖₂, eps)`` per row ``[N, D]`` (zero rows stay zero; finite gradients)."""
    squared = jnp.sum(jnp.square(z), axis=-1, keepdims=True)
    return z * jax.lax.rsqrt(jnp.maximum(squared, NORM_EPS**2))


class ConcatGCN(nn.Module):
    """K-layer GCN with L2-normalized layers whose outputs are all concatenated before the head.

    Attributes:
      num_classes: width of the logits.
      hidden_size: width of every layer (Ying et al.: 20), or one width per layer (K widths).
      num_layers: K, the number of graph convolutions (the receptive field is K hops).
      dropout_rate: dropout on every layer's input while training (Ying et al.: 0).
      input_dropout: whether dropout also hits the input features.

    Example:
      >>> model = ConcatGCN(num_classes=4, hidden_size=20, num_layers=3)
    """

    num_classes: int
    hidden_size: int | tuple[int, ...] = 20
    num_layers: int = 3
    dropout_rate: float = 0.0
    input_dropout: bool = True

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, *, deterministic: bool = True) -> Array:
        """Logits ``[N, num_classes]`` of a prepared graph (no self loops, unit weights)."""
        widths = _widths(self)
        inputs = (graph.nodes.shape[-1], *widths[:-1])
        for index, (width, out) in enumerate(zip(inputs, widths, strict=True)):
            Parameters(glorot_linear(width, out), name=f"conv_{index}")()
        Parameters(dense(sum(widths), self.num_classes), name="head")()
        return flax_forward(self, concat_layer, graph, deterministic)

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This model as the engine sees it (cached per hyperparameters)."""
        return _concat_explainable(self.num_classes, self.hidden_size, self.num_layers)


def _widths(model: ConcatGCN) -> tuple[int, ...]:
    return tuple(hidden_width(model.hidden_size, layer) for layer in range(model.num_layers))


def concat_layer(
    model: ConcatGCN, params: Params, graph: jraph.GraphsTuple, at: LayerAt, state: Array
) -> Array:
    """Layer ``at.index`` on the concatenated state ``[H¹ | … | Hˡ⁻¹]`` (X for the first, or
    ``P = X W¹`` when ``at.projected``): ``[H¹ | … | Hˡ]``, and the logits
    ``[H¹ | … | Eᴷ] W_head + b_head`` for the last (see ``jgattr/models/_layered.py``)."""
    last = at.index == model.num_layers - 1
    h = state if at.index == 0 else state[:, -_widths(model)[at.index - 1] :]
    z = unit_rows(
        pre_activation(params, graph, at.index, dropped(at.dropout, h), projected=at.projected)
    )
    out = z if last else jax.nn.relu(z)
    joined = out if at.index == 0 else jnp.concatenate([state, out], axis=-1)
    if not last:
        return joined
    head = params["head"]
    return joined @ head["kernel"] + head["bias"][None, :]


@functools.lru_cache(maxsize=64)
def _concat_explainable(num_classes: int, hidden_size: int | tuple, num_layers: int) -> Explainable:
    model = ConcatGCN(num_classes, hidden_size, num_layers)
    return layered_explainable(
        model,
        concat_layer,
        name=f"concat-GCN (Ying et al., K={num_layers})",
        self_loops=False,
        input_kernel=lambda params: params["conv_0"]["kernel"],
    )
