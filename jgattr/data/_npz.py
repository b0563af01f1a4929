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

from jgattr.data._convert import node_dataset
from jgattr.data._dataset import DataError, Dataset
from jgattr.data._fields import MASK_FIELDS, Source

REQUIRED_FIELDS = ("edge_index", "features", "labels")
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
    return node_dataset(
        f"npz:{path.stem}",
        Source(str(path)),
        features=fields["features"],
        edge_index=fields["edge_index"],
        labels=fields["labels"],
        masks=[fields.get(field) for field in MASK_FIELDS],
        num_classes=fields.get("num_classes"),
        normalize_features=normalize_features,
        directed=directed,
    )
