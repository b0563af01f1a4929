"""Graph isomorphism network (Xu et al., ICLR 2019), GIN-0, as a Flax module over ``jraph``.

Layer ``l``: ``Hˡ = MLP_l((1 + ε) Hˡ⁻¹ + Σ_{j→i} w_ij Hˡ⁻¹_j)`` with ``ε = 0`` and a two-layer
MLP (``Dense → ReLU → Dense``); ReLU between layers, the last MLP gives the logits. Sum
aggregation over the graph as it is (no self loops: the ``(1 + ε)`` term is the node's own);
``w = graph.edges`` is 1 on every edge, so an edge mask scales each message.
"""

import functools

import flax.linen as nn
import jax
import jraph

from jgattr._types import Array, Params
from jgattr.models._protocol import (
    ExcitationStep,
    Explainable,
    all_alive,
    hidden_width,
    through_layers,
)

EPSILON = 0.0


def aggregate(graph: jraph.GraphsTuple, h: Array) -> Array:
    """``(1 + ε) h_i + Σ_{j→i} w_ij h_j`` ``[N, D]``."""
    messages = graph.edges[:, None] * h[graph.senders]
    neighbours = jax.ops.segment_sum(messages, graph.receivers, num_segments=h.shape[0])
    return (1.0 + EPSILON) * h + neighbours


class _Linear(nn.Module):
    """``h @ kernel`` (``nn.Dense`` without bias, same parameter and initializer), which also
    takes sparse features (:class:`jgattr.data.SparseFeatures`) as ``h``."""

    features: int

    @nn.compact
    def __call__(self, h) -> Array:
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (h.shape[-1], self.features))
        return h @ kernel


class GIN(nn.Module):
    """K-layer GIN-0 for node classification.

    The first matmul of each MLP commutes with the aggregation (both are linear), so the model
    reads its input through ``P = X W¹`` alone: ``MLP(agg(X)) = tail(agg(X W¹))``.

    Attributes:
      num_classes: width of the logits.
      hidden_size: width of the MLPs.
      num_layers: K (the receptive field in hops).
      dropout_rate: dropout on every layer's input while training.
      input_dropout: whether dropout also hits the input features.

    References:
      Xu, Hu, Leskovec & Jegelka, How Powerful are Graph Neural Networks?, ICLR 2019.
    """

    num_classes: int
    hidden_size: int | tuple[int, ...] = 64
    num_layers: int = 2
    dropout_rate: float = 0.5
    input_dropout: bool = True

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, *, deterministic: bool = True) -> Array:
        """Logits ``[N, num_classes]`` of a prepared graph (no self loops, unit weights)."""
        h = graph.nodes
        for layer in range(self.num_layers):
            skip = layer == 0 and not self.input_dropout
            h = nn.Dropout(self.dropout_rate)(h, deterministic=deterministic or skip)
            last = layer == self.num_layers - 1
            width = self.num_classes if last else hidden_width(self.hidden_size, layer)
            # the MLP's inner width: hidden_size (one width), else the layer's own width
            inner = width if isinstance(self.hidden_size, tuple) else self.hidden_size
            u = _Linear(inner, name=f"layer_{layer}_in")(h)
            bias = self.param(f"layer_{layer}_in_bias", nn.initializers.zeros_init(), (inner,))
            u = aggregate(graph, u) + bias[None, :]
            h = nn.Dense(width, name=f"layer_{layer}_out")(jax.nn.relu(u))
            if not last:
                h = jax.nn.relu(h)
        return h

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This GIN as the engine sees it (cached per hyperparameters)."""
        return _gin_explainable(self.num_classes, self.hidden_size, self.num_layers)


def _layers(model: GIN, params: Params, graph) -> tuple:
    """The K layers, activation included; the first takes ``P = X W¹`` (no matmul)."""

    def layer(index: int, h: Array) -> Array:
        first = params[f"layer_{index}_in"]["kernel"]
        bias = params[f"layer_{index}_in_bias"][None, :]
        u = aggregate(graph, h if index == 0 else h @ first) + bias
        out_layer = params[f"layer_{index}_out"]
        out = jax.nn.relu(u) @ out_layer["kernel"] + out_layer["bias"][None, :]
        return out if index == model.num_layers - 1 else jax.nn.relu(out)

    return tuple(functools.partial(layer, index) for index in range(model.num_layers))


def _linear_input(num_layers: int, params: Params, graph) -> tuple:
    """Layer 1 as ``rest ∘ linear``: ``linear(p) = agg(p)`` (P = X W¹), ``rest`` its MLP."""
    bias, out_layer = params["layer_0_in_bias"][None, :], params["layer_0_out"]

    def rest(u: Array) -> Array:
        out = jax.nn.relu(u + bias) @ out_layer["kernel"] + out_layer["bias"][None, :]
        return out if num_layers == 1 else jax.nn.relu(out)

    return functools.partial(aggregate, graph), rest


def _excitation_layers(num_layers: int, params: Params, graph) -> tuple:
    """Each layer's positive steps for excitation backprop, on X first (never P).

    ``h ↦ agg(h) W_in⁺`` (sum aggregation with the ``(1 + ε)`` self term is a non-negative map,
    so it and ``W_in⁺`` form one step), whose inputs for the next step are the model's own
    ``ReLU(agg(h) W_in + b_in)``; then ``r ↦ r W_out⁺``.
    """

    def layer(index: int) -> tuple:
        inner, outer = params[f"layer_{index}_in"]["kernel"], params[f"layer_{index}_out"]
        bias = params[f"layer_{index}_in_bias"][None, :]
        inner_plus, outer_plus = jax.nn.relu(inner), jax.nn.relu(outer["kernel"])
        return (
            ExcitationStep(
                positive=lambda h: aggregate(graph, h @ inner_plus),
                forward=lambda h: jax.nn.relu(aggregate(graph, h @ inner) + bias),
            ),
            lambda r: r @ outer_plus,
        )

    return tuple(layer(index) for index in range(num_layers))


@functools.lru_cache(maxsize=64)
def _gin_explainable(num_classes: int, hidden_size: int | tuple, num_layers: int) -> Explainable:
    model = GIN(num_classes, hidden_size, num_layers)
    return Explainable(
        apply=lambda params, graph: model.apply({"params": params}, graph, deterministic=True),
        num_layers=num_layers,
        name=f"GIN (K={num_layers})",
        edge_weights=all_alive,
        self_loops=False,
        input_kernel=lambda params: params["layer_0_in"]["kernel"],
        apply_projected=through_layers(functools.partial(_layers, model)),
        layers=functools.partial(_layers, model),
        excitation_layers=functools.partial(_excitation_layers, num_layers),
        linear_input=functools.partial(_linear_input, num_layers),
    )
