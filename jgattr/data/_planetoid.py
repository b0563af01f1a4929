"""Cora, Citeseer and Pubmed from the raw Planetoid files, assembled as Kipf & Welling's ``gcn``.

Each dataset ``<name>`` is eight files ``ind.<name>.<part>`` (Yang, Cohen & Salakhutdinov 2016):
``x`` / ``y`` (features / one-hot labels of the training nodes), ``tx`` / ``ty`` (test nodes),
``allx`` / ``ally`` (every node before the test range), ``graph`` (dict of neighbour lists) and
``test.index`` (the test node ids, in ``tx`` row order). :func:`load_planetoid` follows the
reference ``utils.load_data`` of the ``gcn`` repository exactly:

* features ``= vstack(allx, tx)`` then ``features[test_index] = features[sorted(test_index)]``
  (the rows of ``tx`` are in ``test.index`` order); labels likewise from ``ally`` and ``ty``;
* Citeseer's test range has 15 isolated nodes that are in no file: ``tx`` / ``ty`` are extended
  with zero rows to ``range(min, max + 1)``, so ``N = 3327`` and those nodes get label ``-1``;
* split: train ``= range(len(y))``, val ``= range(len(y), len(y) + 500)``, test ``= test.index``;
* graph: the neighbour lists, symmetrized, without self loops or duplicates;
* features row-normalized (each row divided by its sum) unless ``normalize_features=False``.

``pubmed-structure``: the Planetoid project's ``ind.pubmed.allx`` (the features of nodes
``0..18716``) is not always obtainable offline. This variant keeps everything of Pubmed that does
not need it: the real graph (19717 nodes, 88648 directed edges), all labels and the public split
(60 / 500 / 1000), the real features of the 60 training nodes (``ind.pubmed.x``) and of the 1000
test nodes (``ind.pubmed.tx``). Every other row gets seeded stand-in features: 50 distinct random
columns of the 500, with log-normal values whose mean and standard deviation match the real
non-zeros of ``x`` and ``tx`` (TF-IDF-like: positive, right-skewed). It is meant for structure-
driven experiments (attribution cost, receptive fields, scaling), not for reporting Pubmed
accuracy; the stand-in rows are the same on every load.

References: Yang, Cohen & Salakhutdinov, "Revisiting Semi-Supervised Learning with Graph
Embeddings", ICML 2016; Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional
Networks", ICLR 2017 (https://github.com/tkipf/gcn, ``gcn/utils.py``).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from jgattr._dataset_table import dataset_names
from jgattr.data._dataset import DataError, Dataset, cleaned_edges, make_dataset, row_normalize
from jgattr.data._fetch import locate_files, read_file
from jgattr.data._safe_pickle import load_adjacency, load_dense, load_sparse

DATASETS: tuple[str, ...] = dataset_names(loader="planetoid")

NUM_VAL = 500
STAND_IN_SEED = 20170424
STAND_IN_NNZ = 50

_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
_ALLX_HINT = (
    "ind.pubmed.allx holds the features of Pubmed's nodes 0..18716 and is needed for 'pubmed'. "
    "Without it, load 'pubmed-structure' instead: Pubmed's real graph, labels and split, real "
    "features for the 60 train and 1000 test nodes, seeded stand-in features elsewhere."
)


def _parse_index(data: bytes, source: str) -> np.ndarray:
    """``test.index``: one non-negative int per line -> int64 ``[T]`` (file order)."""
    values = []
    for number, line in enumerate(data.decode("ascii", errors="replace").splitlines(), 1):
        if line.strip():
            try:
                values.append(int(line))
            except ValueError:
                raise DataError(f"{source}: line {number} is {line!r}, not an integer") from None
    index = np.asarray(values, dtype=np.int64)
    duplicates = index.size - np.unique(index).size
    if index.size == 0 or index.min() < 0 or duplicates:
        raise DataError(
            f"{source}: expected distinct non-negative node ids, got {index.size} ids "
            f"({duplicates} repeated, min {index.min() if index.size else None})"
        )
    return index


def _read_parts(
    dataset: str, parts: tuple[str, ...], paths: dict[str, Path], verify: bool
) -> dict[str, Any]:
    """Read, verify and safely unpickle each ``ind.<dataset>.<part>`` file."""
    raw: dict[str, Any] = {}
    for part in parts:
        filename = f"ind.{dataset}.{part}"
        data = read_file(paths[filename], verify_checksums=verify)
        source = str(paths[filename])
        if part in ("x", "tx", "allx"):
            raw[part] = load_sparse(data, source=source)
        elif part in ("y", "ty", "ally"):
            raw[part] = load_dense(data, source=source)
        elif part == "graph":
            raw[part] = load_adjacency(data, source=source)
        else:
            raw[part] = _parse_index(data, source)
    return raw


def _check_consistent(dataset: str, raw: dict[str, Any]) -> None:
    """Cheap cross-file checks, so a mismatched set fails with a clear message."""
    first = len(raw["ally"])
    index = raw["test.index"]
    problems = []
    rows = (raw["tx"].shape[0], raw["ty"].shape[0])
    if rows != (len(index), len(index)):
        problems.append(f"tx/ty have {rows[0]}/{rows[1]} rows, test.index {len(index)}")
    if index.min() != first:
        problems.append(f"test.index starts at {index.min()}, expected len(ally) = {first}")
    widths = {p: raw[p].shape[1] for p in ("x", "tx", "allx") if p in raw}
    if len(set(widths.values())) > 1:
        problems.append(f"feature widths differ: {widths}")
    if "allx" in raw and raw["allx"].shape[0] != first:
        problems.append(f"allx has {raw['allx'].shape[0]} rows, ally {first}")
    if len({raw[p].shape[1] for p in ("y", "ty", "ally")}) > 1:
        problems.append("y/ty/ally have different numbers of classes")
    if problems:
        raise DataError(f"ind.{dataset}.*: inconsistent files ({'; '.join(problems)})")


def _stack_test_rows(head: np.ndarray, test_rows: np.ndarray, test_index: np.ndarray) -> np.ndarray:
    """``vstack(head, test_rows)`` in node order, as the reference code does.

    Args:
      head: ``[A, K]`` rows of nodes ``0..A-1``.
      test_rows: ``[T, K]`` rows of nodes ``test_index`` (file order).
      test_index: int ``[T]``, distinct, ``min == A``; gaps (Citeseer) become zero rows.

    Returns:
      ``[A + max(test_index) - A + 1, K]``.
    """
    ordered = np.sort(test_index)
    extended = np.zeros((ordered[-1] - ordered[0] + 1, head.shape[1]), dtype=head.dtype)
    extended[ordered - ordered[0]] = test_rows
    stacked = np.vstack([head, extended])
    stacked[test_index] = stacked[ordered]
    return stacked


def _labels_from_one_hot(one_hot: np.ndarray) -> np.ndarray:
    """int32 ``[N]`` class ids from ``[N, C]`` one-hot rows; all-zero rows give ``-1``."""
    return np.where(one_hot.any(axis=1), one_hot.argmax(axis=1), -1).astype(np.int32)


def _edges_from_adjacency(
    adjacency: dict[int, list[int]], num_nodes: int, source: str
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Undirected ``(senders, receivers)`` int32 ``[E]`` from a dict of neighbour lists, and
    what was changed (:func:`~jgattr.data._dataset.cleaned_edges`)."""
    try:
        lengths = np.fromiter(map(len, adjacency.values()), dtype=np.int64, count=len(adjacency))
        keys = np.fromiter(adjacency.keys(), dtype=np.int64, count=len(adjacency))
        chained = itertools.chain.from_iterable(adjacency.values())
        neighbours = np.fromiter(chained, dtype=np.int64, count=int(lengths.sum()))
    except (TypeError, ValueError) as err:
        raise DataError(f"{source}: neighbour lists must hold integer node ids ({err})") from None
    senders = np.repeat(keys, lengths)
    bad = (senders < 0) | (senders >= num_nodes) | (neighbours < 0) | (neighbours >= num_nodes)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{source}: {int(bad.sum())} edges name nodes outside [0, {num_nodes}), e.g. "
            f"{senders[i]} -> {neighbours[i]}"
        )
    return cleaned_edges(senders, neighbours, num_nodes)


