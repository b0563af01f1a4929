"""Tests for the OGB loader (``jgattr.data._ogb``) and its CSV reader (``jgattr.data._csv_gz``).

Every test writes a tiny zip in the released layout (``arxiv/raw/*.csv.gz``,
``arxiv/split/time/*.csv.gz``) into ``tmp_path`` and pins its hash in place of the published one,
so nothing is downloaded and the real zips are never needed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from jgattr.cli import main
from jgattr.data import OGB_DATASETS, ChecksumError, DataError, _csv_gz, _ogb, load_dataset
from jgattr.data._csv_gz import read_csv_gz
from tests.conftest import REPO

EDGES = [(0, 1), (1, 2), (2, 0), (1, 0), (3, 4), (4, 4), (5, 3)]  # (1,0) repeats, (4,4) loop
NUM_NODES = 6
FEATURES = np.array(
    [
        [0.5, -1.25, 3.0],
        [1e-3, 2.5e2, -0.0],
        [-7.0, 0.125, 1.0],
        [0.1, 0.2, 0.3],
        [9, 8, 7],
        [0, 0, 1],
    ],
    dtype=np.float32,
)
LABELS = [3, 0, 39, 1, 1, 2]
SPLIT = {"train": [0, 1, 2], "valid": [3], "test": [4, 5]}


def _csv(rows) -> bytes:
    return gzip.compress("".join(",".join(map(str, r)) + "\n" for r in rows).encode())


def _members(folder: str = "arxiv", split: str = "time") -> dict[str, bytes]:
    raw, parts = f"{folder}/raw/", f"{folder}/split/{split}/"
    members = {
        raw + "num-node-list.csv.gz": _csv([[NUM_NODES]]),
        raw + "num-edge-list.csv.gz": _csv([[len(EDGES)]]),
        raw + "edge.csv.gz": _csv(EDGES),
        raw + "node-feat.csv.gz": _csv(FEATURES.tolist()),
        raw + "node-label.csv.gz": _csv([[label] for label in LABELS]),
        f"{folder}/RELEASE_v1.txt": b"unused\n",
    }
    members.update(
        {f"{parts}{part}.csv.gz": _csv([[i] for i in ids]) for part, ids in SPLIT.items()}
    )
    return members


def _write_zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A private cache and an OGB mirror that leads nowhere (no network)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("JGATTR_DATA_DIR", raising=False)
    monkeypatch.setenv("JGATTR_OGB_URL", (tmp_path / "no-mirror").as_uri())


def _pin(monkeypatch: pytest.MonkeyPatch, path: Path, name: str = "ogbn-arxiv") -> None:
    spec = _ogb.OGB[name]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    patched = {
        **_ogb.OGB,
        name: _ogb.OgbSpec(spec.archive, spec.folder, spec.split, spec.num_classes, digest),
    }
    monkeypatch.setattr(_ogb, "OGB", patched)


def _tiny(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, members=None) -> Path:
    path = _write_zip(tmp_path / "data" / "arxiv.zip", members or _members())
    _pin(monkeypatch, path)
    return path.parent


def test_names_and_published_pins() -> None:
    assert OGB_DATASETS == ("ogbn-arxiv", "ogbn-products")
    assert {s.archive for s in _ogb.OGB.values()} == {"arxiv.zip", "products.zip"}
    assert all(len(s.sha256) == 64 for s in _ogb.OGB.values())


def test_load_tiny_arxiv_symmetrizes_and_keeps_features(monkeypatch, tmp_path) -> None:
    ds = load_dataset("OGBN-Arxiv", data_dir=_tiny(monkeypatch, tmp_path))
    assert ds.name == "ogbn-arxiv" and ds.num_classes == 40
    np.testing.assert_array_equal(ds.graph.nodes, FEATURES)  # as released, not normalized
    pairs = set(zip(ds.graph.senders.tolist(), ds.graph.receivers.tolist(), strict=True))
    undirected = {(a, b) for a, b in EDGES if a != b}
    assert pairs == undirected | {(b, a) for a, b in undirected}
    assert ds.num_edges == 10  # 5 distinct pairs, both directions; the loop dropped
    np.testing.assert_array_equal(ds.labels, LABELS)
    for mask, part in zip((ds.train_mask, ds.val_mask, ds.test_mask), SPLIT, strict=True):
        np.testing.assert_array_equal(np.flatnonzero(mask), SPLIT[part])


def test_products_layout_and_split_folder(monkeypatch, tmp_path) -> None:
    path = _write_zip(tmp_path / "d" / "products.zip", _members("products", "sales_ranking"))
    _pin(monkeypatch, path, "ogbn-products")
    ds = load_dataset("ogbn-products", data_dir=path.parent)
    assert ds.num_classes == 47 and int(ds.test_mask.sum()) == 2


def test_checksum_mismatch_names_the_zip_and_the_fix(monkeypatch, tmp_path) -> None:
    data_dir = _tiny(monkeypatch, tmp_path)
    _write_zip(data_dir / "arxiv.zip", {**_members(), "arxiv/extra.txt": b"changed"})
    with pytest.raises(ChecksumError, match=r"arxiv\.zip: SHA-256 mismatch.*verify_checksums"):
        load_dataset("ogbn-arxiv", data_dir=data_dir)
    assert load_dataset("ogbn-arxiv", data_dir=data_dir, verify_checksums=False).num_nodes == 6


def test_downloads_into_the_cache_from_the_mirror(monkeypatch, tmp_path) -> None:
    mirror = _tiny(monkeypatch, tmp_path)
    monkeypatch.setenv("JGATTR_OGB_URL", mirror.as_uri())
    ds = load_dataset("ogbn-arxiv")
    assert ds.num_nodes == NUM_NODES
    assert (tmp_path / "xdg-cache" / "jgattr" / "ogb" / "arxiv.zip").is_file()


def test_download_with_the_wrong_hash_writes_nothing(monkeypatch, tmp_path) -> None:
    mirror = _tiny(monkeypatch, tmp_path)
    monkeypatch.setenv("JGATTR_OGB_URL", mirror.as_uri())
    monkeypatch.setattr(
        _ogb,
        "OGB",
        {**_ogb.OGB, "ogbn-arxiv": _ogb.OgbSpec("arxiv.zip", "arxiv", "time", 40, "0" * 64)},
    )
    with pytest.raises(ChecksumError, match="expected 0000"):
        load_dataset("ogbn-arxiv")
    assert not list((tmp_path / "xdg-cache" / "jgattr" / "ogb").iterdir())


def test_missing_zip_says_where_it_looked(tmp_path) -> None:
    with pytest.raises(DataError, match=r"(?s)ogbn-arxiv: arxiv\.zip not found.*JGATTR_OGB_URL"):
        load_dataset("ogbn-arxiv", data_dir=tmp_path / "empty", download=False)


def test_missing_member_is_named(monkeypatch, tmp_path) -> None:
    members = _members()
    del members["arxiv/split/time/valid.csv.gz"]
    with pytest.raises(DataError, match=r"no member arxiv/split/time/valid\.csv\.gz"):
        load_dataset("ogbn-arxiv", data_dir=_tiny(monkeypatch, tmp_path, members))


@pytest.mark.parametrize(
    ("member", "rows", "match"),
    [
        (
            "node-feat.csv.gz",
            [*FEATURES.tolist()[:2], [0.1, "abc", 0.3], *FEATURES.tolist()[3:]],
            r"node-feat\.csv\.gz: line 3 is '0\.1,abc,0\.3': field b'abc'",
        ),
        (
            "node-feat.csv.gz",
            [*FEATURES.tolist()[:4], [1.0, 2.0], FEATURES.tolist()[5]],
            r"node-feat\.csv\.gz: line 5 is '1\.0,2\.0': 2 fields, expected 3",
        ),
        (
            "node-feat.csv.gz",
            [*FEATURES.tolist()[:5], ["nan", 0, 0]],
            r"line 6 is 'nan,0,0': not finite",
        ),
        (
            "edge.csv.gz",
            [*EDGES[:3], (1, 6), *EDGES[4:]],
            r"edge\.csv\.gz: line 4 holds \[1, 6\].*\[0, 6\)",
        ),
        ("edge.csv.gz", EDGES[:-1], r"edge\.csv\.gz: 6 lines of 2 values, expected 7 lines"),
        (
            "node-label.csv.gz",
            [[c] for c in [*LABELS[:1], 40, *LABELS[2:]]],
            r"line 2 holds class 40",
        ),
    ],
    ids=["bad-field", "short-line", "nan", "id-out-of-range", "truncated", "bad-class"],
)
def test_malformed_tables_name_file_and_line(monkeypatch, tmp_path, member, rows, match) -> None:
    members = {**_members(), f"arxiv/raw/{member}": _csv(rows)}
    with pytest.raises(DataError, match=match):
        load_dataset("ogbn-arxiv", data_dir=_tiny(monkeypatch, tmp_path, members))


def test_overlapping_split_is_refused(monkeypatch, tmp_path) -> None:
    members = {**_members(), "arxiv/split/time/test.csv.gz": _csv([[4], [0]])}
    with pytest.raises(DataError, match="1 nodes are in more than one split part"):
        load_dataset("ogbn-arxiv", data_dir=_tiny(monkeypatch, tmp_path, members))


def test_corrupt_member_is_a_data_error(monkeypatch, tmp_path) -> None:
    members = {**_members(), "arxiv/raw/edge.csv.gz": _csv(EDGES)[:-9]}  # gzip cut short
    with pytest.raises(DataError, match=r"edge\.csv\.gz: cannot decompress"):
        load_dataset("ogbn-arxiv", data_dir=_tiny(monkeypatch, tmp_path, members))


def test_blocks_carry_lines_and_count_them(monkeypatch) -> None:
    """Block boundaries inside a line: values and line numbers are as for one block."""
    monkeypatch.setattr(_csv_gz, "BLOCK_BYTES", 7)
    rows = np.arange(60, dtype=np.int64).reshape(20, 3) * 1013
    got = read_csv_gz(io.BytesIO(_csv(rows.tolist())), "t.csv.gz", np.int64)
    np.testing.assert_array_equal(got, rows)
    bad = [*rows.tolist()[:16], [1, 2, "x"], *rows.tolist()[17:]]
    with pytest.raises(DataError, match=r"t\.csv\.gz: line 17 is '1,2,x'"):
        read_csv_gz(io.BytesIO(_csv(bad)), "t.csv.gz", np.int64)


def test_floats_parse_as_python_does_and_last_line_needs_no_newline() -> None:
    text = b"1.5e-3,-2,.25\n3.,1E2,-0.000001\r\n7,8,9"
    got = read_csv_gz(io.BytesIO(gzip.compress(text)), "f.csv.gz", np.float32)
    want = np.array([[1.5e-3, -2, 0.25], [3.0, 100.0, -1e-6], [7, 8, 9]], dtype=np.float32)
    np.testing.assert_array_equal(got, want)


def test_integers_refuse_decimals_and_empty_tables() -> None:
    with pytest.raises(DataError, match=r"line 2 is '2\.5': field b'2\.5'"):
        read_csv_gz(io.BytesIO(gzip.compress(b"1\n2.5\n")), "i.csv.gz", np.int64)
    with pytest.raises(DataError, match="the table is empty"):
        read_csv_gz(io.BytesIO(gzip.compress(b"")), "i.csv.gz", np.int64)
    with pytest.raises(DataError, match="cannot decompress"):
        read_csv_gz(io.BytesIO(b"0,1\n"), "i.csv.gz", np.int64)


@pytest.mark.slow  # configs/ogbn-arxiv.toml trained and explained
def test_shipped_config_trains_and_explains_through_the_cli(tmp_path) -> None:
    """configs/ogbn-arxiv.toml end to end on the tiny zip (its hash is not the pinned one)."""
    data_dir = _write_zip(tmp_path / "data" / "arxiv.zip", _members()).parent
    common = ["--config", str(REPO / "configs" / "ogbn-arxiv.toml"), "--out", str(tmp_path / "run")]
    common += ["--data-dir", str(data_dir), "--no-verify-checksums"]
    assert main(["train", *common, "--epochs", "2"]) == 0
    assert main(["explain", *common, "--methods", "nam"]) == 0
    summary = json.loads((tmp_path / "run" / "train.json").read_text())
    assert summary["dataset"] == "ogbn-arxiv" and summary["epochs"] == 2
    assert (tmp_path / "run" / "attributions_nam" / "index-00000-of-00001.json").is_file()
