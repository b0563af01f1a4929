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
from jgattr.models._layered import (
    LayerAt,
    Parameters,
    ParamSpec,
    dense,
    dropped,
    flax_forward,
    layered_explainable,
)
from jgattr.models._protocol import (
    ExcitationStep,
    Explainable,
    all_alive,
    hidden_width,
)

EPSILON = 0.0


def aggregate(graph: jraph.GraphsTuple, h: Array) -> Array:
    """``(1 + ε) h_i + Σ_{j→i} w_ij h_j`` ``[N, D]``."""
    messages = graph.edges[:, None] * h[graph.senders]
    neighbours = jax.ops.segment_sum(messages, graph.receivers, num_segments=h.shape[0])
    return (1.0 + EPSILON) * h + neighbours


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
        width = graph.nodes.shape[-1]
        for index in range(self.num_layers):
            inner, out = _widths(self, index)
            lecun = nn.initializers.lecun_normal()
            Parameters((ParamSpec("kernel", lecun, (width, inner)),), name=f"layer_{index}_in")()
            self.param(f"layer_{index}_in_bias", nn.initializers.zeros_init(), (inner,))
            Parameters(dense(inner, out), name=f"layer_{index}_out")()
            width = out
        return flax_forward(self, gin_layer, graph, deterministic)

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This GIN as the engine sees it (cached per hyperparameters)."""
        return _gin_explainable(self.num_classes, self.hidden_size, self.num_layers)


def _widths(model: GIN, index: int) -> tuple[int, int]:
    """Layer ``index``'s MLP widths: inner (``hidden_size``, or the layer's own width when one
    is given per layer) and output (``num_classes`` for the last)."""
    last = index == model.num_layers - 1
    width = model.num_classes if last else hidden_width(model.hidden_size, index)
    return (width if isinstance(model.hidden_size, tuple) else model.hidden_size), width


def gin_layer(model: GIN, params: Params, graph: jraph.GraphsTuple, at: LayerAt, h: Array) -> Array:
    """Layer ``at.index``: ``mlp_tail(agg(h W_in))`` (see ``jgattr/models/_layered.py``)."""
    h = dropped(at.dropout, h)
    u = aggregate(graph, h if at.projected else h @ params[f"layer_{at.index}_in"]["kernel"])
    return _mlp_tail(model, params, at.index, u)


def _mlp_tail(model: GIN, params: Params, index: int, u: Array) -> Array:
    """The rest of layer ``index``'s MLP after the aggregated ``agg(h W_in)``: bias, ReLU,
    ``W_out``, and the ReLU between layers."""
    out_layer = params[f"layer_{index}_out"]
    out = _inner(params, index, u) @ out_layer["kernel"] + out_layer["bias"][None, :]
    return out if index == model.num_layers - 1 else jax.nn.relu(out)


def _inner(params: Params, index: int, u: Array) -> Array:
    """The MLP's hidden activations ``ReLU(u + b_in)`` from the aggregated ``u = agg(h W_in)``."""
    return jax.nn.relu(u + params[f"layer_{index}_in_bias"][None, :])


def _linear_input(model: GIN, params: Params, graph) -> tuple:
    """Layer 1 as ``rest ∘ linear``: ``linear(p) = agg(p)`` (P = X W¹), ``rest`` its MLP."""
    return functools.partial(aggregate, graph), functools.partial(_mlp_tail, model, params, 0)


def _excitation_layers(num_layers: int, params: Params, graph) -> tuple:
    """Each layer's positive steps for excitation backprop, on X first (never P).

    ``h ↦ agg(h) W_in⁺`` (sum aggregation with the ``(1 + ε)`` self term is a non-negative map,
    so it and ``W_in⁺`` form one step), whose inputs for the next step are the model's own
    ``ReLU(agg(h) W_in + b_in)``; then ``r ↦ r W_out⁺``.
    """

    def layer(index: int) -> tuple:
        inner, outer = params[f"layer_{index}_in"]["kernel"], params[f"layer_{index}_out"]
        inner_plus, outer_plus = jax.nn.relu(inner), jax.nn.relu(outer["kernel"])
        return (
            ExcitationStep(
                positive=lambda h: aggregate(graph, h @ inner_plus),
                forward=lambda h: _inner(params, index, aggregate(graph, h @ inner)),
            ),
            lambda r: r @ outer_plus,
        )

    return tuple(layer(index) for index in range(num_layers))


@functools.lru_cache(maxsize=64)
def _gin_explainable(num_classes: int, hidden_size: int | tuple, num_layers: int) -> Explainable:
    model = GIN(num_classes, hidden_size, num_layers)
    return layered_explainable(
        model,
        gin_layer,
        name=f"GIN (K={num_layers})",
        edge_weights=all_alive,
        self_loops=False,
        input_kernel=lambda params: params["layer_0_in"]["kernel"],
        excitation_layers=functools.partial(_excitation_layers, num_layers),
        linear_input=functools.partial(_linear_input, model),
    )
