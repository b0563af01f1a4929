"""jgattr.viz: NIV scores and figures, deletion curves, saving; all rendered headless (Agg)."""

import subprocess
import sys

import numpy as np
import pytest

import jgattr.viz as viz
from jgattr.viz import (
    curves_figure,
    niv_figure,
    niv_panel,
    niv_scores,
    save_figure,
    subgraph_figure,
)
from jgattr.viz._niv_style import CONTEXT_AREA, MAX_AREA, MIN_AREA, RING, TARGET_MIN_AREA
from jgattr.viz._subgraph import undirected_scores
from tests.conftest import REPO

# Hand-made neighbourhood of target 7: 1-hop 3, 11, 20, 25, 4 (edge given as 4 -> 7);
# 2-hop 30, 41, 52, 9. Two classes, mixed signs. By |value|: 3, 25, 52, 30, 11, 9, 20, 41, 4.
TARGET = 7
NODES = np.array([7, 3, 11, 20, 25, 4, 30, 41, 52, 9])
VALUES = np.array([0.9, 1.4, -0.6, 0.3, -1.1, 0.05, 0.8, -0.2, 1.0, -0.4])
EDGES = np.array([[7, 7, 7, 7, 4, 3, 3, 11, 20, 25, 4], [3, 11, 20, 25, 7, 30, 41, 52, 9, 41, 52]])
PRED = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 1])
ONE_HOP = {3, 11, 20, 25, 4}
HOPS = {7: 0, **dict.fromkeys(ONE_HOP, 1), **dict.fromkeys((30, 41, 52, 9), 2)}
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


def _context_artists(ax) -> set[int]:
    return {
        int(c.get_gid().removeprefix("niv-context-"))
        for c in ax.collections
        if (c.get_gid() or "").startswith("niv-context-")
    }


def _key(ax):
    """The legend under a panel: the summary as its title, the size key as its entries."""
    (key,) = [c for c in ax.get_children() if c.get_gid() == "niv-key"]
    return key


def _edge_pairs(ax, gid="niv-edges") -> set[tuple]:
    """Drawn edges as sorted pairs of node ids, read back from the segment end points."""
    where = {p: n for n, p in _positions(ax).items()}
    where |= {tuple(c.get_offsets()[0]): n for n, c in _context_by_id(ax).items()}
    (lines,) = [c for c in ax.collections if c.get_gid() == gid]
    return {tuple(sorted((where[tuple(a)], where[tuple(b)]))) for a, b in lines.get_segments()}


def _context_by_id(ax) -> dict:
    return {
        int(c.get_gid().removeprefix("niv-context-")): c
        for c in ax.collections
        if (c.get_gid() or "").startswith("niv-context-")
    }


def _texts(fig) -> list:
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _ranked_neighbours(values=VALUES, nodes=NODES, target=TARGET) -> list[int]:
    """Neighbour ids by decreasing |value|, ties by id (independent of the implementation)."""
    size = {int(n): abs(float(v)) for n, v in zip(nodes, values, strict=True)}
    return sorted((n for n in size if n != target), key=lambda n: (-size[n], n))


