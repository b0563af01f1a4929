"""TU graph-classification datasets (MUTAG, PROTEINS, ...) read exactly as PyG's ``read_tu_data``.

A dataset ``NAME`` is a set of comma-separated text files ``NAME_<part>.txt``, in a ``NAME.zip``
(as published at https://www.chrsmrrs.com/graphkerneldatasets/) or in a folder:

* ``A`` (required): one ``row, col`` line per directed edge, 1-based global node ids;
* ``graph_indicator`` (required): line ``i`` is the 1-based graph of node ``i``; nodes are grouped
  by graph in increasing order (PyG assumes this too);
* ``graph_labels`` (required): one integer class per graph, remapped to ``0..C-1`` by
  ``np.unique(return_inverse=True)`` (MUTAG's ``-1, 1`` become ``0, 1``);
* ``node_labels`` (optional): integers, one row per node; each column minus its minimum,
  one-hot encoded (``max + 1`` wide), the columns concatenated;
* ``node_attributes`` (optional): floats, one row per node, placed *before* the one-hot labels
  (PyG's ``use_node_attr=True`` layout);
* ``edge_labels`` / ``edge_attributes`` (optional): one row per line of ``A``; checked, but not
  kept: a :class:`GraphDataset` has node features only.

Without node labels and attributes every node gets the single feature ``1.0``. Self loops are
dropped, every edge is made undirected and deduplicated (MUTAG's lists already hold both
directions), and the edges are laid out graph after graph (:class:`GraphDataset`). The split is
stratified and seeded: in each class ``round(0.8 n)`` train, ``round(0.1 n)`` val, the rest test.
Nothing in a zip is extracted or executed: members are read into memory by name.

MUTAG (188 nitroaromatic compounds, mutagenic on *Salmonella typhimurium* or not; 17.9 atoms and
39.6 directed bonds per graph) gets atom symbols as ``node_names`` (node label 0..6 = C, N, O, F,
I, Cl, Br) and ``class_names = ("non-mutagenic", "mutagenic")``.

References: Morris et al., "TUDataset: A collection of benchmark datasets for learning with
graphs", ICML GRL+ 2020; Debnath et al., J. Med. Chem. 34(2), 1991 (MUTAG).
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from jgattr.data._dataset import DataError
from jgattr.data._graph_dataset import GraphDataset, make_graph_dataset
from jgattr.data._graph_fetch import fetch_file, search_dirs
from jgattr.data._graph_union import check_seed, stratified_split, union_edges

MUTAG_ATOMS = ("C", "N", "O", "F", "I", "Cl", "Br")
MUTAG_CLASSES = ("non-mutagenic", "mutagenic")
MAX_MEMBER_BYTES = 1 << 31
_REQUIRED = ("A", "graph_indicator", "graph_labels")
_OPTIONAL = ("node_labels", "node_attributes", "edge_labels", "edge_attributes")


def _table(data: bytes, source: str, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Parse comma-separated numbers: ``(values [rows, width], line numbers [rows])``.

    Blank lines are skipped; every other line must hold ``width`` numbers (those of the first).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{source}: not a text file ({err.reason} at byte {err.start})") from None
    numbered = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not numbered:
        raise DataError(f"{source}: the file is empty; expected comma-separated numbers")
    width = numbered[0][1].count(",") + 1
    kind = "integers" if dtype is np.int64 else "numbers"
    for number, line in numbered:
        if line.count(",") + 1 != width:
            raise DataError(
                f"{source}: line {number} is {line!r}, expected {width} comma-separated {kind} "
                "like the first line; the file is truncated or malformed"
            )
    try:
        values = np.array(",".join(line for _, line in numbered).split(","), dtype=dtype)
    except ValueError:
        number, line = next((n, line) for n, line in numbered if not _parses(line, dtype))
        raise DataError(
            f"{source}: line {number} is {line!r}, not {width} comma-separated {kind}; "
            "the file is truncated or malformed"
        ) from None
    lines = np.array([number for number, _ in numbered], dtype=np.int64)
    return values.reshape(len(numbered), width), lines


def _parses(line: str, dtype: type) -> bool:
    try:
        np.array(line.split(","), dtype=dtype)
    except ValueError:
        return False
    return True


def _column(data: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    """A one-integer-per-line file: ``(values [rows], line numbers [rows])``."""
    values, lines = _table(data, source, np.int64)
    if values.shape[1] != 1:
        raise DataError(f"{source}: expected one integer per line, got {values.shape[1]} values")
    return values[:, 0], lines


def _one_hot_columns(labels: np.ndarray) -> np.ndarray:
    """float32 ``[rows, sum_j (max_j + 1)]``: each column minus its min, one-hot, concatenated."""
    shifted = labels - labels.min(axis=0)
    return np.concatenate(
        [np.eye(int(col.max()) + 1, dtype=np.float32)[col] for col in shifted.T], axis=1
    )


def _rows(
    files: dict[str, bytes], sources: dict[str, str], part: str, dtype: type, count: int
) -> np.ndarray | None:
    """The optional table ``part`` (``None`` when absent), checked to have ``count`` rows."""
    if part not in files:
        return None
    values, _ = _table(files[part], sources[part], dtype)
    if len(values) != count:
        what = "nodes (graph_indicator lines)" if part.startswith("node") else "edges (A lines)"
        raise DataError(
            f"{sources[part]}: {len(values)} rows, expected one per line of the {what}: {count}; "
            "the file is truncated or from another dataset"
        )
    return values


def _graph_of_nodes(indicator: np.ndarray, lines: np.ndarray, source: str, g: int) -> np.ndarray:
    """0-based graph ids ``[N]``, checked: ``1..G``, non-decreasing, no graph without nodes."""
    bad = np.flatnonzero((indicator < 1) | (indicator > g))
    if bad.size:
        raise DataError(
            f"{source}: line {lines[bad[0]]} names graph {indicator[bad[0]]}, but the graph "
            f"labels file has {g} graphs (ids 1..{g})"
        )
    down = np.flatnonzero(np.diff(indicator) < 0)
    if down.size:
        raise DataError(
            f"{source}: line {lines[down[0] + 1]} (graph {indicator[down[0] + 1]}) follows graph "
            f"{indicator[down[0]]}; nodes must be grouped by graph in increasing order"
        )
    empty = np.flatnonzero(np.bincount(indicator - 1, minlength=g) == 0)
    if empty.size:
        raise DataError(f"{source}: graph {empty[0] + 1} has no nodes (no line names it)")
    return indicator - 1


def _edges(files: dict[str, bytes], sources: dict[str, str], graph_of: np.ndarray) -> np.ndarray:
    """0-based global edges ``[K, 2]`` from ``A``, checked to stay inside one graph."""
    pairs, lines = _table(files["A"], sources["A"], np.int64)
    n = len(graph_of)
    if pairs.shape[1] != 2:
        raise DataError(f"{sources['A']}: lines must be 'row, col', got {pairs.shape[1]} values")
    bad = np.flatnonzero(np.any((pairs < 1) | (pairs > n), axis=1))
    if bad.size:
        raise DataError(
            f"{sources['A']}: line {lines[bad[0]]} has node {pairs[bad[0]].tolist()}, outside "
            f"1..{n} (the graph_indicator lines)"
        )
    pairs = pairs - 1
    crossing = np.flatnonzero(graph_of[pairs[:, 0]] != graph_of[pairs[:, 1]])
    if crossing.size:
        raise DataError(
            f"{sources['A']}: line {lines[crossing[0]]} joins nodes of two different graphs"
        )
    return pairs


def _node_features(files: dict[str, bytes], sources: dict[str, str], n: int) -> np.ndarray:
    attributes = _rows(files, sources, "node_attributes", np.float64, n)
    labels = _rows(files, sources, "node_labels", np.int64, n)
    parts = [] if attributes is None else [attributes.astype(np.float32)]
    parts += [] if labels is None else [_one_hot_columns(labels)]
    return np.concatenate(parts, axis=1) if parts else np.ones((n, 1), np.float32)


def parse_tu(
    name: str, files: dict[str, bytes], sources: dict[str, str], *, seed: int
) -> GraphDataset:
    """Build the :class:`GraphDataset` ``tu:<name>`` from the raw files.

    Args:
      name: the TU name (``"MUTAG"``).
      files: ``{part: bytes}`` for the parts present (``"A"``, ``"graph_indicator"``, ...).
      sources: ``{part: where it came from}`` for messages (``"MUTAG.zip:MUTAG/MUTAG_A.txt"``).
      seed: seed of the stratified split.

    Raises:
      DataError: a malformed, truncated or inconsistent file, naming it and the line.
    """
    raw, _ = _column(files["graph_labels"], sources["graph_labels"])
    values, labels = np.unique(raw, return_inverse=True)
    indicator, lines = _column(files["graph_indicator"], sources["graph_indicator"])
    graph_of = _graph_of_nodes(indicator, lines, sources["graph_indicator"], len(raw))
    edges = _edges(files, sources, graph_of)
    for part in ("edge_labels", "edge_attributes"):
        _rows(files, sources, part, np.float64, len(edges))
    features = _node_features(files, sources, len(graph_of))
    n_node = np.bincount(graph_of, minlength=len(raw)).astype(np.int32)
    senders, receivers, n_edge = union_edges(edges, n_node)
    node_names = class_names = None
    if name.upper() == "MUTAG" and "node_labels" in files and features.shape[1] == 7:
        node_names = np.array(MUTAG_ATOMS)[features.argmax(axis=1)]
    if name.upper() == "MUTAG" and values.tolist() == [-1, 1]:
        class_names = MUTAG_CLASSES
    return make_graph_dataset(
        f"tu:{name}",
        features=features,
        senders=senders,
        receivers=receivers,
        n_node=n_node,
        n_edge=n_edge,
        labels=labels,
        masks=stratified_split(np.random.default_rng(check_seed(f"tu:{name}", seed)), labels),
        num_classes=len(values),
        node_names=node_names,
        class_names=class_names or tuple(str(v) for v in values),
    )


def _zip_files(data: bytes, source: str) -> tuple[str, dict[str, bytes], dict[str, str]]:
    """Read the ``NAME_<part>.txt`` members of a zip into memory (nothing is extracted)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise DataError(f"{source}: not a valid zip file ({err}); delete it and retry") from None
    members = {Path(info.filename).name: info for info in archive.infolist() if not info.is_dir()}
    name = _name_from(list(members), source)
    files, sources = {}, {}
    for part in _REQUIRED + _OPTIONAL:
        info = members.get(f"{name}_{part}.txt")
        if info is None:
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            raise DataError(f"{source}: {info.filename} unpacks to {info.file_size} bytes; refused")
        try:
            files[part] = archive.read(info)
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise DataError(f"{source}: cannot read {info.filename} ({err})") from None
        sources[part] = f"{source}:{info.filename}"
    return name, files, sources


