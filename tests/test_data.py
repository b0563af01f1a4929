"""Tests for ``jgattr.data``: Planetoid assembly, lookup/download/cache, checksums, the restricted
unpickler, ``pubmed-structure`` and ``.npz`` validation.

Most tests read the tiny Planetoid files the tests write (``tiny_planetoid_dir``, see
``tests/conftest.py``); the few that check published numbers read the real files
(``real_planetoid_dir``) and skip without them. Every test gets its own ``XDG_CACHE_HOME`` and a
``JGATTR_DATA_URL`` pointing nowhere, so the real cache and the network are never touched.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import pickletools
import shutil
from pathlib import Path

import numpy as np
import pytest

import jgattr.data
from jgattr.data import (
    DATASETS,
    ChecksumError,
    DataError,
    Dataset,
    UnsafePickleError,
    cache_dir,
    load_dataset,
    load_npz,
    resolve_data_dir,
)
from jgattr.data._fetch import SHA256
from jgattr.data._safe_pickle import load_dense, load_sparse, safe_loads
from tests.planetoid_helpers import TinyPlanetoid

PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
CORA_FILES = [f"ind.cora.{p}" for p in PARTS]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private cache, no ambient data dir, and a download URL that leads nowhere."""
    cache_home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv("JGATTR_DATA_DIR", raising=False)
    monkeypatch.setenv("JGATTR_DATA_URL", (tmp_path / "no-mirror").as_uri())
    return cache_home / "jgattr" / "planetoid"


def _copy(src: Path, dst: Path, names: list[str]) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(src / name, dst / name)
    return dst


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _array_data_offset(pickle_bytes: bytes) -> int:
    """Byte offset of the largest BINSTRING payload (the array data) in a protocol-2 pickle."""
    strings = [
        (len(arg), pos)
        for op, arg, pos in pickletools.genops(pickle_bytes)
        if op.name == "BINSTRING"
    ]
    _, pos = max(strings)
    return pos + 5  # opcode byte + 4-byte length


def _assert_clean_graph(ds: Dataset) -> None:
    g = ds.graph
    s, r = g.senders.astype(np.int64), g.receivers.astype(np.int64)
    assert g.nodes.dtype == np.float32 and g.senders.dtype == np.int32
    assert g.edges is None and g.globals is None
    assert g.n_node.tolist() == [ds.num_nodes] and g.n_edge.tolist() == [ds.num_edges]
    assert not np.any(s == r), "self loops"
    keys = r * ds.num_nodes + s
    assert np.all(np.diff(keys) > 0), "not sorted by (receiver, sender) or duplicated"
    assert np.array_equal(np.sort(s * ds.num_nodes + r), keys), "not symmetric"
    assert s.min() >= 0 and max(s.max(), r.max()) < ds.num_nodes


# --- public surface ----------------------------------------------------------------------------


def test_public_surface() -> None:
    assert sorted(jgattr.data.__all__) == sorted(
        [
            "DATASETS",
            "GRAPH_DATASETS",
            "OGB_DATASETS",
            "RELEASED_DATASETS",
            "ChecksumError",
            "DataError",
            "Dataset",
            "EdgeMap",
            "GraphDataset",
            "GroundTruth",
            "SYNTHETIC",
            "SparseFeatures",
            "UnsafePickleError",
            "ba_2motifs",
            "cache_dir",
            "edge_map",
            "from_networkx",
            "from_pyg",
            "from_scipy",
            "cleaned_edges",
            "edge_changes_line",
            "is_graph_dataset",
            "load_dataset",
            "load_graph_dataset",
            "load_npz",
            "make_graph_dataset",
            "resolve_data_dir",
            "synthetic_dataset",
        ]
    )
    assert DATASETS == ("cora", "citeseer", "pubmed", "pubmed-structure")
    assert issubclass(UnsafePickleError, DataError) and issubclass(ChecksumError, DataError)
    assert issubclass(DataError, ValueError)
    assert len(SHA256) == 24 and "ind.pubmed.allx" in SHA256


# --- Planetoid from a local directory ----------------------------------------------------------


