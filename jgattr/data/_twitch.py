"""The Twitch EN graph of MUSAE (Rozemberczki, Allen & Sarkar 2021) from its raw released files.

``twitch:EN`` is the ENGB user-user graph: 7,126 streamers, an edge per mutual friendship, 3,170
binary features (games played and liked, location, streaming habits; released as a JSON list of
the non-zero feature ids per node) and the binary label ``mature`` (the streamer uses explicit
language). It is the graph behind PyG's ``Twitch("EN")``, whose 128 features are a projection of
these; this loader keeps the features as released. Three files are read:

* ``musae_ENGB_edges.csv``: one ``from,to`` line per undirected edge (new ids; a header line,
  as in the SNAP release, is skipped);
* ``musae_ENGB_features.json``: ``{"<new id>": [feature ids]}``;
* ``musae_ENGB_target.csv``: ``id,days,mature,views,partner,new_id`` with ``mature`` ``True`` /
  ``False``.

They are found like the TU files (:mod:`jgattr.data._graph_fetch`): ``data_dir``, else
``$JGATTR_DATA_DIR``, then the user cache ``~/.cache/jgattr/twitch``, else downloaded from
``$JGATTR_TWITCH_URL`` (a folder holding the three files; SNAP publishes them inside
``twitch.zip``, https://snap.stanford.edu/data/twitch-social-networks.html). Every file, local or
downloaded, is checked against the SHA-256 pinned in :data:`TWITCH_SHA256`. The features are
parsed into a CSR matrix (147,683 non-zeros; 535 ids listed twice count once) and made
dense only for :class:`Dataset` (90 MB).
No split is published: a seeded stratified one gives 80 % train, 10 % val, 10 % test.

References: Rozemberczki, Allen & Sarkar, "Multi-scale attributed node embedding", Journal of
Complex Networks 9(2), 2021.
"""

from __future__ import annotations

import json
import os

import numpy as np
import scipy.sparse as sp

from jgattr.data._dataset import DataError, Dataset, cleaned_edges, make_dataset
from jgattr.data._graph_union import stratified_split
from jgattr.data._released import read_released

TWITCH_DATASETS: tuple[str, ...] = ("twitch:EN",)
TWITCH_SHA256: dict[str, str] = {
    "musae_ENGB_edges.csv": "98c1df1ef114cd77becfc98bcc643d373bfeee79e34bfc96ee2b3b5abc2c4903",
    "musae_ENGB_features.json": "efcd846f7b687d299c9c674f3cda43cd70de8307d2558895bddd3645eb38d500",
    "musae_ENGB_target.csv": "e9d51399878216d2dd662b0a152b602cccde7b5cbb8452cb91d9379f64114443",
}


def _lines(data: bytes, source: str) -> list[list[str]]:
    rows = [line.split(",") for line in data.decode("utf-8").splitlines() if line.strip()]
    if not rows:
        raise DataError(f"{source}: the file is empty")
    return rows


def parse_edges(data: bytes, source: str = "musae_ENGB_edges.csv") -> np.ndarray:
    """``[2, E_rows]`` int64 (from, to) of an edges CSV; a non-numeric first line is a header."""
    rows = _lines(data, source)
    if not rows[0][0].strip().isdigit():
        rows = rows[1:]
    try:
        return np.array(rows, dtype=np.int64).reshape(-1, 2).T
    except ValueError:
        raise DataError(
            f"{source}: expected 'from,to' integer lines, got e.g. {rows[0]!r}"
        ) from None


def parse_features(data: bytes, num_nodes: int, source: str = "musae_ENGB_features.json"):
    """``scipy.sparse.csr_matrix`` ``[N, F]`` float32 of the JSON ``{"node": [feature ids]}``."""
    try:
        table = json.loads(data)
        rows = np.concatenate([np.full(len(v), int(k)) for k, v in table.items()] + [[]])
        cols = np.concatenate([np.asarray(v, dtype=np.int64) for v in table.values()] + [[]])
    except (ValueError, TypeError) as err:
        raise DataError(f'{source}: expected {{"node id": [feature ids]}} ({err})') from None
    if rows.size and (rows.min() < 0 or rows.max() >= num_nodes or cols.min() < 0):
        raise DataError(f"{source}: node ids outside [0, {num_nodes}) or negative feature ids")
    width = int(cols.max()) + 1 if cols.size else 0
    ones = np.ones(rows.size, np.float32)
    matrix = sp.csr_matrix(
        (ones, (rows.astype(np.int64), cols.astype(np.int64))), shape=(num_nodes, width)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # a feature listed twice is still one binary feature
    return matrix


def parse_target(data: bytes, source: str = "musae_ENGB_target.csv") -> np.ndarray:
    """int32 ``[N]`` labels (``mature`` True = 1), indexed by the ``new_id`` column."""
    rows = _lines(data, source)
    header = [name.strip() for name in rows[0]]
    if "mature" not in header or "new_id" not in header:
        raise DataError(f"{source}: header {header} lacks the 'mature' and 'new_id' columns")
    mature, new_id = header.index("mature"), header.index("new_id")
    ids = np.array([int(row[new_id]) for row in rows[1:]], dtype=np.int64)
    values = [row[mature].strip() for row in rows[1:]]
    if set(values) - {"True", "False"} or sorted(ids.tolist()) != list(range(len(ids))):
        raise DataError(f"{source}: 'mature' must be True/False and new_id a permutation of 0..N-1")
    labels = np.empty(len(ids), np.int32)
    labels[ids] = [value == "True" for value in values]
    return labels


def load_twitch(
    name: str = "twitch:EN",
    *,
    data_dir: str | os.PathLike | None = None,
    verify_checksums: bool = True,
    download: bool = True,
    seed: int = 0,
) -> Dataset:
    """Load ``twitch:EN`` (the MUSAE ENGB files): ``N=7126, E=70648, F=3170, C=2``.

    Args:
      name: ``"twitch:EN"`` (case-insensitive).
      data_dir: folder holding the three files (else ``$JGATTR_DATA_DIR``, then the cache).
      verify_checksums: compare every file with :data:`TWITCH_SHA256`.
      download: download missing files into the cache from ``$JGATTR_TWITCH_URL``.
      seed: seed of the stratified 80/10/10 split.

    Returns:
      The :class:`Dataset` (binary features, not normalized; label 1 = ``mature``).

    Example:
      >>> ds = load_twitch(data_dir="shared/data/twitch")
      >>> ds.num_nodes, ds.num_features, ds.num_classes
      (7126, 3170, 2)
    """
    if name.strip().lower() != "twitch:en":
        raise DataError(
            f"unknown Twitch graph {name!r}: choose one of {', '.join(TWITCH_DATASETS)}"
        )

    def read(filename: str) -> bytes:
        return read_released(
            "twitch:EN",
            "twitch",
            filename,
            expected=TWITCH_SHA256[filename],
            data_dir=data_dir,
            download=download,
            verify=verify_checksums,
        )

    labels = parse_target(read("musae_ENGB_target.csv"))
    n = labels.shape[0]
    features = parse_features(read("musae_ENGB_features.json"), n)
    edges = parse_edges(read("musae_ENGB_edges.csv"))
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        raise DataError(f"musae_ENGB_edges.csv: node ids outside [0, {n}) (max {edges.max()})")
    senders, receivers, changes = cleaned_edges(edges[0], edges[1], n)
    masks = stratified_split(np.random.default_rng(seed), labels)
    return make_dataset(
        "twitch:EN",
        features=features.toarray(),
        senders=senders,
        receivers=receivers,
        labels=labels,
        masks=masks,
        num_classes=2,
        edge_changes=changes,
    )
