"""Attribution methods as small immutable objects of pure functions (optax-style factories).

A method says how to attribute the targets of one union of computation graphs; the engine owns
extraction, padding, chunking and sharding. Every method has a *general path*: JAX autodiff of the
model restricted to the union (:class:`UnionModel`), valid for any message-passing model. Methods
that are walk sums on a GCN also have a *fast path*: they *linearize* the GCN, i.e. name the ReLU
mask of every hidden layer, the top vector of every target and the input increment, and the
engine runs one linear backward pass in the P = X W¹ space (see MATH.md).
"""

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jgattr._types import Array
from jgattr.attribution._quadrature import paper_samples, quadrature

BASELINES = ("zeros", "mean")
OUTPUTS = ("logit", "probability")
RELU_AVERAGES = ("exact", "n_sample")


class UnionModel(NamedTuple):
    """The model restricted to one union of computation graphs (what the general path sees).

    Attributes:
      logits: ``x [S, F] -> [T, C]``, the logits of every target from the copies' features.
      layers: ``(h⁰ -> h¹, ..., hᴷ⁻¹ -> hᴷ)`` on all copies, whose composition gives the logits on
        every copy; ``None`` when the model is a plain function without layers.
      target_copy: ``[T]`` copy index of each target.
      edge_logits: ``m [E] -> [T, C]``, the logits when every union edge's weight is scaled by
        ``m`` (``m = 1``: the graph as it is; ``m = 0``: no messages at all).
      edge_count: E, the number of (padded) union edges.
      to_input: maps a gradient with respect to the copies' inputs back to the features X
        (``g ↦ g Wᵀ`` when the engine differentiates in ``P = X W`` space; else identity).
    """

    logits: Callable[[Array], Array]
    layers: tuple[Callable[[Array], Array], ...] | None
    target_copy: Array
    edge_logits: Callable[[Array], Array] | None = None
    edge_count: int = 0
    to_input: Callable[[Array], Array] = lambda g: g


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
    """A GCN linearized for one method: the relevance is a walk sum (MATH.md).

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
      evaluations: gradient evaluations the general path vectorizes (memory planning).
      baseline: ``"zeros"``, ``"mean"`` or an array ``[N, F]`` / ``[F]``.
      needs_layers: the general path needs ``UnionModel.layers``.
      level: ``"node"`` (relevance per source node) or ``"edge"`` (per union edge).
      needs_input_gradient: the general path maps its gradient back to the features X
        (saliency's ``|∂f/∂X|`` is not a P-space quantity).
      walks_only: the method exists on the walk-sum path only (exact ReLU path averages).
    """

    name: str
    hyperparameters: tuple[tuple[str, Any], ...]
    attribute: Callable[..., Contribution] = dataclasses.field(compare=False, repr=False)
    linearize: Callable[..., Linearization] | None = dataclasses.field(compare=False, repr=False)
    fast_max_layers: int | None = None
    evaluations: int = 1
    baseline: Any = dataclasses.field(default="zeros", compare=False, repr=False)
    needs_layers: bool = False
    level: str = "node"
    needs_input_gradient: bool = False
    walks_only: bool = False

    def reference(self, x: Array) -> Array:
        """The reference input X̂ ``[N, F]`` for features ``x [N, F]`` (on x's device)."""
        return resolve_baseline(self.baseline, x)

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


def _check_baseline(baseline: Any) -> Any:
    if isinstance(baseline, str) and baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {list(BASELINES)} or an array, got {baseline!r}")
    if not isinstance(baseline, str):
        baseline = np.asarray(baseline)
        if not np.issubdtype(baseline.dtype, np.number) or not np.all(np.isfinite(baseline)):
            raise ValueError("baseline array must be numeric and finite")
    return baseline


