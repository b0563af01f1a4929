"""The model protocol: everything the engine, training, metrics and jobs know about a model.

A model is a plug-in. It says how to prepare a graph for itself (self loops, edge weights), gives
the pure function ``(params, graph) -> logits`` and, optionally, the hooks that make attribution
cheaper or possible:

- ``input_kernel`` + ``apply_projected``: the model sees its input features only through one
  linear map ``P = X W`` (true of GCN, GAT, GIN and GraphSAGE). The engine then differentiates
  in the ``[N, D]`` space of ``P`` instead of the ``[N, F]`` space of ``X``: node relevance is
  unchanged (``Σ_i X_i ∂f/∂X_i = Σ_j P_j ∂f/∂P_j``, the same for increments), and memory and work
  per copy shrink by ``F / D`` (90x on Cora).
- ``layers``: the K layers ``hˡ⁻¹ ↦ hˡ`` (activation included, the last gives the logits), which
  the layer-wise (LID) methods decompose.
- ``walk_sum``: the exact walk-sum fast path (GCN only, :mod:`jgattr.attribution`).
- ``graph_readout``: the model classifies whole graphs: ``layers`` give node embeddings, then a
  pooling over each graph's nodes (``graph.n_node``) and a linear head give one row of logits per
  graph (:class:`GraphReadout`).
- ``excitation_layers``: each layer's linear steps with positive weights and no bias, for
  excitation backprop (Pope et al.'s EB and c-EB).

Nothing outside :mod:`jgattr.models` knows a model's parameter names or normalization.
"""

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jgattr._names import POOLS
from jgattr._types import ApplyFn, Array, Params
from jgattr.data import SparseFeatures


class ExcitationStep(NamedTuple):
    """One linear step of excitation backprop whose output the model does not feed on as it is.

    Attributes:
      positive: ``a ↦ z⁺(a)``, the step with every weight replaced by its positive part and no
        bias (the z⁺ rule divides by it and takes its VJP).
      forward: ``a ↦`` the model's own (non-negative) activations that the next step reads,
        bias and ReLU included (GIN: ``ReLU(agg(h) W_in + b)``, the input of ``W_out``).

    A plain callable step is its own ``forward``: a non-negative map of the model (``Â``).
    """

    positive: Callable[[Array], Array]
    forward: Callable[[Array], Array]


LinearSteps = tuple[Callable[[Array], Array] | ExcitationStep, ...]
ExcitationFn = Callable[[Params, jraph.GraphsTuple], tuple[LinearSteps, ...]]
"""``(params, graph) -> (steps of layer 1, ..., steps of layer K)``: see ``Explainable``."""

EdgeWeightFn = Callable[[Array, Array, Array, int], Array]
"""``(senders [E], receivers [E], alive [E] float, num_nodes) -> weights [E]`` (jittable)."""


class WalkSum(NamedTuple):
    """Hooks of the exact walk-sum fast path (a GCN: ``Zˡ = Â Hˡ⁻¹ Wˡ + bˡ``, ReLU between).

    Attributes:
      kernels: ``params -> (W¹, ..., Wᴷ)``.
      pre_activations: ``(params, graph, P) -> (Z¹, ..., Zᴷ)`` from ``P = X W¹`` on a prepared
        graph (self loop on every node, ``graph.edges`` the weights of ``Â``).
    """

    kernels: Callable[[Params], tuple[Array, ...]]
    pre_activations: Callable[[Params, jraph.GraphsTuple, Array], tuple[Array, ...]]


def hidden_width(hidden_size: int | tuple[int, ...], layer: int) -> int:
    """Width of hidden layer ``layer``: ``hidden_size``, or its entry when one is given per layer
    (``(128, 256)`` for a 3-layer encoder whose last layer has its own width)."""
    if isinstance(hidden_size, tuple):
        if layer >= len(hidden_size):
            raise ValueError(
                f"hidden_size {list(hidden_size)} names {len(hidden_size)} layer widths; "
                f"layer {layer + 1} needs one more"
            )
        return int(hidden_size[layer])
    return int(hidden_size)


