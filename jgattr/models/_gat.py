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
from jgattr.models._protocol import Explainable, all_alive, hidden_width, through_layers


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


class GATLayer(nn.Module):
    """Declares one attention layer's parameters and applies :func:`attention_layer`."""

    features: int
    heads: int
    concat: bool
    attention_dropout: float = 0.0

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, h: Array, *, deterministic: bool = True):
        glorot = nn.initializers.glorot_uniform()
        params = {
            "kernel": self.param("kernel", glorot, (h.shape[-1], self.heads * self.features)),
            "att_src": self.param("att_src", glorot, (self.heads, self.features)),
            "att_dst": self.param("att_dst", glorot, (self.heads, self.features)),
            "bias": self.param(
                "bias",
                nn.initializers.zeros_init(),
                (self.heads * self.features if self.concat else self.features,),
            ),
        }
        drop = nn.Dropout(self.attention_dropout)
        return attention_layer(
            params,
            graph,
            h @ params["kernel"],
            heads=self.heads,
            concat=self.concat,
            dropout=lambda a: drop(a, deterministic=deterministic),
        )


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
        h = graph.nodes
        for layer in range(self.num_layers):
            skip = layer == 0 and not self.input_dropout
            h = nn.Dropout(self.dropout_rate)(h, deterministic=deterministic or skip)
            last = layer == self.num_layers - 1
            h = GATLayer(
                self.num_classes if last else hidden_width(self.hidden_size, layer),
                self.output_heads if last else self.heads,
                concat=not last,
                attention_dropout=self.dropout_rate,
                name=f"layer_{layer}",
            )(graph, h, deterministic=deterministic)
            if not last:
                h = jax.nn.elu(h)
        return h

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This GAT as the engine sees it (cached per hyperparameters)."""
        return _gat_explainable(
            self.num_classes, self.hidden_size, self.heads, self.output_heads, self.num_layers
        )


def _layers(model: GAT, params: Params, graph) -> tuple:
    """The K layers, activation included; the first takes ``P = X W¹`` (no matmul)."""

    def layer(index: int, h: Array) -> Array:
        last = index == model.num_layers - 1
        weights = params[f"layer_{index}"]
        z = h if index == 0 else h @ weights["kernel"]
        heads = model.output_heads if last else model.heads
        out = attention_layer(weights, graph, z, heads=heads, concat=not last)
        return out if last else jax.nn.elu(out)

    return tuple(functools.partial(layer, index) for index in range(model.num_layers))


def _linear_input(model: GAT, params: Params, graph) -> tuple:
    """Layer 1 as ``rest ∘ linear``: ``linear(p)`` its :func:`edge_inputs` (the scores before
    the LeakyReLU and the senders' rows, linear in ``P = X W¹``), ``rest`` the softmax and sum."""
    weights, last = params["layer_0"], model.num_layers == 1
    heads = model.output_heads if last else model.heads
    n = graph.nodes.shape[0]

    def rest(inputs: tuple[Array, Array]) -> Array:
        out = attend(weights, graph, inputs, num_nodes=n, concat=not last)
        return out if last else jax.nn.elu(out)

    return functools.partial(edge_inputs, weights, graph, heads=heads), rest


@functools.lru_cache(maxsize=64)
def _gat_explainable(
    num_classes: int, hidden_size: int | tuple, heads: int, output_heads: int, num_layers: int
) -> Explainable:
    model = GAT(num_classes, hidden_size, heads, output_heads, num_layers)
    return Explainable(
        apply=lambda params, graph: model.apply({"params": params}, graph, deterministic=True),
        num_layers=num_layers,
        name=f"GAT (K={num_layers}, {heads} heads)",
        edge_weights=all_alive,
        self_loops=True,
        input_kernel=lambda params: params["layer_0"]["kernel"],
        apply_projected=through_layers(functools.partial(_layers, model)),
        layers=functools.partial(_layers, model),
        linear_input=functools.partial(_linear_input, model),
    )