def _check_choice(argument: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{argument} must be one of {list(choices)}, got {value!r}")


def _baseline_key(baseline: Any) -> str:
    return baseline if isinstance(baseline, str) else "array"


# ----------------------------------------------------------------------------- general path


def _select(outputs: Array, classes: Array) -> Array:
    return jnp.take_along_axis(outputs, classes[:, None], axis=1)[:, 0]


def _target_scores(model: UnionModel, classes: Array, output: str) -> Callable[[Array], Array]:
    def scores(x: Array) -> Array:
        logits = model.logits(x)
        return _select(jax.nn.softmax(logits) if output == "probability" else logits, classes)

    return scores


def _gradient(scores: Callable[[Array], Array], x: Array) -> Array:
    """Per-copy gradient of every target's score: the targets are disjoint, so one VJP does all."""
    return jax.grad(lambda y: jnp.sum(scores(y)))(x)


def _nan_expected(classes: Array, dtype) -> Array:
    return jnp.full(classes.shape, jnp.nan, dtype)


def _saliency_attribute(model, x, x_ref, classes) -> Contribution:
    del x_ref
    grads = _gradient(_target_scores(model, classes, "logit"), x)
    return Contribution(jnp.abs(model.to_input(grads)), _nan_expected(classes, x.dtype), ())


def _nam_attribute(model, x, x_ref, classes) -> Contribution:
    del x_ref
    grads = _gradient(_target_scores(model, classes, "logit"), x)
    return Contribution(grads * x, _nan_expected(classes, x.dtype), ())


def _path_gradient(scores, x, x_ref, alphas, weights) -> Array:
    """``Σ_k w_k ∇ scores(x̂ + α_k (x − x̂))``, the alpha axis vmapped."""
    delta = x - x_ref
    grads = jax.vmap(lambda a: _gradient(scores, x_ref + a * delta))(alphas)
    return jnp.tensordot(weights, grads, axes=1)


def _make_ig_attribute(alphas: np.ndarray, weights: np.ndarray, output: str):
    def attribute(model, x, x_ref, classes) -> Contribution:
        scores = _target_scores(model, classes, output)
        average = _path_gradient(
            scores, x, x_ref, jnp.asarray(alphas, x.dtype), jnp.asarray(weights, x.dtype)
        )
        return Contribution((x - x_ref) * average, scores(x) - scores(x_ref), ())

    return attribute


def _edge_scores(model: UnionModel, classes: Array) -> Callable[[Array], Array]:
    return lambda mask: _select(model.edge_logits(mask), classes)


def _edge_saliency_attribute(model, x, x_ref, classes) -> Contribution:
    del x_ref
    grads = _gradient(_edge_scores(model, classes), jnp.ones(model.edge_count, x.dtype))
    return Contribution(jnp.abs(grads), _nan_expected(classes, x.dtype), ())


def _make_edge_ig_attribute(alphas: np.ndarray, weights: np.ndarray):
    def attribute(model, x, x_ref, classes) -> Contribution:
        del x_ref
        scores = _edge_scores(model, classes)
        ones = jnp.ones(model.edge_count, x.dtype)
        average = _path_gradient(
            scores,
            ones,
            jnp.zeros_like(ones),
            jnp.asarray(alphas, x.dtype),
            jnp.asarray(weights, x.dtype),
        )
        return Contribution(average, scores(ones) - scores(jnp.zeros_like(ones)), ())

    return attribute


# --------------------------------------------------------------------------- top vectors


def _softmax_jacobian_row(z: Array, classes: Array) -> Array:
    """``∂ softmax(z)_c / ∂z = p_c (e_c − p)`` for each row of ``z [T, C]``."""
    p = jax.nn.softmax(z)
    onehot = jax.nn.one_hot(classes, z.shape[-1], dtype=z.dtype)
    return _select(p, classes)[:, None] * (onehot - p)


def _make_top(kind: str, n_samples: int):
    """Top vector ``[T, C]`` and expected total ``[T]`` from target logits at X and X̂."""

    def top(z: Array, z_ref: Array, classes: Array) -> tuple[Array, Array]:
        if kind == "logit":
            vector = jax.nn.one_hot(classes, z.shape[-1], dtype=z.dtype)
            return vector, _select(z, classes) - _select(z_ref, classes)
        gain = _select(jax.nn.softmax(z), classes) - _select(jax.nn.softmax(z_ref), classes)
        if kind == "softmax_local":
            return _softmax_jacobian_row(z, classes), gain
        ts = jnp.asarray(paper_samples(n_samples)[0], z.dtype)
        rows = jax.vmap(lambda t: _softmax_jacobian_row(z_ref + t * (z - z_ref), classes))(ts)
        return rows.mean(axis=0), gain

    return top


# ------------------------------------------------------------------ ReLU average Jacobians


def exact_relu_average(z_ref: Array, z: Array) -> Array:
    """``∫₀¹ 1[ẑ + t (z − ẑ) > 0] dt`` per unit, in closed form (MATH.md)."""
    pos, pos_ref = z > 0, z_ref > 0
    rising = pos & ~pos_ref
    falling = pos_ref & ~pos
    denominator = jnp.where(rising | falling, z - z_ref, 1.0)
    crossing = jnp.where(rising, z, -z_ref) / denominator
    return jnp.where(rising | falling, crossing, pos.astype(z.dtype))


def _sampled_relu_average(z_ref: Array, z: Array, ts: np.ndarray, weights: np.ndarray) -> Array:
    steps = jax.vmap(lambda t: (z_ref + t * (z - z_ref) > 0).astype(z.dtype))(
        jnp.asarray(ts, z.dtype)
    )
    return jnp.tensordot(jnp.asarray(weights, z.dtype), steps, axes=1)


def _make_relu_average(jacobian: str, relu_average: str, n_samples: int):
    """``(ẑ, z) -> mask``: local ``1[z > 0]``, exact path average, or the paper's samples."""

    def average(z_ref: Array, z: Array) -> Array:
        if jacobian == "local":
            return (z > 0).astype(z.dtype)
        if relu_average == "exact":
            return exact_relu_average(z_ref, z)
        return _sampled_relu_average(z_ref, z, *paper_samples(n_samples))

    return average


# ------------------------------------------------------------------------ layer-wise (LID)


def _layer_vjp(layer, h: Array, h_ref: Array, g: Array, jacobian, relu_average, n_samples):
    """``g ↦ g · D̄`` for one layer: its local Jacobian, or its average on its own line."""
    if jacobian == "local":
        return jax.vjp(layer, h)[1](g)[0]
    if relu_average == "exact":
        raise ValueError(
            "relu_average='exact' needs the GCN fast path; for other models pass "
            "relu_average='n_sample' (the paper's rule)"
        )
    ts, weights = paper_samples(n_samples)
    grads = jax.vmap(lambda t: jax.vjp(layer, h_ref + t * (h - h_ref))[1](g)[0])(
        jnp.asarray(ts, h.dtype)
    )
    return jnp.tensordot(jnp.asarray(weights, h.dtype), grads, axes=1)


def _make_lid_attribute(top_kind: str, jacobian: str, relu_average: str, n_samples: int):
    top_fn = _make_top(top_kind, n_samples)

    def attribute(model, x, x_ref, classes) -> Contribution:
        if model.layers is None:
            raise ValueError(
                "layer-wise methods need a model with layers on the general path; "
                "use the built-in GCN or pass an Explainable with layers"
            )
        hs, hs_ref = [x], [x_ref]
        for layer in model.layers:
            hs.append(layer(hs[-1]))
            hs_ref.append(layer(hs_ref[-1]))
        top, expected = top_fn(hs[-1][model.target_copy], hs_ref[-1][model.target_copy], classes)
        g = jnp.zeros_like(hs[-1]).at[model.target_copy].add(top)
        hidden = []
        for index in range(len(model.layers) - 1, -1, -1):
            layer = model.layers[index]
            g = _layer_vjp(layer, hs[index], hs_ref[index], g, jacobian, relu_average, n_samples)
            if index > 0:
                hidden.append(jnp.sum(g * (hs[index] - hs_ref[index]), axis=-1))
        return Contribution(g * (x - x_ref), expected, tuple(reversed(hidden)))

    return attribute


# ------------------------------------------------------------------------------ fast path


def _make_linearize(top_kind, mask_fn, increment: str, n_samples: int):
    """Fast path of a walk-sum method: masks from ``mask_fn(ẑ, z)``, a top vector, an increment."""
    top_fn = _make_top(top_kind, n_samples)

    def linearize(forward: WalkForward, targets: Array, classes: Array) -> Linearization:
        z, z_ref = forward.pre[-1][targets], forward.pre_ref[-1][targets]
        top, expected = top_fn(z, z_ref, classes)
        hidden = zip(forward.pre_ref[:-1], forward.pre[:-1], strict=True)
        masks = tuple(mask_fn(a_ref, a) for a_ref, a in hidden)
        hidden_increments = tuple(
            jax.nn.relu(a) - jax.nn.relu(a_ref)
            for a_ref, a in zip(forward.pre_ref[:-1], forward.pre[:-1], strict=True)
        )
        if increment == "input":
            return Linearization(
                masks, top, forward.projected, hidden_increments, jnp.full_like(expected, jnp.nan)
            )
        delta = forward.projected - forward.projected_ref
        return Linearization(masks, top, delta, hidden_increments, expected)

    return linearize


# ----------------------------------------------------------------------------- factories


def saliency() -> Method:
    """Saliency: ``S[a, φ] = Σ_i |∂Z[a, c] / ∂X[φ, i]|``, gradient magnitude summed per node.

    References:
      Simonyan et al., Deep Inside Convolutional Networks, 2014; Pope et al., CVPR 2019.
    """
    return Method("saliency", (), _saliency_attribute, None, needs_input_gradient=True)


def nam() -> Method:
    """NAM: node-level gradient × input of the logit over all message-passing paths.

    ``C[a, φ] = Σ_i X[φ, i] ∂Z[a, c] / ∂X[φ, i]``, the sum over every walk φ → … → a of length
    ≤ K (MATH.md). On a GCN this is the walk sum with local ReLU masks ``1[Zˡ > 0]``.

    References:
      Xie & Lu, Interpreting and Understanding Graph Convolutional Neural Network using
      Gradient-based Attribution Methods (NAM/NIV).
    """
    linearize = _make_linearize("logit", _make_relu_average("local", "exact", 1), "input", 1)
    return Method("nam", (), _nam_attribute, linearize)


def integrated_gradients(
    *,
    n_steps: int = 50,
    quadrature_rule: str = "gauss_legendre",
    baseline: Any = "zeros",
    output: str = "logit",
) -> Method:
    """Integrated gradients on node features, summed per node.

    ``IG[a, φ] = Σ_i ΔX[φ, i] ∫₀¹ ∂f / ∂X[φ, i] (X̂ + α ΔX) dα`` with ``ΔX = X − X̂`` and
    ``f = Z[a, c]`` (``output="logit"``) or ``softmax(Z[a])_c`` (``output="probability"``).
    Completeness: ``Σ_φ IG[a, φ] = f(X) − f(X̂)``; the result's ``delta`` is the gap left by the
    quadrature. On a 2-layer GCN with logits, IG is the walk sum with the first layer's ReLU
    mask averaged along the path by the same quadrature (exact, fast path).

    Args:
      n_steps: quadrature points on the alpha axis (vmapped).
      quadrature_rule: one of ``riemann_left``, ``riemann_right``, ``riemann_middle``,
        ``riemann_trapezoid``, ``gauss_legendre``.
      baseline: ``"zeros"``, ``"mean"`` (feature means) or an array ``[N, F]`` or ``[F]``.
      output: ``"logit"`` or ``"probability"``.

    References:
      Sundararajan, Taly & Yan, Axiomatic Attribution for Deep Networks, ICML 2017.

    Example:
      >>> method = integrated_gradients(n_steps=32, quadrature_rule="riemann_middle")
    """
    alphas, weights = quadrature(quadrature_rule, n_steps)
    _check_choice("output", output, OUTPUTS)
    baseline = _check_baseline(baseline)
    linearize = None
    if output == "logit":
        mask_fn = lambda z_ref, z: _sampled_relu_average(z_ref, z, alphas, weights)
        linearize = _make_linearize("logit", mask_fn, "delta", 1)
    return Method(
        "integrated_gradients",
        (
            ("baseline", _baseline_key(baseline)),
            ("n_steps", n_steps),
            ("output", output),
            ("quadrature", quadrature_rule),
        ),
        _make_ig_attribute(alphas, weights, output),
        linearize,
        fast_max_layers=2,
        evaluations=n_steps,
        baseline=baseline,
    )


_LID_FAMILY = {
    # name: (top vector, ReLU Jacobian)  -- MATH.md table
    "lid_taylor": ("logit", "local"),
    "st_lid_taylor": ("softmax_local", "local"),
    "lid_ig": ("logit", "path"),
    "sig_lid_taylor": ("softmax_integrated", "local"),
    "sig_lid_ig": ("softmax_integrated", "path"),
}


def _lid(name: str, baseline: Any, relu_average: str, n_samples: int) -> Method:
    top_kind, jacobian = _LID_FAMILY[name]
    _check_choice("relu_average", relu_average, RELU_AVERAGES)
    paper_samples(n_samples)  # validates n_samples
    baseline = _check_baseline(baseline)
    mask_fn = _make_relu_average(jacobian, relu_average, n_samples)
    general_samples = n_samples if jacobian == "path" else 1
    return Method(
        name,
        (
            ("baseline", _baseline_key(baseline)),
            ("n_samples", n_samples),
            ("relu_average", relu_average),
        ),
        _make_lid_attribute(top_kind, jacobian, relu_average, n_samples),
        _make_linearize(top_kind, mask_fn, "delta", n_samples),
        evaluations=general_samples,
        baseline=baseline,
        needs_layers=True,
        walks_only=jacobian == "path" and relu_average == "exact",
    )


def _lid_factory(name: str, summary: str):
    def factory(
        *, baseline: Any = "zeros", relu_average: str = "exact", n_samples: int = 50
    ) -> Method:
        return _lid(name, baseline, relu_average, n_samples)

    top_kind, jacobian = _LID_FAMILY[name]
    factory.__name__ = name
    factory.__doc__ = f"""{summary}

    Layer-wise increment decomposition (MATH.md): relevance at layer l is
    ``R(Hˡ) = top · D̄ᴷ ⋯ D̄ˡ⁺¹ ⊙ ΔHˡ`` with increments ``ΔHˡ = Hˡ − Ĥˡ`` from a reference pass at
    X̂. Here the top vector is ``{top_kind}`` and the ReLU Jacobian is ``{jacobian}``
    (``path``: averaged on each layer's own line from Ẑˡ to Zˡ). Node relevance sums over features.
    The result's ``delta`` is the conservation gap ``Σ_φ R[a, φ] − expected``, where expected is
    ``ΔZ[a, c]`` for a logit top and ``Δsoftmax(Z[a])_c`` for a softmax top.

    Args:
      baseline: ``"zeros"``, ``"mean"`` or an array ``[N, F]`` / ``[F]`` (the reference X̂).
      relu_average: ``"exact"`` closed-form path averages (GCN fast path) or ``"n_sample"``,
        the paper's rule ``t = k/n, k = 1..n``.
      n_samples: n of the paper's rule, used by ``n_sample`` ReLU averages and the SIG top.

    References:
      Chen, Li, Shao & Sun, Layer-wise Increment Decomposition-based Neuron Relevance
      Explanation for Deep Networks, Acta Automatica Sinica 50(10), 2024.
    """
    return factory


lid_taylor = _lid_factory("lid_taylor", "LID-Taylor: logit top, local ReLU Jacobians.")
st_lid_taylor = _lid_factory(
    "st_lid_taylor", "ST-LID-Taylor: softmax-gradient top at Z, local ReLU Jacobians."
)
lid_ig = _lid_factory("lid_ig", "LID-IG: logit top, path-averaged ReLU Jacobians.")
sig_lid_taylor = _lid_factory(
    "sig_lid_taylor", "SIG-LID-Taylor: path-averaged softmax top, local ReLU Jacobians."
)
sig_lid_ig = _lid_factory(
    "sig_lid_ig", "SIG-LID-IG: path-averaged softmax top, path-averaged ReLU Jacobians."
)


def edge_saliency() -> Method:
    """Edge saliency: ``|∂Z[a, c] / ∂m_e|`` at ``m = 1`` for a weight ``m_e`` on every edge.

    Relevance is per edge of the target's computation graph (``Attributions.level == "edge"``);
    the edge weight scales that edge's entry of the normalized adjacency.
    """
    return Method("edge_saliency", (), _edge_saliency_attribute, None, level="edge")


def edge_integrated_gradients(
    *, n_steps: int = 50, quadrature_rule: str = "gauss_legendre"
) -> Method:
    """Integrated gradients over per-edge weights, baseline 0 (Captum's edge mask with PyG).

    ``IG_e = ∫₀¹ ∂Z[a, c] / ∂m_e (α 1) dα`` where ``m_e`` scales edge e's normalized weight.
    Completeness: ``Σ_e IG_e = Z[a, c](m = 1) − Z[a, c](m = 0)`` (no messages at all, self
    loops included); the result's ``delta`` is the quadrature's gap.

    Args:
      n_steps: quadrature points on the alpha axis (vmapped).
      quadrature_rule: as for :func:`integrated_gradients`.
    """
    alphas, weights = quadrature(quadrature_rule, n_steps)
    return Method(
        "edge_integrated_gradients",
        (("n_steps", n_steps), ("quadrature", quadrature_rule)),
        _make_edge_ig_attribute(alphas, weights),
        None,
        evaluations=n_steps,
        level="edge",
    )


METHODS: dict[str, Callable[..., Method]] = {
    "saliency": saliency,
    "nam": nam,
    "integrated_gradients": integrated_gradients,
    "lid_taylor": lid_taylor,
    "st_lid_taylor": st_lid_taylor,
    "lid_ig": lid_ig,
    "sig_lid_taylor": sig_lid_taylor,
    "sig_lid_ig": sig_lid_ig,
    "edge_saliency": edge_saliency,
    "edge_integrated_gradients": edge_integrated_gradients,
}
ALIASES = {"ig": "integrated_gradients", "edge_ig": "edge_integrated_gradients"}


def get_method(name: str | Method, **hyperparameters: Any) -> Method:
    """A method by registry name (``-`` and ``_`` alike; ``ig`` for integrated gradients)."""
    if isinstance(name, Method):
        return name
    key = str(name).strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)} (or 'ig'), got {name!r}")
    return METHODS[key](**hyperparameters)
