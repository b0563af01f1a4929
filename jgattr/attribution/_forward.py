"""Whole-graph quantities at the input, computed once per :func:`explain` call.

``P = X W`` for models that read X through one linear map (a sparse product on bag-of-words
features: 10-100x fewer multiplications on Planetoid data), the pre-activations the walk-sum
path linearizes, and the logits that pick each target's class.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jraph

from jgattr._types import Array, Params
from jgattr.attribution._cache import BoundedCache
from jgattr.models import Explainable

_JITTED: BoundedCache = BoundedCache("jitted_forward", 64)


class InputForward(NamedTuple):
    """The model at its input X.

    Attributes:
      projected: ``P = X W`` ``[N, D]``, or ``None`` when the model has no ``input_kernel``.
      pre: walk-sum models: ``(Z¹, ..., Zᴷ)``; else ``()``.
      logits: ``[N, C]``.
    """

    projected: Array | None
    pre: tuple[Array, ...]
    logits: Array


def project(kernel: Array, x: Array, sparse: tuple[Array, Array, Array] | None) -> Array:
    """``X W`` ``[N, D]``, summed over X's non-zeros only when ``sparse`` = (rows, cols, values)."""
    if sparse is None:
        return x @ kernel
    n = x.shape[0]

    def add(total, block):
        rows, cols, values = block
        products = values[:, None] * kernel[cols]
        return total + jax.ops.segment_sum(products, rows, num_segments=n), None

    zeros = jnp.zeros((n, kernel.shape[1]), kernel.dtype)
    return jax.lax.scan(add, zeros, in_blocks(sparse, ROWS_PER_BLOCK))[0]


ROWS_PER_BLOCK = 1 << 20  # [nnz, D] or [E, D] temporaries are made this many rows at a time


def in_blocks(arrays: tuple[Array, ...], block: int) -> tuple[Array, ...]:
    """``[M, ...]`` arrays as ``[ceil(M / b), b, ...]``, zero-padded, ``b = min(M, block)``
    (static): a ``lax.scan``/``lax.map`` over them makes ``b``-row temporaries, and one block
    (small graphs) keeps the results of the unblocked computation."""
    size = arrays[0].shape[0]
    block = max(1, min(size, block))
    pad = -size % block
    return tuple(
        jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)).reshape(-1, block, *a.shape[1:])
        for a in arrays
    )


def input_forward(model: Explainable):
    """Jitted ``(params, graph, sparse) -> InputForward`` of ``model`` (cached per model)."""

    def forward(params: Params, graph: jraph.GraphsTuple, sparse) -> InputForward:
        if model.input_kernel is None:
            return InputForward(None, (), model.apply(params, graph))
        projected = project(model.input_kernel(params), graph.nodes, sparse)
        if model.walk_sum is not None:
            pre = model.walk_sum.pre_activations(params, graph, projected)
            return InputForward(projected, pre, pre[-1])
        return InputForward(
            projected, (), model.apply_projected(params, graph._replace(nodes=projected))
        )

    return _JITTED.get_or_make(model, lambda: jax.jit(forward))[0]


def reference_inputs(model: Explainable, params: Params, x_ref: Array | None, projected: bool):
    """The reference input in the space the engine differentiates in (``X̂ W`` or ``X̂``)."""
    if x_ref is None or not projected:
        return x_ref
    return jnp.asarray(x_ref) @ model.input_kernel(params)
