"""Long arrays cut into equal blocks for a ``lax.scan`` / ``lax.map``, so the temporaries of a
per-row computation (``[nnz, D]`` products, ``[E, D]`` messages) stay ``ROWS_PER_BLOCK`` rows."""

from typing import Any

import jax
import jax.numpy as jnp

ROWS_PER_BLOCK = 1 << 20  # [nnz, D] or [E, D] temporaries are made this many rows at a time


def in_blocks(arrays: tuple[Any, ...], block: int) -> tuple[jax.Array, ...]:
    """``[M, ...]`` arrays as ``[ceil(M / b), b, ...]``, zero-padded, ``b = min(M, block)``
    (static): a scan over them makes ``b``-row temporaries, and one block (small graphs) keeps
    the results of the unblocked computation."""
    size = arrays[0].shape[0]
    block = max(1, min(size, block))
    pad = -size % block
    return tuple(
        jnp.pad(a, [(0, pad)] + [(0, 0)] * (jnp.ndim(a) - 1)).reshape(-1, block, *jnp.shape(a)[1:])
        for a in map(jnp.asarray, arrays)
    )
