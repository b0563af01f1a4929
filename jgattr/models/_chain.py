"""A model given as a chain of steps: message-passing layers, linear maps, normalizations and
activations, in forward order, with an optional pooling and linear head for graph classifiers.

This is how models trained elsewhere run in jgattr (:mod:`jgattr.interop` reads a PyTorch
Geometric module into a :class:`LayerChain` and its parameters). The chain is an ordinary
:class:`~jgattr.models.Explainable` model: it reads its input through ``P = X W`` when its first
step is linear in X (every convolution but a max-aggregating GraphSAGE layer, and ``linear``),
and it has ``layers``: one per message-passing step, each taking the steps up to the next one
(the steps before the first convolution join the first layer, those after the last join the
last).

Steps (``Step.kind``) and their parameters (one dict per step in ``params["steps"]``, arrays in
jgattr's ``[in, out]`` layout):

- ``gcn``: ``Â h W + b`` (``kernel [F, D]``, ``bias [D]``); option ``normalize``
  (``Â = D̃^-1/2 (A + I) D̃^-1/2``, else the plain sum) and ``self_loops``.
- ``gat``: graph attention (``kernel [F, H C]``, ``att_src``/``att_dst [H, C]``, ``bias``);
  options ``heads``, ``concat``, ``negative_slope``, ``self_loops``.
- ``sage``: ``aggr(h) W_neigh + h W_root + b`` (``kernel [F, D]`` = ``W_neigh``, or
  ``[F, 2 D]`` = ``[W_neigh | W_root]`` with ``root_weight``; ``bias``); options ``aggr``
  (``mean``, ``sum``, ``max``), ``root_weight``, ``normalize`` (L2 per row).
- ``gin``: ``mlp((1 + ε) h + Σ_j h_j)`` (``eps []`` and ``mlp``: the parameters of
  ``Step.inner``, a chain of the feature steps below).
- ``linear`` (``kernel``, ``bias``), ``batch_norm`` in evaluation (``mean``, ``var``,
  ``scale``, ``offset``; option ``eps``), and the activations of :data:`ACTIVATIONS`.

Every message-passing step of a chain must read the graph the same way (the same self loops and
edge weights, :func:`graph_reading`): the engine prepares one graph per model. An edge mask
scales each message along an edge of the user's graph; self loops that the layers add are never
masked (``Explainable.edge_mask_self_loops = False`` when they add them), as in PyG.
"""

import dataclasses
import functools
import itertools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import jraph

from jgattr._types import Array, Params
from jgattr.models._gat import attention_layer
from jgattr.models._gcn import gcn_edge_weights, gcn_normalize, propagate
from jgattr.models._protocol import POOLS, Explainable, GraphReadout, all_alive
from jgattr.models._sage import mean_edge_weights

