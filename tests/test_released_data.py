"""Twitch EN (raw MUSAE files) and the released GNNExplainer benchmarks (numpy pickles): tiny
files in the released formats, then the real files (skipped without them, failing under CI)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from jgattr.data import (
    ChecksumError,
    DataError,
    UnsafePickleError,
    load_dataset,
    load_graph_dataset,
)
from jgattr.data._gnnexplainer_release import parse_release
from jgattr.data._twitch import TWITCH_SHA256, load_twitch


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A private cache and no ambient data dir or mirrors."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for env in ("JGATTR_DATA_DIR", "JGATTR_TWITCH_URL", "JGATTR_GNNEXPLAINER_URL"):
        monkeypatch.delenv(env, raising=False)


# Five streamers: a path 0-1-2-3 plus 3-4, a duplicate row (1,0) and a self loop (4,4); node 2
# lists feature 1 twice. As released: CRLF lines, mature as True/False, rows by original id.
TWITCH_FILES = {
    "musae_ENGB_edges.csv": "from,to\r\n0,1\r\n1,2\r\n2,3\r\n3,4\r\n1,0\r\n4,4\r\n",
    "musae_ENGB_features.json": json.dumps(
        {"0": [0, 3], "1": [1], "2": [1, 1, 2], "3": [], "4": [3]}
    ),
    "musae_ENGB_target.csv": "id,days,mature,views,partner,new_id\r\n"
    + "".join(
        f"{100 + i},10,{m},5,False,{i}\r\n"
        for i, m in [(3, "True"), (0, "False"), (1, "True"), (4, "False"), (2, "True")]
    ),
}


def _write_twitch(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TWITCH_FILES.items():
        (folder / name).write_text(text, newline="")
    return folder


def test_twitch_parses_the_released_format(tmp_path: Path) -> None:
    ds = load_twitch(data_dir=_write_twitch(tmp_path / "tw"), verify_checksums=False)
    assert (ds.name, ds.num_nodes, ds.num_features, ds.num_classes) == ("twitch:EN", 5, 4, 2)
    assert ds.labels.tolist() == [0, 1, 1, 1, 0]
    assert ds.num_edges == 8  # 4 undirected edges both ways; duplicate and self loop dropped
    assert list(zip(ds.graph.senders.tolist(), ds.graph.receivers.tolist(), strict=True))[:3] == [
        (1, 0),
        (0, 1),
        (2, 1),
    ]
    expected = np.zeros((5, 4), np.float32)
    for node, cols in {0: [0, 3], 1: [1], 2: [1, 2], 4: [3]}.items():
        expected[node, cols] = 1.0
    np.testing.assert_array_equal(ds.graph.nodes, expected)
    assert int(ds.train_mask.sum() + ds.val_mask.sum() + ds.test_mask.sum()) == 5


def test_twitch_checks_the_pinned_sha256_and_names_the_mirror(tmp_path: Path) -> None:
    folder = _write_twitch(tmp_path / "tw")
    with pytest.raises(ChecksumError, match=r"musae_ENGB_target\.csv: SHA-256 .* released"):
        load_dataset("twitch:EN", data_dir=folder)
    with pytest.raises(DataError, match=r"JGATTR_TWITCH_URL .* released inside .*twitch\.zip"):
        load_dataset("Twitch:EN", data_dir=tmp_path / "empty", download=False)
    assert set(TWITCH_SHA256) == set(TWITCH_FILES)


def _release(adj: np.ndarray, labels: np.ndarray, motif: list[tuple[int, int]]) -> tuple:
    n, c = adj.shape[0], int(labels.max()) + 1
    one_hot = np.eye(c)[labels]
    masks = [np.arange(n) % 3 == k for k in range(3)]
    ys = [one_hot * m[:, None] for m in masks]
    elm = np.zeros((n, n))
    for i, j in motif:
        elm[min(i, j), max(i, j)] = 1.0  # upper triangle, as released
    return (adj, np.ones((n, 10)), *ys, *masks, elm)


def _tiny_release() -> tuple:
    """A path 0-1-2 attached to a triangle 3-4-5 (the motif) and an edge 6-7 (a second motif)."""
    adj = np.zeros((8, 8))
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (3, 5), (6, 7), (0, 6)]:
        adj[i, j] = adj[j, i] = 1.0
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    return _release(adj, labels, [(3, 4), (4, 5), (3, 5), (6, 7)])


def test_gnnexplainer_release_becomes_a_dataset_with_ground_truth(tmp_path: Path) -> None:
    path = tmp_path / "syn9.pkl"
    path.write_bytes(pickle.dumps(_tiny_release(), protocol=3))
    ds = load_dataset(path)
    assert (ds.name, ds.num_nodes, ds.num_edges, ds.num_classes) == ("gnnexplainer:syn9", 8, 16, 3)
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert ds.train_mask.tolist() == [True, False, False] * 2 + [True, False]
    truth = ds.ground_truth
    assert truth.motif_id.tolist() == [-1, -1, -1, 0, 0, 0, 1, 1]
    pairs = zip(ds.graph.senders.tolist(), ds.graph.receivers.tolist(), strict=True)
    motif = {(s, r) for (s, r), m in zip(pairs, truth.edge_mask.tolist(), strict=True) if m}
    assert motif == {(3, 4), (4, 3), (4, 5), (5, 4), (3, 5), (5, 3), (6, 7), (7, 6)}


def test_gnnexplainer_release_refuses_code_and_bad_layouts(tmp_path: Path) -> None:
    with pytest.raises(UnsafePickleError, match=r"refused to unpickle global os\.system"):
        parse_release(b"cos\nsystem\n(S'true'\ntR.", "x", "evil.pkl")
    with pytest.raises(DataError, match="expected a tuple of 9 arrays"):
        parse_release(pickle.dumps(_tiny_release()[:8], protocol=3), "x", "short.pkl")
    bad = list(_tiny_release())
    bad[2] = bad[2] * 2  # y_train rows no longer one-hot
    with pytest.raises(DataError, match="must be one-hot"):
        parse_release(pickle.dumps(tuple(bad), protocol=3), "x", "bad.pkl")


def test_gnnexplainer_names_read_syn3_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "gx"
    folder.mkdir()
    (folder / "syn3.pkl").write_bytes(pickle.dumps(_tiny_release(), protocol=3))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert load_dataset("gnnexplainer:syn3", data_dir=folder).num_nodes == 8
    assert sorted(p.name for p in folder.iterdir()) == ["syn3.pkl"]  # nothing beside the user's
    (record,) = (tmp_path / "cache" / "jgattr" / "checksums").glob("*-syn3.pkl.sha256")
    assert record.read_text().split()[1] == str(folder / "syn3.pkl")
    (folder / "syn3.pkl").write_bytes(pickle.dumps(_tiny_release()[::-1], protocol=3))
    with pytest.raises(ChecksumError, match="recorded in"):
        load_dataset("gnnexplainer:syn3", data_dir=folder)
    with pytest.raises(DataError, match="gnnexplainer:syn1, gnnexplainer:syn2"):
        load_dataset("gnnexplainer:syn7", data_dir=folder)


def test_real_twitch_en(real_twitch_dir: Path) -> None:
    ds = load_dataset("twitch:EN", data_dir=real_twitch_dir, download=False)
    assert (ds.num_nodes, ds.num_features, ds.num_classes) == (7126, 3170, 2)
    assert ds.num_edges == 70556  # 35,324 rows; 46 duplicate pairs
    assert int(np.count_nonzero(ds.graph.nodes)) == 147683
    assert int(ds.labels.sum()) == 3888


def test_real_gnnexplainer_syn1_syn2(real_gnnexplainer_dir: Path) -> None:
    shapes = load_dataset("gnnexplainer:syn1", data_dir=real_gnnexplainer_dir, download=False)
    assert (shapes.num_nodes, shapes.num_edges, shapes.num_classes) == (700, 4110, 4)
    assert np.bincount(shapes.labels).tolist() == [300, 160, 160, 80]
    truth = shapes.ground_truth
    assert (int(truth.motif_id.max()) + 1, int(truth.edge_mask.sum())) == (80, 960)
    community = load_dataset("gnnexplainer:syn2", data_dir=real_gnnexplainer_dir, download=False)
    assert (community.num_nodes, community.num_edges, community.num_classes) == (1400, 8920, 8)
    assert int(community.ground_truth.motif_id.max()) + 1 == 160


def test_real_mutag(real_mutag_dir: Path) -> None:
    mutag = load_graph_dataset("tu:MUTAG", data_dir=real_mutag_dir, download=False)
    assert (mutag.num_graphs, mutag.num_nodes, mutag.num_edges) == (188, 3371, 7442)
    assert int(mutag.labels.sum()) == 125


@pytest.mark.slow  # the real BBBP through RDKit (2,050 SMILES)
def test_real_bbbp(real_bbbp_dir: Path) -> None:
    pytest.importorskip("rdkit")
    with pytest.warns(UserWarning, match="skipped 11 of 2050 rows"):
        bbbp = load_graph_dataset("moleculenet:bbbp", data_dir=real_bbbp_dir, download=False)
    assert bbbp.num_graphs == 2039  # 2,050 rows less the 11 SMILES RDKit rejects


def test_unknown_names_list_the_released_datasets() -> None:
    from jgattr.data import RELEASED_DATASETS

    with pytest.raises(DataError, match="unknown dataset 'twitch:FR'") as info:
        load_dataset("twitch:FR")
    assert all(name in str(info.value) for name in RELEASED_DATASETS)
    assert RELEASED_DATASETS[:2] == ("twitch:EN", "gnnexplainer:syn1")
