"""The GNNExplainer node-classification benchmarks as released (``syn1.pkl`` ... ``syn4.pkl``).

Ying et al.'s benchmarks were released as pickles with the PGExplainer code (Luo et al. 2020,
``dataset/datasets.zip``): ``syn1`` BA-Shapes (700 nodes), ``syn2`` BA-Community (1,400),
``syn3`` Tree-Cycles, ``syn4`` Tree-Grid. Each is a pickled tuple of numpy arrays

``(adj [N, N], features [N, F], y_train, y_val, y_test [N, C] one-hot, train_mask, val_mask,
test_mask [N], edge_label_matrix [N, N])``

read through the restricted unpickler of :mod:`jgattr.data._safe_pickle` (numpy arrays only;
anything else is refused before it runs). ``y_train + y_val + y_test`` gives every node's class
(each node is in exactly one split); ``edge_label_matrix[i, j] != 0`` (upper triangle as
released, read symmetrically) marks a motif edge, so it becomes :attr:`Dataset.ground_truth`: its
``edge_mask`` on both directions of every motif edge, and ``motif_id`` the connected component of
the motif edges a node belongs to (``-1`` off the motifs). These files differ from jgattr's own
generator (:mod:`jgattr.data._synthetic`): other random base graphs and noise edges, and
BA-Shapes' classes in the release's order.

Names: ``gnnexplainer:syn1`` ... ``gnnexplainer:syn4`` (the file ``<syn>.pkl`` found like the TU
files, downloads only from the mirror ``$JGATTR_GNNEXPLAINER_URL``), or the path of a ``.pkl``.
``syn1`` and ``syn2`` are checked against their pinned SHA-256; ``syn3`` / ``syn4`` against the
hash recorded at their first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from jgattr.data._dataset import DataError, Dataset, GroundTruth, cleaned_edges, make_dataset
from jgattr.data._released import read_released
from jgattr.data._safe_pickle import safe_loads

GNNEXPLAINER_DATASETS: tuple[str, ...] = tuple(f"gnnexplainer:syn{i}" for i in range(1, 5))
GNNEXPLAINER_SHA256: dict[str, str] = {
    "syn1.pkl": "ed90ca6d9571d7059b17386dbca2559d2625bc18a1098eb9af8d043b9bc77737",
    "syn2.pkl": "0f8c88bfe490b194fb230a40b62ee44b2e0dbde6ff656b0591897207626915d6",
}
_FIELDS = (
    "adj",
    "features",
    "y_train",
    "y_val",
    "y_test",
    "train_mask",
    "val_mask",
    "test_mask",
    "edge_label_matrix",
)


def parse_release(data: bytes, name: str, source: str) -> Dataset:
    """A :class:`Dataset` (with ``ground_truth``) from the bytes of one released pickle."""
    obj = safe_loads(data, source=source)
    if not (isinstance(obj, tuple | list) and len(obj) == len(_FIELDS)):
        raise DataError(f"{source}: expected a tuple of {len(_FIELDS)} arrays {_FIELDS}")
    arrays = dict(zip(_FIELDS, obj, strict=True))
    bad = [k for k, v in arrays.items() if not isinstance(v, np.ndarray)]
    if bad:
        raise DataError(f"{source}: {bad} are not numpy arrays")
    adj, elm = arrays["adj"], arrays["edge_label_matrix"]
    n = adj.shape[0]
    if adj.shape != (n, n) or elm.shape != (n, n) or arrays["features"].shape[0] != n:
        raise DataError(
            f"{source}: adj {adj.shape}, edge_label_matrix {elm.shape} and features "
            f"{arrays['features'].shape} must be [N, N], [N, N] and [N, F]"
        )
    one_hot = arrays["y_train"] + arrays["y_val"] + arrays["y_test"]
    if one_hot.shape[0] != n or np.any(one_hot.sum(axis=1) != 1):
        raise DataError(f"{source}: y_train + y_val + y_test must be one-hot [N, C]")
    rows, cols = np.nonzero(adj)
    senders, receivers, changes = cleaned_edges(rows, cols, n)
    motif = (elm != 0) | (elm.T != 0)
    return make_dataset(
        name,
        features=arrays["features"].astype(np.float32),
        senders=senders,
        receivers=receivers,
        labels=one_hot.argmax(axis=1).astype(np.int32),
        masks=tuple(arrays[m].astype(bool) for m in ("train_mask", "val_mask", "test_mask")),
        num_classes=int(one_hot.shape[1]),
        ground_truth=_ground_truth(motif, senders, receivers),
        edge_changes=changes,
    )


def _ground_truth(motif: np.ndarray, senders: np.ndarray, receivers: np.ndarray) -> GroundTruth:
    """Motif edges on both directions; motif ids = components of the motif edges."""
    edge_mask = motif[senders, receivers]
    _, component = connected_components(sp.csr_matrix(motif), directed=False)
    on_motif = motif.any(axis=1)
    _, motif_id = np.unique(component[on_motif], return_inverse=True)
    ids = np.full(motif.shape[0], -1, np.int32)
    ids[on_motif] = motif_id
    return GroundTruth(node_mask=on_motif, edge_mask=edge_mask, motif_id=ids)


def load_gnnexplainer_release(
    name: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    verify_checksums: bool = True,
    download: bool = True,
) -> Dataset:
    """Load a released benchmark: ``gnnexplainer:syn1`` ... ``syn4``, or a ``.pkl`` path.

    Returns:
      The :class:`Dataset`; ``syn1`` (BA-Shapes) ``N=700, E=4110, F=10, C=4`` with 80 houses
      (480 motif edges); ``syn2`` (BA-Community) ``N=1400, E=8920, C=8``.

    Example:
      >>> ds = load_gnnexplainer_release("gnnexplainer:syn1", data_dir="shared/data/gnnexplainer")
      >>> int(ds.ground_truth.motif_id.max()) + 1
      80
    """
    text = os.fspath(name)
    if text.lower().endswith(".pkl"):
        path = Path(text)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
        return parse_release(data, f"gnnexplainer:{path.stem}", str(path))
    key = text.strip().lower()
    if key not in GNNEXPLAINER_DATASETS:
        raise DataError(
            f"unknown GNNExplainer benchmark {text!r}: choose one of "
            f"{', '.join(GNNEXPLAINER_DATASETS)}, or the path of a released .pkl"
        )
    filename = key.split(":")[1] + ".pkl"
    data = read_released(
        key,
        "gnnexplainer",
        filename,
        expected=GNNEXPLAINER_SHA256.get(filename),
        data_dir=data_dir,
        download=download,
        verify=verify_checksums,
    )
    return parse_release(data, key, filename)