def _raw(folder: Path, name: str, part: str) -> np.ndarray:
    """One raw file as the reference code reads it: dense rows, one-hot rows or the index."""
    path = folder / f"ind.{name}.{part}"
    if part == "test.index":
        return np.loadtxt(path, dtype=np.int64)
    if part in ("x", "tx", "allx"):
        return load_sparse(path.read_bytes(), source=part).toarray()
    return load_dense(path.read_bytes(), source=part)


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_tiny_planetoid_assembly(
    tiny_planetoid_dir: Path, tiny_planetoid: dict[str, TinyPlanetoid], name: str
) -> None:
    """Every node's features, label, edges and split, against what the files were written from."""
    truth = tiny_planetoid[name]
    ds = load_dataset(name, data_dir=tiny_planetoid_dir, normalize_features=False)
    assert ds.name == name and ds.num_classes == truth.spec.num_classes
    assert (ds.num_nodes, ds.num_edges) == (truth.num_nodes, truth.num_edges)
    np.testing.assert_array_equal(ds.graph.nodes, truth.features)
    np.testing.assert_array_equal(ds.labels, truth.labels)
    pairs = zip(ds.graph.senders.tolist(), ds.graph.receivers.tolist(), strict=True)
    assert {(min(s, r), max(s, r)) for s, r in pairs} == truth.edges
    _assert_clean_graph(ds)
    train = truth.num_train
    assert np.flatnonzero(ds.train_mask).tolist() == list(range(train))
    assert np.flatnonzero(ds.val_mask).tolist() == list(range(train, train + 500))
    assert np.flatnonzero(ds.test_mask).tolist() == sorted(truth.test_index.tolist())
    normalized = load_dataset(name, data_dir=tiny_planetoid_dir).graph.nodes
    sums = normalized.sum(axis=1)
    assert np.all(np.isclose(sums, 1.0, atol=1e-5) | (sums == 0))
    assert int((sums == 0).sum()) == len(truth.gap_nodes)


@pytest.mark.parametrize(
    ("name", "n", "e", "f", "c", "split"),
    [
        ("cora", 2708, 10556, 1433, 7, (140, 500, 1000)),
        ("citeseer", 3327, 9104, 3703, 6, (120, 500, 1000)),
    ],
)
def test_planetoid_counts(real_planetoid_dir: Path, name, n, e, f, c, split) -> None:
    ds = load_dataset(name, data_dir=real_planetoid_dir)
    assert ds.name == name
    assert (ds.num_nodes, ds.num_edges, ds.num_features, ds.num_classes) == (n, e, f, c)
    assert ds.graph.nodes.shape == (n, f)
    sizes = tuple(int(m.sum()) for m in (ds.train_mask, ds.val_mask, ds.test_mask))
    assert sizes == split
    assert np.flatnonzero(ds.train_mask).tolist() == list(range(split[0]))
    assert np.flatnonzero(ds.val_mask).tolist() == list(range(split[0], split[0] + 500))
    assert not np.any((ds.train_mask & ds.val_mask) | (ds.val_mask & ds.test_mask))
    _assert_clean_graph(ds)
    sums = ds.graph.nodes.sum(axis=1)
    assert np.all(np.isclose(sums, 1.0, atol=1e-5) | (sums == 0))
    for mask in (ds.train_mask, ds.val_mask, ds.test_mask):
        assert ds.labels[mask].min() >= 0 and ds.labels[mask].max() < c


@pytest.mark.parametrize("data", ["tiny", "real"])
def test_test_rows_follow_test_index(request: pytest.FixtureRequest, data: str) -> None:
    """Test rows follow test.index order, as in the reference ``utils.load_data``."""
    folder = request.getfixturevalue(f"{data}_planetoid_dir")
    ds = load_dataset("cora", data_dir=folder, normalize_features=False)
    order = _raw(folder, "cora", "test.index")
    assert not np.array_equal(order, np.sort(order))  # the file order is not node order
    assert np.array_equal(ds.graph.nodes[order], _raw(folder, "cora", "tx"))
    assert np.array_equal(ds.labels[order], _raw(folder, "cora", "ty").argmax(axis=1))
    num_train = len(_raw(folder, "cora", "y"))
    assert np.array_equal(ds.graph.nodes[:num_train], _raw(folder, "cora", "x"))


