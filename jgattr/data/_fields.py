"""Field checks shared by every user-graph reader (``.npz``, PyG, networkx, scipy).

Each check names where the graph came from and the field as the user knows it (``features`` in
an archive, ``x`` in a PyG ``Data``), the offending value (and node) and the fix; it raises
:class:`~jgattr.data.DataError`. The class-count rule is the one of :mod:`jgattr.data._npz`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse

from jgattr.data._dataset import DataError
from jgattr.data._sparse_features import SparseFeatures

MASK_FIELDS = ("train_mask", "val_mask", "test_mask")


class Source(NamedTuple):
    """Where a graph comes from, for messages.

    Attributes:
      where: message prefix: a file path, or ``"from_pyg"``, ...
      features: name of the feature field (``"features"``, ``"x"``).
      labels: name of the label field (``"labels"``, ``"y"``).
      edge_index: name of the edge field.
      give_classes: how to give a class count, with ``{}`` for the count
        (``"store num_classes = {} in the archive"``).
    """

    where: str
    features: str = "features"
    labels: str = "labels"
    edge_index: str = "edge_index"
    give_classes: str = "store num_classes = {} in the archive"


def require_kind(value: np.ndarray, kinds: str, field: str, what: str, src: Source) -> None:
    """``value.dtype.kind`` in ``kinds``, else an error naming ``field`` and ``what`` it holds."""
    if value.dtype.kind not in kinds:
        raise DataError(f"{src.where}: field {field!r} must hold {what}, got dtype {value.dtype}")


def check_features(value: Any, src: Source) -> np.ndarray | SparseFeatures:
    """float32 ``[N, F]`` (a scipy.sparse matrix: :class:`SparseFeatures`, kept sparse); refuses
    non-numeric dtypes, wrong rank and NaN/inf."""
    field = src.features
    if scipy.sparse.issparse(value):
        require_kind(value.data, "biuf", field, "real numbers", src)
        if not np.isfinite(value.data.astype(np.float32)).all():
            raise DataError(f"{src.where}: field {field!r} has NaN or inf; replace them first")
        if value.shape[0] == 0 or value.shape[1] == 0:
            raise DataError(
                f"{src.where}: field {field!r} must be [N, F] with N, F >= 1, got {value.shape}"
            )
        return SparseFeatures.from_scipy(value)
    require_kind(value, "biuf", field, "real numbers", src)
    if value.ndim != 2 or value.shape[0] == 0:
        raise DataError(
            f"{src.where}: field {field!r} must be [N, F] with N >= 1, got {value.shape}"
        )
    if value.shape[1] == 0:
        raise DataError(
            f"{src.where}: field {field!r} must be [N, F] with F >= 1, got {value.shape} (no "
            "feature columns); give every node at least one feature, e.g. a constant column "
            f"numpy.ones(({value.shape[0]}, 1))"
        )
    features = value.astype(np.float32)
    bad_rows = np.flatnonzero(~np.isfinite(features).all(axis=1))
    if bad_rows.size:
        raise DataError(
            f"{src.where}: field {field!r} has NaN or inf (or values beyond float32) in "
            f"{bad_rows.size} of {len(features)} rows, e.g. row {bad_rows[0]}; replace them "
            "(e.g. with 0) first"
        )
    return features


def _out_of_range(values: np.ndarray, low: int, high: int) -> tuple[int, int | None]:
    """How many of ``values`` lie outside ``[low, high)`` and the position of the first."""
    bad = (values < low) | (values >= high)
    count = int(bad.sum())
    return count, (int(np.argmax(bad)) if count else None)


def check_edge_index(value: np.ndarray, num_nodes: int, src: Source) -> np.ndarray:
    """int64 ``[2, E]`` with ids in ``[0, N)``."""
    field = src.edge_index
    require_kind(value, "iu", field, "integer node ids", src)
    if value.ndim != 2 or value.shape[0] != 2:
        hint = " (transpose it: edge_index.T)" if value.ndim == 2 and value.shape[1] == 2 else ""
        raise DataError(f"{src.where}: field {field!r} must be [2, E], got {value.shape}{hint}")
    edges = value.astype(np.int64)
    count, first = _out_of_range(edges.ravel(), 0, num_nodes)
    if count:
        row, col = divmod(first, edges.shape[1])
        raise DataError(
            f"{src.where}: field {field!r} has {count} node ids outside [0, {num_nodes}) "
            f"(N = {src.features} rows), e.g. {field}[{row}, {col}] = {edges[row, col]}"
        )
    return edges


def check_labels(value: np.ndarray, size: int, src: Source) -> np.ndarray:
    """int32 ``[size]``, ``>= -1`` (``-1``: unlabeled)."""
    field = src.labels
    require_kind(value, "iu", field, "integer class ids (-1 = unlabeled)", src)
    if value.shape != (size,):
        raise DataError(f"{src.where}: field {field!r} must be [N] = [{size}], got {value.shape}")
    labels = value.astype(np.int64)
    count, first = _out_of_range(labels, -1, np.iinfo(np.int32).max)
    if count:
        raise DataError(
            f"{src.where}: field {field!r} has {count} values below -1 or beyond int32, e.g. "
            f"{field}[{first}] = {labels[first]}; use -1 for unlabeled nodes"
        )
    return labels.astype(np.int32)


def check_num_classes(given: object, labels: np.ndarray, src: Source) -> int:
    """The class count ``C``: ``given`` (``None``: inferred) by the rule of
    :mod:`jgattr.data._npz`; every label lies in ``[-1, C)``.

    Args:
      given: an integer scalar (numpy or Python) or ``None``.
      labels: int ``[N]``, already ``>= -1``.
      src: where the graph comes from, for messages.
    """
    used = np.unique(labels[labels >= 0])
    if given is not None:
        num_classes = _given_num_classes(np.asarray(given), src)
        _check_given_num_classes(num_classes, labels, used, src)
        return num_classes
    if used.size == 0:
        raise DataError(
            f"{src.where}: field {src.labels!r} is all -1; "
            + src.give_classes.format("<the class count>")
        )
    largest = int(used[-1])
    if largest + 1 > 2 * used.size:
        node = int(np.argmax(labels == largest))
        raise DataError(
            f"{src.where}: field {src.labels!r} has {src.labels}[{node}] = {largest}, which would "
            f"make {largest + 1} classes, but only {used.size} distinct class ids are used "
            f"({_preview(used)}); fix {src.labels}[{node}] if it is a typo, or "
            f"{src.give_classes.format(largest + 1)} if those classes really exist"
        )
    return largest + 1


def _given_num_classes(value: np.ndarray, src: Source) -> int:
    if value.dtype.kind not in "iu" or value.ndim != 0 or int(value) < 1:
        raise DataError(
            f"{src.where}: field 'num_classes' must be an integer scalar >= 1, got "
            f"{value.dtype} {value.shape} {value.ravel()[:3]}"
        )
    return int(value)


def _check_given_num_classes(
    num_classes: int, labels: np.ndarray, used: np.ndarray, src: Source
) -> None:
    """Labels below ``num_classes``; ``num_classes <= max(N, 2 K, max(labels) + 1)``."""
    needed = int(used[-1]) + 1 if used.size else 1
    count, first = _out_of_range(labels, -1, num_classes)
    if count:
        raise DataError(
            f"{src.where}: field {src.labels!r} has {count} values >= num_classes = "
            f"{num_classes}, e.g. {src.labels}[{first}] = {labels[first]}; fix those labels or "
            + src.give_classes.format(f"{needed} or more")
        )
    if num_classes > max(len(labels), 2 * used.size, needed):
        raise DataError(
            f"{src.where}: field 'num_classes' = {num_classes} exceeds the number of nodes "
            f"({len(labels)}), twice the {used.size} distinct class ids used and the largest "
            f"label + 1 ({needed}); give the real class count"
        )


def _preview(values: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:limit].tolist())
    return shown + (", ..." if values.size > limit else "")


def check_mask(value: np.ndarray | None, field: str, labels: np.ndarray, src: Source) -> np.ndarray:
    """bool ``[N]``; all False when ``None``; may not select unlabeled nodes."""
    if value is None:
        return np.zeros(labels.shape, dtype=bool)
    if value.dtype.kind not in "biu" or (
        value.dtype.kind != "b" and not np.isin(value, (0, 1)).all()
    ):
        raise DataError(
            f"{src.where}: field {field!r} must be bool (or 0/1), got dtype {value.dtype}"
        )
    if value.shape != labels.shape:
        raise DataError(
            f"{src.where}: field {field!r} must be [N] = [{len(labels)}], got {value.shape}"
        )
    mask = value.astype(bool)
    unlabeled = np.flatnonzero(mask & (labels < 0))
    if unlabeled.size:
        raise DataError(
            f"{src.where}: field {field!r} selects {unlabeled.size} unlabeled nodes (label -1), "
            f"e.g. node {unlabeled[0]}; give them a label or drop them from the mask"
        )
    return mask
