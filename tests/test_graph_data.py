"""Tests for the graph-classification datasets: BA-2Motifs, TU files, SMILES CSVs, the loader.

Everything is offline: TU zips and CSVs are written by the tests into ``tmp_path`` and served
from a ``file://`` mirror; every test gets its own ``XDG_CACHE_HOME`` and download URLs that lead
nowhere. The RDKit tests skip without RDKit (``pip install "jgattr[molecules]"``).
"""

from __future__ import annotations

import gzip
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from jgattr.data import (
    GRAPH_DATASETS,
    ChecksumError,
    DataError,
    GraphDataset,
    ba_2motifs,
    is_graph_dataset,
    load_graph_dataset,
)
from jgattr.data._graph_union import scaffold_split


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private cache, no ambient data dir, and download URLs that lead nowhere."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("JGATTR_DATA_DIR", raising=False)
    for env in ("JGATTR_TU_URL", "JGATTR_MOLECULENET_URL"):
        monkeypatch.setenv(env, (tmp_path / "no-mirror").as_uri())
    return tmp_path / "xdg-cache" / "jgattr"


def _check_layout(ds: GraphDataset) -> None:
    """Each graph's edges: both directions, no self loops or duplicates, sorted, inside it."""
    s, r = ds.graph.senders.astype(np.int64), ds.graph.receivers.astype(np.int64)
    keys = r * ds.num_nodes + s
    assert np.all(np.diff(keys) > 0) and not np.any(s == r)
    assert np.array_equal(np.sort(s * ds.num_nodes + r), keys)
    owner = ds.graph_of_node
    edge_owner = np.repeat(np.arange(ds.num_graphs), ds.graph.n_edge)
    assert np.array_equal(owner[s], edge_owner) and np.array_equal(owner[r], edge_owner)


# --- BA-2Motifs ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ba() -> GraphDataset:
    return ba_2motifs(seed=0)


def test_ba_2motifs_shape_and_counts(ba: GraphDataset) -> None:
    assert (ba.name, ba.num_graphs, ba.num_nodes, ba.num_classes) == ("ba-2motifs", 1000, 25000, 2)
    assert ba.graph.nodes.shape == (25000, 10) and np.all(ba.graph.nodes == np.float32(0.1))
    assert np.all(ba.graph.n_node == 25)
    assert np.bincount(ba.labels).tolist() == [500, 500]
    assert ba.class_names == ("house", "cycle")
    # BA tree 19 + join 1 + house 6 / cycle 5 undirected edges: 52 / 50 directed, 51 on average.
    assert np.all(ba.graph.n_edge[ba.labels == 0] == 52)
    assert np.all(ba.graph.n_edge[ba.labels == 1] == 50)
    assert ba.num_edges / ba.num_graphs == 51.0
    _check_layout(ba)


def test_ba_2motifs_split_is_stratified(ba: GraphDataset) -> None:
    masks = np.stack([ba.train_mask, ba.val_mask, ba.test_mask])
    assert np.all(masks.sum(axis=0) == 1)
    for mask, per_class in zip(masks, (400, 50, 50), strict=True):
        assert np.bincount(ba.labels[mask]).tolist() == [per_class, per_class]


def test_ba_2motifs_ground_truth_is_exactly_the_motif(ba: GraphDataset) -> None:
    truth = ba.ground_truth
    local = np.arange(ba.num_nodes) % 25
    assert np.array_equal(truth.node_mask, local >= 20)
    assert np.array_equal(truth.motif_id, np.where(local >= 20, ba.graph_of_node, -1))
    s, r = ba.graph.senders, ba.graph.receivers
    inside = truth.node_mask[s] & truth.node_mask[r]
    assert np.array_equal(truth.edge_mask, inside)  # the join edge has one end in the base
    per_graph = np.add.reduceat(truth.edge_mask, ba.edge_offsets[:-1])
    assert np.all(per_graph[ba.labels == 0] == 12) and np.all(per_graph[ba.labels == 1] == 10)
    degrees = np.bincount(s[truth.edge_mask], minlength=ba.num_nodes).reshape(-1, 25)[:, 20:]
    assert np.all(np.sort(degrees[ba.labels == 0], axis=1) == [2, 2, 2, 3, 3])  # house
    assert np.all(degrees[ba.labels == 1] == 2)  # 5-cycle
    joins = ~truth.node_mask[s] & truth.node_mask[r]
    assert np.all(np.add.reduceat(joins, ba.edge_offsets[:-1]) == 1)