def test_public_surface():
    assert sorted(viz.__all__) == [
        "agreement_figure",
        "curves_figure",
        "graph_layout",
        "graph_panels",
        "grouped_bars_figure",
        "influence_figure",
        "niv_figure",
        "niv_panel",
        "niv_scores",
        "save_figure",
        "subgraph_figure",
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


def test_niv_draws_target_plus_top_k_by_abs_relevance_and_summarizes_the_rest():
    ax = _niv(top_k=5, label_top=3, unit="logit").axes[0]
    drawn = _node_artists(ax)
    ranked = _ranked_neighbours()
    assert ranked[:5] == [3, 25, 52, 30, 11]  # |value| order: a negative (25) ranks second
    assert set(drawn) == {TARGET, *ranked[:5]}
    rest = VALUES[np.isin(NODES, ranked[5:])].sum()
    assert _key(ax).get_title().get_text() == (
        f"target + top 5 of 9 neighbours by |relevance|;\nthe other 4 sum to {rest:+.3g} logit"
        "\nnode area ∝ |relevance|:"
    )
    assert ax.get_title() == f"NIV of node {TARGET} (nam)"


def test_niv_labels_top_contributors_and_target_with_signed_values():
    ax = _niv(top_k=9, label_top=3).axes[0]
    texts = _texts_by_gid(ax)
    labelled = {int(g.removeprefix("niv-label-")) for g in texts if g.startswith("niv-label-")}
    assert labelled == set(_ranked_neighbours()[:3])
    for node in labelled:
        assert texts[f"niv-label-{node}"] == f"{node}\n{VALUE_OF[node]:+.3g}"
    assert texts["niv-target-label"] == f"target {TARGET}\n+0.9"
    assert "the other" not in _key(ax).get_title().get_text()  # every neighbour is drawn


def test_niv_legend_lists_classes_signs_and_markers():
    ax = _niv().axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["class 0", "class 1", "positive", "negative", "target"]
    named = _niv(class_names=["Theory", "Rule_Learning"]).axes[0]
    assert [t.get_text() for t in named.get_legend().get_texts()][:2] == ["Theory", "Rule_Learning"]
    context = _niv(top_k=2, highlight=[20, 9]).axes[0]
    assert [t.get_text() for t in context.get_legend().get_texts()][-2:] == [
        "not in top 2: on the path to the target",
        "highlighted",
    ]


def test_niv_sizes_follow_abs_relevance_with_a_stated_scale():
    ax = _niv(top_k=9, unit="logit").axes[0]
    drawn = _node_artists(ax)
    big = np.abs(VALUES).max()
    for n in _ranked_neighbours():  # proportional to |value| above the floor
        np.testing.assert_allclose(
            drawn[n].get_sizes()[0], max(MIN_AREA, MAX_AREA * abs(VALUE_OF[n]) / big)
        )
    assert drawn[TARGET].get_sizes()[0] == max(TARGET_MIN_AREA, MAX_AREA * 0.9 / big)
    key = [t.get_text() for t in _key(ax).get_texts()]
    assert key == ["|relevance| = 1.4 logit", "|relevance| = 0.35 logit"]


def test_niv_small_relevances_stay_readable_unlike_the_softmax_score():
    # SIG-LID-IG-like relevances (0.01-0.03): the paper's softmax score is nearly uniform.
    values = np.linspace(0.01, 0.03, NODES.size)
    by_value = _node_artists(niv_figure(TARGET, NODES, values, EDGES, PRED, top_k=9).axes[0])
    sizes = [c.get_sizes()[0] for n, c in by_value.items() if n != TARGET]
    assert max(sizes) / min(sizes) > 2.4  # 0.03 / 0.0122
    scores = niv_scores(values)
    assert np.abs(scores).max() / np.abs(scores).min() < 1.03
    by_score = niv_figure(TARGET, NODES, values, EDGES, PRED, top_k=9, size_by="niv_score")
    assert _key(by_score.axes[0]).get_title().get_text().endswith("node area ∝ |NIV score|:")
    for n, c in _node_artists(by_score.axes[0]).items():
        if n != TARGET:
            share = (
                abs(dict(zip(NODES.tolist(), scores.tolist(), strict=True))[n])
                / np.abs(scores).max()
            )
            np.testing.assert_allclose(c.get_sizes()[0], max(MIN_AREA, MAX_AREA * share))


def test_niv_sign_and_class_styles():
    from matplotlib.markers import MarkerStyle

    ax = _niv(top_k=9).axes[0]
    drawn = _node_artists(ax)
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
        assert (dashes is not None) == (VALUE_OF[node] < 0), node
        assert (art.get_hatch() == "///") == (VALUE_OF[node] < 0), node
    assert colour[0] != colour[1]


def test_niv_layout_is_deterministic_with_rings_by_hop_distance():
    first, again = _positions(_niv().axes[0]), _positions(_niv().axes[0])
    assert first == again
    assert first[TARGET] == (0.0, 0.0)
    for node, (x, y) in first.items():
        assert np.hypot(x, y) == pytest.approx(RING * HOPS[node]), node
    other_seed = _positions(_niv(seed=1).axes[0])
    assert other_seed != first
    assert {n: round(np.hypot(*p), 9) for n, p in other_seed.items()} == {
        n: round(np.hypot(*p), 9) for n, p in first.items()
    }


def test_niv_draws_every_edge_among_drawn_nodes():
    ax = _niv(top_k=9).axes[0]
    assert _edge_pairs(ax) == {tuple(sorted(e)) for e in EDGES.T.tolist()}


def test_niv_no_drawn_node_floats():
    # top 2 by |value| are 3 (1-hop) and 25 (1-hop); top 3 adds 52, whose path 7-11-52 runs
    # through 11, outside the top 3: 11 is drawn as a grey dot with both edges.
    ax = _niv(top_k=3).axes[0]
    assert set(_node_artists(ax)) == {7, 3, 25, 52}
    assert _context_artists(ax) == {11}
    assert _context_by_id(ax)[11].get_sizes()[0] == CONTEXT_AREA
    pairs = _edge_pairs(ax)
    assert {(7, 11), (11, 52)} <= pairs
    adjacent = {n: set() for n in (7, 3, 25, 52, 11)}
    for a, b in pairs:
        adjacent[a].add(b)
        adjacent[b].add(a)
    reached, frontier = {TARGET}, [TARGET]
    while frontier:  # every drawn node reaches the target along drawn edges
        frontier = [m for n in frontier for m in adjacent[n] if m not in reached]
        reached |= set(frontier)
    assert reached == set(adjacent)


def test_niv_node_without_any_path_gets_a_dashed_link():
    nodes, values = np.array([0, 1, 2]), np.array([0.5, 0.2, -0.9])
    ax = niv_figure(0, nodes, values, np.array([[0], [1]]), np.array([0, 0, 1])).axes[0]
    (link,) = [c for c in ax.collections if c.get_gid() == "niv-no-path"]
    assert len(link.get_segments()) == 1
    assert "no path" in [t.get_text() for t in ax.texts]
    assert np.hypot(*_positions(ax)[2]) == pytest.approx(2 * RING)  # a ring beyond the others


def test_niv_highlight_outlines_the_motif_even_outside_the_top_k():
    motif = [7, 11, 52]  # 52 is drawn, 11 is not in the top 2
    ax = _niv(top_k=2, highlight=[*motif, 999]).axes[0]  # ids outside the neighbourhood: ignored
    halos = {
        int(c.get_gid().removeprefix("niv-halo-"))
        for c in ax.collections
        if (c.get_gid() or "").startswith("niv-halo-")
    }
    assert halos == set(motif)
    assert _context_artists(ax) == {11, 52}  # outside the top 2, drawn as grey dots
    assert _edge_pairs(ax, "niv-motif-edges") == {(7, 11), (11, 52)}


def test_niv_hub_draws_only_top_k():
    rng = np.random.default_rng(3)
    nodes = np.arange(61)
    values = rng.normal(size=61)
    edges = np.stack([np.zeros(60, dtype=int), np.arange(1, 61)])
    fig = niv_figure(0, nodes, values, edges, rng.integers(0, 7, 61), top_k=15)
    ax = fig.axes[0]
    assert set(_node_artists(ax)) == {0, *_ranked_neighbours(values, nodes, 0)[:15]}
    assert (
        _key(ax)
        .get_title()
        .get_text()
        .startswith("target + top 15 of 60 neighbours by |relevance|;\nthe other 45 sum to ")
    )


def test_niv_degenerate_neighbourhoods():
    alone = niv_figure(5, np.array([5]), np.array([0.0]), np.zeros((2, 0)), np.array([2]))
    assert list(_node_artists(alone.axes[0])) == [5]
    ax = _niv(top_k=0, label_top=0).axes[0]
    assert list(_node_artists(ax)) == [TARGET]
    assert "the other 9 sum to" in _key(ax).get_title().get_text()
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


def test_niv_figure_text_is_readable():
    fig = _niv(unit="logit", highlight=[3])
    assert all(t.get_fontsize() >= 9 for t in _texts(fig))


# --- niv_panel ----------------------------------------------------------------------------------

METHODS = {"nam": VALUES, "ig": VALUES[::-1].copy(), "saliency": np.abs(VALUES), "x": -VALUES}


def _panel(count=4, **kw):
    methods = dict(list(METHODS.items())[:count])
    kw.setdefault("top_k", 4)
    return niv_panel(TARGET, NODES, methods, EDGES, PRED, **kw)


def test_niv_panel_one_axes_per_method_in_one_layout():
    fig = _panel()
    assert [ax.get_title() for ax in fig.axes] == list(METHODS)
    assert fig.get_suptitle() == f"NIV of node {TARGET}"
    where: dict[int, tuple] = {}
    for ax in fig.axes:
        assert len(_node_artists(ax)) == 5
        for node, pos in _positions(ax).items():
            assert where.setdefault(node, pos) == pos  # same place in every panel


def test_niv_panel_wraps_rows_at_1600_px_with_readable_text():
    for count, rows in ((1, 1), (2, 1), (3, 2), (4, 2)):
        fig = _panel(count)
        width, height = fig.get_size_inches() * 150  # save_figure's dpi
        assert width == pytest.approx(1600)
        assert 400 * rows < height < 1200 * rows
        assert all(t.get_fontsize() >= 9 for t in _texts(fig))
        grid = {(round(ax.get_position().x0, 2), round(ax.get_position().y0, 2)) for ax in fig.axes}
        assert len(grid) == len(fig.axes)  # no two panels on top of each other


def test_niv_panel_shares_one_legend_with_a_caption():
    three = _panel(3, highlight=[7, 3])
    legends = [ax.get_legend().get_gid() for ax in three.axes]
    assert legends == ["niv-key"] * 3 + ["niv-legend"]  # the free fourth cell holds the legend
    assert not three.legends
    four = _panel(4, highlight=[7, 3], highlight_label="ground-truth motif")
    (legend,) = four.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[:2] == ["class 0", "class 1"]
    assert {"positive", "negative", "target", "ground-truth motif"} <= set(labels)
    caption = legend.get_title().get_text().replace("\n", " ")
    assert "top 4 neighbours by |relevance|" in caption
    assert "not the NIV score sign(C)·softmax(C)" in caption


def test_niv_panel_states_units_per_panel():
    fig = _panel(2, units={"nam": "logit", "ig": "probability"})
    nam, ig = (_key(ax) for ax in fig.axes)
    assert nam.get_texts()[0].get_text() == "|relevance| = 1.4 logit"
    assert ig.get_title().get_text().splitlines()[1].endswith(" probability")


def test_niv_panel_writes_each_methods_subtitle_and_the_note_in_the_caption():
    lines = {"nam": "logit +4.091 = nodes −111.8 + biases +115.9"}
    fig = _panel(2, subtitles=lines, note="For nam the rest outweighs the nodes' sum.")
    nam, ig = (ax.get_title() for ax in fig.axes)
    assert nam == "nam\nlogit +4.091 = nodes −111.8 + biases +115.9" and ig == "ig"
    (legend,) = fig.legends  # two panels fill the row: the legend goes below
    caption = legend.get_title().get_text().replace("\n", " ")
    assert caption.endswith("For nam the rest outweighs the nodes' sum.")


def test_niv_panel_is_deterministic(tmp_path):
    first = save_figure(_panel(highlight=[3]), tmp_path / "a" / "niv")
    again = save_figure(_panel(highlight=[3]), tmp_path / "b" / "niv")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]


