"""The node-classification dispatcher: :func:`load_dataset` reads ``jgattr._dataset_table`` and
calls the loader its entry names (:data:`LOADERS`); paths go to their file readers."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

from jgattr._dataset_table import dataset_families, dataset_names, find_dataset
from jgattr._names import did_you_mean, shown
from jgattr.data._dataset import DataError, Dataset
from jgattr.data._gnnexplainer_release import load_gnnexplainer_release
from jgattr.data._npz import load_npz
from jgattr.data._ogb import load_ogb
from jgattr.data._planetoid import load_planetoid
from jgattr.data._powerlaw import parse_powerlaw, powerlaw_dataset
from jgattr.data._synthetic import synthetic_dataset
from jgattr.data._twitch import load_twitch


class LoadOptions(NamedTuple):
    """What :func:`load_dataset` passes on to a loader (each reads the options it uses)."""

    data_dir: str | os.PathLike | None
    normalize_features: bool
    verify_checksums: bool
    download: bool


def _files(loader: Callable[..., Dataset]) -> Callable[[str, LoadOptions], Dataset]:
    """A loader of released files, called as ``loader(name, data_dir=, verify_checksums=,
    download=)`` with the lower-case name."""
    return lambda name, o: loader(
        name.lower(), data_dir=o.data_dir, verify_checksums=o.verify_checksums, download=o.download
    )


def _planetoid(name: str, o: LoadOptions) -> Dataset:
    return load_planetoid(
        name.lower(),
        data_dir=o.data_dir,
        normalize=o.normalize_features,
        verify=o.verify_checksums,
        download=o.download,
    )


# A loader per kind of entry in jgattr._dataset_table: (name as given, options) -> Dataset.
LOADERS: dict[str, Callable[[str, LoadOptions], Dataset]] = {
    "planetoid": _planetoid,
    "ogb": _files(load_ogb),
    "synthetic": lambda name, o: synthetic_dataset(name.lower()),
    "powerlaw": lambda name, o: powerlaw_dataset(parse_powerlaw(name.lower())),
    "twitch": _files(load_twitch),
    "gnnexplainer": _files(load_gnnexplainer_release),
}
# Real graphs read from their released files (Twitch EN, the GNNExplainer benchmarks).
RELEASED_DATASETS: tuple[str, ...] = dataset_names(loader="twitch") + dataset_names(
    loader="gnnexplainer"
)


def load_dataset(
    name: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    normalize_features: bool = True,
    verify_checksums: bool = True,
    download: bool = True,
    directed: bool = False,
) -> Dataset:
    """Load a Planetoid or OGB dataset (official split), a synthetic benchmark or a ``.npz`` graph.

    Files are looked up in ``data_dir`` (else ``$JGATTR_DATA_DIR``, else the user cache), then in
    the user cache, then downloaded into the cache (see :mod:`jgattr.data._fetch`).

    Args:
      name: a node-classification name of ``jgattr._dataset_table`` (case-insensitive): one of
        :data:`~jgattr.data.DATASETS` (Planetoid, :mod:`jgattr.data._planetoid`); one of
        :data:`~jgattr.data.SYNTHETIC`, generated offline by
        :func:`~jgattr.data.synthetic_dataset` with its default seed (the other arguments are then
        unused: no files are read, features are not normalized); one of
        :data:`~jgattr.data.OGB_DATASETS` (``ogbn-arxiv``, ``ogbn-products``), read from the
        released zip by :func:`~jgattr.data._ogb.load_ogb` (features as released, never
        normalized; arxiv's citations symmetrized); ``powerlaw:<N>``, the seeded
        power-law scale benchmark of :mod:`jgattr.data._powerlaw` (seed 0); ``twitch:EN``
        (:mod:`jgattr.data._twitch`, the raw MUSAE files, seeded 80/10/10 split), or a released
        GNNExplainer benchmark ``gnnexplainer:syn1`` ... ``syn4``
        (:mod:`jgattr.data._gnnexplainer_release`, ``ground_truth`` from its edge labels). Or a
        path: ending in ``.npz``, passed to :func:`load_npz` (``data_dir``, ``verify_checksums``
        and ``download`` are then unused); ending in ``.pkl``, a released GNNExplainer file.
      data_dir: directory holding the ``ind.<name>.<part>`` files (or the OGB zip).
      normalize_features: divide each feature row by its sum (zero rows stay zero); Planetoid and
        ``.npz`` only.
      verify_checksums: refuse local files whose SHA-256 differs from the published one.
      download: download missing files into the cache.
      directed: ``.npz`` graphs only: keep one-way edges one-way (see :func:`load_npz`).

    Returns:
      The :class:`Dataset`: Cora ``N=2708, E=10556, F=1433, C=7``, split 140/500/1000;
      Citeseer ``3327, 9104, 3703, 6``, 120/500/1000 (15 unlabeled nodes, label ``-1``);
      Pubmed and ``pubmed-structure`` ``19717, 88648, 500, 3``, 60/500/1000; the synthetic
      benchmarks carry a ``ground_truth``; OGB sizes in :func:`~jgattr.data._ogb.load_ogb`.

    Raises:
      DataError: unknown name, missing files (one message naming every file and directory),
        malformed files. ``ChecksumError`` and ``UnsafePickleError`` are subclasses.

    Example:
      >>> ds = load_dataset("Cora", data_dir="/path/to/planetoid")
      >>> ds.graph.nodes.shape, int(ds.train_mask.sum())
      ((2708, 1433), 140)
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise DataError(f"dataset name must be a string, got {type(name).__name__}")
    if name.lower().endswith(".npz"):
        return load_npz(name, normalize_features=normalize_features, directed=directed)
    if directed:
        raise DataError(
            f"directed=True keeps the one-way edges of a .npz graph; {shown(name)} is not one: "
            "drop directed (the built-in datasets are undirected graphs)"
        )
    if name.strip().lower().endswith(".pkl"):
        return load_gnnexplainer_release(
            name, data_dir=data_dir, verify_checksums=verify_checksums, download=download
        )
    entry = find_dataset(name)
    if entry is None or entry.level != "node":
        raise DataError(_unknown(name, entry is not None))
    options = LoadOptions(data_dir, normalize_features, verify_checksums, download)
    return LOADERS[entry.loader](name.strip(), options)


def _unknown(name: str, graph_level: bool) -> str:
    if graph_level:
        return (
            f"{shown(name)} is a graph-classification dataset: load it with "
            "jgattr.data.load_graph_dataset"
        )
    names = dataset_names(level="node")
    return (
        f"unknown dataset {shown(name)}: choose one of {', '.join(names)}, "
        f"{', '.join(dataset_families(level='node'))}, or pass the path of a .npz file"
        + did_you_mean(name.strip().lower(), names)
    )