def _name_from(filenames: list[str], source: str) -> str:
    """``NAME`` from the single ``NAME_A.txt`` among ``filenames``."""
    names = sorted(f.removesuffix("_A.txt") for f in filenames if f.endswith("_A.txt"))
    if len(names) != 1:
        raise DataError(
            f"{source}: expected exactly one NAME_A.txt (TU format), found {names or 'none'}"
        )
    return names[0]


def _folder_files(folder: Path) -> tuple[str, dict[str, bytes], dict[str, str]]:
    name = _name_from([p.name for p in folder.iterdir()], str(folder))
    files, sources = {}, {}
    for part in _REQUIRED + _OPTIONAL:
        path = folder / f"{name}_{part}.txt"
        if path.is_file():
            try:
                files[part] = path.read_bytes()
            except OSError as err:
                raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
            sources[part] = str(path)
    return name, files, sources


def _check_required(files: dict[str, bytes], name: str, source: str) -> None:
    missing = [f"{name}_{part}.txt" for part in _REQUIRED if part not in files]
    if missing:
        raise DataError(f"{source}: missing {', '.join(missing)} (required in the TU format)")


def read_tu(path: str | os.PathLike, *, seed: int = 0) -> GraphDataset:
    """Load a TU-format dataset from a local ``.zip`` or folder of ``NAME_<part>.txt`` files."""
    path = Path(path).expanduser()
    if path.is_dir():
        name, files, sources = _folder_files(path)
    else:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
        name, files, sources = _zip_files(data, str(path))
    _check_required(files, name, str(path))
    return parse_tu(name, files, sources, seed=seed)


def tu_dataset(
    name: str, *, data_dir: str | os.PathLike | None = None, seed: int = 0, download: bool = True
) -> GraphDataset:
    """Load ``NAME.zip`` of the TU collection (data dir, cache or download; see ``_graph_fetch``).

    The zip's SHA-256 is recorded at first use and checked on every later load. Where no
    ``NAME.zip`` is found but a folder holds the extracted ``NAME/NAME_A.txt`` ..., that folder
    is read (as :func:`read_tu` reads it).
    """
    folders = search_dirs("tu", data_dir)
    if not any((folder / f"{name}.zip").is_file() for folder in folders):
        extracted = [f / name for f in folders if (f / name / f"{name}_A.txt").is_file()]
        if extracted:
            return read_tu(extracted[0], seed=seed)
    path, data = fetch_file(f"tu:{name}", "tu", f"{name}.zip", data_dir=data_dir, download=download)
    found, files, sources = _zip_files(data, str(path))
    if found != name:
        raise DataError(f"{path}: holds the TU dataset {found!r}, not {name!r}")
    _check_required(files, name, str(path))
    return parse_tu(name, files, sources, seed=seed)