def test_real_cora_numbers(real_planetoid_dir: Path) -> None:
    ds = load_dataset("cora", data_dir=real_planetoid_dir, normalize_features=False)
    assert set(np.unique(ds.graph.nodes).tolist()) == {0.0, 1.0}
    assert int(ds.graph.nodes.sum()) == 49216
    assert np.bincount(ds.labels).tolist() == [351, 217, 418, 818, 426, 298, 180]


def _check_gap_nodes(ds: Dataset, folder: Path) -> int:
    """Nodes of the test range missing from test.index are unlabeled, zero and in no split."""
    unlabeled = ds.labels == -1
    assert not np.any(unlabeled & (ds.train_mask | ds.val_mask | ds.test_mask))
    assert np.all(ds.graph.nodes[unlabeled].sum(axis=1) == 0)  # the zero rows of tx_extended
    order = _raw(folder, "citeseer", "test.index")
    gaps = sorted(set(range(order.min(), order.max() + 1)) - set(order.tolist()))
    assert np.flatnonzero(unlabeled).tolist() == gaps
    return int(unlabeled.sum())


def test_citeseer_gap_nodes_tiny(
    tiny_planetoid_dir: Path, tiny_planetoid: dict[str, TinyPlanetoid]
) -> None:
    ds = load_dataset("citeseer", data_dir=tiny_planetoid_dir)
    assert _check_gap_nodes(ds, tiny_planetoid_dir) == 2
    assert tiny_planetoid["citeseer"].gap_nodes == [520, 528]


def test_citeseer_unlabeled_nodes(real_planetoid_dir: Path) -> None:
    ds = load_dataset("citeseer", data_dir=real_planetoid_dir)
    assert _check_gap_nodes(ds, real_planetoid_dir) == 15


