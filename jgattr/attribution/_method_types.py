"""What a method is: the :class:`Method` record and the values it exchanges with the engine.

A method says how to attribute the targets of one union of computation graphs; the engine owns
extraction, padding, chunking and sharding. Every method has a *general path*: autodiff of the
model restricted to the union (:class:`UnionModel`), valid for any message-passing model.
Walk-sum methods also have a *fast path* on models with walk-sum hooks (GCN): they *linearize*
the model, i.e. name the ReLU mask of every hidden layer, the top vector of every target and the
input increment, and the engine runs one linear backward pass (docs/math.md).
"""

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from jgattr._types import Array
from jgattr.data import SparseFeatures

BASELINES = ("zeros", "mean")
OUTPUTS = ("logit", "probability")
# Units whose values are shares of the explained class's logit or probability.
SHARE_UNITS = OUTPUTS
METHOD_LEVELS = ("node", "edge")  # what a method attributes: source nodes or union edges
RELU_AVERAGES = ("exact", "n_sample")


class GraphHead(NamedTuple):
    """The readout of a graph classifier, bound to its parameters (graph targets only).

    Attributes:
      pool: ``"mean"``, ``"sum"`` or ``"max"`` over each graph's nodes.
      kernel: ``[D, C]`` the linear head's weights.
      bias: ``[C]`` its bias.
    """

    pool: str
    kernel: Array
    bias: Array


class UnionModel(NamedTuple):
    """The model restricted to one union of computation graphs (what the general path sees).

    Attributes:
      logits: ``x [S, F] -> [T, C]``, the logits of every target from the copies' features.
      layers: ``(h⁰ -> h¹, ..., hᴷ⁻¹ -> hᴷ)`` on all copies; ``readout(hᴷ)`` gives the targets'
        logits. ``None`` when the model is a plain function without layers.
      target_copy: ``[T]`` copy index of each target (graph targets: its graph's first copy).
      readout: ``hᴷ [S, ·] -> [T, C]``: node targets pick their own copy's row; graph targets
        pool their graph's copies and apply the head (linear for mean and sum pooling).
      edge_logits: ``m [E] -> [T, C]``, the logits when every union edge's weight is scaled by
        ``m`` (``m = 1``: the graph as it is; ``m = 0``: no messages at all).
      edge_ones: ``[E]`` ones, one per (padded) union edge: the edge mask of the graph as it is.
        Made from the chunk's own data, so that under ``shard_map`` it varies per device like
        the chunk (a constant would be replicated, and its gradient summed over devices).
      to_input: maps a gradient with respect to the copies' inputs back to the features X
        (``g ↦ g Wᵀ`` when the engine differentiates in ``P = X W`` space; else identity).
      copy_target: ``[S]`` the target of each copy (padding copies: a padding target).
      head: the graph readout and head (graph targets); ``None`` for node targets.
      excitation: the model's ``excitation_layers`` on the union (X-space), or ``None``.
      joint_logits: ``(x [S, F], m [E]) -> [T, C]``, the logits when the copies have inputs
        ``x`` and every union edge's weight is scaled by ``m`` (node and edge masks together).
      chunk: the padded chunk structure (``_plan.chunk_structure``: ``copy_target``,
        ``edge_target``, ``copy_node``, ``senders``, ``receivers``, ``n_node``, ``n_edge``...),
        for methods with per-target state (GNNExplainer's masks and per-target losses).
      sparse_inputs: for methods that read X (``needs_features``) of a model whose first
        layer is linear in X, when X is sparse: ``(row_nnz, input_kernel, projected_logits)``:
        a static bound on the non-zeros of one row of X, the ``[F, D]`` kernel ``W``, and
        ``(P [S, D], m [E]) -> [T, C]``, the logits from ``P = X W`` with edge scales ``m``. A
        method then works on each row's non-zeros alone (``[S, row_nnz]``, not ``[S, F]``).
        ``None`` otherwise.
      step_batch: how many points of a path integral one pass takes (``path_gradient``): 1
        scans them one at a time; more ``vmap`` them as a batch axis (a wider pass, that much
        more memory), chosen by the engine from the device and the memory budget.
      linear_input: ``(linear, logits_from)`` when layer 1 is ``rest ∘ linear`` with ``linear``
        linear in the copies' inputs (GAT, GIN, GraphSAGE: ``Explainable.linear_input``):
        ``x [S, ·] -> u`` and ``u -> [T, C]``, the logits from ``u``. A straight path in x is
        straight in u, so a path integral can run in u and map back once through ``linearᵀ``.
        ``None`` otherwise.
    """

    logits: Callable[[Array], Array]
    layers: tuple[Callable[[Array], Array], ...] | None
    target_copy: Array
    readout: Callable[[Array], Array]
    edge_logits: Callable[[Array], Array] | None = None
    edge_ones: Array | None = None
    to_input: Callable[[Array], Array] = lambda g: g
    copy_target: Array | None = None
    head: GraphHead | None = None
    excitation: tuple[tuple[Callable[[Array], Array], ...], ...] | None = None
    joint_logits: Callable[[Array, Array], Array] | None = None
    chunk: dict[str, Array] | None = None
    sparse_inputs: "SparseInputs | None" = None
    step_batch: int = 1
    linear_input: tuple[Callable[[Array], Array], Callable[[Array], Array]] | None = None