def _split_masks(num_train: int, test_index: np.ndarray, num_nodes: int) -> tuple[np.ndarray, ...]:
    """Public Planetoid split: bool ``[N]`` train, val and test masks."""
    masks = np.zeros((3, num_nodes), dtype=bool)
    masks[0, :num_train] = True
    masks[1, num_train : num_train + NUM_VAL] = True
    masks[2, test_index] = True
    return masks[0], masks[1], masks[2]


def _assemble(
    name: str, raw: dict[str, Any], features: np.ndarray, normalize_features: bool
) -> Dataset:
    """Labels, graph and split around already assembled ``[N, F]`` features."""
    index = raw["test.index"]
    labels = _labels_from_one_hot(_stack_test_rows(raw["ally"], raw["ty"], index))
    num_nodes = len(labels)
    if len(raw["y"]) + NUM_VAL > len(raw["ally"]):
        raise DataError(f"ind.{name}.y: {len(raw['y'])} train rows leave no room for {NUM_VAL}")
    senders, receivers, changes = _edges_from_adjacency(
        raw["graph"], num_nodes, f"ind.{name}.graph"
    )
    return make_dataset(
        name,
        features=row_normalize(features) if normalize_features else features,
        senders=senders,
        receivers=receivers,
        labels=labels,
        masks=_split_masks(len(raw["y"]), index, num_nodes),
        num_classes=raw["ally"].shape[1],
        edge_changes=changes,
    )


