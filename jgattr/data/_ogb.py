"""OGB node-property datasets (``ogbn-arxiv``, ``ogbn-products``) from their released zips.

The Open Graph Benchmark publishes each dataset as one zip at
``https://snap.stanford.edu/ogb/data/nodeproppred/<name>.zip`` (``ogb/nodeproppred/master.csv``
of the ``ogb`` package: ``download_name``, ``split``, ``num classes``, ``add_inverse_edge``)
holding, below a folder named after the zip,

* ``raw/num-node-list.csv.gz`` / ``raw/num-edge-list.csv.gz``: one line, ``N`` / ``E_raw``;
* ``raw/edge.csv.gz``: ``E_raw`` lines ``src,dst`` (0-based node ids);
* ``raw/node-feat.csv.gz``: ``N`` lines of ``F`` decimals (arxiv: 128, the mean word2vec
  embedding of title and abstract; products: 100, a PCA of the bag of words of the description);
* ``raw/node-label.csv.gz``: ``N`` lines, one class id;
* ``split/<time|sales_ranking>/{train,valid,test}.csv.gz``: one node id per line, the official
  split (arxiv: papers up to 2017 / 2018 / since 2019; products: by sales rank).

Other members (``mapping/``, ``raw/node_year.csv.gz``, ``RELEASE_v1.txt``) are not read. Nothing
is extracted or unpickled: members are streamed from the zip and parsed by
:func:`~jgattr.data._csv_gz.read_csv_gz` (vectorized, in blocks; ogbn-products' 62M edges and
245M feature values parse in minutes, not hours; see that module for measurements).

Graph: every edge is kept in both directions, self loops and duplicates dropped
(:func:`~jgattr.data._dataset.undirected_edges`), as for every :class:`Dataset`. ogbn-products is
undirected already (OGB's ``add_inverse_edge=True`` adds the reverse of each listed edge).
ogbn-arxiv is a *directed* citation graph (``add_inverse_edge=False``): it is symmetrized here,
because the GCN of OGB's baselines, and of jgattr, runs on the symmetrized graph (OGB's
``examples/nodeproppred/arxiv/gnn.py`` calls ``to_symmetric``), and because a GCN on the directed
graph would let a paper see only what it cites. Arxiv's 1,166,243 directed edges hold 1,157,799
distinct unordered pairs (8,444 pairs cite each other), hence ``E = 2,315,598``.

Features are kept as released, float32, not row-normalized: they are signed embeddings, for which
dividing by the row sum has no meaning (``normalize_features`` is unused). Labels are int32 in
``[0, C)``.

Checksums: the SHA-256 of both released zips is pinned (:data:`OGB`), each found in two
independent public projects that pin the same value. A zip found locally is hashed in streaming
(never held in memory) and compared before it is parsed; a download is compared as it streams
(:func:`~jgattr.data._fetch.download_file`). ``verify_checksums=False`` skips the comparison
(another release or a repackaged zip).

References: Hu et al., "Open Graph Benchmark: Datasets for Machine Learning on Graphs",
NeurIPS 2020 (https://ogb.stanford.edu/docs/nodeprop/).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

from jgattr.data._csv_gz import read_csv_gz
from jgattr.data._dataset import ChecksumError, DataError, Dataset, cleaned_edges, make_dataset
from jgattr.data._graph_fetch import locate_file

_HASH_BLOCK = 1 << 20


@dataclasses.dataclass(frozen=True)
class OgbSpec:
    """One OGB node dataset as released (``master.csv`` of the ``ogb`` package)."""

    archive: str
    folder: str
    split: str
    num_classes: int
    sha256: str


OGB: dict[str, OgbSpec] = {
    "ogbn-arxiv": OgbSpec(
        "arxiv.zip",
        "arxiv",
        "time",
        40,
        "49f85c801589ecdcc52cfaca99693aaea7b8af16a9ac3f41dd85a5f3193fe276",
    ),
    "ogbn-products": OgbSpec(
        "products.zip",
        "products",
        "sales_ranking",
        47,
        "5ea0a112edaec2141c0a2a612dd4aed58df97ff3e1ab1a0ca8238f43cbbb50a8",
    ),
}
OGB_DATASETS: tuple[str, ...] = tuple(OGB)
_SPLITS = ("train", "valid", "test")


def _check_archive(path: Path, expected: str) -> None:
    """Compare the zip's SHA-256 (hashed in streaming) with the pinned one."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while block := stream.read(_HASH_BLOCK):
                digest.update(block)
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    if digest.hexdigest() != expected:
        raise ChecksumError(
            f"{path}: SHA-256 mismatch (expected {expected}, got {digest.hexdigest()}). The zip "
            "is corrupt, truncated or not the released version: delete it so it is downloaded "
            "again, or replace it with the zip from https://ogb.stanford.edu/docs/nodeprop/. To "
            "load it anyway pass verify_checksums=False (config: verify_checksums = false)."
        )


