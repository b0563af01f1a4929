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
from jgattr.models._layered import (
    LayerAt,
    Parameters,
    declare,
    dropped,
    flax_forward,
    glorot_linear,
    layered_explainable,
)
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


def convolve(params: Params, graph: jraph.GraphsTuple, h: Array, *, projected: bool) -> Array:
    """One graph convolution ``Â h W + b`` (bias added after aggregation) ``[N, D]``;
    ``projected``: ``h`` is already ``h W``. ``params``: ``kernel [F, D]``, ``bias [D]``."""
    z = h if projected else h @ params["kernel"]
    return propagate(graph, z) + params["bias"][None, :]


class GCNConv(nn.Module):
    """One graph convolution ``Â H W + b`` (:func:`convolve`) as a Flax module.

    Attributes:
      features: output width.
    """

    features: int

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, h: Array) -> Array:
        params = declare(self, glorot_linear(h.shape[-1], self.features))
        return convolve(params, graph, h, projected=False)


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
        width = graph.nodes.shape[-1]
        for index, out in enumerate(_widths(self)):
            Parameters(glorot_linear(width, out), name=f"conv_{index}")()
            width = out
        return flax_forward(self, gcn_layer, graph, deterministic)

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This GCN as the engine sees it (cached per hyperparameters: compiled code is reused)."""
        return _gcn_explainable(self.num_classes, self.hidden_size, self.num_layers)


def _widths(model: GCN) -> tuple[int, ...]:
    """The output width of each layer (the last: ``num_classes``)."""
    last = model.num_layers - 1
    return tuple(
        model.num_classes if layer == last else hidden_width(model.hidden_size, layer)
        for layer in range(model.num_layers)
    )


def pre_activation(
    params: Params, graph: jraph.GraphsTuple, index: int, h: Array, *, projected: bool
) -> Array:
    """``Zˡ = Â h Wˡ + bˡ`` of layer ``index`` (``h`` is ``P = X W¹`` when ``projected``)."""
    return convolve(params[f"conv_{index}"], graph, h, projected=projected)


def gcn_layer(model: GCN, params: Params, graph: jraph.GraphsTuple, at: LayerAt, h: Array) -> Array:
    """Layer ``at.index``: ``ReLU(Zˡ)``, the logits ``Zᴷ`` for the last (see
    ``jgattr/models/_layered.py``)."""
    z = pre_activation(params, graph, at.index, dropped(at.dropout, h), projected=at.projected)
    return z if at.index == model.num_layers - 1 else jax.nn.relu(z)


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


def _pre_activations(num_layers: int, params: Params, graph, projected: Array) -> tuple:
    """``(Z¹, ..., Zᴷ)`` from ``P = X W¹`` (so a zero reference costs no matmul)."""
    pre = [pre_activation(params, graph, 0, projected, projected=True)]
    for index in range(1, num_layers):
        pre.append(pre_activation(params, graph, index, jax.nn.relu(pre[-1]), projected=False))
    return tuple(pre)


def _excitation_layers(num_layers: int, params: Params, graph) -> tuple:
    """Each layer's positive linear steps in Pope et al.'s order: ``h ↦ Â h`` (``Â ≥ 0``, the
    model's own), then ``a ↦ a Wˡ⁺`` (positive weights, no bias)."""
    adjacency = functools.partial(propagate, graph)
    positive = [jax.nn.relu(kernel) for kernel in _kernels(num_layers, params)]
    return tuple((adjacency, lambda a, w=w: a @ w) for w in positive)


@functools.lru_cache(maxsize=64)
def _gcn_explainable(num_classes: int, hidden_size: int | tuple, num_layers: int) -> Explainable:
    model = GCN(num_classes=num_classes, hidden_size=hidden_size, num_layers=num_layers)
    pre_activations = functools.partial(_pre_activations, num_layers)
    return layered_explainable(
        model,
        gcn_layer,
        name=f"GCN (K={num_layers})",
        edge_weights=gcn_edge_weights,
        self_loops=True,
        input_kernel=lambda params: params["conv_0"]["kernel"],
        walk_sum=WalkSum(functools.partial(_kernels, num_layers), pre_activations),
        prepare=gcn_normalize,
        excitation_layers=functools.partial(_excitation_layers, num_layers),
    )