def _dense(matrix: sp.csr_matrix) -> np.ndarray:
    """float32 ``[rows, F]`` copy of a sparse matrix."""
    return matrix.toarray().astype(np.float32, copy=False)


def _stand_in_features(num_rows: int, width: int, reference: np.ndarray) -> np.ndarray:
    """Seeded TF-IDF-like rows: ``STAND_IN_NNZ`` distinct columns each, log-normal values.

    Args:
      num_rows: ``N``.
      width: ``F`` (``>= STAND_IN_NNZ``).
      reference: float ``[M]`` real non-zero values whose mean and std the values match.

    Returns:
      float32 ``[num_rows, width]``, deterministic (seed :data:`STAND_IN_SEED`).
    """
    rng = np.random.default_rng(STAND_IN_SEED)
    keys = rng.random((num_rows, width), dtype=np.float32)
    columns = np.argpartition(keys, STAND_IN_NNZ - 1, axis=1)[:, :STAND_IN_NNZ]
    mean, std = float(reference.mean()), float(reference.std())
    sigma2 = np.log1p((std / mean) ** 2)
    values = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), (num_rows, STAND_IN_NNZ))
    features = np.zeros((num_rows, width), dtype=np.float32)
    np.put_along_axis(features, columns, values.astype(np.float32), axis=1)
    return features


def _structure_features(raw: dict[str, Any]) -> np.ndarray:
    """Pubmed ``[N, 500]``: real rows for train (``x``) and test (``tx``), stand-ins elsewhere."""
    x, tx, index = raw["x"], raw["tx"], raw["test.index"]
    num_nodes = len(raw["ally"]) + int(index.max() - index.min() + 1)
    reference = np.concatenate([x.data, tx.data]).astype(np.float64)
    features = _stand_in_features(num_nodes, x.shape[1], reference)
    features[: x.shape[0]] = _dense(x)
    features[index] = _dense(tx)
    return features


def load_planetoid(
    name: str, *, data_dir: str | os.PathLike | None, normalize: bool, verify: bool, download: bool
) -> Dataset:
    """Locate, verify, unpickle and assemble one of :data:`DATASETS` (lower-case ``name``)."""
    source = "pubmed" if name == "pubmed-structure" else name
    parts = tuple(p for p in _PARTS if not (name == "pubmed-structure" and p == "allx"))
    filenames = [f"ind.{source}.{p}" for p in parts]
    hints = {"ind.pubmed.allx": _ALLX_HINT}
    paths = locate_files(name, filenames, data_dir=data_dir, download=download, hints=hints)
    raw = _read_parts(source, parts, paths, verify)
    _check_consistent(source, raw)
    if name == "pubmed-structure":
        features = _structure_features(raw)
    else:
        features = _stack_test_rows(_dense(raw["allx"]), _dense(raw["tx"]), raw["test.index"])
    return _assemble(name, raw, features, normalize)
