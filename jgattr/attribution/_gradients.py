"""Gradient methods: saliency, NAM, integrated gradients, and their edge-weight versions.

General path: one VJP per chunk gives every target's gradient (the targets' computation graphs
are disjoint), accumulated over the quadrature points of a path integral by a scan. NAM and
IG (K <= 2, logits) also linearize for the exact walk-sum path.
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jgattr._types import Array
from jgattr.attribution._completeness import COMPLETENESS_FLOOR
from jgattr.attribution._linearize import (
    make_linearize,
    make_relu_average,
    sampled_relu_average,
    select_class,
)
from jgattr.attribution._method_types import (
    OUTPUTS,
    Contribution,
    Method,
    UnionModel,
    baseline_key,
    check_baseline,
    check_choice,
)
from jgattr.attribution._quadrature import quadrature


def target_scores(model: UnionModel, classes: Array, output: str) -> Callable[[Array], Array]:
    def scores(x: Array) -> Array:
        logits = model.logits(x)
        return select_class(jax.nn.softmax(logits) if output == "probability" else logits, classes)

    return scores


def gradient_of(scores: Callable[[Array], Array], x: Array) -> Array:
    """Per-copy gradient of every target's score: the targets are disjoint, so one VJP does all."""
    return jax.grad(lambda y: jnp.sum(scores(y)))(x)


def nan_expected(classes: Array, dtype) -> Array:
    return jnp.full(classes.shape, jnp.nan, dtype)


def _make_saliency_attribute(absolute: bool):
    def attribute(model, x, x_ref, classes) -> Contribution:
        del x_ref
        grads = model.to_input(gradient_of(target_scores(model, classes, "logit"), x))
        return Contribution(
            jnp.abs(grads) if absolute else grads, nan_expected(classes, x.dtype), ()
        )

    return attribute


def _nam_attribute(model, x, x_ref, classes) -> Contribution:
    del x_ref
    grads = gradient_of(target_scores(model, classes, "logit"), x)
    return Contribution(grads * x, nan_expected(classes, x.dtype), ())


def path_gradient(scores, x, x_ref, alphas, weights, batch: int = 1) -> Array:
    """``Σ_k w_k ∇ scores(x̂ + α_k (x − x̂))``, accumulated over the points by ``lax.scan``.

    ``batch`` > 1: ``batch`` points per scan step as one ``vmap``-ped (wider) pass, the last
    ``n mod batch`` points in one pass after the scan (:attr:`UnionModel.step_batch`).
    ``x`` and ``x_ref`` may be pytrees of arrays (a path in :attr:`UnionModel.linear_input`).
    """
    tree = jax.tree.map
    delta = tree(lambda a, b: a - b, x, x_ref)
    point = lambda alpha: tree(lambda r, d: r + alpha * d, x_ref, delta)
    zeros = tree(jnp.zeros_like, x)
    if batch == 1:

        def step(total, item):
            alpha, weight = item
            grads = gradient_of(scores, point(alpha))
            return tree(lambda t, g: t + weight * g, total, grads), None

        return jax.lax.scan(step, zeros, (alphas, weights))[0]
    points = jax.vmap(lambda alpha: gradient_of(scores, point(alpha)))

    def batched(total, item):
        alpha, weight = item  # [b]
        grads = points(alpha)
        return tree(lambda t, g: t + jnp.tensordot(weight, g, axes=1), total, grads), None

    full = alphas.shape[0] // batch * batch
    steps = (alphas[:full].reshape(-1, batch), weights[:full].reshape(-1, batch))
    total = jax.lax.scan(batched, zeros, steps)[0]
    if full < alphas.shape[0]:
        total = batched(total, (alphas[full:], weights[full:]))[0]
    return total


def _make_ig_attribute(alphas: np.ndarray, weights: np.ndarray, output: str):
    def attribute(model, x, x_ref, classes) -> Contribution:
        scores = target_scores(model, classes, output)
        cast = lambda a: jnp.asarray(a, x.dtype)
        points = (cast(alphas), cast(weights), min(model.step_batch, len(alphas)))
        if model.linear_input is None:
            average = path_gradient(scores, x, x_ref, *points)
        else:  # the path's image under layer 1's linear part: integrate there, map back once
            linear, logits_from = model.linear_input
            in_u = target_scores(model._replace(logits=logits_from), classes, output)
            average_u = path_gradient(in_u, linear(x), linear(x_ref), *points)
            average = jax.vjp(linear, x)[1](average_u)[0]
        return Contribution((x - x_ref) * average, scores(x) - scores(x_ref), ())

    return attribute


