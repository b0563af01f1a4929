"""Joint node-and-edge integrated gradients: one straight path over node features and edge
weights together (Captum's ``mask_type="node_and_edge"``); two results of one integral."""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jgattr._types import Array
from jgattr.attribution._linearize import select_class
from jgattr.attribution._method_types import (
    METHOD_LEVELS,
    OUTPUTS,
    Contribution,
    Method,
    UnionModel,
    baseline_key,
    check_baseline,
    check_choice,
)
from jgattr.attribution._quadrature import quadrature


def _joint_scores(model: UnionModel, classes: Array, output: str) -> Callable[[tuple], Array]:
    def scores(point: tuple[Array, Array]) -> Array:
        logits = model.joint_logits(*point)
        return select_class(jax.nn.softmax(logits) if output == "probability" else logits, classes)

    return scores


def _make_joint_ig_attribute(alphas: np.ndarray, weights: np.ndarray, output: str, level: str):
    def attribute(model, x, x_ref, classes) -> Contribution:
        scores = _joint_scores(model, classes, output)
        ones = model.edge_ones
        start = (x_ref, jnp.zeros_like(ones))
        delta = (x - x_ref, ones)

        def step(total, point):
            alpha, weight = point
            here = jax.tree.map(lambda s, d: s + alpha * d, start, delta)
            grads = jax.grad(lambda p: jnp.sum(scores(p)))(here)
            return jax.tree.map(lambda t, g: t + weight * g, total, grads), None

        points = (jnp.asarray(alphas, x.dtype), jnp.asarray(weights, x.dtype))
        average = jax.lax.scan(step, jax.tree.map(jnp.zeros_like, start), points)[0]
        node, edge = delta[0] * average[0], average[1]
        change = scores((x, ones)) - scores(start)
        num_targets = classes.shape[0]
        node_total = jax.ops.segment_sum(node.sum(-1), model.chunk["copy_target"], num_targets)
        edge_total = jax.ops.segment_sum(edge, model.chunk["edge_target"], num_targets)
        if level == "node":  # each part's expected total leaves the other part's total out
            return Contribution(node, change - edge_total, ())
        return Contribution(edge, change - node_total, ())

    return attribute


def node_and_edge_integrated_gradients(
    *,
    n_steps: int = 50,
    quadrature_rule: str = "gauss_legendre",
    baseline: Any = "zeros",
    output: str = "logit",
    level: str = "node",
) -> Method:
    """Integrated gradients over node features and edge weights together (Captum's
    ``mask_type="node_and_edge"``): one straight path from ``(X̂, 0)`` to ``(X, 1)``.

    With ``γ(α) = (X̂ + α ΔX, α 1)`` and ``f = Z[a, c]`` (or ``softmax(Z[a])_c``)::

        IG_node[a, φ] = Σ_i ΔX[φ, i] ∫₀¹ ∂f/∂X[φ, i] (γ(α)) dα
        IG_edge[a, e] =             ∫₀¹ ∂f/∂m_e     (γ(α)) dα

    Joint completeness: ``Σ_φ IG_node + Σ_e IG_edge = f(X, 1) − f(X̂, 0)``. The two parts are two
    results computed by the same integral: ``level="node"`` (method
    ``node_and_edge_integrated_gradients_nodes``) and ``level="edge"`` (``..._edges``). Each
    part's ``expected`` is ``f(X, 1) − f(X̂, 0)`` minus the other part's total, so both results'
    ``delta`` is the joint completeness gap ``Σ node + Σ edge − (f(X, 1) − f(X̂, 0))``.

    Args:
      n_steps: quadrature points, as for :func:`integrated_gradients`.
      quadrature_rule: as for :func:`integrated_gradients`.
      baseline: the node features' reference input, as for :func:`integrated_gradients`.
      output: ``"logit"`` or ``"probability"``, as for :func:`integrated_gradients`.
      level: ``"node"`` or ``"edge"``: which part the result holds.

    References:
      Sundararajan et al., ICML 2017; Captum's ``to_captum_model(mask_type="node_and_edge")``.
    """
    alphas, weights = quadrature(quadrature_rule, n_steps)
    check_choice("output", output, OUTPUTS)
    check_choice("level", level, METHOD_LEVELS)
    baseline = check_baseline(baseline)
    other = "edge" if level == "node" else "node"
    return Method(
        f"node_and_edge_integrated_gradients_{level}s",
        (
            ("baseline", baseline_key(baseline)),
            ("n_steps", n_steps),
            ("output", output),
            ("quadrature", quadrature_rule),
        ),
        _make_joint_ig_attribute(alphas, weights, output, level),
        None,
        baseline=baseline,
        level=level,
        unit=output,
        signed=True,
        rest_is=f"{other}s' share + baseline",
        partner=f"node_and_edge_integrated_gradients_{other}s",
    )
