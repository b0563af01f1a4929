"""jgattr.viz: NIV scores and figures, deletion curves, saving; all rendered headless (Agg)."""

import subprocess
import sys

import numpy as np
import pytest

import jgattr.viz as viz
from jgattr.viz import curves_figure, niv_figure, niv_panel, niv_scores, save_figure
from jgattr.viz._niv import INNER_RADIUS, MAX_AREA, MIN_AREA, OUTER_RADIUS
from tests.conftest import REPO

# Hand-made neighbourhood of target 7: 1-hop 3, 11, 20, 25, 4 (edge given as 4 -> 7);
# 2-hop 30, 41, 52, 9. Two classes, mixed signs.
TARGET = 7
NODES = np.array([7, 3, 11, 20, 25, 4, 30, 41, 52, 9])
VALUES = np.array([0.9, 1.4, -0.6, 0.3, -1.1, 0.05, 0.8, -0.2, 1.0, -0.4])
EDGES = np.array([[7, 7, 7, 7, 4, 3, 3, 11, 20, 25, 4], [3, 11, 20, 25, 7, 30, 41, 52, 9, 41, 52]])
PRED = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 1])
ONE_HOP = {3, 11, 20, 25, 4}
VALUE_OF = dict(zip(NODES.tolist(), VALUES.tolist(), strict=True))


def _niv(**kw):
    return niv_figure(TARGET, NODES, VALUES, EDGES, PRED, **kw)


def _node_artists(ax) -> dict:
    """node id -> the PathCollection drawing it (gid ``niv-node-<id>``)."""
    out = {}
    for c in ax.collections:
        gid = c.get_gid() or ""
        if gid.startswith("niv-node-"):
            out[int(gid.removeprefix("niv-node-"))] = c
    return out


def _positions(ax) -> dict[int, tuple[float, float]]:
    return {i: tuple(c.get_offsets()[0]) for i, c in _node_artists(ax).items()}


def _texts_by_gid(ax) -> dict[str, str]:
    return {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}


def _ranked_neighbours(values=VALUES, nodes=NODES, target=TARGET) -> list[int]:
    """Neighbour ids by decreasing |score|, ties by id (independent of the implementation)."""
    e = np.exp(values - values.max())
    share = e / e.sum()
    return sorted((int(n) for n in nodes if n != target), key=lambda n: (-share[nodes == n][0], n))


def test_public_surface():
    assert sorted(viz.__all__) == [
        "curves_figure",
        "niv_figure",
        "niv_panel",
        "niv_scores",
        "save_figure",
    ]
    for name in viz.__all__:
        assert getattr(viz, name).__doc__, name


def test_import_does_not_load_matplotlib():
    code = "import sys, jgattr.viz; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0


# --- niv_scores ---------------------------------------------------------------------------------


