"""Pieces shared by the walk-sum linearizations and the LID family: top vectors (logit,
softmax gradient, path-averaged softmax gradient), ReLU Jacobians (local, exact path average,
the paper's sampled average) and the linearization of a walk-sum model for one method."""

import jax
import jax.numpy as jnp
import numpy as np

from jgattr._types import Array
from jgattr.attribution._method_types import Linearization, WalkForward
from jgattr.attribution._quadrature import paper_samples


def select_class(outputs: Array, classes: Array) -> Array:
    """``outputs[t, classes[t]]`` for every row ``t`` of ``outputs [T, C]``."""
    return jnp.take_along_axis(outputs, classes[:, None], axis=1)[:, 0]


def _softmax_jacobian_row(z: Array, classes: Array) -> Array:
    """``∂ softmax(z)_c / ∂z = p_c (e_c − p)`` for each row of ``z [T, C]``."""
    p = jax.nn.softmax(z)
    onehot = jax.nn.one_hot(classes, z.shape[-1], dtype=z.dtype)
    return select_class(p, classes)[:, None] * (onehot - p)


def make_top(kind: str, n_samples: int):
    """Top vector ``[T, C]`` and expected total ``[T]`` from target logits at X and X̂."""

    def top(z: Array, z_ref: Array, classes: Array) -> tuple[Array, Array]:
        if kind == "logit":
            vector = jax.nn.one_hot(classes, z.shape[-1], dtype=z.dtype)
            return vector, select_class(z, classes) - select_class(z_ref, classes)
        probabilities = jax.nn.softmax(z), jax.nn.softmax(z_ref)
        gain = select_class(probabilities[0], classes) - select_class(probabilities[1], classes)
        if kind == "softmax_local":
            return _softmax_jacobian_row(z, classes), gain
        ts = jnp.asarray(paper_samples(n_samples)[0], z.dtype)
        rows = jax.vmap(lambda t: _softmax_jacobian_row(z_ref + t * (z - z_ref), classes))(ts)
        return rows.mean(axis=0), gain

    return top


def exact_relu_average(z_ref: Array, z: Array) -> Array:
    """``∫₀¹ 1[ẑ + t (z − ẑ) > 0] dt`` per unit, in closed form (docs/math.md)."""
    pos, pos_ref = z > 0, z_ref > 0
    rising = pos & ~pos_ref
    falling = pos_ref & ~pos
    denominator = jnp.where(rising | falling, z - z_ref, 1.0)
    crossing = jnp.where(rising, z, -z_ref) / denominator
    return jnp.where(rising | falling, crossing, pos.astype(z.dtype))


def sampled_relu_average(z_ref: Array, z: Array, ts: np.ndarray, weights: np.ndarray) -> Array:
    """``Σ_k w_k 1[ẑ + t_k (z − ẑ) > 0]``, one sample at a time: no ``[n, N, H]`` stack (3 GB
    for 50 steps on a million nodes)."""

    def add(total, sample):
        t, weight = sample
        return total + weight * (z_ref + t * (z - z_ref) > 0).astype(z.dtype), None

    samples = (jnp.asarray(ts, z.dtype), jnp.asarray(weights, z.dtype))
    return jax.lax.scan(add, jnp.zeros_like(z), samples)[0]


def make_relu_average(jacobian: str, relu_average: str, n_samples: int):
    """``(ẑ, z) -> mask``: local ``1[z > 0]``, exact path average, or the paper's samples."""

    def average(z_ref: Array, z: Array) -> Array:
        if jacobian == "local":
            return (z > 0).astype(z.dtype)
        if relu_average == "exact":
            return exact_relu_average(z_ref, z)
        return sampled_relu_average(z_ref, z, *paper_samples(n_samples))

    return average


def make_linearize(top_kind, mask_fn, increment: str, n_samples: int):
    """Fast path of a walk-sum method: masks from ``mask_fn(ẑ, z)``, a top vector, an increment."""
    top_fn = make_top(top_kind, n_samples)

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