class SparseInputs(NamedTuple):
    """A model read through ``P = X W`` with sparse X (see :attr:`UnionModel.sparse_inputs`)."""

    row_nnz: int
    input_kernel: Array
    projected_logits: Callable[[Array, Array], Array]


class Contribution(NamedTuple):
    """What a method returns on the general path.

    Attributes:
      relevance: ``[S, F]`` relevance of every feature of every copy.
      expected: ``[T]`` what the relevance of each target should sum to (its completeness or
        conservation identity); NaN for methods without one.
      hidden: per hidden layer ``l = 1..K-1``, ``[S]`` relevance ``Σ R(Hˡ)`` of every copy
        (layer-wise methods); empty otherwise.
    """

    relevance: Array
    expected: Array
    hidden: tuple[Array, ...]


class WalkForward(NamedTuple):
    """Whole-graph forward quantities of a walk-sum model (a GCN) at the input X and at X̂.

    Attributes:
      pre: ``(Z¹, ..., Zᴷ)`` pre-activations at X, ``[N, H_l]``.
      pre_ref: the same at X̂.
      projected: ``P = X W¹`` ``[N, H_1]``.
      projected_ref: ``P̂ = X̂ W¹``.
    """

    pre: tuple[Array, ...]
    pre_ref: tuple[Array, ...]
    projected: Array
    projected_ref: Array


class Linearization(NamedTuple):
    """A GCN linearized for one method: the relevance is a walk sum (docs/math.md).

    Attributes:
      masks: ReLU Jacobian of each hidden layer ``l = 1..K-1``, ``[N, H_l]``.
      top: ``[T, C]`` top vector of each target.
      increment: ``[N, H_1]`` input increment in P-space (``ΔP``, or ``P`` for NAM).
      hidden_increments: ``ΔHˡ`` for ``l = 1..K-1`` (layer relevance sums).
      expected: ``[T]`` what each target's relevance should sum to; NaN when undefined.
    """

    masks: tuple[Array, ...]
    top: Array
    increment: Array
    hidden_increments: tuple[Array, ...]
    expected: Array