def test_name_is_case_insensitive_and_env_dir(
    tiny_planetoid_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JGATTR_DATA_DIR", str(tiny_planetoid_dir))
    ds = load_dataset(" CoRa ")
    assert ds.name == "cora" and ds.num_nodes == 560


def test_unknown_name_lists_datasets() -> None:
    with pytest.raises(DataError, match="unknown dataset 'karate'") as info:
        load_dataset("karate")
    for name in DATASETS:
        assert name in str(info.value)


def test_resolve_data_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" / "jgattr" / "planetoid"
    assert resolve_data_dir() == cache_dir()
    monkeypatch.setenv("JGATTR_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "jgattr" / "planetoid"


# --- download and cache ------------------------------------------------------------------------


def test_download_then_cache_hit(
    tiny_planetoid_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated: Path
) -> None:
    mirror = _copy(tiny_planetoid_dir, tmp_path / "mirror", CORA_FILES)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("JGATTR_DATA_URL", mirror.as_uri())
    first = load_dataset("cora", data_dir=empty)
    assert sorted(p.name for p in _isolated.iterdir()) == sorted(CORA_FILES)  # no *.part left
    for name in CORA_FILES:
        assert _sha256(_isolated / name) == SHA256[name]
    assert list(empty.iterdir()) == []

    monkeypatch.setenv("JGATTR_DATA_URL", (tmp_path / "gone").as_uri())
    second = load_dataset("cora", data_dir=empty)
    assert second.num_edges == first.num_edges == 2418
    assert np.array_equal(second.graph.nodes, first.graph.nodes)


def test_download_with_wrong_hash_leaves_nothing(
    tiny_planetoid_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated: Path
) -> None:
    mirror = _copy(tiny_planetoid_dir, tmp_path / "mirror", CORA_FILES)
    (mirror / "ind.cora.x").write_bytes(b"<html>captive portal</html>")
    monkeypatch.setenv("JGATTR_DATA_URL", mirror.as_uri())
    expected = SHA256["ind.cora.x"]
    with pytest.raises(ChecksumError, match=rf"ind\.cora\.x.*expected {expected}") as info:
        load_dataset("cora", data_dir=tmp_path / "empty")
    assert hashlib.sha256(b"<html>captive portal</html>").hexdigest() in str(info.value)
    assert list(_isolated.iterdir()) == []


def test_published_hashes_are_untouched_outside_tiny_tests() -> None:
    """``tiny_planetoid_dir`` swaps the table only for its test."""
    assert SHA256["ind.cora.x"].startswith("23cfa55d")


# --- checksums ---------------------------------------------------------------------------------


def _corrupt(path: Path, offset: int, value: int) -> None:
    data = bytearray(path.read_bytes())
    assert data[offset] != value
    data[offset] = value
    path.write_bytes(bytes(data))


def test_checksum_mismatch_in_y(tiny_planetoid_dir: Path, tmp_path: Path) -> None:
    data_dir = _copy(tiny_planetoid_dir, tmp_path / "data", CORA_FILES)
    y = data_dir / "ind.cora.y"
    offset = _array_data_offset(y.read_bytes())
    first_zero = bytes(y.read_bytes()[offset : offset + 16]).index(0)  # y[0] is one-hot
    _corrupt(y, offset + first_zero, 1)  # one more 1 in y[0]: still unpickles
    with pytest.raises(ChecksumError) as info:
        load_dataset("cora", data_dir=data_dir)
    message = str(info.value)
    assert str(y) in message and SHA256[y.name] in message and _sha256(y) in message
    assert "verify_checksums=False" in message and "--no-verify-checksums" in message
    ds = load_dataset("cora", data_dir=data_dir, verify_checksums=False)
    # The reference code uses y only for len(y) (the train split); labels come from ally/ty.
    assert int(ds.train_mask.sum()) == 20 and ds.num_nodes == 560


def test_checksum_opt_out_loads_the_altered_data(tiny_planetoid_dir: Path, tmp_path: Path) -> None:
    clean = load_dataset("cora", data_dir=tiny_planetoid_dir)
    data_dir = _copy(tiny_planetoid_dir, tmp_path / "data", CORA_FILES)
    ally = data_dir / "ind.cora.ally"
    label = int(clean.labels[0])
    _corrupt(ally, _array_data_offset(ally.read_bytes()) + 4 * label, 0)  # node 0: one-hot -> 0
    with pytest.raises(ChecksumError, match=r"ind\.cora\.ally"):
        load_dataset("cora", data_dir=data_dir)
    ds = load_dataset("cora", data_dir=data_dir, verify_checksums=False)
    assert ds.labels[0] == -1
    assert np.array_equal(ds.labels[1:], clean.labels[1:])


# --- missing files -----------------------------------------------------------------------------


@pytest.mark.parametrize("download", [False, True])
def test_missing_files_one_error(tmp_path: Path, download: bool, _isolated: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError) as info:
        load_dataset("citeseer", data_dir=empty, download=download)
    message = str(info.value)
    assert type(info.value) is DataError
    assert str(empty) in message and str(_isolated) in message
    for part in PARTS:
        assert f"ind.citeseer.{part}" in message
    assert "JGATTR_DATA_DIR" in message and "--data-dir" in message
    assert ("download=False" in message) != download
    assert ("no-mirror" in message) == download  # the URL that failed is named


def test_only_missing_files_are_named(tiny_planetoid_dir: Path, tmp_path: Path) -> None:
    data_dir = _copy(tiny_planetoid_dir, tmp_path / "data", CORA_FILES[:5])
    with pytest.raises(DataError) as info:
        load_dataset("cora", data_dir=data_dir, download=False)
    message = str(info.value)
    assert "3 Planetoid file(s) not found: ind.cora.ally, ind.cora.graph, ind.cora.test.index" in (
        message
    )
    assert "ind.cora.x" not in message


@pytest.mark.parametrize("download", [False, True])
def test_pubmed_without_allx_suggests_structure(tiny_planetoid_dir: Path, download: bool) -> None:
    with pytest.raises(DataError) as info:
        load_dataset("pubmed", data_dir=tiny_planetoid_dir, download=download)
    message = str(info.value)
    assert "1 Planetoid file(s) not found: ind.pubmed.allx." in message
    assert "pubmed-structure" in message and str(tiny_planetoid_dir) in message


# --- restricted unpickler ----------------------------------------------------------------------


class _Exploit:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_hostile_graph_pickle_is_refused(tiny_planetoid_dir: Path, tmp_path: Path) -> None:
    data_dir = _copy(tiny_planetoid_dir, tmp_path / "data", CORA_FILES)
    marker = tmp_path / "pwned"
    hostile = pickle.dumps(_Exploit(f"touch {marker}"), protocol=2)
    (data_dir / "ind.cora.graph").write_bytes(hostile)

    with pytest.raises(ChecksumError, match=r"ind\.cora\.graph"):
        load_dataset("cora", data_dir=data_dir)
    assert not marker.exists()

    with pytest.raises(UnsafePickleError) as info:
        load_dataset("cora", data_dir=data_dir, verify_checksums=False)
    assert not marker.exists()
    message = str(info.value)
    assert str(data_dir / "ind.cora.graph") in message
    assert f"{os.system.__module__}.system" in message  # posix.system on Linux


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("posix", "system"),
        ("__builtin__", "eval"),
        ("builtins", "eval"),
        ("builtins", "getattr"),
        ("subprocess", "Popen"),
        ("numpy", "load"),
        ("scipy.sparse.csr", "csc_matrix"),
    ],
)
def test_refused_globals(module: str, name: str) -> None:
    payload = f"c{module}\n{name}\n(S'echo hi'\ntR.".encode()
    with pytest.raises(UnsafePickleError, match=rf"evil\.bin: refused .*{module}\.{name}"):
        safe_loads(payload, source="evil.bin")


