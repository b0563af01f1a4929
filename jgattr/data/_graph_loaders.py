"""One entry point for graph-classification datasets: :func:`load_graph_dataset`.

Names: ``"ba-2motifs"`` (generated offline), ``"tu:<NAME>"`` (TU collection, e.g. ``tu:MUTAG``),
``"moleculenet:bbbp"``, ``"moleculenet:bace"``, ``"moleculenet:tox21"`` (Pope et al.'s task
choices), or the path of a local TU-format ``.zip`` / folder or a ``.csv`` (``.csv.gz``) of
SMILES and labels.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from jgattr._dataset_table import dataset_names, find_dataset
from jgattr._names import did_you_mean, shown
from jgattr.data._ba2motifs import ba_2motifs
from jgattr.data._dataset import DataError
from jgattr.data._graph_dataset import GraphDataset
from jgattr.data._graph_fetch import fetch_file
from jgattr.data._molecules import molecules_from_csv
from jgattr.data._tu import read_tu, tu_dataset


@dataclasses.dataclass(frozen=True)
class _MoleculeNet:
    """A MoleculeNet file and Pope et al.'s use of it."""

    filename: str
    smiles_column: str
    label_column: str
    split: str
    class_names: tuple[str, str]


MOLECULENET: dict[str, _MoleculeNet] = {
    "bbbp": _MoleculeNet("BBBP.csv", "smiles", "p_np", "scaffold", ("non-permeable", "permeable")),
    "bace": _MoleculeNet("bace.csv", "mol", "Class", "scaffold", ("non-inhibitor", "inhibitor")),
    "tox21": _MoleculeNet("tox21.csv.gz", "smiles", "NR-ER", "random", ("inactive", "active")),
}
GRAPH_DATASETS: tuple[str, ...] = dataset_names(level="graph")
_CSV_SUFFIXES = (".csv", ".csv.gz")
_FORMS = (
    "'ba-2motifs', 'tu:<NAME>' (a TU dataset, e.g. 'tu:MUTAG'), "
    f"{', '.join(repr(f'moleculenet:{k}') for k in MOLECULENET)}, the path of a TU-format .zip "
    "or folder, or the path of a .csv / .csv.gz of SMILES (with smiles_column= and label_column=)"
)


def is_graph_dataset(name: str | os.PathLike) -> bool:
    """Whether ``name`` is for :func:`load_graph_dataset` (graph classification) rather than
    :func:`~jgattr.data.load_dataset` (node classification).

    True for the graph-level names of ``jgattr._dataset_table`` (``ba-2motifs``, ``tu:*``,
    ``moleculenet:*``), paths ending in ``.zip``, ``.csv`` or ``.csv.gz``, and folders holding a
    TU ``*_A.txt`` file; the name is not checked further.
    """
    text = os.fspath(name).strip()
    key = text.lower()
    folder = Path(text).expanduser()
    entry = find_dataset(text)
    return (
        (entry is not None and entry.level == "graph")
        or key.endswith((".zip", *_CSV_SUFFIXES))
        or (folder.is_dir() and any(folder.glob("*_A.txt")))
    )


def _moleculenet(
    key: str, *, data_dir: str | os.PathLike | None, seed: int, download: bool
) -> GraphDataset:
    spec = MOLECULENET.get(key)
    if spec is None:
        raise DataError(
            f"unknown MoleculeNet dataset {key!r}: choose one of {', '.join(MOLECULENET)}"
        )
    name = f"moleculenet:{key}"
    path, data = fetch_file(
        name, "moleculenet", spec.filename, data_dir=data_dir, download=download
    )
    return molecules_from_csv(
        data,
        name=name,
        source=str(path),
        smiles_column=spec.smiles_column,
        label_column=spec.label_column,
        split=spec.split,
        seed=seed,
        class_names=spec.class_names,
    )


