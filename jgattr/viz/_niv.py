"""NIV (node importance visualization): one target's neighbourhood drawn by contribution.

A panel draws the target (a star) and its ``top_k`` neighbours by ``|relevance|``: face colour is
the node's predicted class, marker area is ``|relevance|`` divided by the largest ``|relevance|``
of the panel's neighbourhood (a size key in the corner gives the scale in the method's units), the
outline is the sign (solid black: positive; dashed dark red with hatching: negative). Nodes sit on
rings by hop distance from the target, in a radial tree, with every graph edge among the drawn
nodes. A drawn node that reaches the target only through nodes outside the top ``k`` is joined to
it through those nodes, drawn as small grey dots, so no drawn node floats. An optional set of
nodes (e.g. a ground-truth motif) gets a yellow halo, and the edges among them are drawn thick.

The paper's NIV score ``sign(C) * softmax(C)`` (:func:`niv_scores`) stays available
(``size_by="niv_score"``); it is not the default, because a softmax over small relevances (e.g.
SIG-LID-IG's probability increments of 0.01-0.03) is nearly uniform and every node looks alike.

References:
    NAM/NIV for GCNs, section 3.3 (``shared/seeds/nam_niv_gcn_attribution.md``), equations 10-11.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from jgattr.viz._niv_draw import draw_panel
from jgattr.viz._niv_input import check_options, highlight_mask, neighbourhood
from jgattr.viz._niv_layout import arrange
from jgattr.viz._niv_legend import legend_caption, legend_handles, shared_legend
from jgattr.viz._niv_style import FIGURE_WIDTH, FONT_SIZE, PANEL_HEIGHT, TITLE_SIZE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def niv_figure(
    target: int,
    nodes: np.ndarray,
    values: np.ndarray,
    edges: np.ndarray,
    predicted: np.ndarray,
    *,
    method: str = "nam",
    class_names: Sequence[str] | None = None,
    top_k: int = 15,
    label_top: int = 5,
    ax: Axes | None = None,
    seed: int = 0,
    unit: str | None = None,
    highlight: Sequence[int] | np.ndarray | None = None,
    size_by: str = "relevance",
) -> Figure:
    """Draw the NIV of one target: its top neighbours by ``|relevance|``, coloured by class.

    The target and its ``top_k`` neighbours with the largest ``|values|`` are drawn (ties by node
    id), with every edge among them; the rest are summarized under the drawing as ``"target + top
    k of n neighbours by |relevance|; the other r sum to s <unit>"``. Marker area is
    ``MAX_AREA * |C| / max |C|`` over the whole neighbourhood (target included), at least
    ``MIN_AREA``; the key in the top-right corner shows the area of ``max |C|`` and ``max |C| / 4``.
    With ``size_by="niv_score"`` the area follows ``|sign(C) softmax(C)|`` (:func:`niv_scores`)
    instead. The ``label_top`` drawn neighbours with the largest ``|C|`` are labelled ``"id\\n+C"``
    (3 significant digits), the target ``"target id\\n+C"``.

    Layout (deterministic, no graph library): the target at the centre, every other node on the
    ring of its hop distance from the target (radius ``RING * hops``), in a radial tree: each node
    hangs from a neighbour one hop closer (a drawn one if any, else the one with the largest
    ``|C|``, then the smallest id), and each subtree gets a wedge in proportion to its leaves. A
    drawn node whose path to the target runs through nodes outside the top ``k`` is joined to it
    through them, drawn as grey dots (gid ``"niv-context-<id>"``); a node with no path at all gets
    a dashed link labelled ``"no path"``. ``seed`` only rotates the drawing by less than one slot.
    Drawn node artists have gid ``"niv-node-<id>"``, halos ``"niv-halo-<id>"``.

    Args:
        target: node id of the explained node; must be in ``nodes``.
        nodes: ``[n]`` distinct integer node ids of the neighbourhood (e.g. the K-hop one).
        values: ``[n]`` finite attribution of each node to the target's prediction.
        edges: ``[2, m]`` undirected edges among ``nodes``, as node ids (not positions).
        predicted: ``[n]`` non-negative integer predicted class of each node (face colour).
        method: attribution method name, shown in the title ``"NIV of node <target> (<method>)"``.
        class_names: names of classes ``0..C-1``; default ``"class k"``.
        top_k: number of neighbours drawn besides the target (>= 0).
        label_top: number of drawn neighbours labelled with id and value (>= 0).
        ax: existing Axes to draw into (for panels); default a new figure.
        seed: seed of the rotation; the same inputs and seed give the same figure.
        unit: unit of ``values`` (e.g. ``"logit"``), written beside every number; none if ``None``.
        highlight: node ids to outline with a halo, e.g. the target's ground-truth motif; they are
            drawn even outside the top ``k`` (as grey dots). Ids outside ``nodes`` are ignored.
        size_by: ``"relevance"`` (area ∝ ``|C|``) or ``"niv_score"`` (area ∝ ``|S'|``).

    Returns:
        The figure holding the drawing (``ax.figure`` when ``ax`` is given).

    Raises:
        ValueError: shapes disagree, ``target`` not in ``nodes``, duplicate node ids, non-finite
            ``values``, ``edges`` naming ids outside ``nodes``, bad classes, counts or options.

    Example:
        >>> fig = niv_figure(0, np.array([0, 1, 2]), np.array([0.5, 0.2, -0.1]),
        ...                  np.array([[0, 0], [1, 2]]), np.array([0, 1, 0]), unit="logit")
    """
    check_options(method=method, top_k=top_k, label_top=label_top, seed=seed, size_by=size_by)
    nb = neighbourhood(target, nodes, values, edges, predicted, class_names)
    hl = highlight_mask(highlight, nb)
    (panel,), parent, positions = arrange({method: nb}, {method: unit}, top_k, hl, seed)
    fig, ax = _figure_and_axes(ax)
    draw_panel(ax, panel, parent, positions, hl, label_top=label_top, size_by=size_by)
    ax.set_title(f"NIV of node {nb.target} ({method})", fontsize=TITLE_SIZE)
    key = ax.get_legend()
    ax.add_artist(key)  # keep the key when the class legend below replaces ax.legend_
    key.set_clip_on(False)  # unclipped: constrained layout makes room for it
    ax.legend(
        handles=legend_handles([panel], hl, top_k),
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
        fontsize=FONT_SIZE,
    )
    return fig


def niv_panel(
    target: int,
    nodes: np.ndarray,
    values_by_method: Mapping[str, np.ndarray],
    edges: np.ndarray,
    predicted: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    top_k: int = 15,
    label_top: int = 5,
    seed: int = 0,
    units: Mapping[str, str] | None = None,
    highlight: Sequence[int] | np.ndarray | None = None,
    highlight_label: str = "ground-truth motif",
    columns: int = 2,
    title: str | None = None,
    size_by: str = "relevance",
    subtitles: Mapping[str, str] | None = None,
    note: str | None = None,
) -> Figure:
    """One NIV panel per method for the same target, on one shared layout, wrapped into rows.

    The figure is 1600 px wide at 150 dpi with ``columns`` panels per row (all text >= 9 pt). The
    layout is computed once over the union of the nodes each method draws, so a node sits at the
    same place in every panel; each panel draws its own top ``k`` (see :func:`niv_figure`) with its
    own size scale, key and summary line. One legend for classes, signs and markers is shared by
    all panels, with a caption saying how sizes were computed; when the last row has a free cell,
    legend and caption go there, else below the panels.

    Args:
        target: node id of the explained node; must be in ``nodes``.
        nodes: ``[n]`` distinct integer node ids of the neighbourhood.
        values_by_method: method name -> ``[n]`` attributions; one panel each, in this order.
        edges: ``[2, m]`` undirected edges among ``nodes``, as node ids.
        predicted: ``[n]`` predicted class of each node.
        class_names: names of classes ``0..C-1``; default ``"class k"``.
        top_k: neighbours drawn per panel besides the target.
        label_top: drawn neighbours labelled per panel.
        seed: seed of the rotation.
        units: method name -> unit of its values (e.g. ``{"nam": "logit"}``); missing: none.
        highlight: node ids outlined with a halo in every panel (e.g. the ground-truth motif).
        highlight_label: legend text of the halo.
        columns: panels per row (>= 1).
        title: figure title; default ``"NIV of node <target>"``.
        size_by: ``"relevance"`` or ``"niv_score"`` (see :func:`niv_figure`).
        subtitles: method name -> a line under its panel title, e.g. where the prediction comes
            from (``"logit +4.09 = nodes −111.8 + biases +115.9"``).
        note: sentences added to the legend's caption (e.g. that the biases carry the
            prediction).

    Returns:
        A figure with one Axes per method titled with the method name (plus, when the last row has
        room, an empty Axes holding the legend).

    Raises:
        ValueError: ``values_by_method`` is empty or any input is invalid (see :func:`niv_figure`).

    Example:
        >>> fig = niv_panel(0, np.array([0, 1, 2]), {"nam": np.array([0.5, 0.2, -0.1])},
        ...                 np.array([[0, 0], [1, 2]]), np.array([0, 1, 0]))
    """
    if not isinstance(values_by_method, Mapping) or not values_by_method:
        raise ValueError(
            "values_by_method must be a non-empty mapping method name -> [n] attributions, "
            f"got {values_by_method!r}"
        )
    for method in values_by_method:
        check_options(method=method, top_k=top_k, label_top=label_top, seed=seed, size_by=size_by)
    if isinstance(columns, bool) or not isinstance(columns, int | np.integer) or columns < 1:
        raise ValueError(f"columns must be an int >= 1, got {columns!r}")
    units = dict(units or {})
    hoods = {
        m: neighbourhood(target, nodes, v, edges, predicted, class_names)
        for m, v in values_by_method.items()
    }
    hl = highlight_mask(highlight, next(iter(hoods.values())))
    panels, parent, positions = arrange(hoods, units, top_k, hl, seed)
    fig, axes, spare = _panel_grid(len(panels), columns)
    for ax, panel in zip(axes, panels, strict=True):
        draw_panel(ax, panel, parent, positions, hl, label_top=label_top, size_by=size_by)
        subtitle = (subtitles or {}).get(panel.method)
        ax.set_title(panel.method + (f"\n{subtitle}" if subtitle else ""), fontsize=TITLE_SIZE)
    fig.suptitle(title or f"NIV of node {panels[0].nb.target}", fontsize=TITLE_SIZE + 2)
    handles = legend_handles(panels, hl, top_k, highlight_label)
    caption = legend_caption(top_k, size_by) + (f" {note}" if note else "")
    shared_legend(fig, spare, handles, caption)
    return fig


def _new_figure(figsize: tuple[float, float]) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _figure_and_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = _new_figure(figsize=(FIGURE_WIDTH / 1.6, PANEL_HEIGHT + 1.6))
    return fig, fig.add_subplot()


def _panel_grid(count: int, columns: int) -> tuple[Figure, list[Axes], Axes | None]:
    """Figure and ``count`` Axes in rows of ``columns``; the spare Axes of the last row, if any."""
    columns = min(columns, count)
    rows = -(-count // columns)
    spare_cells = rows * columns - count
    height = rows * PANEL_HEIGHT + (0.8 if spare_cells else 2.2)
    fig = _new_figure(figsize=(FIGURE_WIDTH, height))
    grid = fig.subplots(rows, columns, squeeze=False).ravel().tolist()
    for extra in grid[count + 1 :]:
        extra.remove()
    spare = grid[count] if spare_cells else None
    if spare is not None:
        spare.set_axis_off()
    return fig, grid[:count], spare