# --- curves -------------------------------------------------------------------------------------


def _line(ax, name):
    (line,) = [ln for ln in ax.lines if ln.get_gid() == f"curve-{name}"]
    return line


def test_curves_figure_lines_band_reference_and_labels():
    levels = np.linspace(0.0, 1.0, 6)
    repeats = 0.8 - 0.1 * levels + np.random.default_rng(0).normal(0, 0.01, (4, 6))
    curves = {"nam": 0.8 - 0.5 * levels, "random": repeats}
    fig = curves_figure(levels, curves, title="cora", xlabel="fraction of 2-hop neighbours deleted")
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


def test_curves_figure_legend_beside_the_plot_readable_with_note():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    levels = np.linspace(0.0, 1.0, 11)
    curves = {f"method {i}": np.full(11, 0.1 * i) for i in range(6)}
    fig = curves_figure(levels, curves, note="Not shown: edge_saliency (it ranks edges).")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "fraction of neighbours deleted"  # no hop count guessed
    assert fig.get_supxlabel() == "Not shown: edge_saliency (it ranks edges)."
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    assert all(t.get_fontsize() >= 9 for t in _texts(fig))
    width, height = fig.get_size_inches() * 150
    assert (width, height) == (pytest.approx(1200), pytest.approx(690))


def test_curves_figure_free_y_limits_outside_unit_interval():
    fig = curves_figure(np.arange(3), {"loss": np.array([2.0, 1.5, 1.0])}, reference=None)
    assert fig.axes[0].get_ylim() != (0.0, 1.0)