class GraphReadout(NamedTuple):
    """How a graph classifier turns node embeddings ``Hᴷ`` into graph logits.

    ``logits[g] = pool_{n ∈ g} Hᴷ[n] · W + b``.

    Attributes:
      pool: ``"mean"`` (Pope et al.'s global average pooling), ``"sum"`` or ``"max"``.
      head: ``params -> (W [D, C], b [C])``, the linear head after pooling.
    """

    pool: str
    head: Callable[[Params], tuple[Array, Array]]

    def node_graph(self, n_node: Array, num_nodes: int) -> Array:
        """``[N]`` the graph of each node (graphs own consecutive nodes, ``n_node`` each)."""
        return jnp.repeat(jnp.arange(n_node.shape[0]), n_node, total_repeat_length=num_nodes)

    def pooled(self, h: Array, n_node: Array, keep: Array | None = None) -> Array:
        """``[G, D]`` the pooled embeddings of each graph (0 for a graph without nodes).

        ``keep [N]`` (optional, 0/1): pool only the kept nodes, as if the others were removed.
        """
        graph_of = self.node_graph(n_node, h.shape[0])
        size = n_node.shape[0]
        kept = jnp.ones(h.shape[0], h.dtype) if keep is None else keep.astype(h.dtype)
        count = jax.ops.segment_sum(kept, graph_of, num_segments=size)
        if self.pool == "max":
            masked = jnp.where(kept[:, None] > 0, h, -jnp.inf)
            top = jax.ops.segment_max(masked, graph_of, num_segments=size)
            return jnp.where(count[:, None] > 0, top, 0.0)
        total = jax.ops.segment_sum(h * kept[:, None], graph_of, num_segments=size)
        if self.pool == "sum":
            return total
        return total / jnp.maximum(count, 1.0)[:, None]

    def logits(self, params: Params, h: Array, n_node: Array, keep: Array | None = None) -> Array:
        """``[G, C]`` graph logits from node embeddings ``h [N, D]`` (of the ``keep`` nodes)."""
        kernel, bias = self.head(params)
        return self.pooled(h, n_node, keep) @ kernel + bias[None, :]


def through_layers(layers: Callable[[Params, jraph.GraphsTuple], tuple[Callable, ...]]) -> ApplyFn:
    """``(params, graph) -> logits``: ``graph.nodes`` run through ``layers(params, graph)``.

    The ``apply_projected`` of a model whose ``layers`` hook takes ``P`` first.
    """

    def apply(params: Params, graph: jraph.GraphsTuple) -> Array:
        h = graph.nodes
        for layer in layers(params, graph):
            h = layer(h)
        return h

    return apply


def all_alive(senders: Array, receivers: Array, alive: Array, num_nodes: int) -> Array:
    """Edge weights of a plain sum (or attention) model: 1 on every edge that is present."""
    del senders, receivers, num_nodes
    return alive


