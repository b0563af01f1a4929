"""Graph attention network (Veličković et al., ICLR 2018) as a Flax module over ``jraph``.

Layer ``l`` with ``h`` heads: ``z = H W`` (``[N, heads, d]``), scores
``e_ij = LeakyReLU_0.2(a_dst · z_i + a_src · z_j)`` for every edge ``j → i`` (a self loop on
every node included), ``α_ij = softmax_j(e_ij)`` over the edges present into ``i``, and
``H'_i = Σ_j w_ij α_ij z_j + b``: heads concatenated (hidden layers, then ELU) or averaged
(the last layer). ``w = graph.edges`` is 1 on every edge: an edge mask scales the attention
coefficients after the softmax (PyG's convention for explaining attention), and an edge of
weight 0 (a deleted node's) takes no part in the softmax.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from jgattr._types import Array, Params
from jgattr.models._layered import (
    Dropout,
    LayerAt,
    ParamSpec,
    declare,
    dropped,
    flax_forward,
    layered_explainable,
)
from jgattr.models._protocol import Explainable, all_alive, hidden_width


def attention_layer(
    params: Params,
    graph: jraph.GraphsTuple,
    z: Array,
    *,
    heads: int,
    concat: bool,
    dropout=None,
    negative_slope: float = 0.2,
) -> Array:
    """One GAT layer on projected inputs ``z = H W`` ``[N, heads * d]`` (pre-activation)."""
    return attend(
        params,
        graph,
        edge_inputs(params, graph, z, heads),
        num_nodes=z.shape[0],
        concat=concat,
        dropout=dropout,
        negative_slope=negative_slope,
    )


def edge_inputs(params: Params, graph: jraph.GraphsTuple, z: Array, heads: int) -> tuple:
    """What a layer reads of ``z = H W`` ``[N, heads * d]``, per edge ``j → i`` and linear in
    ``z``: the raw scores ``a_dst · z_i + a_src · z_j`` ``[E, heads]`` and ``z_j``
    ``[E, heads, d]``."""
    z = z.reshape(z.shape[0], heads, -1)
    scores = jnp.sum(z * params["att_dst"][None], -1)[graph.receivers]
    return scores + jnp.sum(z * params["att_src"][None], -1)[graph.senders], z[graph.senders]


def attend(
    params: Params,
    graph: jraph.GraphsTuple,
    inputs: tuple[Array, Array],
    *,
    num_nodes: int,
    concat: bool,
    dropout=None,
    negative_slope: float = 0.2,
) -> Array:
    """The layer from its :func:`edge_inputs`: softmax over each node's in-edges, the weighted
    sum of the senders' ``z``, heads concatenated or averaged, plus the bias ``[N, ·]``."""
    raw, sent = inputs
    n = num_nodes
    weights = graph.edges
    present = weights > 0
    scores = jax.nn.leaky_relu(raw, negative_slope)
    scores = jnp.where(present[:, None], scores, -jnp.inf)
    # the softmax is invariant to a per-receiver shift, so the shift carries no gradient
    peak = jax.lax.stop_gradient(jax.ops.segment_max(scores, graph.receivers, num_segments=n))
    peak = jnp.where(jnp.isfinite(peak), peak, 0.0)
    exp = jnp.where(present[:, None], jnp.exp(scores - peak[graph.receivers]), 0.0)
    total = jax.ops.segment_sum(exp, graph.receivers, num_segments=n)
    alpha = exp / jnp.where(total > 0, total, 1.0)[graph.receivers]
    if dropout is not None:
        alpha = dropout(alpha)
    messages = (weights[:, None] * alpha)[..., None] * sent
    out = jax.ops.segment_sum(messages, graph.receivers, num_segments=n)
    out = out.reshape(n, -1) if concat else out.mean(axis=1)
    return out + params["bias"][None, :]


class GATParameters(nn.Module):
    """One attention layer's parameters (``layer_l``), and the dropout of its attention
    coefficients (an ``nn.Dropout`` of this scope, so it draws the same random stream as ever).

    Attributes:
      in_width: width of the layer's input.
      features: width of each head.
      heads: number of heads.
      concat: heads concatenated (hidden layers) or averaged (the last).
      attention_dropout: dropout rate of the attention coefficients while training.
    """

    in_width: int
    features: int
    heads: int
    concat: bool
    attention_dropout: float = 0.0

    @nn.compact
    def __call__(self) -> nn.Dropout:
        """Declares the parameters; returns the attention dropout."""
        glorot = nn.initializers.glorot_uniform()
        width = self.heads * self.features
        bias = (width if self.concat else self.features,)
        declare(
            self,
            (
                ParamSpec("kernel", glorot, (self.in_width, width)),
                ParamSpec("att_src", glorot, (self.heads, self.features)),
                ParamSpec("att_dst", glorot, (self.heads, self.features)),
                ParamSpec("bias", nn.initializers.zeros_init(), bias),
            ),
        )
        return nn.Dropout(self.attention_dropout)


