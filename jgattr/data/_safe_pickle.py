"""A restricted unpickler for the Python-2 pickles of the Planetoid project.

``pickle.load`` runs whatever callable a file names, so a tampered file can execute code. The
:class:`_PlanetoidUnpickler` here resolves only the globals these files contain, and refuses
everything else with :class:`UnsafePickleError` before any object is built.

What the files contain (checked with ``pickletools.dis``), all protocol 2:

* ``ind.*.{x,tx,allx}``: ``scipy.sparse.csr csr_matrix`` built by ``NEWOBJ`` + ``BUILD`` with the
  instance ``__dict__`` of scipy 0.x: ``format`` (``"csr"``), ``_shape`` (``(rows, cols)``),
  ``indptr``, ``indices``, ``data`` (numpy arrays via ``numpy.core.multiarray _reconstruct``,
  ``numpy ndarray``, ``numpy dtype``), ``maxprint`` and ``_cs_matrix__has_sorted_indices``.
* ``ind.*.{y,ty,ally}``: an int32 one-hot ``numpy.ndarray``.
* ``ind.*.graph``: a ``collections defaultdict`` of ``__builtin__ list`` (node id -> neighbour
  ids).

scipy's private attribute layout changed across versions, so a csr pickle is never turned into a
scipy object directly: the class name maps to :class:`_CsrRecord`, which only stores the state,
and :func:`_record_to_csr` builds a fresh ``scipy.sparse.csr_matrix`` from its public parts.
"""

from __future__ import annotations

import collections
import io
import pickle
from typing import Any

import numpy as np
import scipy.sparse as sp

from jgattr.data._dataset import DataError, UnsafePickleError

try:  # numpy >= 2 (``numpy.core`` is a deprecated alias there; never import it)
    from numpy._core.multiarray import _reconstruct as _np_reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct as _np_reconstruct


class _Refused(pickle.UnpicklingError):
    """Raised inside the unpickler for anything outside the allow-list."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class _CsrRecord:
    """The pickled state of an old ``scipy.sparse.csr_matrix``, stored but never executed."""

    state: dict[str, Any]

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"csr_matrix state must be a dict, got {type(state)}")
        self.state = state


_ADMITTED_CLASSES: tuple[type, ...] = (_CsrRecord,)


def _reconstructor(cls: type, base: type, state: object) -> object:
    """A stand-in for ``copyreg._reconstructor`` that builds only admitted classes."""
    if cls not in _ADMITTED_CLASSES or base is not object or state is not None:
        raise _Refused(f"copy_reg._reconstructor({cls!r}, {base!r}, {type(state).__name__})")
    return object.__new__(cls)


_BUILTINS = {"object": object, "list": list, "dict": dict, "int": int}

_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("collections", "defaultdict"): collections.defaultdict,
    ("scipy.sparse.csr", "csr_matrix"): _CsrRecord,
    ("scipy.sparse._csr", "csr_matrix"): _CsrRecord,
    **{
        (module, name): obj
        for module in ("__builtin__", "builtins")
        for name, obj in _BUILTINS.items()
    },
}


class _PlanetoidUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` (latin1 strings) whose ``find_class`` consults :data:`_ALLOWED`."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(f"global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused(f"persistent id {pid!r}")


def safe_loads(data: bytes, *, source: str) -> Any:
    """Unpickle ``data`` admitting only the globals of the Planetoid files.

    Args:
      data: the raw pickle bytes.
      source: the file name, used in error messages.

    Returns:
      The unpickled object; old csr matrices come back as :class:`_CsrRecord`.

    Raises:
      UnsafePickleError: the pickle names a global outside the allow-list, or asks to build a
        class that is not admitted (nothing outside the allow-list has run).
      DataError: the bytes are not a valid pickle.
    """
    unpickler = _PlanetoidUnpickler(io.BytesIO(data), encoding="latin1")
    try:
        return unpickler.load()
    except _Refused as err:
        raise UnsafePickleError(
            f"{source}: refused to unpickle {err.what}; Planetoid files only contain "
            "numpy arrays, scipy csr matrices and dicts of lists. The file has been tampered "
            "with or is not a Planetoid file: delete it and download it again."
        ) from None
    except Exception as err:  # any malformed pickle: EOFError, UnpicklingError, ValueError, ...
        raise DataError(
            f"{source}: not a readable Planetoid pickle ({type(err).__name__}: {err}); delete the "
            "file and download it again."
        ) from err


def _record_to_csr(record: _CsrRecord, source: str) -> sp.csr_matrix:
    state = getattr(record, "state", None)
    if not isinstance(state, dict):
        raise DataError(f"{source}: csr_matrix pickle carries no state")
    try:
        data, indices, indptr = (state[k] for k in ("data", "indices", "indptr"))
        shape = state["_shape"] if "_shape" in state else state["shape"]
    except KeyError as err:
        raise DataError(f"{source}: csr_matrix state lacks {err.args[0]!r}") from None
    arrays_ok = all(isinstance(a, np.ndarray) and a.ndim == 1 for a in (data, indices, indptr))
    shape_ok = isinstance(shape, tuple) and len(shape) == 2
    if not (arrays_ok and shape_ok and state.get("format", "csr") == "csr"):
        raise DataError(f"{source}: malformed csr_matrix state (keys {sorted(state)})")
    try:
        return sp.csr_matrix((data, indices, indptr), shape=tuple(int(d) for d in shape))
    except (TypeError, ValueError) as err:
        raise DataError(f"{source}: inconsistent csr_matrix ({err})") from None


def load_sparse(data: bytes, *, source: str) -> sp.csr_matrix:
    """Unpickle a Planetoid feature matrix (``x``, ``tx``, ``allx``).

    Args:
      data: the raw pickle bytes.
      source: the file name, used in error messages.

    Returns:
      ``scipy.sparse.csr_matrix`` ``[rows, F]``.
    """
    obj = safe_loads(data, source=source)
    if not isinstance(obj, _CsrRecord):
        raise DataError(f"{source}: expected a csr_matrix, got {type(obj).__name__}")
    return _record_to_csr(obj, source)


def load_dense(data: bytes, *, source: str) -> np.ndarray:
    """Unpickle a Planetoid one-hot label matrix (``y``, ``ty``, ``ally``).

    Args:
      data: the raw pickle bytes.
      source: the file name, used in error messages.

    Returns:
      numeric ``np.ndarray`` ``[rows, C]``.
    """
    obj = safe_loads(data, source=source)
    if not isinstance(obj, np.ndarray) or obj.ndim != 2 or obj.dtype.kind not in "biuf":
        got = f"{obj.dtype} {list(obj.shape)}" if isinstance(obj, np.ndarray) else type(obj)
        raise DataError(f"{source}: expected a numeric 2-d numpy array, got {got}")
    return obj


def load_adjacency(data: bytes, *, source: str) -> dict[int, list[int]]:
    """Unpickle a Planetoid graph (``graph``): a dict from node id to neighbour ids.

    Args:
      data: the raw pickle bytes.
      source: the file name, used in error messages.

    Returns:
      A plain ``dict`` ``{node: [neighbours]}``.
    """
    obj = safe_loads(data, source=source)
    if not isinstance(obj, dict):
        raise DataError(f"{source}: expected a dict of lists, got {type(obj).__name__}")
    return dict(obj)