def _table(archive: zipfile.ZipFile, member: str, dtype: type) -> np.ndarray:
    """Parse one ``.csv.gz`` member of the zip (``[rows, width]``)."""
    try:
        stream = archive.open(member)
    except KeyError:
        folder = member.split("/", 1)[0]
        raise DataError(
            f"{archive.filename}: no member {member}; an OGB release zip holds {folder}/raw/ and "
            f"{folder}/split/ (members here: {', '.join(archive.namelist()[:8])}, ...)"
        ) from None
    with stream:
        return read_csv_gz(stream, member, dtype)


def _count(archive: zipfile.ZipFile, member: str) -> int:
    """A one-graph ``num-*-list.csv.gz``: its single non-negative integer."""
    values = _table(archive, member, np.int64)
    if values.shape != (1, 1) or values[0, 0] < 0:
        raise DataError(
            f"{member}: expected one line with one non-negative integer (a single graph), got "
            f"{values.shape[0]} lines of {values.shape[1]} values"
        )
    return int(values[0, 0])


def _rows(values: np.ndarray, member: str, rows: int, width: int | None = None) -> np.ndarray:
    """Check the table has ``rows`` lines (and ``width`` fields)."""
    if len(values) != rows or (width is not None and values.shape[1] != width):
        want = f"{rows} lines" + (f" of {width} values" if width is not None else "")
        raise DataError(
            f"{member}: {len(values)} lines of {values.shape[1]} values, expected {want}; the "
            "file is truncated or from another dataset"
        )
    return values


def _node_ids(values: np.ndarray, member: str, num_nodes: int) -> np.ndarray:
    """Check every id is in ``[0, num_nodes)``; name the first line that is not."""
    bad = (values < 0) | (values >= num_nodes)
    if bad.any():
        line = int(np.argmax(bad.any(axis=1))) + 1
        raise DataError(
            f"{member}: line {line} holds {values[line - 1].tolist()}: node ids must be in "
            f"[0, {num_nodes}) (num-node-list.csv.gz)"
        )
    return values


def _labels(values: np.ndarray, member: str, num_classes: int) -> np.ndarray:
    bad = (values[:, 0] < 0) | (values[:, 0] >= num_classes)
    if bad.any():
        line = int(np.argmax(bad)) + 1
        raise DataError(
            f"{member}: line {line} holds class {values[line - 1, 0]}, expected a class id in "
            f"[0, {num_classes})"
        )
    return values[:, 0].astype(np.int32)