def test_reconstructor_admits_only_known_classes() -> None:
    payload = b"ccopy_reg\n_reconstructor\n(c__builtin__\nlist\nc__builtin__\nobject\nNtR."
    with pytest.raises(UnsafePickleError, match="_reconstructor"):
        safe_loads(payload, source="evil.bin")


def test_wrong_part_type_and_garbage(tiny_planetoid_dir: Path) -> None:
    y_bytes = (tiny_planetoid_dir / "ind.cora.y").read_bytes()
    with pytest.raises(DataError, match=r"x\.bin: expected a csr_matrix, got ndarray"):
        load_sparse(y_bytes, source="x.bin")
    with pytest.raises(DataError, match=r"y\.bin: not a readable Planetoid pickle"):
        load_dense(y_bytes[:100], source="y.bin")


def test_tiny_files_use_only_the_globals_of_the_real_files(tiny_planetoid_dir: Path) -> None:
    """The tiny files are Python-2 pickles like the published ones, not Python-3 look-alikes."""
    seen = set()
    for path in tiny_planetoid_dir.glob("ind.*"):
        if not path.name.endswith("test.index"):
            ops = pickletools.genops(path.read_bytes())
            seen |= {arg for op, arg, _ in ops if op.name == "GLOBAL"}
    assert seen == {
        "numpy.core.multiarray _reconstruct",
        "numpy ndarray",
        "numpy dtype",
        "scipy.sparse.csr csr_matrix",
        "collections defaultdict",
        "__builtin__ list",
    }


# --- pubmed-structure --------------------------------------------------------------------------


def _normalized_rows(folder: Path, part: str) -> np.ndarray:
    rows = _raw(folder, "pubmed", part)
    return (rows / rows.sum(axis=1, keepdims=True)).astype(np.float32)


