"""Pieces shared by the walk-sum linearizations and the LID family: top vectors (logit,
softmax gradient, path-averaged softmax gradient), ReLU Jacobians (local, exact path average,
the paper's sampled average) and the linearization of a walk-sum model for one method."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jgattr._types import Array
from jgattr.attribution._method_types import Linearization, WalkForward
from jgattr.attribution._quadrature import paper_samples


def select_class(outputs: Array, classes: Array) -> Array:
    """``outputs[t, classes[t]]`` for every row ``t`` of ``outputs [T, C]``."""
    return jnp.take_along_axis(outputs, classes[:, None], axis=1)[:, 0]


def softmax_columns(z: Array) -> list[Array]:
    """``softmax(z)`` of ``z [T, C]`` as its C columns ``[T]``, computed one column at a time.

    Elementwise work only, summed over the classes in a fixed order: XLA fuses a reduction over
    a short axis differently in different programs (methods fused, :mod:`._fused`), which moved
    the last bit of a softmax; written this way every program gets the same bits. XLA:CPU also
    runs it faster than a reduction over a short minor axis.
    """
    columns = [z[:, c] for c in range(z.shape[1])]
    top = functools.reduce(jnp.maximum, columns)
    exps = [jnp.exp(column - top) for column in columns]
    total = functools.reduce(jnp.add, exps)
    return [e / total for e in exps]


def softmax(z: Array) -> Array:
    """``softmax(z)`` ``[T, C]`` by :func:`softmax_columns`."""
    return jnp.stack(softmax_columns(z), axis=1)


def _softmax_jacobian_row(z: Array, onehot: Array) -> Array:
    """``∂ softmax(z)_c / ∂z = p_c (e_c − p)`` for each row of ``z [T, C]`` (``onehot``: the
    classes c), one class column at a time (:func:`softmax_columns`)."""
    p = softmax_columns(z)
    p_class = functools.reduce(jnp.add, [p[c] * onehot[:, c] for c in range(len(p))])
    return jnp.stack([p_class * (onehot[:, c] - p[c]) for c in range(len(p))], axis=1)


def make_top(kind: str, n_samples: int):
    """Top vector ``[T, C]`` and expected total ``[T]`` from target logits at X and X̂."""

    def top(z: Array, z_ref: Array, classes: Array) -> tuple[Array, Array]:
        if kind == "logit":
            vector = jax.nn.one_hot(classes, z.shape[-1], dtype=z.dtype)
            return vector, select_class(z, classes) - select_class(z_ref, classes)
        probabilities = softmax(z), softmax(z_ref)
        gain = select_class(probabilities[0], classes) - select_class(probabilities[1], classes)
        onehot = jax.nn.one_hot(classes, z.shape[-1], dtype=z.dtype)
        if kind == "softmax_local":
            return _softmax_jacobian_row(z, onehot), gain
        # one sample at a time: the vmapped [n, T, C] rows' reductions took ~100 ms of
        # pubmed-structure's whole-graph preparation (jax.profiler); this about a third
        ts = jnp.asarray(paper_samples(n_samples)[0], z.dtype)
        row = lambda t: _softmax_jacobian_row(z_ref + t * (z - z_ref), onehot)
        total = jax.lax.scan(lambda acc, t: (acc + row(t), None), jnp.zeros_like(z), ts)[0]
        return total / ts.shape[0], gain

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
    """``Σ_k w_k 1[ẑ + t_k (z − ẑ) > 0]`` per unit, without a pass per sample.

    On a straight path the unit is on for a run of samples: with the ``t_k`` sorted, the ones
    after the crossing when it rises (``z > ẑ``), the ones before it when it falls. Rounded,
    ``ẑ + t (z − ẑ)`` is still monotone in ``t``, so a bisection over k that evaluates exactly
    that expression finds the run's end (``⌈log₂(n + 1)⌉`` steps instead of n; no ``[n, N, H]``
    stack either, 3 GB for 50 steps on a million nodes), and the sum is a prefix or suffix sum
    of the weights. Pubmed's IG-50 masks took 50 passes of ``[N, H]`` (~20 ms, jax.profiler).
    """
    order = np.argsort(ts, kind="stable")
    ts, weights = np.asarray(ts)[order], np.asarray(weights, np.float64)[order]
    n = ts.shape[0]
    prefix = np.concatenate([[0.0], np.cumsum(weights)])  # Σ_{k < j} w_k
    suffix = prefix[-1] - prefix  # Σ_{k >= j} w_k
    points = jnp.asarray(ts, z.dtype)
    rising = z > z_ref
    # b(k) = "on at t_k" when rising, "off at t_k" otherwise: False ... False True ... True
    low, high = jnp.zeros(z.shape, jnp.int32), jnp.full(z.shape, n, jnp.int32)
    for _ in range(int(np.ceil(np.log2(n + 1)))):
        middle = (low + high) // 2
        on = z_ref + points[jnp.minimum(middle, n - 1)] * (z - z_ref) > 0
        flipped = on == rising
        searching = low < high
        high = jnp.where(searching & flipped, middle, high)
        low = jnp.where(searching & ~flipped, middle + 1, low)
    table = jnp.asarray(np.stack([prefix, suffix]), z.dtype)
    return jnp.where(rising, table[1][low], table[0][low])


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
