"""Tiny Planetoid-format datasets written by the tests, so no test needs the real files.

:func:`write_tiny_planetoid` writes the eight ``ind.<name>.<part>`` files that
:func:`jgattr.data.load_dataset` reads, byte for byte in the format of the Planetoid project's
Python-2 pickles (protocol 2, ``numpy.core.multiarray _reconstruct``, ``scipy.sparse.csr
csr_matrix`` with its old ``__dict__``, ``collections defaultdict`` of ``__builtin__ list``, array
data as ``BINSTRING``), and returns the :class:`TinyPlanetoid` the loader must assemble from them.

The public split needs ``len(y) + 500 <= len(ally)`` (train, then 500 validation nodes), so a tiny
dataset has a little over 500 nodes, but few features, few classes and a sparse graph: loading,
training and explaining its test nodes takes a fraction of a second.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import pickle
import struct
from pathlib import Path

import numpy as np
import scipy.sparse as sp

NUM_VAL = 500


@dataclasses.dataclass(frozen=True)
class TinySpec:
    """How to build one tiny dataset.

    Attributes:
      name: the ``<name>`` of the ``ind.<name>.<part>`` files (``cora``, ``citeseer``, ``pubmed``).
      num_classes: ``C``.
      num_features: ``F``; each class owns ``F // C`` topic columns.
      train_per_class: training nodes per class (``len(y) = C * train_per_class``).
      num_extra: labelled nodes after the validation range that belong to no split (as Cora's).
      num_test: test nodes (rows of ``tx`` / ``ty``).
      gaps: offsets in the test range that are in no file (Citeseer's isolated nodes).
      tfidf: real-valued log-normal features (Pubmed) instead of 0/1 words (Cora, Citeseer).
      parts: the parts written (Pubmed's ``allx`` may be left out, as in the shared folder).
      seed: the generator's seed.
    """

    name: str
    num_classes: int
    num_features: int
    train_per_class: int
    num_extra: int
    num_test: int
    gaps: tuple[int, ...] = ()
    tfidf: bool = False
    parts: tuple[str, ...] = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
    seed: int = 0


TINY_SPECS: dict[str, TinySpec] = {
    "cora": TinySpec("cora", 4, 32, 5, 10, 30, seed=1),
    "citeseer": TinySpec("citeseer", 3, 24, 4, 5, 25, gaps=(3, 11), seed=2),
    "pubmed": TinySpec(
        "pubmed",
        3,
        60,
        3,
        3,
        20,
        tfidf=True,
        parts=("x", "y", "tx", "ty", "ally", "graph", "test.index"),
        seed=3,
    ),
}


@dataclasses.dataclass(frozen=True)
class TinyPlanetoid:
    """What the loader must assemble from the files of one tiny dataset.

    Attributes:
      spec: the :class:`TinySpec` it was built from.
      features: float32 ``[N, F]``, not normalized; gap nodes are zero rows.
      labels: int32 ``[N]``; gap nodes ``-1``.
      edges: the undirected edges as a set of ``(low, high)`` node pairs, no self loops.
      test_index: int64 ``[T]``, the ``test.index`` file order (shuffled, not sorted).
      num_train: ``len(y)``.
    """

    spec: TinySpec
    features: np.ndarray
    labels: np.ndarray
    edges: frozenset[tuple[int, int]]
    test_index: np.ndarray
    num_train: int

    @property
    def num_nodes(self) -> int:
        """``N``."""
        return len(self.labels)

    @property
    def num_edges(self) -> int:
        """Directed edges ``E`` (both directions of every undirected edge)."""
        return 2 * len(self.edges)

    @property
    def gap_nodes(self) -> list[int]:
        """The node ids of the test range that are in no file."""
        return np.flatnonzero(self.labels < 0).tolist()


# --- a Python-2 style protocol-2 pickler --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Global:
    """A ``GLOBAL module name`` opcode, spelled as Python 2 wrote it."""

    module: str
    name: str


class _Py2Pickler(pickle._Pickler):  # the pure-Python pickler: its dispatch table is a dict
    """Writes numpy arrays, csr matrices and neighbour dicts as Python 2 and scipy 0.x did."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)

    def save_ascii(self, obj: str) -> None:
        self.save_py2_str(obj.encode("ascii"))

    def save_global_opcode(self, obj: _Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    def save_dtype(self, obj: np.dtype) -> None:
        self.save_reduce_state(_Global("numpy", "dtype"), (obj.str[1:], 0, 1), obj)
        self.save((3, obj.str[0], None, None, None, -1, -1, 0))
        self.write(pickle.BUILD)

    def save_array(self, obj: np.ndarray) -> None:
        args = (_Global("numpy", "ndarray"), (0,), "b")
        self.save_reduce_state(_Global("numpy.core.multiarray", "_reconstruct"), args, obj)
        self.save((1, obj.shape, obj.dtype, False, np.ascontiguousarray(obj).tobytes()))
        self.write(pickle.BUILD)

    def save_csr(self, obj: sp.csr_matrix) -> None:
        self.save(_Global("scipy.sparse.csr", "csr_matrix"))
        self.write(pickle.EMPTY_TUPLE + pickle.NEWOBJ)
        self.memoize(obj)
        state = {
            "format": "csr",
            "_shape": tuple(int(d) for d in obj.shape),
            "indptr": obj.indptr.astype(np.int32),
            "indices": obj.indices.astype(np.int32),
            "data": obj.data.astype(np.float32),
            "maxprint": 50,
            "_cs_matrix__has_sorted_indices": True,
        }
        self.save(state)
        self.write(pickle.BUILD)

    def save_neighbours(self, obj: collections.defaultdict) -> None:
        self.save_reduce_state(
            _Global("collections", "defaultdict"), (_Global("__builtin__", "list"),), obj
        )
        self._batch_setitems(iter(obj.items()))

    def save_reduce_state(self, func: _Global, args: tuple, obj: object) -> None:
        """``func(*args)`` by ``REDUCE``, memoized as ``obj``; the caller writes the state."""
        self.save(func)
        self.save(args)
        self.write(pickle.REDUCE)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_ascii
    dispatch[_Global] = save_global_opcode
    dispatch[np.dtype] = save_dtype
    dispatch[type(np.dtype("int32"))] = save_dtype
    dispatch[type(np.dtype("float32"))] = save_dtype
    dispatch[np.ndarray] = save_array
    dispatch[sp.csr_matrix] = save_csr
    dispatch[collections.defaultdict] = save_neighbours


def py2_pickle(obj: object) -> bytes:
    """Protocol-2 pickle bytes of ``obj`` in the Planetoid files' Python-2 format."""
    buffer = io.BytesIO()
    _Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


# --- the tiny datasets --------------------------------------------------------------------------


def _labels(spec: TinySpec, rng: np.random.Generator, num_nodes: int) -> np.ndarray:
    """int32 ``[N]``: balanced training labels, random labels elsewhere."""
    num_train = spec.num_classes * spec.train_per_class
    labels = rng.integers(0, spec.num_classes, num_nodes).astype(np.int32)
    labels[:num_train] = np.arange(num_train) % spec.num_classes
    return labels


def _features(spec: TinySpec, rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """float32 ``[N, F]``: three words of the node's class topic and one random word."""
    topic = spec.num_features // spec.num_classes
    features = np.zeros((len(labels), spec.num_features), dtype=np.float32)
    for node, label in enumerate(labels):
        words = label * topic + rng.choice(topic, size=3, replace=False)
        features[node, words] = 1.0
        features[node, rng.integers(spec.num_features)] = 1.0
    if spec.tfidf:
        features *= rng.lognormal(-3.0, 0.4, size=features.shape).astype(np.float32)
    return features


def _neighbours(rng: np.random.Generator, labels: np.ndarray, gaps: np.ndarray) -> dict:
    """Neighbour lists: two same-class neighbours per node, a random one for every fifth node.

    The lists are not symmetric and hold a few self loops and repeated neighbours, as the real
    files do; gap nodes get empty lists.
    """
    neighbours = collections.defaultdict(list)
    by_class = {c: np.setdiff1d(np.flatnonzero(labels == c), gaps) for c in np.unique(labels)}
    for node, label in enumerate(labels):
        if node in gaps:
            neighbours[node] = []
            continue
        picks = rng.choice(by_class[label], size=2).tolist()
        if node % 5 == 0:
            picks.append(int(rng.integers(len(labels))))
        if node % 50 == 0:
            picks += [node, picks[0]]  # a self loop and a repeat
        neighbours[node] = [int(p) for p in picks if p not in gaps]
    return neighbours


def _edge_set(neighbours: dict) -> frozenset[tuple[int, int]]:
    return frozenset((min(a, b), max(a, b)) for a, bs in neighbours.items() for b in bs if a != b)


def _one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    return (labels[:, None] == np.arange(num_classes)).astype(np.int32)


def build_tiny_planetoid(spec: TinySpec) -> tuple[TinyPlanetoid, dict[str, object]]:
    """The dataset and the objects of its files, keyed by part."""
    rng = np.random.default_rng(spec.seed)
    num_train = spec.num_classes * spec.train_per_class
    first_test = num_train + NUM_VAL + spec.num_extra
    num_nodes = first_test + spec.num_test + len(spec.gaps)
    gaps = first_test + np.asarray(spec.gaps, dtype=np.int64)
    labels = _labels(spec, rng, num_nodes)
    features = _features(spec, rng, labels)
    labels[gaps], features[gaps] = -1, 0.0
    neighbours = _neighbours(rng, labels, gaps)
    test_index = rng.permutation(np.setdiff1d(np.arange(first_test, num_nodes), gaps))
    one_hot = _one_hot(labels, spec.num_classes)
    objects = {
        "x": sp.csr_matrix(features[:num_train]),
        "y": one_hot[:num_train],
        "allx": sp.csr_matrix(features[:first_test]),
        "ally": one_hot[:first_test],
        "tx": sp.csr_matrix(features[test_index]),
        "ty": one_hot[test_index],
        "graph": neighbours,
        "test.index": test_index,
    }
    truth = TinyPlanetoid(spec, features, labels, _edge_set(neighbours), test_index, num_train)
    return truth, objects


def write_tiny_planetoid(folder: Path, spec: TinySpec) -> TinyPlanetoid:
    """Write the ``ind.<spec.name>.<part>`` files of ``spec.parts`` into ``folder``."""
    truth, objects = build_tiny_planetoid(spec)
    folder.mkdir(parents=True, exist_ok=True)
    for part in spec.parts:
        path = folder / f"ind.{spec.name}.{part}"
        if part == "test.index":
            path.write_text("".join(f"{i}\n" for i in objects[part]))
        else:
            path.write_bytes(py2_pickle(objects[part]))
    return truth