AUTO_START = 16  # intervals of the first level of n_steps="auto"


def _make_auto_ig_attribute(levels: int, tolerance: float, output: str):
    """IG by the composite trapezoid rule on ``16 · 2^j`` intervals, ``j = 0..levels``.

    Level j adds only the odd points ``(2i + 1) / n`` (``T_j = T_{j-1} / 2 + Σ_new g / n``); a
    target keeps the first level whose gap is within ``tolerance · |f(x) − f(x̂)|``, and a level
    runs (``lax.cond``) only while some target of the chunk still misses it.
    """

    def attribute(model, x, x_ref, classes) -> Contribution:
        scores = target_scores(model, classes, output)
        expected = scores(x) - scores(x_ref)
        cast = lambda a: jnp.asarray(a, x.dtype)
        gradient = lambda alphas, w: path_gradient(
            scores, x, x_ref, cast(alphas), cast(w), min(model.step_batch, len(alphas))
        )

        def missing(average: Array) -> Array:  # [T]
            totals = jax.ops.segment_sum(
                jnp.sum((x - x_ref) * average, axis=-1), model.copy_target, expected.shape[0]
            )
            return jnp.abs(totals - expected) > tolerance * jnp.abs(expected) + COMPLETENESS_FLOOR

        average = gradient(*quadrature("riemann_trapezoid", AUTO_START + 1))
        for level in range(1, levels + 1):
            n = AUTO_START * 2**level
            alphas = (2 * np.arange(n // 2) + 1) / n
            refine = lambda avg, a=alphas, n=n: avg / 2 + gradient(a, np.full(a.shape, 1 / n))
            todo = missing(average)
            refined = jax.lax.cond(jnp.any(todo), refine, lambda avg: avg, average)
            average = jnp.where(todo[model.copy_target][:, None], refined, average)
        return Contribution((x - x_ref) * average, expected, ())

    return attribute


def _auto_levels(quadrature_rule: str | None, tolerance: float, max_steps: int) -> int:
    """Levels of ``n_steps="auto"`` (``16 · 2^levels <= max_steps``), arguments checked."""
    if quadrature_rule not in (None, "riemann_trapezoid"):
        raise ValueError(
            "n_steps='auto' refines the nested trapezoid rule (each level reuses the points "
            f"before), got quadrature_rule={quadrature_rule!r}; leave it out or give an int n_steps"
        )
    if not isinstance(max_steps, int) or max_steps < 2 * AUTO_START:
        raise ValueError(f"max_steps must be an int >= {2 * AUTO_START}, got {max_steps!r}")
    return int(np.log2(max_steps // AUTO_START))


def _edge_scores(model: UnionModel, classes: Array) -> Callable[[Array], Array]:
    return lambda mask: select_class(model.edge_logits(mask), classes)


def _edge_saliency_attribute(model, x, x_ref, classes) -> Contribution:
    del x_ref
    grads = gradient_of(_edge_scores(model, classes), model.edge_ones)
    return Contribution(jnp.abs(grads), nan_expected(classes, x.dtype), ())


def _make_edge_ig_attribute(alphas: np.ndarray, weights: np.ndarray):
    def attribute(model, x, x_ref, classes) -> Contribution:
        del x_ref
        scores = _edge_scores(model, classes)
        ones = model.edge_ones
        average = path_gradient(
            scores,
            ones,
            jnp.zeros_like(ones),
            jnp.asarray(alphas, x.dtype),
            jnp.asarray(weights, x.dtype),
            min(model.step_batch, len(alphas)),
        )
        return Contribution(average, scores(ones) - scores(jnp.zeros_like(ones)), ())

    return attribute


def saliency(*, absolute: bool = True) -> Method:
    """Saliency: ``S[a, φ] = Σ_i |∂Z[a, c] / ∂X[φ, i]|``, gradient magnitude summed per node.

    Args:
      absolute: ``False`` keeps the sign, ``S[a, φ] = Σ_i ∂Z[a, c] / ∂X[φ, i]`` (Captum's
        ``Saliency.attribute(abs=False)``).

    References:
      Simonyan et al., Deep Inside Convolutional Networks, 2014; Pope et al., CVPR 2019.
    """
    if not isinstance(absolute, bool):
        raise ValueError(f"absolute must be True or False, got {absolute!r}")
    hyperparameters = () if absolute else (("absolute", False),)
    return Method(
        "saliency",
        hyperparameters,
        _make_saliency_attribute(absolute),
        None,
        needs_input_gradient=True,
        unit="|∂logit/∂x|" if absolute else "∂logit/∂x",
        signed=not absolute,
    )


def nam() -> Method:
    """NAM: node-level gradient × input of the logit over all message-passing paths.

    ``C[a, φ] = Σ_i X[φ, i] ∂Z[a, c] / ∂X[φ, i]``, the sum over every walk φ → … → a of length
    ≤ K (docs/math.md). On a GCN this is the walk sum with local ReLU masks ``1[Zˡ > 0]``.

    References:
      Xie & Lu, Interpreting and Understanding Graph Convolutional Neural Network using
      Gradient-based Attribution Methods (NAM/NIV).
    """
    linearize = make_linearize("logit", make_relu_average("local", "exact", 1), "input", 1)
    return Method("nam", (), _nam_attribute, linearize, unit="logit", signed=True, rest_is="biases")


def integrated_gradients(
    *,
    n_steps: int | str = 50,
    quadrature_rule: str | None = None,
    baseline: Any = "zeros",
    output: str = "logit",
    tolerance: float = 0.01,
    max_steps: int = 1024,
) -> Method:
    """Integrated gradients on node features, summed per node.

    ``IG[a, φ] = Σ_i ΔX[φ, i] ∫₀¹ ∂f / ∂X[φ, i] (X̂ + α ΔX) dα`` with ``ΔX = X − X̂`` and
    ``f = Z[a, c]`` (``output="logit"``) or ``softmax(Z[a])_c`` (``output="probability"``).
    Completeness: ``Σ_φ IG[a, φ] = f(X) − f(X̂)``; the result's ``delta`` is the gap left by the
    quadrature. On a 2-layer GCN with logits, IG is the walk sum with the first layer's ReLU
    mask averaged along the path by the same quadrature (exact, fast path).

    Args:
      n_steps: quadrature points on the alpha axis (scanned one at a time), or ``"auto"``: the
        nested trapezoid rule from 16 intervals, doubled for the targets whose gap exceeds
        ``tolerance`` until it holds or ``max_steps`` is reached (general path; memory does not
        grow with the steps, which are scanned).
      quadrature_rule: one of ``riemann_left``, ``riemann_right``, ``riemann_middle``,
        ``riemann_trapezoid``, ``gauss_legendre`` (default, for an int ``n_steps``).
      baseline: ``"zeros"``, ``"mean"`` (feature means) or an array ``[N, F]`` or ``[F]``.
      output: ``"logit"`` or ``"probability"``.
      tolerance: the completeness gap allowed, a share of ``|f(x) − f(x̂)|``; ``explain`` warns
        (:class:`CompletenessWarning`) for targets over it.
      max_steps: with ``n_steps="auto"``, the most intervals (rounded down to ``16 · 2^j``).

    References:
      Sundararajan, Taly & Yan, Axiomatic Attribution for Deep Networks, ICML 2017.

    Example:
      >>> method = integrated_gradients(n_steps=32, quadrature_rule="riemann_middle")
    """
    check_choice("output", output, OUTPUTS)
    baseline = check_baseline(baseline)
    if not (isinstance(tolerance, int | float) and 0 < tolerance < 1):
        raise ValueError(f"tolerance must be a share in (0, 1), e.g. 0.01, got {tolerance!r}")
    if n_steps == "auto":
        levels = _auto_levels(quadrature_rule, tolerance, max_steps)
        return Method(
            "integrated_gradients",
            (
                ("baseline", baseline_key(baseline)),
                ("max_steps", AUTO_START * 2**levels),
                ("n_steps", "auto"),
                ("output", output),
                ("quadrature", "nested_trapezoid"),
                ("tolerance", float(tolerance)),
            ),
            _make_auto_ig_attribute(levels, float(tolerance), output),
            None,
            baseline=baseline,
            completeness_tolerance=float(tolerance),
            **_ig_facts(output),
        )
    quadrature_rule = quadrature_rule or "gauss_legendre"
    alphas, weights = quadrature(quadrature_rule, n_steps)
    linearize = None
    if output == "logit":
        mask_fn = lambda z_ref, z: sampled_relu_average(z_ref, z, alphas, weights)
        linearize = make_linearize("logit", mask_fn, "delta", 1)
    return Method(
        "integrated_gradients",
        (
            ("baseline", baseline_key(baseline)),
            ("n_steps", n_steps),
            ("output", output),
            ("quadrature", quadrature_rule),
        ),
        _make_ig_attribute(alphas, weights, output),
        linearize,
        fast_max_layers=2,
        baseline=baseline,
        completeness_tolerance=float(tolerance),
        **_ig_facts(output),
    )


def _ig_facts(output: str) -> dict[str, Any]:
    """Unit, sign and rest of IG on ``output``: shares of f(X) − f(X̂), the rest f(X̂)."""
    rest = "baseline f(X̂)" if output == "logit" else "baseline p(X̂)"
    return {"unit": output, "signed": True, "rest_is": rest}


def edge_saliency() -> Method:
    """Edge saliency: ``|∂Z[a, c] / ∂m_e|`` at ``m = 1`` for a weight ``m_e`` on every edge.

    Relevance is per edge of the target's computation graph (``Attributions.level == "edge"``);
    the edge weight scales that edge's entry of the normalized adjacency.
    """
    return Method(
        "edge_saliency",
        (),
        _edge_saliency_attribute,
        None,
        level="edge",
        unit="|∂logit/∂m|",
        signed=False,
    )


def edge_integrated_gradients(
    *, n_steps: int = 50, quadrature_rule: str = "gauss_legendre"
) -> Method:
    """Integrated gradients over per-edge weights, baseline 0: an edge mask, like the one
    Captum's ``to_captum_model(mask_type="edge")`` puts on a PyG model, except for self loops
    (see below).

    ``IG_e = ∫₀¹ ∂Z[a, c] / ∂m_e (α 1) dα`` where ``m_e`` scales edge e's weight in the
    prepared graph (GCN: its normalized weight; GAT: its attention coefficient).
    Completeness: ``Σ_e IG_e = Z[a, c](m = 1) − Z[a, c](m = 0)``: no messages along any edge,
    self loops included (GIN and GraphSAGE still see a node's own features through their root
    term); the result's ``delta`` is the quadrature's gap.

    Self loops: the built-in GCN and GAT read their self loops as edges of the prepared graph,
    and the mask scales them too. PyG's ``GCNConv`` and ``GATConv`` add their own self loops,
    which PyG's (and so Captum's) edge mask never scales. The values therefore equal Captum's
    on a PyG model only when that model's self loops are explicit edges of its ``edge_index``
    (layers built with ``add_self_loops=False``; measured on a GCN: equal to 3e-7, while against
    PyG's default layers, which add their own self loops, they differ by 23-47%), or for a model
    imported with :func:`jgattr.interop.from_pyg`: its ``Explainable.edge_mask_self_loops`` is
    ``False``, so self loops keep weight 1 on the whole path, their relevance is 0 and ``m = 0``
    leaves them.

    Args:
      n_steps: quadrature points on the alpha axis (scanned one at a time).
      quadrature_rule: as for :func:`integrated_gradients`.
    """
    alphas, weights = quadrature(quadrature_rule, n_steps)
    return Method(
        "edge_integrated_gradients",
        (("n_steps", n_steps), ("quadrature", quadrature_rule)),
        _make_edge_ig_attribute(alphas, weights),
        None,
        level="edge",
        unit="logit",
        signed=True,
        rest_is="logit without messages f(m = 0)",
    )