@dataclasses.dataclass(frozen=True)
class Method:
    """An attribution method. Create one with a factory such as :func:`integrated_gradients`.

    Two methods are equal when their name and hyperparameters are; the engine caches compiled
    code on that, so a second call of the same method with the same shapes does not recompile.

    Attributes:
      name: registry name.
      hyperparameters: sorted ``(name, value)`` pairs (hashable).
      attribute: general path ``(model, x, x_ref, classes) -> Contribution``.
      linearize: fast path ``(forward, targets, classes) -> Linearization``, or ``None``.
      fast_max_layers: largest K the fast path is exact for (``None``: any K).
      baseline: ``"zeros"``, ``"mean"`` or an array ``[N, F]`` / ``[F]``.
      needs_layers: the general path needs ``UnionModel.layers``.
      level: ``"node"`` (relevance per source node) or ``"edge"`` (per union edge).
      needs_input_gradient: the general path maps its gradient back to the features X
        (saliency's ``|∂f/∂X|`` is not a P-space quantity).
      walks_only: the method exists on the walk-sum path only (exact ReLU path averages).
      needs_features: the general path reads the features X themselves, never ``P = X W``
        (excitation backprop starts its first layer from X; GNNExplainer's ``attributes``
        mask acts on single features).
      reads_nonzeros: the method reads X at its non-zeros only, through
        :attr:`UnionModel.sparse_inputs` when X is sparse (GNNExplainer's ``attributes`` mask);
        the engine then plans the chunk's memory by non-zeros, not by F.
      completeness_tolerance: the relevances of a target must sum to ``expected`` within this
        share of ``|expected|`` (IG: 0.01); the engine warns when they do not
        (:class:`~jgattr.attribution.CompletenessWarning`). ``None``: no such check.
      unit: what a value is: ``"logit"`` or ``"probability"`` when the values are shares of that
        quantity of the explained class (:data:`SHARE_UNITS`); else what a magnitude or score
        measures (``"|∂logit/∂x|"``, ``"mask"``, ...). Required: figures and the report read it.
      signed: whether values can be negative (``False``: magnitudes, e.g. saliency, ReLU'd maps,
        masks; a minimal patch then deletes nothing). Required.
      rest_is: for a share unit, what the explained quantity holds beyond the sum of the values
        (``"biases"``, ``"baseline f(X̂)"``, ...); ``None`` otherwise.
      partner: the registry name of the method that yields the other level from the same
        computation (GNNExplainer's edge and node masks; the two parts of joint IG), or ``None``.
    """

    name: str
    hyperparameters: tuple[tuple[str, Any], ...]
    attribute: Callable[..., Contribution] = dataclasses.field(compare=False, repr=False)
    linearize: Callable[..., Linearization] | None = dataclasses.field(compare=False, repr=False)
    fast_max_layers: int | None = None
    baseline: Any = dataclasses.field(default="zeros", compare=False, repr=False)
    needs_layers: bool = False
    level: str = "node"
    needs_input_gradient: bool = False
    walks_only: bool = False
    needs_features: bool = False
    reads_nonzeros: bool = False
    completeness_tolerance: float | None = dataclasses.field(default=None, compare=False)
    unit: str = dataclasses.field(kw_only=True, compare=False)
    signed: bool = dataclasses.field(kw_only=True, compare=False)
    rest_is: str | None = dataclasses.field(default=None, kw_only=True, compare=False)
    partner: str | None = dataclasses.field(default=None, kw_only=True, compare=False)

    def __post_init__(self) -> None:
        check_choice("level", self.level, METHOD_LEVELS)
        if not isinstance(self.unit, str) or not self.unit:
            raise ValueError(f"{self.name}: unit must say what a value is, got {self.unit!r}")

    def reference(self, x: Array) -> Array:
        """The reference input X̂ ``[N, F]`` for features ``x [N, F]`` (on x's device)."""
        return resolve_baseline(self.baseline, x)

    @property
    def is_share(self) -> bool:
        """Whether the values are shares of the explained class's logit or probability."""
        return self.unit in SHARE_UNITS

    @property
    def zero_reference(self) -> bool:
        """Whether X̂ = 0 (NAM's implicit reference, or ``baseline="zeros"``)."""
        return isinstance(self.baseline, str) and self.baseline == "zeros"

    def has_fast_path(self, num_layers: int) -> bool:
        """Whether the GCN walk-sum path computes this method exactly for K = ``num_layers``."""
        return self.linearize is not None and (
            self.fast_max_layers is None or num_layers <= self.fast_max_layers
        )


def resolve_baseline(baseline: Any, x: Array) -> Array:
    """X̂ ``[N, F]`` for a baseline spec: ``"zeros"``, ``"mean"`` (per feature), or an array."""
    if isinstance(x, SparseFeatures):
        if isinstance(baseline, str) and baseline == "zeros":  # no entries: nothing to store
            return SparseFeatures(x.rows[:0], x.cols[:0], x.values[:0], x.shape)
        x = x.todense_on_device()
    if isinstance(baseline, str):
        if baseline == "zeros":
            return jnp.zeros_like(x)
        return jnp.broadcast_to(jnp.mean(x, axis=0, keepdims=True), x.shape)
    array = jnp.asarray(baseline, dtype=x.dtype)
    if array.shape == x.shape[1:]:
        return jnp.broadcast_to(array, x.shape)
    if array.shape != x.shape:
        raise ValueError(
            f"baseline must have shape {x.shape} (one row per node) or {x.shape[1:]} (one row for "
            f"all nodes), got {array.shape}"
        )
    return array


def check_baseline(baseline: Any) -> Any:
    if isinstance(baseline, str) and baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {list(BASELINES)} or an array, got {baseline!r}")
    if not isinstance(baseline, str):
        baseline = np.asarray(baseline)
        if not np.issubdtype(baseline.dtype, np.number) or not np.all(np.isfinite(baseline)):
            raise ValueError("baseline array must be numeric and finite")
    return baseline


def check_choice(argument: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{argument} must be one of {list(choices)}, got {value!r}")


def baseline_key(baseline: Any) -> str:
    return baseline if isinstance(baseline, str) else "array"