class GAT(nn.Module):
    """K-layer GAT: hidden layers of ``heads`` concatenated heads with ELU, a last layer of
    ``output_heads`` averaged heads giving the logits.

    Attributes:
      num_classes: width of the logits.
      hidden_size: width of each head in the hidden layers (Veličković et al.: 8).
      heads: heads of the hidden layers (8).
      output_heads: heads of the last layer, averaged (1).
      num_layers: K (the receptive field in hops).
      dropout_rate: dropout on every layer's input and on the attention coefficients (0.6).
      input_dropout: whether dropout also hits the input features (training drops only the
        non-zeros itself, as for the GCN).

    References:
      Veličković et al., Graph Attention Networks, ICLR 2018.
    """

    num_classes: int
    hidden_size: int | tuple[int, ...] = 8
    heads: int = 8
    output_heads: int = 1
    num_layers: int = 2
    dropout_rate: float = 0.6
    input_dropout: bool = True

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, *, deterministic: bool = True) -> Array:
        """Logits ``[N, num_classes]`` of a prepared graph (self loops, unit edge weights)."""
        width, attention = graph.nodes.shape[-1], []
        for index in range(self.num_layers):
            features, heads, concat = _shape(self, index)
            attention.append(
                GATParameters(
                    width, features, heads, concat, self.dropout_rate, name=f"layer_{index}"
                )()
            )
            width = heads * features if concat else features
        return flax_forward(self, gat_layer, graph, deterministic, tuple(attention))

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This GAT as the engine sees it (cached per hyperparameters)."""
        return _gat_explainable(
            self.num_classes, self.hidden_size, self.heads, self.output_heads, self.num_layers
        )


def _shape(model: GAT, index: int) -> tuple[int, int, bool]:
    """Layer ``index``'s head width, heads, and whether the heads are concatenated."""
    last = index == model.num_layers - 1
    if last:
        return model.num_classes, model.output_heads, False
    return hidden_width(model.hidden_size, index), model.heads, True


def gat_layer(model: GAT, params: Params, graph: jraph.GraphsTuple, at: LayerAt, h: Array) -> Array:
    """Layer ``at.index``: attention over ``h Wˡ``, then ELU but for the last (see
    ``jgattr/models/_layered.py``)."""
    h = dropped(at.dropout, h)
    weights = params[f"layer_{at.index}"]
    z = h if at.projected else h @ weights["kernel"]
    heads = _shape(model, at.index)[1]
    inputs = edge_inputs(weights, graph, z, heads)
    return _attend(
        model, weights, graph, at.index, inputs, num_nodes=z.shape[0], dropout=at.dropout
    )


def _attend(
    model: GAT,
    weights: Params,
    graph,
    index: int,
    inputs: tuple,
    *,
    num_nodes: int,
    dropout: Dropout | None = None,
) -> Array:
    """Layer ``index`` from its :func:`edge_inputs`: softmax, weighted sum, bias, activation."""
    concat = _shape(model, index)[2]
    drop = None if dropout is None else functools.partial(dropout, site="attention")
    out = attend(weights, graph, inputs, num_nodes=num_nodes, concat=concat, dropout=drop)
    return jax.nn.elu(out) if concat else out


def _linear_input(model: GAT, params: Params, graph) -> tuple:
    """Layer 1 as ``rest ∘ linear``: ``linear(p)`` its :func:`edge_inputs` (the scores before
    the LeakyReLU and the senders' rows, linear in ``P = X W¹``), ``rest`` the softmax and sum."""
    weights = params["layer_0"]
    linear = functools.partial(edge_inputs, weights, graph, heads=_shape(model, 0)[1])
    rest = functools.partial(_attend, model, weights, graph, 0, num_nodes=graph.nodes.shape[0])
    return linear, rest


@functools.lru_cache(maxsize=64)
def _gat_explainable(
    num_classes: int, hidden_size: int | tuple, heads: int, output_heads: int, num_layers: int
) -> Explainable:
    model = GAT(num_classes, hidden_size, heads, output_heads, num_layers)
    return layered_explainable(
        model,
        gat_layer,
        name=f"GAT (K={num_layers}, {heads} heads)",
        edge_weights=all_alive,
        self_loops=True,
        input_kernel=lambda params: params["layer_0"]["kernel"],
        linear_input=functools.partial(_linear_input, model),
    )