def test_curves_figure_scales_to_the_levels_after_an_off_scale_first_one():
    """Keeping nothing (q = 0) is one large drop for all methods: the axis follows the rest."""
    levels = np.linspace(0.0, 1.0, 11)
    curves = {
        "nam": np.r_[-0.9, np.linspace(-0.2, 0.0, 10)],
        "ig": np.r_[-0.9, np.linspace(-0.15, 0.0, 10)],
    }
    ax = curves_figure(levels, curves, reference=None, scale_after_first=True).axes[0]
    low, high = ax.get_ylim()
    assert -0.22 < low < -0.2 and 0.0 < high < 0.02
    (note,) = [t for t in ax.texts if t.get_gid() == "curves-off-scale"]
    assert note.get_text() == "at 0: -0.9 (off scale)"
    unscaled = curves_figure(levels, curves, reference=None).axes[0]
    assert unscaled.get_ylim()[0] < -0.9
    near = {"nam": np.r_[-0.25, np.linspace(-0.2, 0.0, 10)]}  # within half the span: kept
    near_ax = curves_figure(levels, near, reference=None, scale_after_first=True).axes[0]
    assert near_ax.get_ylim()[0] < -0.25 and not near_ax.texts


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
        ({"size_by": "area"}, "size_by"),
        ({"highlight": [1.5]}, "highlight"),
    ],
)
def test_niv_figure_rejects_bad_input_naming_the_argument(change, argument):
    kw = {"target": TARGET, "nodes": NODES, "values": VALUES, "edges": EDGES, "predicted": PRED}
    kw.update(change)
    with pytest.raises(ValueError, match=argument):
        niv_figure(**kw)


