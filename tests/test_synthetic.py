"""Tests for the GNNExplainer synthetic benchmarks: counts, graph conventions, ground truth,
determinism and offline loading through ``load_dataset``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import jgattr.data
from jgattr.data import (
    DATASETS,
    SYNTHETIC,
    DataError,
    Dataset,
    GroundTruth,
    load_dataset,
    synthetic_dataset,
)
from jgattr.data._synthetic import _generate

# name: N, C, label counts, motifs, motif size, motif edges (undirected), base edges (undirected),
# noise edges (undirected, all of both halves for ba-community)
COUNTS = {
    "ba-shapes": (700, 4, [300, 80, 160, 160], 80, 5, 6, 1485, 20),
    "ba-community": (1400, 8, [300, 80, 160, 160] * 2, 160, 5, 6, 2 * 1485, 2 * 20),
    "tree-cycles": (871, 2, [511, 360], 60, 6, 6, 510, 9),
    "tree-grid": (1231, 2, [511, 720], 80, 9, 12, 510, 155),
}
INTER = 350  # ba-community edges between the two halves


@pytest.fixture(scope="module", params=SYNTHETIC)
def pair(request) -> tuple[Dataset, Dataset]:
    """(the dataset, its noise-free variant) for one synthetic name, seed 0."""
    name = request.param
    return synthetic_dataset(name), _generate(name, seed=0, noise_fraction=0.0)


def _pairs(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return ds.graph.senders.astype(np.int64), ds.graph.receivers.astype(np.int64)


def _community(ds: Dataset) -> np.ndarray:
    """int ``[N]``: 0 / 1 halves for ba-community, all 0 otherwise."""
    n = ds.num_nodes
    return (np.arange(n) >= n // 2).astype(np.int64) if ds.name == "ba-community" else np.zeros(n)


def _intra(ds: Dataset) -> np.ndarray:
    """bool ``[E]``: the edge stays inside one community (every edge outside ba-community)."""
    s, r = _pairs(ds)
    side = _community(ds)
    return side[s] == side[r]


def _undirected_keys(ds: Dataset, keep: np.ndarray) -> np.ndarray:
    s, r = _pairs(ds)
    return (s * ds.num_nodes + r)[keep & (s < r)]


def _assert_clean_graph(ds: Dataset) -> None:
    g = ds.graph
    s, r = _pairs(ds)
    assert g.nodes.dtype == np.float32 and g.senders.dtype == np.int32
    assert g.receivers.dtype == np.int32 and ds.labels.dtype == np.int32
    assert g.edges is None and g.globals is None
    assert g.n_node.dtype == np.int32 and g.n_edge.dtype == np.int32
    assert g.n_node.tolist() == [ds.num_nodes] and g.n_edge.tolist() == [ds.num_edges]
    assert not np.any(s == r), "self loops"
    keys = r * ds.num_nodes + s
    assert np.all(np.diff(keys) > 0), "not sorted by (receiver, sender) or duplicated"
    assert np.array_equal(np.sort(s * ds.num_nodes + r), keys), "not symmetric"
    assert s.min() >= 0 and max(s.max(), r.max()) < ds.num_nodes


def _arrays(ds: Dataset) -> list[np.ndarray]:
    g, truth = ds.graph, ds.ground_truth
    masks = [ds.train_mask, ds.val_mask, ds.test_mask]
    return [g.nodes, g.senders, g.receivers, ds.labels, *masks, *dataclasses.astuple(truth)]


def _same(a: Dataset, b: Dataset) -> bool:
    pairs = zip(_arrays(a), _arrays(b), strict=True)
    return all(x.shape == y.shape and np.array_equal(x, y) for x, y in pairs)


# --- public surface ----------------------------------------------------------------------------


def test_public_surface() -> None:
    assert SYNTHETIC == ("ba-shapes", "ba-community", "tree-cycles", "tree-grid")
    assert {"SYNTHETIC", "GroundTruth", "synthetic_dataset"} <= set(jgattr.data.__all__)
    assert DATASETS == ("cora", "citeseer", "pubmed", "pubmed-structure")
    for obj in (GroundTruth, synthetic_dataset):
        assert obj.__doc__


# --- counts ------------------------------------------------------------------------------------


def test_counts(pair: tuple[Dataset, Dataset]) -> None:
    ds, clean = pair
    n, c, label_counts, motifs, size, motif_edges, base, noise = COUNTS[ds.name]
    truth = ds.ground_truth
    assert ds.name in SYNTHETIC
    assert (ds.num_nodes, ds.num_classes, ds.num_features) == (n, c, 10)
    assert ds.graph.nodes.shape == (n, 10)
    assert np.bincount(ds.labels, minlength=c).tolist() == label_counts
    assert int(truth.motif_id.max()) + 1 == motifs
    assert np.bincount(truth.motif_id[truth.motif_id >= 0]).tolist() == [size] * motifs
    assert int(truth.edge_mask.sum()) == 2 * motifs * motif_edges
    inter = INTER if ds.name == "ba-community" else 0
    assert clean.num_edges == 2 * (base + motifs * motif_edges + motifs + inter)
    assert ds.num_edges == clean.num_edges + 2 * noise
    # split: a permutation, 80% / 10% / rest, every node in exactly one part, all labelled
    sizes = [int(m.sum()) for m in (ds.train_mask, ds.val_mask, ds.test_mask)]
    assert sizes == [round(0.8 * n), round(0.1 * n), n - round(0.8 * n) - round(0.1 * n)]
    assert np.all(ds.train_mask.astype(int) + ds.val_mask + ds.test_mask == 1)
    assert ds.labels.min() >= 0


def test_exact_split_sizes() -> None:
    expected = {
        "ba-shapes": [560, 70, 70],
        "ba-community": [1120, 140, 140],
        "tree-cycles": [697, 87, 87],
        "tree-grid": [985, 123, 123],
    }
    for name, sizes in expected.items():
        ds = synthetic_dataset(name)
        assert [int(m.sum()) for m in (ds.train_mask, ds.val_mask, ds.test_mask)] == sizes


def test_graph_conventions(pair: tuple[Dataset, Dataset]) -> None:
    for ds in pair:
        _assert_clean_graph(ds)


def test_base_edges(pair: tuple[Dataset, Dataset]) -> None:
    """Base-base edges inside a community, before noise: BA ``10 + 5 * 295``, tree 510."""
    ds, clean = pair
    base = COUNTS[ds.name][6]
    s, r = _pairs(clean)
    on_base = clean.ground_truth.motif_id == -1
    assert int((on_base[s] & on_base[r] & _intra(clean)).sum()) == 2 * base
    if ds.name.startswith("tree"):
        child = np.maximum(s, r)[on_base[s] & on_base[r] & (s < r)]
        parent = np.minimum(s, r)[on_base[s] & on_base[r] & (s < r)]
        assert np.array_equal(np.sort(child), np.arange(1, 511))
        assert np.array_equal(parent, (child - 1) // 2)


def test_barabasi_albert_degrees() -> None:
    """Every BA node has at least m = 5 base neighbours; preferential attachment makes hubs."""
    ds = _generate("ba-shapes", seed=0, noise_fraction=0.0)
    s, r = _pairs(ds)
    base = (s < 300) & (r < 300)
    degree = np.bincount(s[base], minlength=300)
    assert degree.min() >= 5 and degree.sum() == 2 * (10 + 5 * 295)
    assert degree.max() >= 30
    # the first nodes (the complete seed) are the oldest, so on average the best connected
    assert degree[:5].mean() > 3 * np.median(degree)


def test_noise_edges_are_new_edges(pair: tuple[Dataset, Dataset]) -> None:
    ds, clean = pair
    noise = COUNTS[ds.name][7]
    noisy_keys, clean_keys = (
        _undirected_keys(ds, _intra(ds)),
        _undirected_keys(clean, _intra(clean)),
    )
    assert np.isin(clean_keys, noisy_keys).all()
    assert noisy_keys.size - clean_keys.size == noise
    # noise edges are never motif edges, even when they fall inside a motif
    s, r = _pairs(ds)
    motif_id = ds.ground_truth.motif_id
    inside = (motif_id[s] == motif_id[r]) & (motif_id[s] >= 0)
    assert int(ds.ground_truth.edge_mask.sum()) == int(clean.ground_truth.edge_mask.sum())
    assert not np.any(ds.ground_truth.edge_mask & ~inside)


def test_noise_fraction_rounds() -> None:
    # 1% of 2045 / 930 undirected edges and 10% of 1550, rounded
    for name, before, noise in [("ba-shapes", 2045, 20), ("tree-cycles", 930, 9)]:
        assert synthetic_dataset(name).num_edges == 2 * (before + noise)
    assert synthetic_dataset("tree-grid").num_edges == 2 * (1550 + 155)
    assert _generate("tree-grid", seed=0, noise_fraction=0.5).num_edges == 2 * (1550 + 775)


def test_community_edges() -> None:
    ds = synthetic_dataset("ba-community")
    assert int((~_intra(ds)).sum()) == 2 * INTER
    assert not np.any(ds.ground_truth.edge_mask & ~_intra(ds))


# --- ground truth ------------------------------------------------------------------------------


def test_ground_truth_matches_labels(pair: tuple[Dataset, Dataset]) -> None:
    for ds in pair:
        truth = ds.ground_truth
        assert isinstance(truth, GroundTruth)
        assert truth.node_mask.dtype == np.bool_ and truth.node_mask.shape == (ds.num_nodes,)
        assert truth.edge_mask.dtype == np.bool_ and truth.edge_mask.shape == (ds.num_edges,)
        assert truth.motif_id.dtype == np.int32 and truth.motif_id.shape == (ds.num_nodes,)
        motif_label = ds.labels % 4 if ds.name == "ba-community" else ds.labels
        assert np.array_equal(truth.node_mask, motif_label != 0)
        assert np.array_equal(truth.motif_id == -1, ~truth.node_mask)
        s, r = _pairs(ds)
        ends = truth.motif_id[s[truth.edge_mask]], truth.motif_id[r[truth.edge_mask]]
        assert np.all(ends[0] == ends[1]) and np.all(ends[0] >= 0)
        # edge_mask is symmetric: (u, v) is a motif edge iff (v, u) is
        keys = s * ds.num_nodes + r
        reverse = np.searchsorted(keys, r * ds.num_nodes + s, sorter=np.argsort(keys))
        assert np.array_equal(truth.edge_mask, truth.edge_mask[np.argsort(keys)[reverse]])


def test_each_motif_attached_by_one_edge(pair: tuple[Dataset, Dataset]) -> None:
    """Before noise, each motif has one edge leaving it (inside its community), to a base node
    at ``linspace(0, num_base - 1, num_motifs)``."""
    _, clean = pair
    n, _, _, motifs, size, _, _, _ = COUNTS[clean.name]
    motif_id = clean.ground_truth.motif_id
    s, r = _pairs(clean)
    leaving = (motif_id[s] >= 0) & (motif_id[s] != motif_id[r]) & _intra(clean)
    assert np.bincount(motif_id[s[leaving]], minlength=motifs).tolist() == [1] * motifs
    assert np.all(motif_id[r[leaving]] == -1)
    assert not np.any(clean.ground_truth.edge_mask & leaving)
    halves = 2 if clean.name == "ba-community" else 1
    num_base = n // halves - motifs // halves * size
    hosts = np.linspace(0, num_base - 1, motifs // halves).astype(int)
    order = np.argsort(motif_id[s[leaving]])
    half_offset = np.repeat(np.arange(halves) * (n // halves), motifs // halves)
    assert np.array_equal(r[leaving][order], np.tile(hosts, halves) + half_offset)


def test_house_shape() -> None:
    """Each house: roof - two middles, middle - middle, each middle - one bottom, bottom - bottom,
    hanging from a bottom node."""
    ds = _generate("ba-shapes", seed=3, noise_fraction=0.0)
    s, r = _pairs(ds)
    mask = ds.ground_truth.edge_mask
    pairs = np.sort(np.stack([ds.labels[s[mask]], ds.labels[r[mask]]], axis=1), axis=1)
    kinds, counts = np.unique(pairs[pairs[:, 0] <= pairs[:, 1]], axis=0, return_counts=True)
    # directed counts over 80 houses: 1-2 twice, 2-2 once, 2-3 twice, 3-3 once per direction
    assert kinds.tolist() == [[1, 2], [2, 2], [2, 3], [3, 3]]
    assert counts.tolist() == [2 * 2 * 80, 2 * 80, 2 * 2 * 80, 2 * 80]
    motif_degree = np.bincount(s[mask], minlength=ds.num_nodes)
    assert np.all(motif_degree[ds.labels == 1] == 2)
    assert np.all(motif_degree[ds.labels == 2] == 3)
    assert np.all(motif_degree[ds.labels == 3] == 2)
    leaving = ~mask & (ds.labels[s] != 0) & (ds.labels[r] == 0)
    assert np.all(ds.labels[s[leaving]] == 3)


def test_grid_and_cycle_shape() -> None:
    for name, degrees in [("tree-cycles", [2]), ("tree-grid", [2, 3, 4])]:
        ds = synthetic_dataset(name)
        s = ds.graph.senders[ds.ground_truth.edge_mask]
        degree = np.bincount(s, minlength=ds.num_nodes)[ds.ground_truth.node_mask]
        assert np.unique(degree).tolist() == degrees
    grid = synthetic_dataset("tree-grid")
    degree = np.bincount(grid.graph.senders[grid.ground_truth.edge_mask], minlength=1231)[511:]
    # per 3x3 grid: 4 corners (2), 4 sides (3), 1 centre (4)
    assert np.bincount(degree.reshape(80, 9).ravel()).tolist() == [0, 0, 320, 320, 80]


# --- features ----------------------------------------------------------------------------------


def test_features() -> None:
    for name in ("ba-shapes", "tree-cycles", "tree-grid"):
        assert np.all(synthetic_dataset(name).graph.nodes == 1.0)
    ds = synthetic_dataset("ba-community")
    x = ds.graph.nodes
    first, second = x[:700], x[700:]
    assert np.all(first[:, :2].mean(axis=0) < -0.5) and np.all(second[:, :2].mean(axis=0) > 0.5)
    assert np.all(np.abs(x[:, 2:].mean(axis=0)) < 0.2)
    assert np.all(np.abs(x.std(axis=0) - np.r_[np.full(2, np.sqrt(2)), np.ones(8)]) < 0.15)
    assert np.all(np.abs(first.std(axis=0) - 1) < 0.15)
    assert np.array_equal(ds.labels[:700] < 4, np.ones(700, bool))
    assert np.array_equal(ds.labels[700:] >= 4, np.ones(700, bool))


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SYNTHETIC)
def test_deterministic(name: str) -> None:
    assert _same(synthetic_dataset(name, seed=7), synthetic_dataset(name, seed=7))
    assert _same(synthetic_dataset(name), synthetic_dataset(name.upper(), seed=0))
    other = synthetic_dataset(name, seed=1)
    ds = synthetic_dataset(name)
    assert not _same(ds, other)
    same_shape = ds.num_edges == other.num_edges
    assert not (same_shape and np.array_equal(ds.graph.senders, other.graph.senders)), name
    assert not np.array_equal(ds.train_mask, other.train_mask)


def test_ba_community_halves_differ() -> None:
    ds = _generate("ba-community", seed=0, noise_fraction=0.0)
    s, r = _pairs(ds)
    first = (s < 700) & (r < 700)
    second = (s >= 700) & (r >= 700)
    a = np.sort(s[first] * 700 + r[first])
    b = np.sort((s[second] - 700) * 700 + (r[second] - 700))
    assert a.shape == b.shape and not np.array_equal(a, b)


# --- loading and errors ------------------------------------------------------------------------


def test_load_dataset_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cache_home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setenv("JGATTR_DATA_URL", (tmp_path / "no-mirror").as_uri())
    monkeypatch.delenv("JGATTR_DATA_DIR", raising=False)
    ds = load_dataset("BA-Shapes")
    assert ds.name == "ba-shapes" and _same(ds, synthetic_dataset("ba-shapes"))
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("JGATTR_DATA_DIR", str(empty))
    for name in SYNTHETIC:
        loaded = load_dataset(f" {name.title()} ", download=False, normalize_features=True)
        assert loaded.name == name and _same(loaded, synthetic_dataset(name))
    assert _same(load_dataset("tree-grid", data_dir=empty), synthetic_dataset("tree-grid"))
    assert not cache_home.exists() and not any(empty.iterdir())


def test_unknown_names_list_synthetic() -> None:
    with pytest.raises(DataError, match="unknown dataset 'ba-house'") as info:
        load_dataset("ba-house")
    for name in (*DATASETS, *SYNTHETIC):
        assert name in str(info.value)
    with pytest.raises(DataError, match="unknown synthetic dataset 'cora'") as info:
        synthetic_dataset("cora")
    assert all(name in str(info.value) for name in SYNTHETIC)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(DataError, match="seed must be a non-negative int"):
        synthetic_dataset("tree-cycles", seed=seed)


def test_numpy_integer_seed() -> None:
    assert _same(
        synthetic_dataset("tree-cycles", seed=np.int64(5)), synthetic_dataset("tree-cycles", seed=5)
    )


# --- Dataset / GroundTruth validation ----------------------------------------------------------


def test_ground_truth_validation() -> None:
    ds = synthetic_dataset("tree-cycles")
    truth = ds.ground_truth
    fields = {f: getattr(ds, f) for f in ds.__dataclass_fields__}
    short = GroundTruth(truth.node_mask[:-1], truth.edge_mask, truth.motif_id[:-1])
    with pytest.raises(DataError, match=r"ground_truth masks cover 870 nodes / 1878 edges"):
        Dataset(**{**fields, "ground_truth": short})
    with pytest.raises(DataError, match="ground_truth must be a GroundTruth, got dict"):
        Dataset(**{**fields, "ground_truth": {"node_mask": truth.node_mask}})
    with pytest.raises(DataError, match=r"motif_id must be int32 \[871\], got int64 \[871\]"):
        GroundTruth(truth.node_mask, truth.edge_mask, truth.motif_id.astype(np.int64))
    with pytest.raises(DataError, match=r"edge_mask must be bool \[1878\], got int64 \[1878\]"):
        GroundTruth(truth.node_mask, truth.edge_mask.astype(np.int64), truth.motif_id)
    with pytest.raises(DataError, match="node_mask must equal motif_id >= 0; 1 nodes disagree"):
        GroundTruth(np.r_[True, truth.node_mask[1:]], truth.edge_mask, truth.motif_id)
    with pytest.raises(DataError, match="motif_id must be >= -1, got -2"):
        GroundTruth(truth.node_mask, truth.edge_mask, np.where(truth.node_mask, truth.motif_id, -2))


def test_dataset_without_ground_truth_still_works() -> None:
    ds = synthetic_dataset("tree-cycles")
    fields = {
        f: getattr(ds, f)
        for f in ds.__dataclass_fields__
        if f not in ("ground_truth", "edge_changes")
    }
    assert Dataset(**fields).ground_truth is None
    positional = Dataset(*fields.values())
    assert positional.ground_truth is None and positional.num_nodes == 871


def test_noise_fraction_range() -> None:
    with pytest.raises(DataError, match=r"noise_fraction must be in \[0, 1\], got 2"):
        _generate("tree-grid", seed=0, noise_fraction=2)