def _check_structure(ds: Dataset, folder: Path, num_train: int) -> np.ndarray:
    """Real rows for train (x) and test (tx), stand-ins elsewhere; returns stand-in nnz per row."""
    assert ds.name == "pubmed-structure"
    _assert_clean_graph(ds)
    order = _raw(folder, "pubmed", "test.index")
    np.testing.assert_allclose(ds.graph.nodes[order], _normalized_rows(folder, "tx"), rtol=1e-6)
    np.testing.assert_allclose(ds.graph.nodes[:num_train], _normalized_rows(folder, "x"), rtol=1e-6)
    stand_in = ~(ds.train_mask | ds.test_mask)
    assert int(stand_in.sum()) == ds.num_nodes - num_train - len(order)
    assert np.all(ds.graph.nodes >= 0)
    np.testing.assert_allclose(ds.graph.nodes.sum(axis=1), 1.0, rtol=1e-5)
    again = load_dataset("pubmed-structure", data_dir=folder)
    assert np.array_equal(again.graph.nodes, ds.graph.nodes)
    assert np.array_equal(again.graph.senders, ds.graph.senders)
    return (ds.graph.nodes[stand_in] != 0).sum(axis=1)


def test_pubmed_structure_tiny(
    tiny_planetoid_dir: Path, tiny_planetoid: dict[str, TinyPlanetoid]
) -> None:
    truth = tiny_planetoid["pubmed"]
    ds = load_dataset("pubmed-structure", data_dir=tiny_planetoid_dir)
    assert (ds.num_nodes, ds.num_edges, ds.num_features) == (532, truth.num_edges, 60)
    np.testing.assert_array_equal(ds.labels, truth.labels)
    nnz = _check_structure(ds, tiny_planetoid_dir, truth.num_train)
    assert nnz.tolist() == [50] * (532 - 9 - 20)  # STAND_IN_NNZ distinct columns each


def test_pubmed_structure(real_planetoid_dir: Path) -> None:
    ds = load_dataset("pubmed-structure", data_dir=real_planetoid_dir)
    assert (ds.num_nodes, ds.num_edges, ds.num_features, ds.num_classes) == (19717, 88648, 500, 3)
    sizes = [int(m.sum()) for m in (ds.train_mask, ds.val_mask, ds.test_mask)]
    assert sizes == [60, 500, 1000]
    assert ds.labels.min() == 0 and np.bincount(ds.labels).tolist() == [4103, 7739, 7875]
    nnz = _check_structure(ds, real_planetoid_dir, 60)
    assert len(nnz) == 19717 - 1060
    assert nnz.min() >= 40 and nnz.max() <= 60 and abs(nnz.mean() - 50) < 2


@pytest.mark.parametrize("data", ["tiny", "real"])
def test_pubmed_structure_stand_in_values_match_real_scale(
    request: pytest.FixtureRequest, data: str
) -> None:
    folder = request.getfixturevalue(f"{data}_planetoid_dir")
    ds = load_dataset("pubmed-structure", data_dir=folder, normalize_features=False)
    real = ds.train_mask | ds.test_mask
    fake_values = ds.graph.nodes[~real][ds.graph.nodes[~real] != 0]
    real_values = ds.graph.nodes[real][ds.graph.nodes[real] != 0]
    assert fake_values.min() > 0
    assert abs(fake_values.mean() / real_values.mean() - 1) < 0.05
    assert abs(fake_values.std() / real_values.std() - 1) < 0.1


# --- .npz user graphs --------------------------------------------------------------------------


def _tiny_fields() -> dict[str, np.ndarray]:
    return {
        # 0-1 twice, 1-0 (reverse duplicate), self loop 2-2, 2-3 one direction
        "edge_index": np.array([[0, 0, 1, 2, 2], [1, 1, 0, 2, 3]], dtype=np.int64),
        "features": np.array([[1, 3], [0, 0], [2, 2], [5, 0]], dtype=np.float64),
        "labels": np.array([0, 2, -1, 1]),
        "train_mask": np.array([True, True, False, False]),
        "test_mask": np.array([0, 0, 0, 1], dtype=np.uint8),
    }


def _save(tmp_path: Path, name: str = "tiny", **fields: np.ndarray) -> Path:
    path = tmp_path / f"{name}.npz"
    np.savez(path, **fields)
    return path