@dataclasses.dataclass(frozen=True, eq=False)
class Explainable:
    """A model as the engine, the metrics and the jobs see it.

    Attributes:
      apply: pure ``(params, graph) -> logits [N, C]`` over a graph made by ``prepare_graph``.
      num_layers: K, the number of layers (``layers`` gives K of them).
      name: the model's name in error messages.
      edge_weights: ``(senders, receivers, alive, num_nodes) -> [E]``, jittable: the weights in
        ``graph.edges`` of the graph in which only edges with ``alive = 1`` remain (GCN: the
        symmetric normalization of what is left). Deletion metrics call it on perturbed graphs.
      self_loops: ``prepare_graph`` adds one self loop per node (GCN, GAT).
      input_kernel: optional ``params -> W [F, D]``: the model reads X only through ``X W``.
      apply_projected: with ``input_kernel``, ``(params, graph) -> logits`` where
        ``graph.nodes`` holds ``P = X W`` ``[N, D]``.
      layers: optional ``(params, graph) -> (layer_1, ..., layer_K)``, each ``layer_l: hˡ⁻¹ ↦ hˡ``
        with its activation (``layer_K`` gives the logits); ``layer_1`` takes ``P`` when
        ``input_kernel`` is given, else ``X``. Needed by the layer-wise (LID) methods.
      walk_sum: optional hooks of the exact GCN walk-sum fast path.
      prepare: optional host function replacing the generic :meth:`prepare_graph` (it must give
        the same weights as ``edge_weights``; the GCN's computes them in float64).
      graph_readout: set for a graph classifier: ``apply`` then gives ``[G, C]``, one row per
        graph of ``graph.n_node``, ``layers`` end in the node embeddings and the readout pools
        them (:class:`GraphReadout`).
      excitation_layers: optional ``(params, graph) -> (steps¹, ..., stepsᴷ)``: each layer's
        linear steps in forward order, every weight replaced by its positive part and no bias
        (GCN: ``h ↦ Â h`` then ``a ↦ a W⁺``). A plain callable step that is not a layer's last
        must equal the model's own (non-negative) map, since excitation backprop reads the next
        step's inputs off it; where the model adds a bias and a ReLU in between, the step is an
        :class:`ExcitationStep` whose ``forward`` gives them (GIN's MLP). Layer 1 takes X
        (never P). Needed by excitation backprop (GCN, GIN, GraphSAGE have it; GAT does not).
      linear_input: optional ``(params, graph) -> (linear, rest)`` with ``layer_1 = rest ∘
        linear`` and ``linear`` a linear map of layer 1's input (``P`` with ``input_kernel``, else
        X) on the graph as it is (its output may be a pytree): GIN's and GraphSAGE's aggregation
        (``rest``: bias, MLP, activation), GAT's per-edge raw scores and senders' rows
        (``rest``: LeakyReLU, softmax, weighted sum). Integrated gradients then integrates past
        it: the path's image under ``linear`` is straight, so
        ``∫ ∇_P f dα = linearᵀ ∫ ∇_U g dα`` and each point skips layer 1's aggregation and its
        transpose.
      edge_mask_self_loops: whether the edge methods (edge saliency, edge IG, joint node-and-edge
        IG) scale the self loops of the prepared graph too. ``True`` (the built-in models): an
        edge mask covers every edge, self loops included. ``False`` (PyG's convention for layers
        that add their own self loops, ``GCNConv`` and ``GATConv``; models imported by
        :mod:`jgattr.interop`): self loops keep weight 1 under every mask, and their relevance
        is 0, as with Captum's edge mask on the PyG module.
      hops: the receptive field in hops when it is not ``num_layers`` (a model that propagates
        more often than it has layers, as APPNP); ``None``: ``num_layers``. See :attr:`num_hops`.

    Example:
      >>> explainable = Explainable(apply_fn, num_layers=2, name="my-gnn")
    """

    apply: ApplyFn
    num_layers: int
    name: str = "model"
    edge_weights: EdgeWeightFn = all_alive
    self_loops: bool = False
    input_kernel: Callable[[Params], Array] | None = None
    apply_projected: ApplyFn | None = None
    layers: Callable[[Params, jraph.GraphsTuple], tuple[Callable, ...]] | None = None
    walk_sum: WalkSum | None = None
    prepare: Callable[[jraph.GraphsTuple], jraph.GraphsTuple] | None = None
    graph_readout: GraphReadout | None = None
    excitation_layers: ExcitationFn | None = None
    linear_input: Callable[[Params, jraph.GraphsTuple], tuple[Callable, Callable]] | None = None
    edge_mask_self_loops: bool = True
    hops: int | None = None

    @property
    def num_hops(self) -> int:
        """The receptive field in hops: a target's logits read the nodes within this many edges,
        so the engine explains each target on its ``num_hops``-hop computation graph."""
        return self.num_layers if self.hops is None else self.hops

    @property
    def level(self) -> str:
        """What the model predicts for: ``"node"`` (one row per node) or ``"graph"``."""
        return "node" if self.graph_readout is None else "graph"

    def __post_init__(self) -> None:
        if (self.input_kernel is None) != (self.apply_projected is None):
            raise ValueError(
                f"model {self.name!r}: input_kernel and apply_projected go together; "
                "give both or neither"
            )
        if not isinstance(self.num_layers, int) or self.num_layers < 1:
            raise ValueError(f"model {self.name!r}: num_layers must be >= 1, got {self.num_layers}")
        if self.hops is not None and (not isinstance(self.hops, int) or self.hops < 1):
            raise ValueError(f"model {self.name!r}: hops must be None or >= 1, got {self.hops!r}")
        if self.graph_readout is not None and self.graph_readout.pool not in POOLS:
            raise ValueError(
                f"model {self.name!r}: readout pool must be one of {list(POOLS)}, "
                f"got {self.graph_readout.pool!r}"
            )
        if self.graph_readout is not None and self.walk_sum is not None:
            raise ValueError(f"model {self.name!r}: the walk-sum path is for node classifiers")

    def prepare_graph(self, graph: jraph.GraphsTuple) -> jraph.GraphsTuple:
        """The graph as this model reads it, on the host: self loops if the model uses them and
        ``graph.edges`` = :attr:`edge_weights` of the whole structure (computed once)."""
        if self.prepare is not None:
            return self.prepare(graph)
        senders = np.asarray(graph.senders, np.int32)
        receivers = np.asarray(graph.receivers, np.int32)
        nodes = graph.nodes if isinstance(graph.nodes, SparseFeatures) else np.asarray(graph.nodes)
        n = int(nodes.shape[0])
        if self.self_loops:
            if np.any(senders == receivers):
                raise ValueError(
                    f"graph must not contain self loops: model {self.name!r} adds one per node; "
                    f"found {int(np.sum(senders == receivers))}. Remove them first."
                )
            loops = np.arange(n, dtype=np.int32)
            senders, receivers = (
                np.concatenate([senders, loops]),
                np.concatenate([receivers, loops]),
            )
        alive = jnp.ones(senders.shape[0], jnp.float32)
        weights = np.asarray(self.edge_weights(senders, receivers, alive, n), np.float32)
        return graph._replace(
            nodes=nodes,
            edges=weights,
            senders=senders,
            receivers=receivers,
            n_edge=np.array([senders.shape[0]], dtype=np.int32),
        )


@runtime_checkable
class ExplainableModel(Protocol):
    """A model object that can describe itself to the engine (the built-in Flax models do)."""

    def explainable(self) -> Explainable: ...


def as_explainable(model: Any) -> Explainable:
    """The :class:`Explainable` of a built-in model, or ``model`` itself if it is one."""
    if isinstance(model, Explainable):
        return model
    if isinstance(model, ExplainableModel):
        return model.explainable()
    raise TypeError(
        "model must be a jgattr model (GCN, GAT, GIN, GraphSAGE) or an "
        "Explainable(apply, num_layers) wrapping a pure (params, graph) -> logits function, "
        f"got {type(model).__name__}"
    )
