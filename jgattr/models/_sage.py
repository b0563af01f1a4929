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
from jgattr.models._protocol import Explainable, hidden_width, through_layers


def mean_edge_weights(senders: Array, receivers: Array, alive: Array, num_nodes: int) -> Array:
    """``alive_e / Σ alive`` over the edges into each receiver (the mean of the neighbours)."""
    del senders
    degree = jax.ops.segment_sum(alive, receivers, num_segments=num_nodes)
    return alive / jnp.maximum(degree, 1.0)[receivers]


def sage_layer(params: Params, graph: jraph.GraphsTuple, p: Array) -> Array:
    """One layer on projected inputs ``p = H [W_root | W_neigh]`` ``[N, 2 d]``."""
    root, neigh = jnp.split(p, 2, axis=-1)
    messages = graph.edges[:, None] * neigh[graph.senders]
    mean = jax.ops.segment_sum(messages, graph.receivers, num_segments=p.shape[0])
    return root + mean + params["bias"][None, :]


class SAGELayer(nn.Module):
    """Declares one layer's ``kernel = [W_root | W_neigh]`` and bias; applies :func:`sage_layer`."""

    features: int

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, h: Array) -> Array:
        kernel = self.param(
            "kernel", nn.initializers.glorot_uniform(), (h.shape[-1], 2 * self.features)
        )
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        return sage_layer({"bias": bias}, graph, h @ kernel)


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
        h = graph.nodes
        for layer in range(self.num_layers):
            skip = layer == 0 and not self.input_dropout
            h = nn.Dropout(self.dropout_rate)(h, deterministic=deterministic or skip)
            last = layer == self.num_layers - 1
            width = self.num_classes if last else hidden_width(self.hidden_size, layer)
            h = SAGELayer(width, name=f"layer_{layer}")(graph, h)
            if not last:
                h = jax.nn.relu(h)
        return h

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This GraphSAGE as the engine sees it (cached per hyperparameters)."""
        return _sage_explainable(self.num_classes, self.hidden_size, self.num_layers)


def _layers(model: GraphSAGE, params: Params, graph) -> tuple:
    """The K layers, activation included; the first takes ``P = X W¹`` (no matmul)."""

    def layer(index: int, h: Array) -> Array:
        weights = params[f"layer_{index}"]
        out = sage_layer(weights, graph, h if index == 0 else h @ weights["kernel"])
        return out if index == model.num_layers - 1 else jax.nn.relu(out)

    return tuple(functools.partial(layer, index) for index in range(model.num_layers))


def _linear_input(num_layers: int, params: Params, graph) -> tuple:
    """Layer 1 as ``rest ∘ linear``: ``linear(p) = root + mean(neigh)``, ``rest`` adds the bias
    (and the ReLU of a hidden layer)."""
    bias = params["layer_0"]["bias"]
    linear = functools.partial(sage_layer, {"bias": jnp.zeros_like(bias)}, graph)

    def rest(u: Array) -> Array:
        out = u + bias[None, :]
        return out if num_layers == 1 else jax.nn.relu(out)

    return linear, rest


def _excitation_layers(num_layers: int, params: Params, graph) -> tuple:
    """One positive step per layer for excitation backprop: ``h ↦ h W_root⁺ + mean(h) W_neigh⁺``
    (the mean over neighbours is a non-negative map, so root and neighbour terms form one step)."""

    def step(index: int):
        weights = params[f"layer_{index}"]
        positive = {"bias": jnp.zeros_like(weights["bias"])}
        kernel = jax.nn.relu(weights["kernel"])
        return (lambda h: sage_layer(positive, graph, h @ kernel),)

    return tuple(step(index) for index in range(num_layers))


@functools.lru_cache(maxsize=64)
def _sage_explainable(num_classes: int, hidden_size: int | tuple, num_layers: int) -> Explainable:
    model = GraphSAGE(num_classes, hidden_size, num_layers)
    return Explainable(
        apply=lambda params, graph: model.apply({"params": params}, graph, deterministic=True),
        num_layers=num_layers,
        name=f"GraphSAGE (K={num_layers})",
        edge_weights=mean_edge_weights,
        self_loops=False,
        input_kernel=lambda params: params["layer_0"]["kernel"],
        apply_projected=through_layers(functools.partial(_layers, model)),
        layers=functools.partial(_layers, model),
        excitation_layers=functools.partial(_excitation_layers, num_layers),
        linear_input=functools.partial(_linear_input, num_layers),
    )