def test_niv_scores_is_signed_softmax():
    values = np.random.default_rng(0).normal(size=12)
    scores = niv_scores(values)
    np.testing.assert_allclose(np.abs(scores).sum(), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(np.sign(scores), np.sign(values))
    np.testing.assert_array_equal(np.argsort(np.abs(scores)), np.argsort(values))
    np.testing.assert_allclose(np.abs(scores), np.exp(values) / np.exp(values).sum(), rtol=1e-12)


def test_niv_scores_zero_value_gets_zero_and_large_values_do_not_overflow():
    scores = niv_scores(np.array([1000.0, 0.0, -1000.0]))
    np.testing.assert_allclose(scores, [1.0, 0.0, -0.0], atol=1e-300)


@pytest.mark.parametrize("values", [np.array([1.0, np.nan]), np.ones((2, 2)), np.array([])])
def test_niv_scores_rejects_bad_values(values):
    with pytest.raises(ValueError, match="values"):
        niv_scores(values)


# --- niv_figure ---------------------------------------------------------------------------------


def test_niv_draws_target_plus_top_k_and_summarizes_the_rest():
    fig = _niv(top_k=5, label_top=3)
    ax = fig.axes[0]
    drawn = _node_artists(ax)
    ranked = _ranked_neighbours()
    assert len(drawn) == 1 + 5
    assert set(drawn) == {TARGET, *ranked[:5]}
    rest_sum = niv_scores(VALUES)[np.isin(NODES, ranked[5:])].sum()
    assert _texts_by_gid(ax)["niv-summary"] == f"+4 more (sum of scores {rest_sum:.3g})"
    assert ax.get_title() == f"NIV of node {TARGET} (nam)"


def test_niv_labels_top_contributors_and_target():
    ax = _niv(top_k=9, label_top=3).axes[0]
    texts = _texts_by_gid(ax)
    labelled = {int(g.removeprefix("niv-label-")) for g in texts if g.startswith("niv-label-")}
    assert labelled == set(_ranked_neighbours()[:3])
    for node in labelled:
        assert texts[f"niv-label-{node}"] == f"{node}\n{VALUE_OF[node]:.3g}"
    assert texts["niv-target-label"].startswith(f"target {TARGET}\n")
    assert "niv-summary" not in texts  # every neighbour is drawn


def test_niv_legend_lists_classes_signs_and_target():
    ax = _niv().axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["class 0", "class 1", "positive", "negative", "target"]
    named = _niv(class_names=["Theory", "Rule_Learning"]).axes[0]
    assert [t.get_text() for t in named.get_legend().get_texts()][:2] == ["Theory", "Rule_Learning"]


def test_niv_sizes_follow_abs_scores():
    ax = _niv(top_k=9).axes[0]
    drawn = _node_artists(ax)
    ranked = _ranked_neighbours()  # decreasing |score|
    sizes = np.array([drawn[n].get_sizes()[0] for n in ranked])
    assert np.all(np.diff(sizes) <= 0)
    assert sizes.min() >= MIN_AREA
    scores = dict(zip(NODES.tolist(), niv_scores(VALUES).tolist(), strict=True))
    big = max(abs(s) for s in scores.values())
    for n in ranked:  # proportional to |score| above the floor
        np.testing.assert_allclose(
            drawn[n].get_sizes()[0], max(MIN_AREA, MAX_AREA * abs(scores[n]) / big)
        )


def test_niv_sign_and_class_styles():
    from matplotlib.markers import MarkerStyle

    ax = _niv(top_k=9).axes[0]
    drawn = _node_artists(ax)
    scores = dict(zip(NODES.tolist(), niv_scores(VALUES).tolist(), strict=True))
    colour = {}
    for node, pred in zip(NODES.tolist(), PRED.tolist(), strict=True):
        art = drawn[node]
        colour.setdefault(pred, tuple(art.get_facecolor()[0]))
        assert tuple(art.get_facecolor()[0]) == colour[pred]  # one colour per class
        if node == TARGET:
            star = MarkerStyle("*")
            star_path = star.get_path().transformed(star.get_transform())
            np.testing.assert_allclose(art.get_paths()[0].vertices, star_path.vertices)
            continue
        dashes = art.get_linestyle()[0][1]
        assert (dashes is not None) == (scores[node] < 0), node
        assert (art.get_hatch() == "///") == (scores[node] < 0), node
    assert colour[0] != colour[1]


def test_niv_layout_is_deterministic_and_ringed():
    first, again = _positions(_niv().axes[0]), _positions(_niv().axes[0])
    assert first == again
    assert first[TARGET] == (0.0, 0.0)
    for node, (x, y) in first.items():
        if node != TARGET:
            radius = INNER_RADIUS if node in ONE_HOP else OUTER_RADIUS
            assert np.hypot(x, y) == pytest.approx(radius), node
    other_seed = _positions(_niv(seed=1).axes[0])
    assert other_seed != first
    assert {n: round(np.hypot(*p), 9) for n, p in other_seed.items()} == {
        n: round(np.hypot(*p), 9) for n, p in first.items()
    }


def test_niv_edges_only_among_drawn_nodes():
    ax = _niv(top_k=4).axes[0]
    drawn = set(_node_artists(ax))
    pairs = {tuple(sorted(e)) for e in EDGES.T.tolist() if set(e) <= drawn}
    (lines,) = [c for c in ax.collections if c.get_gid() == "niv-edges"]
    assert len(lines.get_segments()) == len(pairs)


def test_niv_hub_draws_only_top_k():
    rng = np.random.default_rng(3)
    nodes = np.arange(61)
    values = rng.normal(size=61)
    edges = np.stack([np.zeros(60, dtype=int), np.arange(1, 61)])
    fig = niv_figure(0, nodes, values, edges, rng.integers(0, 7, 61), top_k=15)
    ax = fig.axes[0]
    assert set(_node_artists(ax)) == {0, *_ranked_neighbours(values, nodes, 0)[:15]}
    assert _texts_by_gid(ax)["niv-summary"].startswith("+45 more (sum of scores ")


def test_niv_degenerate_neighbourhoods():
    alone = niv_figure(5, np.array([5]), np.array([0.0]), np.zeros((2, 0)), np.array([2]))
    assert list(_node_artists(alone.axes[0])) == [5]
    ax = _niv(top_k=0, label_top=0).axes[0]
    assert list(_node_artists(ax)) == [TARGET]
    assert _texts_by_gid(ax)["niv-summary"].startswith("+9 more")
    zeros = niv_figure(TARGET, NODES, np.zeros(10), EDGES, PRED).axes[0]
    sizes = {n: c.get_sizes()[0] for n, c in _node_artists(zeros).items() if n != TARGET}
    assert set(sizes.values()) == {MIN_AREA}  # no contribution: smallest, still visible
    assert "zero" in [t.get_text() for t in zeros.get_legend().get_texts()]


def test_niv_draws_into_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert _niv(ax=right, method="ig") is fig
    assert right.get_title() == f"NIV of node {TARGET} (ig)"
    assert not _node_artists(left)


def test_niv_panel_one_axes_per_method_in_one_layout():
    methods = {"nam": VALUES, "ig": VALUES[::-1].copy(), "saliency": np.abs(VALUES)}
    fig = niv_panel(TARGET, NODES, methods, EDGES, PRED, top_k=4)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == [f"NIV of node {TARGET} ({m})" for m in methods]
    where: dict[int, tuple] = {}
    for ax in fig.axes:
        assert len(_node_artists(ax)) == 5
        for node, pos in _positions(ax).items():
            assert where.setdefault(node, pos) == pos  # same place in every panel


# --- curves -------------------------------------------------------------------------------------


def _line(ax, name):
    (line,) = [ln for ln in ax.lines if ln.get_gid() == f"curve-{name}"]
    return line


def test_curves_figure_lines_band_reference_and_labels():
    levels = np.linspace(0.0, 1.0, 6)
    repeats = 0.8 - 0.1 * levels + np.random.default_rng(0).normal(0, 0.01, (4, 6))
    curves = {"nam": 0.8 - 0.5 * levels, "random": repeats}
    fig = curves_figure(levels, curves, title="cora")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "fraction of 2-hop neighbours deleted"
    assert ax.get_ylabel() == "test accuracy"
    assert ax.get_title() == "cora"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["nam", "random"]
    bands = [c.get_gid() for c in ax.collections]
    assert bands == ["band-random"]  # only the [R, L] curve has a band
    np.testing.assert_allclose(_line(ax, "random").get_ydata(), repeats.mean(axis=0))
    assert _line(ax, "random").get_linestyle() == "--"
    assert _line(ax, "nam").get_linestyle() == "-"
    assert _line(ax, "nam").get_marker() == "o"
    assert ax.get_ylim() == (0.0, 1.0)


def test_curves_figure_free_y_limits_outside_unit_interval():
    fig = curves_figure(np.arange(3), {"loss": np.array([2.0, 1.5, 1.0])}, reference=None)
    assert fig.axes[0].get_ylim() != (0.0, 1.0)


# --- save_figure --------------------------------------------------------------------------------


def test_save_figure_writes_png_and_svg_atomically(tmp_path):
    fig = _niv()
    paths = save_figure(fig, tmp_path / "out" / "niv_7")
    assert paths == [tmp_path / "out" / "niv_7.png", tmp_path / "out" / "niv_7.svg"]
    png, svg = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in svg and svg.rstrip().endswith(b"</svg>")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["niv_7.png", "niv_7.svg"]
    again = save_figure(_niv(), tmp_path / "again" / "niv_7")  # same input -> same files
    assert [p.read_bytes() for p in again] == [png, svg]


def test_save_figure_rejects_image_suffix(tmp_path):
    with pytest.raises(ValueError, match="path_without_suffix"):
        save_figure(_niv(), tmp_path / "niv.png")


# --- bad inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        ({"values": VALUES[:-1]}, "values"),
        ({"values": np.where(NODES == 3, np.nan, VALUES)}, "values"),
        ({"target": 999}, "target"),
        ({"nodes": np.where(NODES == 9, 3, NODES)}, "nodes"),
        ({"nodes": NODES.astype(float)}, "nodes"),
        ({"edges": np.array([[7], [1000]])}, "edges"),
        ({"edges": EDGES[:1]}, "edges"),
        ({"predicted": PRED[:3]}, "predicted"),
        ({"predicted": PRED - 1}, "predicted"),
        ({"class_names": ["only one"]}, "class_names"),
        ({"top_k": -1}, "top_k"),
        ({"label_top": 1.5}, "label_top"),
        ({"method": ""}, "method"),
    ],
)
def test_niv_figure_rejects_bad_input_naming_the_argument(change, argument):
    kw = {"target": TARGET, "nodes": NODES, "values": VALUES, "edges": EDGES, "predicted": PRED}
    kw.update(change)
    with pytest.raises(ValueError, match=argument):
        niv_figure(**kw)


def test_niv_panel_rejects_empty_methods():
    with pytest.raises(ValueError, match="values_by_method"):
        niv_panel(TARGET, NODES, {}, EDGES, PRED)


@pytest.mark.parametrize(
    ("levels", "curves", "argument"),
    [
        (np.ones((2, 3)), {"a": np.ones(3)}, "levels"),
        (np.arange(3), {}, "curves"),
        (np.arange(3), {"nam": np.ones(4)}, r"curves\['nam'\]"),
        (np.arange(3), {"nam": np.array([0.1, np.inf, 0.2])}, r"curves\['nam'\]"),
    ],
)
def test_curves_figure_rejects_bad_input_naming_the_argument(levels, curves, argument):
    with pytest.raises(ValueError, match=argument):
        curves_figure(levels, curves)
