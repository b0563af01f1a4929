"""Graph convolutional network (Kipf & Welling 2017) as a Flax module over ``jraph.GraphsTuple``.

The model never normalizes: it reads the symmetric normalization ``Â = D̃^{-1/2} (A + I) D̃^{-1/2}``
as one weight per directed edge from ``graph.edges``, computed once from the graph's structure by
:func:`gcn_normalize`. Attribution on a target's computation subgraph therefore keeps the weights
of the whole graph and reproduces the whole-graph logits exactly.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jgattr._types import Array, Params
from jgattr.models._protocol import Explainable, WalkSum, hidden_width


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
    n = int(np.shape(graph.nodes)[0])
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
      hidden_size: width of the hidden layers (or one width per hidden layer).
      num_layers: K, the number of graph convolutions (the receptive field is K hops).
      dropout_rate: dropout probability during training.
      input_dropout: whether dropout also hits the input features; training turns it off and
        drops only the non-zero features itself, as Kipf & Welling's sparse dropout does.

    References:
      Kipf & Welling, Semi-Supervised Classification with Graph Convolutional Networks, ICLR 2017.
    """

    num_classes: int
    hidden_size: int | tuple[int, ...] = 16
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
            width = self.num_classes if last else hidden_width(self.hidden_size, layer)
            h = GCNConv(width, name=f"conv_{layer}")(graph, h)
            if not last:
                h = jax.nn.relu(h)
        return h

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This GCN as the engine sees it (cached per hyperparameters: compiled code is reused)."""
        return _gcn_explainable(self.num_classes, self.hidden_size, self.num_layers)


def gcn_edge_weights(senders: Array, receivers: Array, alive: Array, num_nodes: int) -> Array:
    """``Â = D̃^-1/2 (A + I) D̃^-1/2`` of the edges with ``alive = 1`` (self loops in the edges).

    The jittable twin of :func:`gcn_normalize`, used on perturbed graphs: a deleted node's edges
    are dead and the degrees of its neighbours drop.
    """
    degree = jax.ops.segment_sum(alive, receivers, num_segments=num_nodes)
    inv_sqrt = jnp.where(degree > 0, 1.0 / jnp.sqrt(jnp.maximum(degree, 1e-12)), 0.0)
    return alive * inv_sqrt[senders] * inv_sqrt[receivers]


def _kernels(num_layers: int, params: Params) -> tuple[Array, ...]:
    return tuple(params[f"conv_{layer}"]["kernel"] for layer in range(num_layers))


def _pre_activations(model: GCN, params: Params, graph, projected: Array) -> tuple[Array, ...]:
    """``(Z¹, ..., Zᴷ)`` from ``P = X W¹`` (so a zero reference costs no matmul)."""
    convolutions = _convolutions(model, params, graph)
    pre = [convolutions[0](projected)]
    for conv in convolutions[1:]:
        pre.append(conv(jax.nn.relu(pre[-1])))
    return tuple(pre)


def _convolutions(model: GCN, params: Params, graph) -> tuple:
    """The K convolutions in P-space: ``p ↦ Â p + b¹``, then ``h ↦ Â h Wˡ + bˡ``."""
    first_bias = params["conv_0"]["bias"]
    later = tuple(
        functools.partial(
            GCNConv(
                hidden_width(model.hidden_size, layer)
                if layer < model.num_layers - 1
                else model.num_classes
            ).apply,
            {"params": params[f"conv_{layer}"]},
            graph,
        )
        for layer in range(1, model.num_layers)
    )
    return (lambda p: propagate(graph, p) + first_bias[None, :], *later)


def _layers(model: GCN, params: Params, graph) -> tuple:
    """``hˡ = ReLU(Zˡ)`` for hidden layers, the logits ``Zᴷ`` last; the first takes P."""
    convolutions = _convolutions(model, params, graph)
    last = len(convolutions) - 1
    return tuple(
        conv if index == last else (lambda h, conv=conv: jax.nn.relu(conv(h)))
        for index, conv in enumerate(convolutions)
    )


def _excitation_layers(num_layers: int, params: Params, graph) -> tuple:
    """Each layer's positive linear steps in Pope et al.'s order: ``h ↦ Â h`` (``Â ≥ 0``, the
    model's own), then ``a ↦ a Wˡ⁺`` (positive weights, no bias)."""
    adjacency = functools.partial(propagate, graph)
    positive = [jax.nn.relu(kernel) for kernel in _kernels(num_layers, params)]
    return tuple((adjacency, lambda a, w=w: a @ w) for w in positive)


@functools.lru_cache(maxsize=64)
def _gcn_explainable(num_classes: int, hidden_size: int | tuple, num_layers: int) -> Explainable:
    model = GCN(num_classes=num_classes, hidden_size=hidden_size, num_layers=num_layers)
    pre_activations = functools.partial(_pre_activations, model)
    return Explainable(
        apply=lambda params, graph: model.apply({"params": params}, graph, deterministic=True),
        num_layers=num_layers,
        name=f"GCN (K={num_layers})",
        edge_weights=gcn_edge_weights,
        self_loops=True,
        input_kernel=lambda params: params["conv_0"]["kernel"],
        apply_projected=lambda params, graph: pre_activations(params, graph, graph.nodes)[-1],
        layers=functools.partial(_layers, model),
        walk_sum=WalkSum(functools.partial(_kernels, num_layers), pre_activations),
        prepare=gcn_normalize,
        excitation_layers=functools.partial(_excitation_layers, num_layers),
    )