def test_ba_2motifs_graphs_are_connected(ba: GraphDataset) -> None:
    ones = np.ones(ba.num_edges)
    adj = sp.coo_matrix((ones, (ba.graph.senders, ba.graph.receivers)), (ba.num_nodes,) * 2)
    count, component = connected_components(adj, directed=False)
    assert count == ba.num_graphs
    assert np.array_equal(component, ba.graph_of_node)  # components numbered in node order


def test_ba_2motifs_is_deterministic(ba: GraphDataset) -> None:
    again, other = ba_2motifs(seed=0), ba_2motifs(seed=1)
    for field in ("senders", "receivers", "n_edge"):
        assert np.array_equal(getattr(again.graph, field), getattr(ba.graph, field))
    assert np.array_equal(again.train_mask, ba.train_mask)
    assert np.array_equal(again.ground_truth.edge_mask, ba.ground_truth.edge_mask)
    assert not np.array_equal(other.graph.senders, ba.graph.senders)
    assert not np.array_equal(other.train_mask, ba.train_mask)
    assert load_graph_dataset("BA-2Motifs", seed=1).graph.senders.tolist() == (
        other.graph.senders.tolist()
    )


def test_ba_2motifs_small_and_bad_arguments() -> None:
    ds = ba_2motifs(seed=3, num_graphs=5)
    assert ds.labels.tolist() == [0, 0, 0, 1, 1] and ds.num_nodes == 125
    for bad in ({"num_graphs": 1}, {"num_graphs": 2.0}, {"seed": -1}, {"seed": True}):
        with pytest.raises(DataError, match="ba-2motifs"):
            ba_2motifs(**bad)


# --- TU format ----------------------------------------------------------------------------------

# Three graphs: a path 1-2-3 given with a self loop (3, 3) and a duplicate (1, 2); an edge 4-5;
# a triangle 6-7-8. Node labels 0..6 (MUTAG's atoms), graph labels -1 / 1 as in MUTAG.
TU_FILES = {
    "A": "1, 2\n2, 1\n2, 3\n3, 2\n3, 3\n1, 2\n4, 5\n5, 4\n6, 7\n7, 6\n7, 8\n8, 7\n6, 8\n8, 6\n",
    "graph_indicator": "1\n1\n1\n2\n2\n3\n3\n3\n",
    "graph_labels": "-1\n1\n1\n",
    "node_labels": "0\n1\n2\n0\n6\n0\n0\n3\n",
    "edge_labels": "0\n0\n1\n1\n0\n0\n2\n2\n0\n0\n1\n1\n0\n0\n",
}


