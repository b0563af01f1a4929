"""Node features kept sparse from the loader to the first layer: :class:`SparseFeatures`.

Bag-of-words features are 1-2% non-zero (Cora, Pubmed, ``powerlaw:N``), so a dense ``[N, F]``
copy is the largest array of a large run: 4 GB for ``powerlaw:2000000``'s 500 features. A
:class:`SparseFeatures` holds only the non-zeros (COO sorted by row) and is what ``graph.nodes``
is for such a dataset. Every built-in model reads its input only through one linear map
``X W`` (``h @ kernel``), which a :class:`SparseFeatures` computes as a sum over its non-zeros;
it is a JAX pytree, so a graph holding it goes to the devices and through ``jit`` like a
dense one.

Example:
  >>> import numpy as np
  >>> x = SparseFeatures.from_dense(np.array([[0.0, 2.0], [1.0, 0.0]], np.float32))
  >>> x.shape, x.nnz, (x @ np.eye(2, dtype=np.float32)).tolist()
  ((2, 2), 2, [[0.0, 2.0], [1.0, 0.0]])
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jgattr._scan_blocks import ROWS_PER_BLOCK, in_blocks


@jax.tree_util.register_pytree_node_class
class SparseFeatures:
    """Node features ``[N, F]`` stored as their non-zeros (COO, sorted by row, then column).

    Args:
      rows: int32 ``[nnz]``, sorted.
      cols: int32 ``[nnz]``.
      values: float32 ``[nnz]``.
      shape: ``(N, F)``.

    The arrays are numpy on the host and JAX arrays on a device (``jax.tree.map(jnp.asarray,
    x)``); the shape is static. Build one with :meth:`from_scipy` or :meth:`from_dense`, which
    sort and merge duplicates.
    """

    def __init__(self, rows: Any, cols: Any, values: Any, shape: tuple[int, int]):
        self.rows, self.cols, self.values = rows, cols, values
        self.shape = (int(shape[0]), int(shape[1]))

    def tree_flatten(self):
        return (self.rows, self.cols, self.values), self.shape

    @classmethod
    def tree_unflatten(cls, shape, children):
        return cls(*children, shape)

    @classmethod
    def from_scipy(cls, matrix: Any) -> SparseFeatures:
        """From any scipy.sparse matrix or array: duplicates summed, explicit zeros dropped."""
        csr = matrix.tocsr(copy=True)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        counts = np.diff(csr.indptr)
        rows = np.repeat(np.arange(csr.shape[0], dtype=np.int32), counts)
        return cls(rows, csr.indices.astype(np.int32), csr.data.astype(np.float32), csr.shape)

    @classmethod
    def from_dense(cls, x: np.ndarray) -> SparseFeatures:
        """From a dense ``[N, F]`` array (its non-zeros; float64 stays float64)."""
        x = np.asarray(x)
        x = x if x.dtype in (np.float32, np.float64) else x.astype(np.float32)
        rows, cols = np.nonzero(x)
        return cls(rows.astype(np.int32), cols.astype(np.int32), x[rows, cols], x.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.values.dtype)

    @property
    def ndim(self) -> int:
        return 2

    @property
    def size(self) -> int:
        """``N * F``, as a dense array's (density is ``nnz / size``)."""
        return self.shape[0] * self.shape[1]

    @property
    def nnz(self) -> int:
        """How many entries are stored."""
        return int(self.values.shape[0])

    @property
    def nbytes(self) -> int:
        return sum(int(a.size) * a.dtype.itemsize for a in (self.rows, self.cols, self.values))

    def with_values(self, values: Any) -> SparseFeatures:
        """The same non-zero pattern with other ``values [nnz]`` (e.g. dropout, a mask)."""
        return SparseFeatures(self.rows, self.cols, values, self.shape)

    def __matmul__(self, kernel: Any) -> jax.Array:
        """``X W`` ``[N, D]`` for ``W [F, D]``: a sum over the non-zeros, ``ROWS_PER_BLOCK`` of
        them at a time (jittable and differentiable in ``W`` and in the values)."""
        kernel = jnp.asarray(kernel)
        n = self.shape[0]

        def add(total, block):
            rows, cols, values = block
            products = values[:, None].astype(kernel.dtype) * kernel[cols]
            return total + jax.ops.segment_sum(products, rows, num_segments=n), None

        zeros = jnp.zeros((n, kernel.shape[1]), kernel.dtype)
        blocks = in_blocks((self.rows, self.cols, self.values), ROWS_PER_BLOCK)
        return jax.lax.scan(add, zeros, blocks)[0]

    def rows_dense(self, ids: np.ndarray) -> np.ndarray:
        """float32 ``[len(ids), F]``: the dense rows ``ids`` (host arrays)."""
        ids = np.asarray(ids, dtype=np.int64)
        rows = np.asarray(self.rows)
        starts = np.searchsorted(rows, ids, side="left")
        stops = np.searchsorted(rows, ids, side="right")
        counts = stops - starts
        owner = np.repeat(np.arange(ids.size), counts)
        entries = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        out = np.zeros((ids.size, self.shape[1]), dtype=self.dtype)
        out[owner, np.asarray(self.cols)[entries]] = np.asarray(self.values)[entries]
        return out

    def todense(self) -> np.ndarray:
        """The dense ``[N, F]`` host array (for small graphs and exports only)."""
        return self.rows_dense(np.arange(self.shape[0]))

    def todense_on_device(self) -> jax.Array:
        """The dense ``[N, F]`` array on the device the values are on."""
        zeros = jnp.zeros(self.shape, jnp.asarray(self.values).dtype)
        return zeros.at[self.rows, self.cols].set(self.values)

    def __repr__(self) -> str:
        return f"SparseFeatures(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype})"