CONVOLUTIONS = ("gcn", "gat", "sage", "gin")
ACTIVATIONS = {
    "relu": lambda h: jax.nn.relu(h),
    "elu": lambda h, alpha=1.0: jax.nn.elu(h, alpha),
    "leaky_relu": lambda h, negative_slope=0.01: jax.nn.leaky_relu(h, negative_slope),
    "tanh": lambda h: jnp.tanh(h),
    "sigmoid": lambda h: jax.nn.sigmoid(h),
    "log_softmax": lambda h: jax.nn.log_softmax(h, axis=-1),
    "softmax": lambda h: jax.nn.softmax(h, axis=-1),
    "identity": lambda h: h,
}
FEATURE_STEPS = ("linear", "batch_norm", *ACTIVATIONS)
STEP_KINDS = (*CONVOLUTIONS, *FEATURE_STEPS)
SAGE_AGGREGATIONS = ("mean", "sum", "max")


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a :class:`LayerChain`.

    Attributes:
      kind: one of :data:`STEP_KINDS`.
      options: static settings as ``(name, value)`` pairs (see the module docstring).
      inner: ``gin`` only: its MLP, a tuple of feature steps.
    """

    kind: str
    options: tuple[tuple[str, Any], ...] = ()
    inner: tuple["Step", ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        """The value of option ``name`` (``default`` when not set)."""
        return dict(self.options).get(name, default)


class GraphReading(NamedTuple):
    """How a message-passing step reads the graph: self loops, and the weight of each edge
    (``"gcn"``: the symmetric normalization, ``"mean"``: 1 / in-degree, ``"ones"``)."""

    self_loops: bool
    weights: str


def graph_reading(step: Step) -> GraphReading:
    """The graph a message-passing step expects (see :class:`GraphReading`)."""
    if step.kind == "gcn":
        if step.option("normalize", True):
            return GraphReading(bool(step.option("self_loops", True)), "gcn")
        return GraphReading(False, "ones")
    if step.kind == "gat":
        return GraphReading(bool(step.option("self_loops", True)), "ones")
    if step.kind == "sage" and step.option("aggr", "mean") == "mean":
        return GraphReading(False, "mean")
    return GraphReading(False, "ones")


_READINGS = {
    GraphReading(True, "gcn"): "GCN normalization with self loops",
    GraphReading(False, "gcn"): "GCN normalization without self loops",
    GraphReading(False, "ones"): "a sum, max or attention over the edges, no self loops",
    GraphReading(True, "ones"): "attention over the edges and a self loop",
    GraphReading(False, "mean"): "a mean over the neighbours",
}
_EDGE_WEIGHTS = {"gcn": gcn_edge_weights, "mean": mean_edge_weights, "ones": all_alive}


@dataclasses.dataclass(frozen=True)
class LayerChain:
    """A model as a chain of :class:`Step` s (hashable: equal chains share compiled programs).

    Attributes:
      steps: the node steps in forward order; at least one message-passing step.
      readout: ``None`` for a node classifier; ``"mean"``, ``"sum"`` or ``"max"`` for a graph
        classifier: the last step's node embeddings are pooled per graph and
        ``params["head"]`` (``kernel``, ``bias``) maps them to the logits.
      name: the model's name in messages.

    Example:
      >>> chain = LayerChain((Step("gcn"), Step("relu"), Step("gcn")), name="my GCN")
      >>> explainable = chain.explainable()  # params: {"steps": ({...}, {}, {...})}
    """

    steps: tuple[Step, ...]
    readout: str | None = None
    name: str = "layer chain"

    def __post_init__(self) -> None:
        for step in self.steps:
            if step.kind not in STEP_KINDS:
                raise ValueError(f"{self.name}: unknown step {step.kind!r}; known: {STEP_KINDS}")
            for inner in step.inner:
                if inner.kind not in FEATURE_STEPS:
                    raise ValueError(
                        f"{self.name}: a GIN MLP holds feature steps {FEATURE_STEPS}, "
                        f"got {inner.kind!r}"
                    )
            if step.kind == "sage" and step.option("aggr", "mean") not in SAGE_AGGREGATIONS:
                raise ValueError(
                    f"{self.name}: sage aggr must be one of {SAGE_AGGREGATIONS}, "
                    f"got {step.option('aggr')!r}"
                )
        if not self.convolutions:
            raise ValueError(f"{self.name}: no message-passing step ({CONVOLUTIONS})")
        readings = {graph_reading(self.steps[i]) for i in self.convolutions}
        if len(readings) > 1:
            found = "; ".join(
                f"step {i} ({self.steps[i].kind}): {_READINGS[graph_reading(self.steps[i])]}"
                for i in self.convolutions
            )
            raise ValueError(
                f"{self.name}: its message-passing layers read the graph in different ways "
                f"({found}); jgattr prepares one graph per model: use layers that aggregate "
                "alike (e.g. SAGEConv(aggr='sum') with GINConv, or one kind of layer throughout)"
            )
        if self.readout is not None and self.readout not in POOLS:
            raise ValueError(f"{self.name}: readout must be one of {POOLS}, got {self.readout!r}")

    @property
    def convolutions(self) -> tuple[int, ...]:
        """Indices of the message-passing steps."""
        return tuple(i for i, step in enumerate(self.steps) if step.kind in CONVOLUTIONS)

    @property
    def num_layers(self) -> int:
        """K, the number of message-passing steps (the receptive field in hops)."""
        return len(self.convolutions)

    @property
    def reading(self) -> GraphReading:
        """How every message-passing step reads the graph."""
        return graph_reading(self.steps[self.convolutions[0]])

    @property
    def projectable(self) -> bool:
        """Whether the first step reads X only through ``P = X W`` (the engine's P-space)."""
        return _first_kernel(self.steps[0], None) is not None

    def explainable(self) -> Explainable:
        """This chain as the engine sees it (cached: equal chains share compiled programs)."""
        return _chain_explainable(self)


# ------------------------------------------------------------------------------ steps


def _first_kernel(step: Step, params: Params | None) -> Array | bool | None:
    """``W`` such that the step reads its input only through ``h W`` (``None`` if it does not);
    with ``params=None``, ``True`` instead of ``W``."""
    if step.kind in ("gcn", "gat", "linear") or (
        step.kind == "sage" and step.option("aggr", "mean") != "max"
    ):
        return True if params is None else params["kernel"]
    if step.kind == "gin" and step.inner and step.inner[0].kind == "linear":
        return True if params is None else params["mlp"][0]["kernel"]
    return None


def _max_messages(graph: jraph.GraphsTuple, h: Array) -> Array:
    """``max_{j→i} w_ij h_j`` over the edges present (weight > 0); 0 without any."""
    present = graph.edges > 0
    messages = jnp.where(present[:, None], graph.edges[:, None] * h[graph.senders], -jnp.inf)
    top = jax.ops.segment_max(messages, graph.receivers, num_segments=h.shape[0])
    return jnp.where(jnp.isfinite(top), top, 0.0)


def _sage(step: Step, params: Params, graph: jraph.GraphsTuple, h: Array, projected: bool):
    width = params["bias"].shape[0]
    root_weight = step.option("root_weight", True)
    if step.option("aggr", "mean") == "max":
        kernel = params["kernel"]
        out = _max_messages(graph, h) @ kernel[:, :width]
        if root_weight:
            out = out + h @ kernel[:, width:]
    else:
        p = h if projected else h @ params["kernel"]
        out = propagate(graph, p[:, :width])
        if root_weight:
            out = out + p[:, width:]
    out = out + params["bias"][None, :]
    if step.option("normalize", False):
        norm = jnp.sqrt(jnp.sum(out * out, axis=-1, keepdims=True))
        out = out / jnp.maximum(norm, 1e-12)
    return out


def _gin(step: Step, params: Params, graph: jraph.GraphsTuple, h: Array, projected: bool):
    inner, inner_params = step.inner, params["mlp"]
    start = 0
    if projected or (inner and inner[0].kind == "linear"):  # the MLP's first matmul commutes
        h = h if projected else h @ inner_params[0]["kernel"]
        bias = inner_params[0]["bias"][None, :]
        start = 1
    else:
        bias = None
    out = (1.0 + params["eps"]) * h + propagate(graph, h)
    if bias is not None:
        out = out + bias
    for sub, sub_params in zip(inner[start:], inner_params[start:], strict=True):
        out = run_step(sub, sub_params, graph, out)
    return out


def run_step(
    step: Step, params: Params, graph: jraph.GraphsTuple, h: Array, projected: bool = False
) -> Array:
    """One step on node values ``h``; ``projected``: ``h`` is already ``h W`` (first step)."""
    kind = step.kind
    if kind in ("gcn", "linear"):
        z = h if projected else h @ params["kernel"]
        if kind == "gcn":
            z = propagate(graph, z)
        return z + params["bias"][None, :]
    if kind == "gat":
        z = h if projected else h @ params["kernel"]
        return attention_layer(
            params,
            graph,
            z,
            heads=step.option("heads", 1),
            concat=step.option("concat", True),
            negative_slope=step.option("negative_slope", 0.2),
        )
    if kind == "sage":
        return _sage(step, params, graph, h, projected)
    if kind == "gin":
        return _gin(step, params, graph, h, projected)
    if kind == "batch_norm":
        inv = jax.lax.rsqrt(params["var"] + step.option("eps", 1e-5))
        return (h - params["mean"][None, :]) * inv[None, :] * params["scale"][None, :] + params[
            "offset"
        ][None, :]
    return ACTIVATIONS[kind](h, **dict(step.options))


# ------------------------------------------------------------------------------ the model


def _groups(chain: LayerChain) -> tuple[tuple[int, ...], ...]:
    """The steps of each layer: from one convolution to the next (the first from step 0)."""
    starts = (0, *chain.convolutions[1:], len(chain.steps))
    return tuple(tuple(range(a, b)) for a, b in itertools.pairwise(starts))


def _layers(chain: LayerChain, projected: bool, params: Params, graph) -> tuple:
    """The K layers; the first takes ``P`` when ``projected``, else X."""

    def layer(indices: tuple[int, ...], h: Array) -> Array:
        for i in indices:
            first = projected and i == 0
            h = run_step(chain.steps[i], params["steps"][i], graph, h, first)
        return h

    return tuple(functools.partial(layer, indices) for indices in _groups(chain))


def _head(params: Params) -> tuple[Array, Array]:
    return params["head"]["kernel"], params["head"]["bias"]


@functools.lru_cache(maxsize=64)
def _chain_explainable(chain: LayerChain) -> Explainable:
    readout = None if chain.readout is None else GraphReadout(chain.readout, _head)

    def output(projected: bool, params: Params, graph: jraph.GraphsTuple) -> Array:
        h = graph.nodes
        for layer in _layers(chain, projected, params, graph):
            h = layer(h)
        return h if readout is None else readout.logits(params, h, graph.n_node)

    reading = chain.reading
    projectable = chain.projectable
    return Explainable(
        apply=functools.partial(output, False),
        num_layers=chain.num_layers,
        name=chain.name,
        edge_weights=_EDGE_WEIGHTS[reading.weights],
        self_loops=reading.self_loops,
        input_kernel=(
            (lambda params: _first_kernel(chain.steps[0], params["steps"][0]))
            if projectable
            else None
        ),
        apply_projected=functools.partial(output, True) if projectable else None,
        layers=functools.partial(_layers, chain, projectable),
        prepare=gcn_normalize if reading == GraphReading(True, "gcn") else None,
        graph_readout=readout,
        edge_mask_self_loops=not reading.self_loops,
    )