def _write_tu_zip(path: Path, name: str, files: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for part, text in files.items():
            archive.writestr(f"{name}/{name}_{part}.txt", text)
    return path


def _check_tiny_mutag(ds: GraphDataset) -> None:
    assert ds.name == "tu:MUTAG" and ds.num_graphs == 3 and ds.num_classes == 2
    assert ds.graph.n_node.tolist() == [3, 2, 3] and ds.graph.n_edge.tolist() == [4, 2, 6]
    assert ds.graph.senders.tolist() == [1, 0, 2, 1, 4, 3, 6, 7, 5, 7, 5, 6]
    assert ds.graph.receivers.tolist() == [0, 1, 1, 2, 3, 4, 5, 5, 6, 6, 7, 7]
    assert np.array_equal(ds.graph.nodes, np.eye(7, dtype=np.float32)[[0, 1, 2, 0, 6, 0, 0, 3]])
    assert ds.labels.tolist() == [0, 1, 1]
    assert ds.class_names == ("non-mutagenic", "mutagenic")
    assert ds.node_names.tolist() == ["C", "N", "O", "C", "Br", "C", "C", "F"]
    assert ds.ground_truth is None
    _check_layout(ds)


def test_tu_zip_parsed_like_pyg(tmp_path: Path) -> None:
    _check_tiny_mutag(load_graph_dataset(_write_tu_zip(tmp_path / "MUTAG.zip", "MUTAG", TU_FILES)))


def test_tu_folder_and_generic_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no MUTAG.zip cached
    folder = tmp_path / "MUTAG"
    folder.mkdir()
    for part, text in TU_FILES.items():
        (folder / f"MUTAG_{part}.txt").write_text(text)
    _check_tiny_mutag(load_graph_dataset(folder))
    # the zip extracted into the data folder: tu:MUTAG finds data/MUTAG/ when no MUTAG.zip is there
    _check_tiny_mutag(load_graph_dataset("tu:MUTAG", data_dir=tmp_path, download=False))
    files = {**TU_FILES, "node_labels": "1\n2\n1\n1\n1\n1\n1\n2\n", "graph_labels": "3\n7\n3\n"}
    files["node_attributes"] = "0.5, 1\n" * 8
    ds = load_graph_dataset(_write_tu_zip(tmp_path / "toy.zip", "TOY", files))
    assert ds.name == "tu:TOY" and ds.class_names == ("3", "7") and ds.node_names is None
    assert ds.labels.tolist() == [0, 1, 0]
    assert ds.graph.nodes[0].tolist() == [0.5, 1.0, 1.0, 0.0]  # attributes, then one-hot labels


def test_tu_download_records_and_verifies_the_sha256(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated: Path
) -> None:
    mirror = tmp_path / "mirror"
    _write_tu_zip(mirror / "MUTAG.zip", "MUTAG", TU_FILES)
    monkeypatch.setenv("JGATTR_TU_URL", mirror.as_uri())
    _check_tiny_mutag(load_graph_dataset("tu:MUTAG"))
    cached = _isolated / "tu" / "MUTAG.zip"
    record = cached.with_name("MUTAG.zip.sha256")
    assert cached.read_bytes() == (mirror / "MUTAG.zip").read_bytes() and record.is_file()
    _check_tiny_mutag(load_graph_dataset("tu:MUTAG", download=False))
    _write_tu_zip(cached, "MUTAG", {**TU_FILES, "graph_labels": "1\n1\n-1\n"})
    with pytest.raises(ChecksumError, match=r"MUTAG\.zip: SHA-256 .* recorded in"):
        load_graph_dataset("tu:MUTAG")


def test_tu_missing_file_and_failed_download(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"MUTAG\.zip not found.*download=False"):
        load_graph_dataset("tu:MUTAG", download=False)
    with pytest.raises(DataError, match=r"Download failed"):
        load_graph_dataset("tu:MUTAG")
    data_dir = tmp_path / "data"
    _write_tu_zip(data_dir / "MUTAG.zip", "MUTAG", TU_FILES)
    _check_tiny_mutag(load_graph_dataset("tu:MUTAG", data_dir=data_dir, download=False))


@pytest.mark.parametrize(
    ("part", "text", "message"),
    [
        ("A", TU_FILES["A"] + "8,\n", r"MUTAG_A\.txt: line 15 is '8,', not 2 comma"),
        ("A", TU_FILES["A"] + "8\n", r"MUTAG_A\.txt: line 15 is '8', expected 2"),
        ("A", TU_FILES["A"] + "8, 9\n", r"MUTAG_A\.txt: line 15 has node \[8, 9\], outside 1\.\.8"),
        ("A", TU_FILES["A"] + "3, 4\n", r"MUTAG_A\.txt: line 15 joins nodes of two"),
        ("graph_indicator", "1\n1\n1\n2\n2\n3\n3\n", r"line 11 has node \[7, 8\], outside 1\.\.7"),
        ("node_labels", "0\n" * 7, r"MUTAG_node_labels\.txt: 7 rows, expected .*: 8"),
        ("graph_indicator", "1\n1\n1\n3\n3\n2\n2\n2\n", r"line 6 \(graph 2\) follows graph 3"),
        ("graph_indicator", "1\n1\n1\n1\n1\n3\n3\n3\n", r"graph 2 has no nodes"),
        ("edge_labels", "0\n" * 13, r"MUTAG_edge_labels\.txt: 13 rows, expected .*14"),
        ("graph_labels", "", r"MUTAG_graph_labels\.txt: the file is empty"),
    ],
)
def test_tu_malformed_files_name_the_file_and_line(
    tmp_path: Path, part: str, text: str, message: str
) -> None:
    path = _write_tu_zip(tmp_path / "MUTAG.zip", "MUTAG", {**TU_FILES, part: text})
    with pytest.raises(DataError, match=message):
        load_graph_dataset(path)


def test_tu_bad_archives(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match=r"broken\.zip: not a valid zip file"):
        load_graph_dataset(broken)
    files = {k: v for k, v in TU_FILES.items() if k != "graph_labels"}
    with pytest.raises(DataError, match=r"missing MUTAG_graph_labels\.txt"):
        load_graph_dataset(_write_tu_zip(tmp_path / "MUTAG.zip", "MUTAG", files))
    with pytest.raises(DataError, match=r"exactly one NAME_A\.txt"):
        load_graph_dataset(_write_tu_zip(tmp_path / "none.zip", "X", {"graph_labels": "1\n"}))


# --- the loader ---------------------------------------------------------------------------------


def test_names_and_is_graph_dataset(tmp_path: Path) -> None:
    assert GRAPH_DATASETS == (
        "ba-2motifs",
        "tu:MUTAG",
        "moleculenet:bbbp",
        "moleculenet:bace",
        "moleculenet:tox21",
    )
    assert all(is_graph_dataset(name) for name in GRAPH_DATASETS)
    assert is_graph_dataset("tu:PROTEINS") and is_graph_dataset(tmp_path / "x.csv")
    assert is_graph_dataset("data/MUTAG.zip") and not is_graph_dataset(tmp_path)
    (tmp_path / "X_A.txt").write_text("1, 2\n")
    assert is_graph_dataset(tmp_path)  # a TU folder, unlike any other folder
    for name in ("cora", "ba-shapes", "pubmed-structure", "graph.npz"):
        assert not is_graph_dataset(name)


@pytest.mark.parametrize("name", ["cora", "moleculenet:hiv", "tu:", "", "x.npz"])
def test_bad_names_list_the_valid_forms(name: str) -> None:
    with pytest.raises(DataError, match=r"ba-2motifs|choose one of bbbp, bace, tox21"):
        load_graph_dataset(name)


def test_csv_options_only_for_csv_files() -> None:
    with pytest.raises(DataError, match="local CSV files only"):
        load_graph_dataset("ba-2motifs", split="random")


def test_scaffold_split_follows_deepchem() -> None:
    # Sets by (size, first index) descending: a(5), b(3), d(1, index 9), c(1, index 8).
    train, val, test = scaffold_split(["a"] * 5 + ["b"] * 3 + ["c", "d"])
    assert np.flatnonzero(train).tolist() == list(range(8))
    assert np.flatnonzero(val).tolist() == [9] and np.flatnonzero(test).tolist() == [8]


# --- SMILES -------------------------------------------------------------------------------------

SMILES_CSV = (
    "num,name,p_np,smiles\n"
    "1,ethanol,1,CCO\n"
    "2,benzene,0,c1ccccc1\n"
    "3,broken,1,C1CC\n"
    "4,unlabelled,,CCN\n"
    "5,phenol,0,Oc1ccccc1\n"
    '6,"acetic, acid",1,CC(=O)O\n'
)
AROMATIC = 44 + 11 + 7 + 2 + 5  # after element, degree, implicit valence, charge/radicals, hybrid.


def test_missing_rdkit_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.csv"
    path.write_text(SMILES_CSV)
    monkeypatch.setitem(sys.modules, "rdkit", None)
    with pytest.raises(DataError, match=r'needs RDKit.*pip install "jgattr\[molecules\]"'):
        load_graph_dataset(path, smiles_column="smiles", label_column="p_np")


def test_smiles_graphs_and_features(tmp_path: Path) -> None:
    pytest.importorskip("rdkit")
    path = tmp_path / "m.csv"
    path.write_text(SMILES_CSV)
    with pytest.warns(UserWarning, match=r"m\.csv: skipped 1 of 5 rows .*CSV lines 4\)"):
        ds = load_graph_dataset(path, smiles_column="smiles", label_column="p_np")
    assert ds.name == "csv:m" and ds.num_features == 75 and ds.num_graphs == 4
    assert ds.graph.n_node.tolist() == [3, 6, 7, 4]  # ethanol, benzene, phenol, acetic acid
    assert ds.graph.n_edge.tolist() == [4, 12, 14, 6]  # two directions per bond
    assert ds.labels.tolist() == [1, 0, 0, 1] and ds.class_names == ("0", "1")
    assert ds.node_names.tolist()[:9] == ["C", "C", "O", "C", "C", "C", "C", "C", "C"]
    aromatic = ds.graph.nodes[:, AROMATIC]
    assert aromatic.tolist() == [0, 0, 0] + [1] * 6 + [0] + [1] * 6 + [0] * 4
    oxygen = ds.graph.nodes[2]  # ethanol's O: element 2, degree 1, one H, SP3
    assert oxygen[2] == 1 and oxygen[44 + 1] == 1 and oxygen[75 - 5 + 1] == 1
    assert oxygen[AROMATIC - 5 + 2] == 1
    blocks = np.split(ds.graph.nodes, np.cumsum([44, 11, 7, 2, 5, 1]), axis=1)
    for block in (blocks[0], blocks[1], blocks[2], blocks[4], blocks[6]):
        assert np.all(block.sum(axis=1) == 1)  # one-hot blocks
    _check_layout(ds)
    masks = np.stack([ds.train_mask, ds.val_mask, ds.test_mask])
    assert np.all(masks.sum(axis=0) == 1)
    assert ds.train_mask[1] == ds.train_mask[2]  # benzene and phenol share a scaffold


def test_csv_errors(tmp_path: Path) -> None:
    pytest.importorskip("rdkit")
    path = tmp_path / "m.csv"
    path.write_text(SMILES_CSV)
    with pytest.raises(DataError, match=r"no column 'label'; the columns are \['num'"):
        load_graph_dataset(path, smiles_column="smiles", label_column="label")
    with pytest.raises(DataError, match="needs smiles_column= and label_column="):
        load_graph_dataset(path)
    with pytest.raises(DataError, match="split must be one of scaffold, random, stratified"):
        load_graph_dataset(path, smiles_column="smiles", label_column="p_np", split="kfold")
    path.write_text("smiles,y\nC1CC,1\n")
    with pytest.raises(DataError, match="no row has both a label"), pytest.warns(UserWarning):
        load_graph_dataset(path, smiles_column="smiles", label_column="y")


def test_moleculenet_from_a_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rdkit")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "BBBP.csv").write_text(SMILES_CSV.replace("3,broken,1,C1CC\n", ""))
    rows = ["CCO,1.0,", "c1ccccc1,,", "CCN,0.0,", "CCCl,0.0,", "OCC(O)CO,1.0,"]
    (mirror / "tox21.csv.gz").write_bytes(
        gzip.compress(("smiles,NR-ER,NR-AR\n" + "\n".join(rows) + "\n").encode())
    )
    monkeypatch.setenv("JGATTR_MOLECULENET_URL", mirror.as_uri())
    bbbp = load_graph_dataset("moleculenet:BBBP")
    assert bbbp.name == "moleculenet:bbbp" and bbbp.num_graphs == 4
    assert bbbp.class_names == ("non-permeable", "permeable")
    tox21 = load_graph_dataset("moleculenet:tox21", seed=2)
    assert tox21.num_graphs == 4 and tox21.labels.tolist() == [1, 0, 0, 1]
    assert tox21.class_names == ("inactive", "active")
    assert tox21.node_names.tolist()[-6:] == ["O", "C", "C", "O", "C", "O"]