def _local_csv(
    path: Path,
    smiles_column: str | None,
    label_column: str | None,
    split: str | None,
    seed: int,
) -> GraphDataset:
    if not smiles_column or not label_column:
        raise DataError(
            f"{path}: a CSV of molecules needs smiles_column= and label_column= (the names of "
            "the SMILES and class columns)"
        )
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    stem = path.name.removesuffix(".gz").removesuffix(".csv")
    return molecules_from_csv(
        data,
        name=f"csv:{stem}",
        source=str(path),
        smiles_column=smiles_column,
        label_column=label_column,
        split=split or "scaffold",
        seed=seed,
    )


def load_graph_dataset(
    name: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    download: bool = True,
    smiles_column: str | None = None,
    label_column: str | None = None,
    split: str | None = None,
) -> GraphDataset:
    """Load a graph-classification dataset: many small graphs, one label each.

    Files are looked up in ``data_dir`` (else ``$JGATTR_DATA_DIR``), then in the user cache
    (``~/.cache/jgattr/tu``, ``.../moleculenet``), then downloaded into the cache; a file's
    SHA-256 is recorded at first use and checked on every later load (no hashes are published).

    Args:
      name: ``"ba-2motifs"``; ``"tu:<NAME>"`` (``NAME.zip`` from the TU collection, e.g.
        ``"tu:MUTAG"``); ``"moleculenet:bbbp"`` / ``"bace"`` / ``"tox21"`` (Tox21's NR-ER task);
        or a local path: a TU-format ``.zip`` or folder, or a ``.csv`` / ``.csv.gz`` of SMILES.
      data_dir: folder searched first for downloadable files.
      seed: seed of the generator (BA-2Motifs) and of the random splits.
      download: download missing files into the cache.
      smiles_column: the SMILES column of a local CSV.
      label_column: the class column of a local CSV (rows where it is empty are dropped).
      split: a local CSV's split, ``"scaffold"`` (default), ``"random"`` or ``"stratified"``.
        The named datasets use their own: stratified (BA-2Motifs, TU), scaffold (BBBP, BACE),
        random (Tox21).

    Returns:
      The :class:`GraphDataset`: BA-2Motifs 1000 graphs of 25 nodes, 10 features, with
      ``ground_truth``; MUTAG 188 graphs, 7 features (one-hot atoms, ``node_names`` C, N, O, F,
      I, Cl, Br); molecules 75 DeepChem ``ConvMol`` atom features, ``node_names`` the atoms.

    Raises:
      DataError: an unknown name (listing the valid forms), missing files, malformed files,
        RDKit missing for SMILES (naming ``pip install "jgattr[molecules]"``).
        ``ChecksumError`` (a subclass): a file changed since its first use.

    Example:
      >>> ds = load_graph_dataset("tu:MUTAG")
      >>> ds.num_graphs, ds.num_features, ds.class_names
      (188, 7, ('non-mutagenic', 'mutagenic'))
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"graph dataset name must be a non-empty string, got {name!r}: {_FORMS}")
    text = name.strip()
    key = text.lower()
    path = Path(text).expanduser()
    if key.endswith(_CSV_SUFFIXES):
        return _local_csv(path, smiles_column, label_column, split, seed)
    if split is not None or smiles_column is not None or label_column is not None:
        raise DataError(
            f"{name!r}: smiles_column=, label_column= and split= apply to local CSV files only"
        )
    if key == "ba-2motifs":
        return ba_2motifs(seed=seed)
    if key.startswith("tu:") and len(text) > 3:
        return tu_dataset(text[3:].strip(), data_dir=data_dir, seed=seed, download=download)
    if key.startswith("moleculenet:"):
        return _moleculenet(
            key.split(":", 1)[1].strip(), data_dir=data_dir, seed=seed, download=download
        )
    if key.endswith(".zip") or path.is_dir():
        return read_tu(path, seed=seed)
    raise DataError(
        f"unknown graph dataset {shown(name)}: use {_FORMS}" + did_you_mean(key, GRAPH_DATASETS)
    )
