"""User graphs from a ``.npz`` archive (``numpy.savez``), validated field by field.

Fields:

* ``edge_index``: int ``[2, E]``, directed pairs ``sender -> receiver``. The graph is treated as
  undirected: both directions are kept, self loops and duplicates dropped (``directed=True``
  keeps one-way edges one-way); ``Dataset.edge_changes`` counts each change.
* ``features``: float ``[N, F]`` with ``N, F >= 1`` (bool and int are accepted and cast to
  float32), all finite.
* ``labels``: int ``[N]``, class ids in ``[0, num_classes)``; ``-1`` marks an unlabeled node.
* ``train_mask``, ``val_mask``, ``test_mask`` (optional): bool ``[N]`` (or 0/1 ints); a missing
  mask selects no node. Masks may not select unlabeled nodes.
* ``num_classes`` (optional): int scalar; defaults to ``max(labels) + 1`` (rule below).

The class count ``C`` is sized from the labels, and a stray label must not silently build a huge
model (one label ``10**6`` would mean a million output classes). The rule, with ``K`` the number
of distinct class ids used by the labels:

* without ``num_classes``: ``C = max(labels) + 1``, and at least half of the ids ``0..C-1`` must be
  used (``C <= 2 K``); otherwise the error names the largest label and its node, and says to fix
  it or to store ``num_classes`` (classes that really have no node yet);
* with ``num_classes``: every label must be below it (the error names the first offending node),
  and ``num_classes <= max(N, 2 K, max(labels) + 1)``: more classes than nodes, than twice the
  classes in use and than the labels need is a typo, not a label space.

The file must be a zip archive (what ``numpy.savez`` writes): a text file, a single ``.npy``
array or a pickle is refused with a message saying which. The archive is read with
``allow_pickle=False``: object arrays (pickled Python objects) are refused.

Example:
  >>> import numpy as np
  >>> np.savez("tri.npz", edge_index=np.array([[0, 1, 2], [1, 2, 0]]),
  ...          features=np.eye(3, dtype=np.float32), labels=np.array([0, 1, -1]),
  ...          train_mask=np.array([True, True, False]))
  >>> load_npz("tri.npz").num_edges
  6
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from jgattr.data._dataset import DataError, Dataset, cleaned_edges, make_dataset, row_normalize

REQUIRED_FIELDS = ("edge_index", "features", "labels")
MASK_FIELDS = ("train_mask", "val_mask", "test_mask")
OPTIONAL_FIELDS = (*MASK_FIELDS, "num_classes")


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip entry, or an empty zip
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_MAGIC = b"\x80"  # PROTO opcode: pickle protocol 2 and later
_SAVEZ_HINT = "save the arrays with numpy.savez (fields: edge_index, features, labels, ...)"


def _check_magic(path: Path) -> None:
    """Refuse a file that is not a zip archive, naming what it looks like instead."""
    try:
        with open(path, "rb") as file:
            head = file.read(8)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    if head.startswith(_ZIP_MAGIC):
        return
    if head.startswith(_NPY_MAGIC):
        raise DataError(f"{path}: a single .npy array, not a .npz archive; {_SAVEZ_HINT}")
    if head.startswith(_PICKLE_MAGIC):
        raise DataError(
            f"{path}: holds pickled Python objects, which are refused for safety; {_SAVEZ_HINT}"
        )
    what = "an empty file" if not head else f"a file starting with {head!r}"
    raise DataError(
        f"{path}: not a valid .npz file (a .npz is a zip archive; this is {what}); {_SAVEZ_HINT}"
    )


def _open(file: BinaryIO, path: Path) -> np.lib.npyio.NpzFile:
    """The archive in the open ``file`` (closed by the caller, also when this raises)."""
    try:
        return np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a readable .npz archive ({err}); {_SAVEZ_HINT}") from None


def _read_fields(path: Path) -> dict[str, np.ndarray]:
    """Every field of the archive, after checking the file type and the field names."""
    _check_magic(path)
    with open(path, "rb") as file, _open(file, path) as archive:
        names = set(archive.files)
        unknown = sorted(names - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
        missing = [f for f in REQUIRED_FIELDS if f not in names]
        if missing or unknown:
            raise DataError(
                f"{path}: missing required field(s) {missing}, unknown field(s) {unknown}; "
                f"expected {list(REQUIRED_FIELDS)} and optionally {list(OPTIONAL_FIELDS)}"
            )
        return {name: _read_field(archive, name, path) for name in sorted(names)}


def _read_field(archive: np.lib.npyio.NpzFile, name: str, path: Path) -> np.ndarray:
    try:
        return archive[name]
    except ValueError as err:
        if "pickle" in str(err):
            raise DataError(
                f"{path}: field {name!r} is an object array (pickled Python objects), which is "
                "refused for safety; store it as a numeric array"
            ) from None
        raise DataError(f"{path}: field {name!r} cannot be read ({err})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: field {name!r} cannot be read ({err})") from None


def _require_kind(value: np.ndarray, kinds: str, field: str, what: str, path: Path) -> None:
    if value.dtype.kind not in kinds:
        raise DataError(f"{path}: field {field!r} must hold {what}, got dtype {value.dtype}")


def _features(value: np.ndarray, path: Path) -> np.ndarray:
    """float32 ``[N, F]``; refuses non-numeric dtypes, wrong rank and NaN/inf."""
    _require_kind(value, "biuf", "features", "real numbers", path)
    if value.ndim != 2 or value.shape[0] == 0:
        raise DataError(f"{path}: field 'features' must be [N, F] with N >= 1, got {value.shape}")
    if value.shape[1] == 0:
        raise DataError(
            f"{path}: field 'features' must be [N, F] with F >= 1, got {value.shape} (no feature "
            "columns); give every node at least one feature, e.g. a constant column "
            f"numpy.ones(({value.shape[0]}, 1))"
        )
    features = value.astype(np.float32)
    bad_rows = np.flatnonzero(~np.isfinite(features).all(axis=1))
    if bad_rows.size:
        raise DataError(
            f"{path}: field 'features' has NaN or inf (or values beyond float32) in "
            f"{bad_rows.size} of {len(features)} rows, e.g. row {bad_rows[0]}; replace them "
            "(e.g. with 0) before saving"
        )
    return features


def _out_of_range(values: np.ndarray, low: int, high: int) -> tuple[int, int | None]:
    """How many of ``values`` lie outside ``[low, high)`` and the position of the first."""
    bad = (values < low) | (values >= high)
    count = int(bad.sum())
    return count, (int(np.argmax(bad)) if count else None)


def _edge_index(value: np.ndarray, num_nodes: int, path: Path) -> np.ndarray:
    """int64 ``[2, E]`` with ids in ``[0, N)``."""
    _require_kind(value, "iu", "edge_index", "integer node ids", path)
    if value.ndim != 2 or value.shape[0] != 2:
        hint = " (transpose it: edge_index.T)" if value.ndim == 2 and value.shape[1] == 2 else ""
        raise DataError(f"{path}: field 'edge_index' must be [2, E], got {value.shape}{hint}")
    edges = value.astype(np.int64)
    count, first = _out_of_range(edges.ravel(), 0, num_nodes)
    if count:
        row, col = divmod(first, edges.shape[1])
        raise DataError(
            f"{path}: field 'edge_index' has {count} node ids outside [0, {num_nodes}) "
            f"(N = features rows), e.g. edge_index[{row}, {col}] = {edges[row, col]}"
        )
    return edges


def _labels(value: np.ndarray, num_nodes: int, path: Path) -> np.ndarray:
    """int32 ``[N]``, ``>= -1``."""
    _require_kind(value, "iu", "labels", "integer class ids (-1 = unlabeled)", path)
    if value.shape != (num_nodes,):
        raise DataError(f"{path}: field 'labels' must be [N] = [{num_nodes}], got {value.shape}")
    labels = value.astype(np.int64)
    count, first = _out_of_range(labels, -1, np.iinfo(np.int32).max)
    if count:
        raise DataError(
            f"{path}: field 'labels' has {count} values below -1 or beyond int32, e.g. "
            f"labels[{first}] = {labels[first]}; use -1 for unlabeled nodes"
        )
    return labels.astype(np.int32)


def _given_num_classes(value: np.ndarray, path: Path) -> int:
    if value.dtype.kind not in "iu" or value.ndim != 0 or int(value) < 1:
        raise DataError(
            f"{path}: field 'num_classes' must be an integer scalar >= 1, got "
            f"{value.dtype} {value.shape} {value.ravel()[:3]}"
        )
    return int(value)


def _num_classes(fields: dict[str, np.ndarray], labels: np.ndarray, path: Path) -> int:
    """The class count ``C`` by the rule in the module docstring; every label lies in ``[-1, C)``.

    Args:
      fields: the archive's fields (``num_classes`` optional).
      labels: int ``[N]``, already ``>= -1``.
      path: the archive, for messages.
    """
    used = np.unique(labels[labels >= 0])
    if "num_classes" in fields:
        num_classes = _given_num_classes(fields["num_classes"], path)
        _check_given_num_classes(num_classes, labels, used, path)
        return num_classes
    if used.size == 0:
        raise DataError(f"{path}: field 'labels' is all -1; store 'num_classes' in the archive")
    largest = int(used[-1])
    if largest + 1 > 2 * used.size:
        node = int(np.argmax(labels == largest))
        raise DataError(
            f"{path}: field 'labels' has labels[{node}] = {largest}, which would make "
            f"{largest + 1} classes, but only {used.size} distinct class ids are used "
            f"({_preview(used)}); fix labels[{node}] if it is a typo, or store "
            f"num_classes = {largest + 1} in the archive if those classes really exist"
        )
    return largest + 1


def _check_given_num_classes(
    num_classes: int, labels: np.ndarray, used: np.ndarray, path: Path
) -> None:
    """Labels below ``num_classes``; ``num_classes <= max(N, 2 K, max(labels) + 1)``."""
    needed = int(used[-1]) + 1 if used.size else 1
    count, first = _out_of_range(labels, -1, num_classes)
    if count:
        raise DataError(
            f"{path}: field 'labels' has {count} values >= num_classes = {num_classes}, e.g. "
            f"labels[{first}] = {labels[first]}; fix those labels or store num_classes >= "
            f"{needed}"
        )
    if num_classes > max(len(labels), 2 * used.size, needed):
        raise DataError(
            f"{path}: field 'num_classes' = {num_classes} exceeds the number of nodes "
            f"({len(labels)}), twice the {used.size} distinct class ids used and the largest "
            f"label + 1 ({needed}); store the real class count"
        )


def _preview(values: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:limit].tolist())
    return shown + (", ..." if values.size > limit else "")


def _mask(fields: dict[str, np.ndarray], field: str, labels: np.ndarray, path: Path) -> np.ndarray:
    """bool ``[N]``; all False when absent; may not select unlabeled nodes."""
    if field not in fields:
        return np.zeros(labels.shape, dtype=bool)
    value = fields[field]
    if value.dtype.kind not in "biu" or (
        value.dtype.kind != "b" and not np.isin(value, (0, 1)).all()
    ):
        raise DataError(f"{path}: field {field!r} must be bool (or 0/1), got dtype {value.dtype}")
    if value.shape != labels.shape:
        raise DataError(f"{path}: field {field!r} must be [N] = [{len(labels)}], got {value.shape}")
    mask = value.astype(bool)
    unlabeled = np.flatnonzero(mask & (labels < 0))
    if unlabeled.size:
        raise DataError(
            f"{path}: field {field!r} selects {unlabeled.size} unlabeled nodes (label -1), e.g. "
            f"node {unlabeled[0]}; give them a label or drop them from the mask"
        )
    return mask


def load_npz(
    path: str | os.PathLike, *, normalize_features: bool = False, directed: bool = False
) -> Dataset:
    """Load a user graph from a ``.npz`` archive (fields: see :mod:`jgattr.data._npz`).

    Args:
      path: the archive; the dataset is named ``f"npz:{stem}"``.
      normalize_features: divide each feature row by its sum (zero rows stay zero).
      directed: keep one-way edges one-way (self loops and duplicates still go). For models
        that read in-edges only (GAT, GIN, GraphSAGE); the GCN's symmetric normalization
        assumes an undirected graph.

    Returns:
      The :class:`Dataset`, with the graph made undirected (both directions, no self loops, no
      duplicates, sorted by ``(receiver, sender)``); ``edge_changes`` counts what changed.

    Raises:
      DataError: the file is missing, not a zip archive (text, ``.npy``, pickle) or unreadable;
        or a field is missing, unknown, of the wrong dtype or shape (``features`` with no
        column), out of range, or a class count the labels do not support (a stray label far
        beyond the others; rule in :mod:`jgattr.data._npz`). The message names the field, the
        value (and node) and the fix.
    """
    path = Path(path)
    fields = _read_fields(path)
    features = _features(fields["features"], path)
    num_nodes = features.shape[0]
    edges = _edge_index(fields["edge_index"], num_nodes, path)
    labels = _labels(fields["labels"], num_nodes, path)
    num_classes = _num_classes(fields, labels, path)
    masks = tuple(_mask(fields, field, labels, path) for field in MASK_FIELDS)
    senders, receivers, changes = cleaned_edges(edges[0], edges[1], num_nodes, directed=directed)
    return make_dataset(
        f"npz:{path.stem}",
        features=row_normalize(features) if normalize_features else features,
        senders=senders,
        receivers=receivers,
        labels=labels,
        masks=masks,  # type: ignore[arg-type]
        num_classes=num_classes,
        edge_changes=changes,
    )
