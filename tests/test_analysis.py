"""Dataset-level views against dense numpy on a small random result, and streamed (result folder,
small blocks) equal to in memory."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from jgattr import analysis
from jgattr.attribution import Attributions, open_shards
from jgattr.attribution._shards import ShardWriter

N, C = 30, 3
TARGETS = np.array([4, 0, 7, 11, 2, 9, 21, 15, 28, 5, 13, 17])


def _result(method: str, seed: int, targets=TARGETS, features: int = 0) -> Attributions:
    """Each target scores itself and a random subset of the other nodes, sorted by source id."""
    rng = np.random.default_rng(seed)
    rows, values = [], []
    for target in targets:
        others = rng.choice(np.setdiff1d(np.arange(N), [target]), rng.integers(1, 12), False)
        rows.append(np.sort(np.append(others, target)))
        shape = (rows[-1].shape[0], features) if features else rows[-1].shape[0]
        values.append(rng.normal(size=shape).astype(np.float32))
    sizes = [r.shape[0] for r in rows]
    t = len(targets)
    return Attributions(
        method,
        targets=np.asarray(targets, np.int32),
        classes=np.asarray(targets, np.int32) % C,
        logits=np.zeros(t, np.float32),
        offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        sources=np.concatenate(rows).astype(np.int32),
        values=np.concatenate(values),
        expected=np.full(t, np.nan, np.float32),
        layer_totals=np.zeros((t, 2), np.float32),
    )


def _dense(result: Attributions) -> np.ndarray:
    """``[T, N]`` node relevance, NaN where a source is not scored."""
    dense = np.full((result.num_targets, N), np.nan)
    values = result.values.reshape(result.values.shape[0], -1).sum(axis=1)
    dense[result.rows, result.sources] = values
    return dense


def _write_folder(result: Attributions, folder: Path, block: int) -> Path:
    writer = ShardWriter(folder, "fp", 0, 1)
    starts = list(range(0, result.num_targets, block))
    for index, start in enumerate(starts):
        rows = np.arange(start, min(start + block, result.num_targets))
        writer.write(index, start, result.select(result.targets[rows]))
    writer.finish(result.method, ("node", "node"), len(starts), {})
    return folder


def test_influence_equals_dense_sums() -> None:
    result = _result("m", 0, features=3)
    dense = np.nan_to_num(_dense(result))
    view = analysis.influence(result, N, C, top=5, max_pairs=7)
    np.testing.assert_allclose(view["abs"], np.abs(dense).sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(view["signed"], dense.sum(axis=0), rtol=1e-6, atol=1e-9)
    for c in range(C):
        np.testing.assert_allclose(
            view["per_class"][c], np.abs(dense[result.classes == c]).sum(axis=0), rtol=1e-6
        )
    totals = np.abs(dense).sum(axis=0)
    assert [t["source"] for t in view["top"]] == np.argsort(-totals, kind="stable")[:5].tolist()
    active = np.sort(totals[totals > 0])
    assert view["top1_share"] == pytest.approx(active[-1] / active.sum())
    n = active.size  # Gini as the mean absolute difference over twice the mean
    mad = np.abs(active[:, None] - active[None, :]).sum() / (n * n)
    assert view["gini"] == pytest.approx(mad / (2 * active.mean()))


def _dense_pair(a: np.ndarray, b: np.ndarray, k: int) -> tuple[float, float]:
    common = np.flatnonzero(~np.isnan(a) & ~np.isnan(b))
    x, y = np.abs(a[common]), np.abs(b[common])
    top_x = set(common[np.argsort(-x, kind="stable")[:k]])
    top_y = set(common[np.argsort(-y, kind="stable")[:k]])
    overlap = len(top_x & top_y) / min(k, common.size)
    constant = common.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0
    rho = np.nan if constant else scipy.stats.spearmanr(x, y).statistic
    return overlap, rho


def test_method_agreement_equals_dense_per_target() -> None:
    results = {
        "a": _result("a", 1),
        "b": _result("b", 2, features=2),
        "c": _result("c", 3, targets=TARGETS[::-1][:9]),
    }
    dense = {name: _dense(r) for name, r in results.items()}
    view = analysis.method_agreement(results, C, ks=(2, 5), worst=3, batch_targets=4)
    for first, second in itertools.combinations(results, 2):
        pair = view["per_pair"][f"{first}|{second}"]
        common = sorted(set(results[first].targets) & set(results[second].targets))
        assert pair["targets"].tolist() == common
        for i, target in enumerate(common):
            rows = [int(np.flatnonzero(results[n].targets == target)[0]) for n in (first, second)]
            a, b = dense[first][rows[0]], dense[second][rows[1]]
            for k in (2, 5):
                overlap, rho = _dense_pair(a, b, k)
                assert pair[f"overlap@{k}"][i] == pytest.approx(overlap)
            assert pair["spearman"][i] == pytest.approx(rho, nan_ok=True)
    spearman = np.concatenate([p["spearman"] for p in view["per_pair"].values()])
    assert np.isfinite(spearman).sum() > 10
    means = [row["mean_spearman"] for row in view["worst"]]
    assert means == sorted(means) and len(means) == 3
    summary = view["pairs"]["a|b"]["spearman"]
    assert summary["mean"] == pytest.approx(np.nanmean(view["per_pair"]["a|b"]["spearman"]))


def test_spearman_averages_tied_ranks() -> None:
    tied = _result("t", 4)
    values = np.round(np.abs(tied.values), 0)  # many ties, including zeros
    tied = Attributions(**{**tied.__dict__, "values": values.astype(np.float32)})
    pair = analysis.pair_agreement(tied, _result("u", 5), C)
    dense_t, dense_u = _dense(tied), _dense(_result("u", 5))
    assert pair["targets"].tolist() == sorted(TARGETS.tolist())
    for i, row in enumerate(np.argsort(TARGETS)):
        _, rho = _dense_pair(dense_t[row], dense_u[row], 5)
        assert pair["spearman"][i] == pytest.approx(rho, nan_ok=True)


def test_class_locality_equals_dense_shares() -> None:
    result = _result("m", 6)
    rng = np.random.default_rng(7)
    labels = rng.integers(-1, C, N)
    predicted = rng.integers(0, C, N)
    dense = np.abs(np.nan_to_num(_dense(result)))
    view = analysis.class_locality(result, labels, predicted, C, max_pairs=5)
    for kind, classes in (("true", labels), ("predicted", predicted)):
        for c in range(C):
            same = other = same_n = other_n = 0.0
            for t, target in enumerate(result.targets):
                if classes[target] != c:
                    continue
                scored = ~np.isnan(_dense(result)[t])
                scored[target] = False
                hit = scored & (classes == c)
                same, other = same + dense[t, hit].sum(), other + dense[t, scored].sum()
                same_n, other_n = same_n + hit.sum(), other_n + scored.sum()
            got = view[f"{kind}_share"][c]
            assert got == pytest.approx(same / other if other else np.nan, nan_ok=True)
            assert view[f"{kind}_baseline"][c] == pytest.approx(same_n / other_n, nan_ok=True)
    own = labels[result.targets]
    for c in range(C):
        rows = np.flatnonzero(own == c)
        on_self = dense[rows, result.targets[rows]].sum()
        assert view["self_share"][c] == pytest.approx(on_self / dense[rows].sum())
    empty = analysis.class_locality(result, labels, predicted, C + 1)  # class C has no target
    assert empty["true_share"][C] is None and json.loads(json.dumps(empty)) == empty


def test_label_relevance_and_mask_share_equal_dense() -> None:
    result = _result("m", 8)
    dense = np.nan_to_num(_dense(result))
    node_labels = np.arange(N) % 4
    view = analysis.label_relevance(result, node_labels, ("C", "N", "O", "F"), C, max_pairs=3)
    for c, label in itertools.product(range(C), range(4)):
        block = dense[result.classes == c][:, node_labels == label]
        assert view["signed"][c][label] == pytest.approx(block.sum(), abs=1e-9)
        assert view["abs"][c][label] == pytest.approx(np.abs(block).sum(), abs=1e-9)
        share = np.abs(block).sum() / np.abs(dense[result.classes == c]).sum()
        pairs = (~np.isnan(_dense(result)[result.classes == c])) & (node_labels == label)
        fraction = pairs.sum() / (~np.isnan(_dense(result)[result.classes == c])).sum()
        assert view["share"][c][label] == pytest.approx(share)
        assert view["enrichment"][c][label] == pytest.approx(share / fraction)
    mask = node_labels == 2
    targets, _, share = analysis.mask_share(result, mask, max_pairs=4)
    assert targets.tolist() == TARGETS.tolist()
    np.testing.assert_allclose(share, np.abs(dense[:, mask]).sum(1) / np.abs(dense).sum(1))


def test_nitro_mask_finds_no2_only() -> None:
    atoms = np.array(["C", "N", "O", "O", "N", "O", "C"])  # C-N(=O)O is nitro; C-N-O is not
    bonds = [(0, 1), (1, 2), (1, 3), (0, 4), (4, 5), (4, 6)]
    s = np.array([a for a, b in bonds] + [b for a, b in bonds])
    r = np.array([b for a, b in bonds] + [a for a, b in bonds])
    assert analysis.nitro_mask(s, r, atoms).tolist() == [0, 1, 1, 1, 0, 0, 0]


def test_streamed_folder_equals_in_memory(tmp_path: Path) -> None:
    results = {"a": _result("a", 9, features=2), "b": _result("b", 10)}
    folders = {n: open_shards(_write_folder(r, tmp_path / n, 5)) for n, r in results.items()}
    assert len(folders["a"].shards) == 3
    memory = analysis.influence(results["a"], N, C)
    streamed = analysis.influence(folders["a"], N, C, max_pairs=4)
    np.testing.assert_allclose(streamed["per_class"], memory["per_class"], rtol=1e-6)
    assert [t["source"] for t in streamed["top"]] == [t["source"] for t in memory["top"]]
    assert streamed["num_targets"] == 12 and streamed["gini"] == pytest.approx(memory["gini"])
    labels = np.arange(N) % C
    local = analysis.class_locality(tmp_path / "a", labels, labels, C, max_pairs=3)
    for name, values in analysis.class_locality(results["a"], labels, labels, C).items():
        if name != "method":
            np.testing.assert_allclose(local[name], values, rtol=1e-6)
    in_memory = analysis.method_agreement(results, C)
    from_folders = analysis.method_agreement(folders, C, batch_targets=5)
    for name, values in in_memory["per_pair"]["a|b"].items():
        np.testing.assert_allclose(from_folders["per_pair"]["a|b"][name], values, rtol=1e-6)
    worst = [(w["target"], w["class"]) for w in in_memory["worst"]]
    assert [(w["target"], w["class"]) for w in from_folders["worst"]] == worst


def test_view_figures_draw_what_they_are_given() -> None:
    from jgattr.viz import agreement_figure, grouped_bars_figure, influence_figure

    degree = np.array([1, 2, 3, 4, 0, 6])
    fig = influence_figure(degree, np.array([1.0, 2, 0, 4, 5, 6]), np.array([0, 1, 1, 0, -1, -1]))
    points = {c.get_gid(): len(c.get_offsets()) for c in fig.axes[0].collections}
    assert points == {"class-0": 2, "class-1": 1, "class--1": 1}  # influence 0 / degree 0 left out
    with pytest.raises(ValueError, match="one length"):
        influence_figure(degree, np.ones(3), np.zeros(6))
    view = analysis.method_agreement({"a": _result("a", 1), "b": _result("b", 2)}, C)
    fig = agreement_figure(view["per_pair"])
    assert len(fig.axes) == 3 and fig.axes[0].get_yticklabels()[0].get_text() == "a vs b"
    fig = grouped_bars_figure({"m": [0.2, 0.5], "n": [0.1, -0.3]}, ["C", "N"], ylabel="share")
    heights = [p.get_height() for p in fig.axes[0].patches if p.get_gid() == "bars-n"]
    assert heights == [0.1, -0.3]


def test_iter_blocks_bounds_pairs_and_covers_every_row(tmp_path: Path) -> None:
    result = _result("a", 11)
    folder = _write_folder(result, tmp_path / "a", 5)
    for source in (result, folder):
        blocks = list(analysis.iter_blocks(source, max_pairs=6))
        sizes = [np.diff(b.offsets) for b in blocks]
        assert all(s.sum() <= 6 or s.size == 1 for s in sizes)
        assert np.concatenate([b.targets for b in blocks]).tolist() == TARGETS.tolist()
        np.testing.assert_array_equal(np.concatenate([b.values for b in blocks]), result.values)
    with pytest.raises(ValueError, match="max_pairs must be >= 1, got 0"):
        next(analysis.iter_blocks(result, max_pairs=0))
    with pytest.raises(ValueError, match="does not exist"):
        analysis.open_result(tmp_path / "missing")


def test_agreement_tolerates_a_source_listed_twice() -> None:
    first = _result("a", 12)
    sources = first.sources.copy()
    sources[1] = sources[0]  # the first target lists one source twice
    repeated = Attributions(**{**first.__dict__, "sources": sources})
    pair = analysis.pair_agreement(repeated, _result("b", 13), C)
    assert pair["targets"].tolist() == sorted(TARGETS.tolist())
    assert np.isfinite(pair["spearman"]).sum() >= 8
