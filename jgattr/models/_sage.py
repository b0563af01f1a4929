"""GraphSAGE with mean aggregation (Hamilton et al., NeurIPS 2017) as a Flax module.

Layer ``l``: ``Hˡ_i = Hˡ⁻¹_i W_root + (Σ_{j→i} w_ij Hˡ⁻¹_j) W_neigh + b`` with
``w_ij = 1 / in-degree(i)`` (the mean over the neighbours present), ReLU between layers, no
self loops (the root term is the node's own). Both matmuls of the first layer act on X, so the
model reads X through ``P = X [W_root | W_neigh]``.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from jgattr._types import Array, Params
from jgattr.models._layered import (
    LayerAt,
    Parameters,
    dropped,
    flax_forward,
    glorot_linear,
    layered_explainable,
)
from jgattr.models._protocol import Explainable, hidden_width


def mean_edge_weights(senders: Array, receivers: Array, alive: Array, num_nodes: int) -> Array:
    """``alive_e / Σ alive`` over the edges into each receiver (the mean of the neighbours)."""
    del senders
    degree = jax.ops.segment_sum(alive, receivers, num_segments=num_nodes)
    return alive / jnp.maximum(degree, 1.0)[receivers]


def combine(graph: jraph.GraphsTuple, p: Array) -> Array:
    """``root + mean(neigh)`` of projected inputs ``p = H [W_root | W_neigh]`` ``[N, 2 d]``:
    the layer before its bias ``[N, d]`` (linear in ``p``)."""
    root, neigh = jnp.split(p, 2, axis=-1)
    messages = graph.edges[:, None] * neigh[graph.senders]
    return root + jax.ops.segment_sum(messages, graph.receivers, num_segments=p.shape[0])


class GraphSAGE(nn.Module):
    """K-layer GraphSAGE-mean for node classification.

    Attributes:
      num_classes: width of the logits.
      hidden_size: hidden width.
      num_layers: K (the receptive field in hops).
      dropout_rate: dropout on every layer's input while training.
      input_dropout: whether dropout also hits the input features.

    References:
      Hamilton, Ying & Leskovec, Inductive Representation Learning on Large Graphs, NeurIPS 2017.
    """

    num_classes: int
    hidden_size: int | tuple[int, ...] = 64
    num_layers: int = 2
    dropout_rate: float = 0.5
    input_dropout: bool = True

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, *, deterministic: bool = True) -> Array:
        """Logits ``[N, num_classes]`` of a prepared graph (mean weights, no self loops)."""
        width = graph.nodes.shape[-1]
        for index in range(self.num_layers):
            out = _width(self, index)
            Parameters(glorot_linear(width, out, 2 * out), name=f"layer_{index}")()
            width = out
        return flax_forward(self, sage_layer, graph, deterministic)

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This GraphSAGE as the engine sees it (cached per hyperparameters)."""
        return _sage_explainable(self.num_classes, self.hidden_size, self.num_layers)


def _width(model: GraphSAGE, index: int) -> int:
    """Layer ``index``'s output width (``num_classes`` for the last)."""
    last = index == model.num_layers - 1
    return model.num_classes if last else hidden_width(model.hidden_size, index)


def sage_layer(
    model: GraphSAGE, params: Params, graph: jraph.GraphsTuple, at: LayerAt, h: Array
) -> Array:
    """Layer ``at.index``: ``combine(h [W_root | W_neigh])`` + bias, then ReLU but for the last
    (see ``jgattr/models/_layered.py``)."""
    h = dropped(at.dropout, h)
    weights = params[f"layer_{at.index}"]
    return _finish(
        model, weights, at.index, combine(graph, h if at.projected else h @ weights["kernel"])
    )


def _finish(model: GraphSAGE, weights: Params, index: int, u: Array) -> Array:
    """Layer ``index`` after :func:`combine`: the bias, and the ReLU of a hidden layer."""
    out = u + weights["bias"][None, :]
    return out if index == model.num_layers - 1 else jax.nn.relu(out)


def _linear_input(model: GraphSAGE, params: Params, graph) -> tuple:
    """Layer 1 as ``rest ∘ linear``: ``linear(p) = root + mean(neigh)``, ``rest`` adds the bias
    (and the ReLU of a hidden layer)."""
    rest = functools.partial(_finish, model, params["layer_0"], 0)
    return functools.partial(combine, graph), rest


def _excitation_layers(num_layers: int, params: Params, graph) -> tuple:
    """One positive step per layer for excitation backprop: ``h ↦ h W_root⁺ + mean(h) W_neigh⁺``
    (the mean over neighbours is a non-negative map, so root and neighbour terms form one step)."""

    def step(index: int):
        kernel = jax.nn.relu(params[f"layer_{index}"]["kernel"])
        return (lambda h: combine(graph, h @ kernel),)

    return tuple(step(index) for index in range(num_layers))


@functools.lru_cache(maxsize=64)
def _sage_explainable(num_classes: int, hidden_size: int | tuple, num_layers: int) -> Explainable:
    model = GraphSAGE(num_classes, hidden_size, num_layers)
    return layered_explainable(
        model,
        sage_layer,
        name=f"GraphSAGE (K={num_layers})",
        edge_weights=mean_edge_weights,
        self_loops=False,
        input_kernel=lambda params: params["layer_0"]["kernel"],
        excitation_layers=functools.partial(_excitation_layers, num_layers),
        linear_input=functools.partial(_linear_input, model),
    )