def test_niv_panel_rejects_empty_methods_and_bad_columns():
    with pytest.raises(ValueError, match="values_by_method"):
        niv_panel(TARGET, NODES, {}, EDGES, PRED)
    with pytest.raises(ValueError, match="columns"):
        niv_panel(TARGET, NODES, {"nam": VALUES}, EDGES, PRED, columns=0)


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


# ------------------------------------------------------------------ subgraph figure


def _directed(edges: np.ndarray) -> np.ndarray:
    return np.concatenate([edges, edges[::-1]], axis=1)


def test_undirected_scores_sum_both_directions_and_drop_self_loops():
    senders, receivers = np.array([1, 2, 2, 3, 5]), np.array([2, 1, 3, 2, 5])
    pairs, score, sign = undirected_scores(senders, receivers, np.array([0.5, -0.25, 1, 2, 9]))
    assert pairs.tolist() == [[1, 2], [2, 3]]
    assert score.tolist() == [0.75, 3.0] and sign.tolist() == [1.0, 1.0]


def test_subgraph_grows_connected_from_the_target_best_edges_first(tmp_path):
    """Three edges grown from target 7: 7-3 (1.4), 7-25 (1.1), 3-30 (0.8); 11-52 (1.0) scores
    more than 3-30 but touches no drawn node. Line widths follow the score."""
    directed = _directed(EDGES)
    values = np.array([1.4, 0.6, 0.3, 1.1, 0.05, 0.8, 0.2, 1.0, 0.4, 0.1, 0.05])
    values = np.concatenate([values, np.zeros(values.size)])
    fig = subgraph_figure(
        TARGET, directed, values, NODES, VALUES, np.zeros(60, int), top_k=3, label_top=2
    )
    ax = fig.axes[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2]
    widths = sorted(ln.get_linewidth() for ln in lines)
    assert len(lines) == 3 and widths[-1] > widths[0]
    assert "3 of the 11 undirected edges" in fig.texts[0].get_text()
    assert len(ax.collections) == 4  # target, 3, 25, 30: the drawn edges' nodes
    save_figure(fig, tmp_path / "subgraph")
    assert (tmp_path / "subgraph.png").stat().st_size > 10_000