def test_npz_round_trip(tmp_path: Path) -> None:
    path = _save(tmp_path, **_tiny_fields())
    ds = load_npz(path)
    assert ds.name == "npz:tiny" and ds.num_classes == 3
    assert (ds.num_nodes, ds.num_edges, ds.num_features) == (4, 4, 2)
    assert ds.graph.senders.tolist() == [1, 0, 3, 2]
    assert ds.graph.receivers.tolist() == [0, 1, 2, 3]
    _assert_clean_graph(ds)
    assert ds.labels.dtype == np.int32 and ds.labels.tolist() == [0, 2, -1, 1]
    assert ds.train_mask.tolist() == [True, True, False, False]
    assert ds.val_mask.tolist() == [False] * 4
    assert ds.test_mask.tolist() == [False, False, False, True]
    np.testing.assert_array_equal(ds.graph.nodes, [[1, 3], [0, 0], [2, 2], [5, 0]])

    normalized = load_dataset(str(path))  # dispatch by suffix; load_dataset normalizes
    np.testing.assert_allclose(normalized.graph.nodes, [[0.25, 0.75], [0, 0], [0.5, 0.5], [1, 0]])
    assert load_dataset(path, normalize_features=False).name == "npz:tiny"  # a PathLike too
    explicit = load_npz(path, normalize_features=True)
    np.testing.assert_array_equal(explicit.graph.nodes, normalized.graph.nodes)


def test_npz_num_classes_field(tmp_path: Path) -> None:
    ds = load_npz(_save(tmp_path, **_tiny_fields(), num_classes=np.int64(5)))
    assert ds.num_classes == 5
    with pytest.raises(
        DataError, match=r"'labels' has 1 values >= num_classes = 2.*labels\[1\] = 2"
    ):
        load_npz(_save(tmp_path, **_tiny_fields(), num_classes=np.int64(2)))


def test_npz_class_count_rule(tmp_path: Path) -> None:
    """Inferred C needs half the ids used; a given C may not exceed max(N, 2 K, max label + 1)."""
    sparse = np.array([0, 5, -1, 5])  # ids 1..4 unused: C = 6 > 2 * 2
    message = _npz_error(tmp_path, labels=sparse)
    assert "labels[1] = 5, which would make 6 classes" in message
    assert "only 2 distinct class ids are used (0, 5)" in message
    assert "store num_classes = 6" in message
    ds = load_npz(_save(tmp_path, **{**_tiny_fields(), "labels": sparse}, num_classes=np.int64(6)))
    assert ds.num_classes == 6
    assert load_npz(_save(tmp_path, **{**_tiny_fields(), "labels": np.array([1, 1, -1, 1])}))
    message = _npz_error(tmp_path, num_classes=np.int64(7))  # N = 4, ids used {0, 1, 2}
    assert "'num_classes' = 7 exceeds the number of nodes (4)" in message
    assert "twice the 3 distinct class ids used and the largest label + 1 (3)" in message
    assert load_npz(_save(tmp_path, **_tiny_fields(), num_classes=np.int64(6))).num_classes == 6


def test_npz_features_need_a_column(tmp_path: Path) -> None:
    message = _npz_error(tmp_path, features=np.zeros((4, 0)))
    assert "'features' must be [N, F] with F >= 1, got (4, 0)" in message
    assert "numpy.ones((4, 1))" in message


def _npz_error(tmp_path: Path, **changes: np.ndarray | None) -> str:
    fields = _tiny_fields()
    for key, value in changes.items():
        if value is None:
            del fields[key]
        else:
            fields[key] = value
    with pytest.raises(DataError) as info:
        load_npz(_save(tmp_path, **fields))
    return str(info.value)


def test_npz_missing_field(tmp_path: Path) -> None:
    message = _npz_error(tmp_path, labels=None)
    assert "missing required field(s) ['labels']" in message


def test_npz_unknown_field(tmp_path: Path) -> None:
    message = _npz_error(tmp_path, train_masks=np.zeros(4, dtype=bool))
    assert "unknown field(s) ['train_masks']" in message


def test_npz_edge_index_shape(tmp_path: Path) -> None:
    message = _npz_error(tmp_path, edge_index=np.array([[0, 1], [1, 2], [2, 3]]))
    assert "'edge_index' must be [2, E], got (3, 2)" in message and "transpose" in message