def _split_masks(
    archive: zipfile.ZipFile, prefix: str, num_nodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """bool ``[N]`` train, valid and test masks of the official split; they must be disjoint."""
    masks = np.zeros((len(_SPLITS), num_nodes), dtype=bool)
    for row, part in enumerate(_SPLITS):
        member = f"{prefix}{part}.csv.gz"
        values = _table(archive, member, np.int64)
        masks[row, _node_ids(_rows(values, member, len(values), 1), member, num_nodes)[:, 0]] = True
    overlap = int(np.count_nonzero(masks.sum(axis=0) > 1))
    if overlap:
        raise DataError(f"{prefix}*.csv.gz: {overlap} nodes are in more than one split part")
    return masks[0], masks[1], masks[2]


def read_ogb_zip(name: str, path: Path, spec: OgbSpec) -> Dataset:
    """Parse a released OGB node-property zip into a :class:`Dataset` (see the module docstring).

    Args:
      name: the dataset name (``"ogbn-arxiv"``).
      path: the zip.
      spec: its :class:`OgbSpec` (folder, split, number of classes).

    Returns:
      The :class:`Dataset`, features float32 ``[N, F]`` as released, graph symmetrized.

    Raises:
      DataError: not a zip, a member missing, truncated or malformed (naming member and line),
        ids out of range, overlapping split parts.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a readable zip ({err}); download it again") from None
    raw = f"{spec.folder}/raw/"
    with archive:
        num_nodes = _count(archive, raw + "num-node-list.csv.gz")
        num_edges = _count(archive, raw + "num-edge-list.csv.gz")
        member = raw + "edge.csv.gz"
        edges = _rows(_table(archive, member, np.int64), member, num_edges, 2)
        edges = _node_ids(edges, member, num_nodes)
        senders, receivers, changes = cleaned_edges(edges[:, 0], edges[:, 1], num_nodes)
        del edges  # ogbn-products: 1 GB, freed before the features are parsed
        member = raw + "node-feat.csv.gz"
        features = _rows(_table(archive, member, np.float32), member, num_nodes)
        member = raw + "node-label.csv.gz"
        labels = _labels(
            _rows(_table(archive, member, np.int64), member, num_nodes, 1), member, spec.num_classes
        )
        masks = _split_masks(archive, f"{spec.folder}/split/{spec.split}/", num_nodes)
    return make_dataset(
        name,
        features=features,
        senders=senders,
        receivers=receivers,
        labels=labels,
        masks=masks,
        num_classes=spec.num_classes,
        edge_changes=changes,
    )


def load_ogb(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    verify_checksums: bool = True,
    download: bool = True,
) -> Dataset:
    """Load ``ogbn-arxiv`` or ``ogbn-products`` from the released zip.

    The zip (``arxiv.zip``, ``products.zip``) is looked for in ``data_dir`` (else
    ``$JGATTR_DATA_DIR``), then in the user cache ``<cache>/jgattr/ogb``, then downloaded into
    that cache from ``$JGATTR_OGB_URL`` (default ``https://snap.stanford.edu/ogb/data/
    nodeproppred/``).

    Args:
      name: one of :data:`OGB_DATASETS` (lower case).
      data_dir: a folder holding the zip.
      verify_checksums: compare the zip's SHA-256 with the pinned one.
      download: download the zip when it is found nowhere (arxiv 83 MB, products 1.4 GB).

    Returns:
      The :class:`Dataset`: arxiv ``N=169343, E=2315598, F=128, C=40``, split
      90941/29799/48603; products ``N=2449029, F=100, C=47``, split 196615/39323/2213091.

    Raises:
      DataError: not found, malformed; ``ChecksumError`` when the zip is not the released one.

    Example:
      >>> ds = load_ogb("ogbn-arxiv", data_dir="/path/to/ogb")
      >>> ds.num_nodes, ds.num_features, ds.num_classes
      (169343, 128, 40)
    """
    spec = OGB[name]
    expected = spec.sha256 if verify_checksums else None
    path = locate_file(
        name, "ogb", spec.archive, data_dir=data_dir, download=download, expected=expected
    )
    if expected is not None:
        _check_archive(path, expected)
    return read_ogb_zip(name, path, spec)