def test_npz_edge_index_dtype(tmp_path: Path) -> None:
    message = _npz_error(tmp_path, edge_index=np.array([[0.0, 1.0], [1.0, 2.0]]))
    assert "'edge_index' must hold integer node ids, got dtype float64" in message


def test_npz_edge_index_out_of_range(tmp_path: Path) -> None:
    message = _npz_error(tmp_path, edge_index=np.array([[0, 4, 1], [1, 2, -1]]))
    assert "'edge_index' has 2 node ids outside [0, 4)" in message
    assert "edge_index[0, 1] = 4" in message


def test_npz_nan_features(tmp_path: Path) -> None:
    features = np.array([[1, np.nan], [0, 0], [np.inf, 2], [5, 0]])
    message = _npz_error(tmp_path, features=features)
    assert "'features' has NaN or inf" in message and "2 of 4 rows, e.g. row 0" in message


def test_npz_labels(tmp_path: Path) -> None:
    assert "'labels' must be [N] = [4], got (3,)" in _npz_error(tmp_path, labels=np.zeros(3, int))
    message = _npz_error(tmp_path, labels=np.array([0, 1, 0.5, 1]))
    assert "'labels' must hold integer class ids" in message
    message = _npz_error(tmp_path, labels=np.array([0, 1, -2, 1]))
    assert "'labels' has 1 values below -1" in message


def test_npz_bad_mask_shape(tmp_path: Path) -> None:
    message = _npz_error(tmp_path, val_mask=np.zeros(5, dtype=bool))
    assert "'val_mask' must be [N] = [4], got (5,)" in message
    message = _npz_error(tmp_path, train_mask=np.array([0, 2, 0, 0]))
    assert "'train_mask' must be bool (or 0/1)" in message


def test_npz_mask_selects_unlabeled(tmp_path: Path) -> None:
    message = _npz_error(tmp_path, test_mask=np.array([False, False, True, False]))
    assert "'test_mask' selects 1 unlabeled nodes (label -1), e.g. node 2" in message


def test_npz_object_array_refused(tmp_path: Path) -> None:
    labels = np.array([0, 1, None, 1], dtype=object)
    message = _npz_error(tmp_path, labels=labels)
    assert "field 'labels' is an object array" in message and "refused" in message


def test_npz_not_an_archive(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_npz(tmp_path / "absent.npz")
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps({"labels": [1, 2]}))
    with pytest.raises(DataError, match="holds pickled Python objects, which are refused"):
        load_npz(pickled)
    single = tmp_path / "single.npz"
    with single.open("wb") as file:
        np.save(file, np.zeros(3))
    with pytest.raises(DataError, match=r"a single \.npy array, not a \.npz archive"):
        load_npz(single)
    empty = tmp_path / "empty.npz"
    empty.touch()
    with pytest.raises(DataError, match=r"not a valid \.npz file .*this is an empty file"):
        load_npz(empty)
    truncated = tmp_path / "truncated.npz"
    np.savez(truncated, **_tiny_fields())
    truncated.write_bytes(truncated.read_bytes()[:100])
    with pytest.raises(DataError, match=r"not a readable \.npz archive"):
        load_npz(truncated)


# --- Dataset validation ------------------------------------------------------------------------


def test_dataset_post_init_checks(tmp_path: Path) -> None:
    ds = load_npz(_save(tmp_path, **_tiny_fields()))
    fields = {f: getattr(ds, f) for f in ds.__dataclass_fields__}
    with pytest.raises(DataError, match=r"labels must be int32 \[4\], got int64 \[4\]"):
        Dataset(**{**fields, "labels": ds.labels.astype(np.int64)})
    with pytest.raises(DataError, match=r"train_mask must be bool \[4\], got bool \[3\]"):
        Dataset(**{**fields, "train_mask": ds.train_mask[:3]})
    with pytest.raises(DataError, match=r"graph\.nodes must be float32"):
        Dataset(**{**fields, "graph": ds.graph._replace(nodes=ds.graph.nodes.astype(np.float64))})
    with pytest.raises(DataError, match="num_classes must be >= 1"):
        Dataset(**{**fields, "num_classes": 0})
