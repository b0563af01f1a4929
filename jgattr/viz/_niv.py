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

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from jgattr.viz._checks import finite_array

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RING = 1.0  # radius step per hop
WEDGE_CAP = math.pi  # the children of a non-target node spread over at most this angle
MIN_AREA = 30.0  # marker area in points² of a drawn top-k node with (near) zero relevance
MAX_AREA = 700.0  # marker area of the node with the largest |relevance| of the neighbourhood
TARGET_MIN_AREA = 450.0  # the target's star is never smaller than this
CONTEXT_AREA = 22.0  # grey dot: a node outside the top k drawn only to join others to the target
HALO_PAD = 8.0  # points added to a highlighted node's diameter for its halo
FONT_SIZE = 9.0  # every text of the figure is at least this size (points)
TITLE_SIZE = 11.0
FIGURE_WIDTH = 1600 / 150  # inches: 1600 px at save_figure's 150 dpi
PANEL_HEIGHT = 5.3  # inches per row of panels
SIZE_BY = ("relevance", "niv_score")
NEGATIVE_COLOUR = "#8b0000"
EDGE_COLOUR = "0.6"
CONTEXT_COLOUR = "0.82"
HALO_COLOUR = "#ffd92f"
HALO_EDGE = "#b8860b"
POSITIVE_STYLE = {"edgecolors": "black", "linewidths": 1.5, "linestyles": "solid"}
NEGATIVE_STYLE = {
    "edgecolors": NEGATIVE_COLOUR,
    "linewidths": 2.0,
    "linestyles": "--",
    "hatch": "///",
}
ZERO_STYLE = {"edgecolors": "0.4", "linewidths": 1.0, "linestyles": ":"}


@dataclass(frozen=True)
class _Neighbourhood:
    """Validated NIV input; ``edges`` holds positions into ``nodes``, not node ids."""

    target: int
    center: int  # position of the target in ``nodes``
    nodes: np.ndarray  # [n] int64 node ids
    values: np.ndarray  # [n] float64 attributions C
    scores: np.ndarray  # [n] NIV scores sign(C) * softmax(C)
    edges: np.ndarray  # [2, m] int64 positions into ``nodes``
    predicted: np.ndarray  # [n] int64 predicted classes
    class_names: tuple[str, ...]
    hops: np.ndarray  # [n] hop distance from the target along ``edges``; -1: no path


@dataclass(frozen=True)
class _Panel:
    """What one panel draws: positions into the neighbourhood's ``nodes``."""

    method: str
    nb: _Neighbourhood
    drawn: np.ndarray  # target first, then the top k by |relevance|
    rest: np.ndarray  # neighbours not in the top k
    shown: np.ndarray  # drawn plus the grey nodes joining them to the target (and highlights)
    unit: str | None


def niv_scores(values: np.ndarray) -> np.ndarray:
    """NIV score ``sign(C) * softmax(C)`` over one target's neighbourhood.

    The softmax (paper eq. 10) turns the attributions ``C`` of the ``n`` nodes of a target's
    neighbourhood into shares of importance; it hides the sign, which eq. 11 restores:
    ``S'_i = sign(C_i) * exp(C_i) / sum_j exp(C_j)``. So ``sum |S'| == 1`` (less the share of nodes
    with ``C_i == 0`` exactly, whose score is 0) and ``|S'|`` is ordered like ``C``.

    Args:
        values: ``[n]`` finite attributions ``C`` of each node to the target's prediction.

    Returns:
        ``[n]`` float64 scores in ``[-1, 1]``.

    Raises:
        ValueError: ``values`` is not a non-empty 1-D array of finite numbers.

    Example:
        >>> niv_scores(np.array([1.0, 0.0, -1.0])).round(3).tolist()
        [0.665, 0.0, -0.09]
    """
    c = _finite_vector(values, "values")
    e = np.exp(c - c.max())
    return np.sign(c) * (e / e.sum())


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
    _check_options(method=method, top_k=top_k, label_top=label_top, seed=seed, size_by=size_by)
    nb = _neighbourhood(target, nodes, values, edges, predicted, class_names)
    hl = _highlight(highlight, nb)
    (panel,), parent, positions = _arrange({method: nb}, {method: unit}, top_k, hl, seed)
    fig, ax = _figure_and_axes(ax)
    _draw(ax, panel, parent, positions, hl, label_top=label_top, size_by=size_by)
    ax.set_title(f"NIV of node {nb.target} ({method})", fontsize=TITLE_SIZE)
    key = ax.get_legend()
    ax.add_artist(key)  # keep the key when the class legend below replaces ax.legend_
    key.set_clip_on(False)  # unclipped: constrained layout makes room for it
    ax.legend(
        handles=_legend_handles([panel], hl, top_k),
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
        _check_options(method=method, top_k=top_k, label_top=label_top, seed=seed, size_by=size_by)
    if isinstance(columns, bool) or not isinstance(columns, int | np.integer) or columns < 1:
        raise ValueError(f"columns must be an int >= 1, got {columns!r}")
    units = dict(units or {})
    hoods = {
        m: _neighbourhood(target, nodes, v, edges, predicted, class_names)
        for m, v in values_by_method.items()
    }
    hl = _highlight(highlight, next(iter(hoods.values())))
    panels, parent, positions = _arrange(hoods, units, top_k, hl, seed)
    fig, axes, spare = _panel_grid(len(panels), columns)
    for ax, panel in zip(axes, panels, strict=True):
        _draw(ax, panel, parent, positions, hl, label_top=label_top, size_by=size_by)
        ax.set_title(panel.method, fontsize=TITLE_SIZE)
    fig.suptitle(title or f"NIV of node {panels[0].nb.target}", fontsize=TITLE_SIZE + 2)
    handles = _legend_handles(panels, hl, top_k, highlight_label)
    _shared_legend(fig, spare, handles, _caption(top_k, size_by))
    return fig


# --- validation ---------------------------------------------------------------------------------


def _finite_vector(x: Any, name: str) -> np.ndarray:
    arr = finite_array(x, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    return arr


def _int_array(x: Any, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != ndim or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(
            f"{name} must be a {ndim}-D integer array, got shape {arr.shape} dtype {arr.dtype}"
        )
    return arr.astype(np.int64)


def _check_options(*, method: str, top_k: int, label_top: int, seed: int, size_by: str) -> None:
    if not isinstance(method, str) or not method:
        raise ValueError(f"method must be a non-empty str (used in the title), got {method!r}")
    for name, value in (("top_k", top_k), ("label_top", label_top), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if size_by not in SIZE_BY:
        raise ValueError(f"size_by must be one of {list(SIZE_BY)}, got {size_by!r}")


def _neighbourhood(
    target: int,
    nodes: np.ndarray,
    values: np.ndarray,
    edges: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str] | None,
) -> _Neighbourhood:
    ids = _node_ids(nodes)
    center = _target_position(target, ids)
    vals = _finite_vector(values, "values")
    pred = _int_array(predicted, "predicted", 1)
    for name, arr in (("values", vals), ("predicted", pred)):
        if arr.shape != ids.shape:
            raise ValueError(
                f"{name} must have one entry per node, shape {ids.shape}, got shape {arr.shape}"
            )
    positions = _edge_positions(edges, ids)
    return _Neighbourhood(
        target=int(target),
        center=center,
        nodes=ids,
        values=vals,
        scores=niv_scores(vals),
        edges=positions,
        predicted=pred,
        class_names=_class_names(class_names, pred),
        hops=_hops(positions, ids.size, center),
    )


def _node_ids(nodes: np.ndarray) -> np.ndarray:
    ids = _int_array(nodes, "nodes", 1)
    if ids.size == 0:
        raise ValueError("nodes must hold at least the target, got an empty array")
    uniq, counts = np.unique(ids, return_counts=True)
    if uniq.size != ids.size:
        raise ValueError(
            f"nodes must be distinct, got repeated ids {uniq[counts > 1][:5].tolist()}"
        )
    return ids


def _target_position(target: int, ids: np.ndarray) -> int:
    if isinstance(target, bool) or not isinstance(target, int | np.integer):
        raise ValueError(f"target must be an int node id, got {target!r}")
    where = np.flatnonzero(ids == target)
    if where.size == 0:
        raise ValueError(f"target {target} is not in nodes; include the target's own id in nodes")
    return int(where[0])


def _edge_positions(edges: np.ndarray, ids: np.ndarray) -> np.ndarray:
    e = _int_array(edges, "edges", 2)
    if e.shape[0] != 2:
        raise ValueError(f"edges must have shape [2, m] (sources; destinations), got {e.shape}")
    order = np.argsort(ids)
    flat = e.ravel()
    where = np.clip(np.searchsorted(ids[order], flat), 0, ids.size - 1)
    missing = flat[ids[order][where] != flat]
    if missing.size:
        raise ValueError(
            f"edges reference node ids not in nodes: {np.unique(missing)[:5].tolist()}; "
            "pass only edges among the neighbourhood, as node ids"
        )
    return order[where].reshape(2, -1)


def _class_names(class_names: Sequence[str] | None, predicted: np.ndarray) -> tuple[str, ...]:
    if predicted.size and predicted.min() < 0:
        raise ValueError(f"predicted must hold class indices >= 0, got {predicted.min()}")
    n_classes = int(predicted.max()) + 1 if predicted.size else 0
    if class_names is None:
        return tuple(f"class {k}" for k in range(n_classes))
    if isinstance(class_names, str) or not all(isinstance(c, str) for c in class_names):
        raise ValueError(f"class_names must be a sequence of str, got {class_names!r}")
    if len(class_names) < n_classes:
        raise ValueError(
            f"class_names has {len(class_names)} names but predicted holds class {n_classes - 1}; "
            "give one name per class"
        )
    return tuple(class_names)


def _highlight(highlight: Any, nb: _Neighbourhood) -> np.ndarray:
    """``[n]`` bool: the node is in ``highlight`` (ids outside the neighbourhood are ignored)."""
    if highlight is None:
        return np.zeros(nb.nodes.size, dtype=bool)
    ids = _int_array(np.asarray(highlight).reshape(-1), "highlight", 1)
    return np.isin(nb.nodes, ids)


# --- selection and layout -----------------------------------------------------------------------


def _hops(edges: np.ndarray, n: int, center: int) -> np.ndarray:
    """``[n]`` breadth-first hop distance from ``center`` over undirected ``edges`` (-1: none)."""
    src = np.concatenate([edges[0], edges[1]])
    dst = np.concatenate([edges[1], edges[0]])
    hops = np.full(n, -1, dtype=np.int64)
    hops[center] = 0
    frontier, depth = np.array([center]), 0
    while frontier.size:
        depth += 1
        reached = np.unique(dst[np.isin(src, frontier)])
        frontier = reached[hops[reached] < 0]
        hops[frontier] = depth
    return hops


def _select(nb: _Neighbourhood, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions drawn (target first, then neighbours by decreasing |C|) and summarized."""
    others = np.flatnonzero(np.arange(nb.nodes.size) != nb.center)
    ranked = others[np.lexsort((nb.nodes[others], -np.abs(nb.values[others])))]
    return np.concatenate([[nb.center], ranked[:top_k]]).astype(np.int64), ranked[top_k:]


def _parents(nb: _Neighbourhood, preferred: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``[n]`` the neighbour one hop closer each node hangs from (-1: target or unreachable).

    Preferred nodes first, then the larger ``weight``, then the smaller id.
    """
    src = np.concatenate([nb.edges[0], nb.edges[1]])
    dst = np.concatenate([nb.edges[1], nb.edges[0]])
    closer = (nb.hops[src] >= 1) & (nb.hops[dst] == nb.hops[src] - 1)
    child, par = src[closer], dst[closer]
    order = np.lexsort((nb.nodes[par], -weight[par], ~preferred[par], child))
    parent = np.full(nb.nodes.size, -1, dtype=np.int64)
    first = np.unique(child[order], return_index=True)[1]
    parent[child[order][first]] = par[order][first]
    return parent


def _closure(parent: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Sorted ``members`` with all their ancestors along ``parent``."""
    found = set(members.tolist())
    for node in members.tolist():
        while parent[node] >= 0 and parent[node] not in found:
            node = int(parent[node])
            found.add(node)
    return np.array(sorted(found), dtype=np.int64)


def _arrange(
    hoods: Mapping[str, _Neighbourhood],
    units: Mapping[str, str | None],
    top_k: int,
    highlight: np.ndarray,
    seed: int,
) -> tuple[list[_Panel], np.ndarray, np.ndarray]:
    """The panels, the shared parent tree and the shared ``[n, 2]`` positions."""
    selections = {m: _select(nb, top_k) for m, nb in hoods.items()}
    first = next(iter(hoods.values()))
    wanted = np.concatenate([d for d, _ in selections.values()] + [np.flatnonzero(highlight)])
    preferred = np.zeros(first.nodes.size, dtype=bool)
    preferred[wanted] = True
    weight = np.max([_relative(np.abs(nb.values)) for nb in hoods.values()], axis=0)
    parent = _parents(first, preferred, weight)
    panels = []
    for method, nb in hoods.items():
        drawn, rest = selections[method]
        shown = _closure(parent, np.union1d(drawn, np.flatnonzero(highlight)))
        panels.append(_Panel(method, nb, drawn, rest, shown, units.get(method)))
    laid_out = _closure(parent, np.unique(wanted))
    return panels, parent, _layout(first, parent, laid_out, seed)


def _relative(magnitude: np.ndarray) -> np.ndarray:
    top = magnitude.max() if magnitude.size else 0.0
    return magnitude / top if top > 0 else np.zeros_like(magnitude)


def _layout(nb: _Neighbourhood, parent: np.ndarray, laid_out: np.ndarray, seed: int) -> np.ndarray:
    """``[n, 2]`` radial-tree positions of ``laid_out`` (NaN elsewhere); target at the origin."""
    reachable = nb.hops[laid_out]
    outermost = int(reachable.max()) + 1 if reachable.size else 1
    depth = np.where(nb.hops >= 0, nb.hops, outermost)
    children: dict[int, list[int]] = {int(i): [] for i in laid_out}
    children.setdefault(nb.center, [])
    for i in laid_out[np.argsort(nb.nodes[laid_out], kind="stable")].tolist():
        if i != nb.center:
            children[int(parent[i]) if parent[i] >= 0 else nb.center].append(i)
    leaves = _leaf_counts(children, nb.center)
    jitter = np.random.default_rng(seed).uniform(0.0, 1.0)
    start = math.pi / 2 + jitter * 2.0 * math.pi / max(leaves[nb.center], 1)
    pos = np.full((nb.nodes.size, 2), np.nan)
    pos[nb.center] = 0.0
    stack = [(nb.center, start, start + 2.0 * math.pi)]
    while stack:
        node, lo, hi = stack.pop()
        if node != nb.center and hi - lo > WEDGE_CAP:
            middle = (lo + hi) / 2.0
            lo, hi = middle - WEDGE_CAP / 2.0, middle + WEDGE_CAP / 2.0
        kids = children[node]
        widths = (hi - lo) * np.array([leaves[k] for k in kids]) / max(leaves[node], 1)
        edges = lo + np.concatenate([[0.0], np.cumsum(widths)])
        for kid, a, b in zip(kids, edges[:-1], edges[1:], strict=True):
            angle = (a + b) / 2.0
            pos[kid] = RING * depth[kid] * np.array([math.cos(angle), math.sin(angle)])
            stack.append((kid, a, b))
    return pos


def _leaf_counts(children: dict[int, list[int]], root: int) -> dict[int, int]:
    """Leaves under each node of the tree (a leaf counts itself)."""
    counts: dict[int, int] = {}
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(children[node])
    for node in reversed(order):
        counts[node] = sum(counts[k] for k in children[node]) or 1
    return counts


# --- drawing ------------------------------------------------------------------------------------


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


def _class_colour(k: int, n_classes: int) -> tuple[float, ...]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n_classes <= 10 else "tab20"]
    return cmap(k % cmap.N)


def _areas(panel: _Panel, size_by: str) -> np.ndarray:
    """``[n]`` marker area of every node of the neighbourhood."""
    magnitude = np.abs(panel.nb.scores if size_by == "niv_score" else panel.nb.values)
    return np.maximum(MIN_AREA, MAX_AREA * _relative(magnitude))


def _with_unit(value: float, unit: str | None) -> str:
    return f"{value:+.3g}" + (f" {unit}" if unit else "")


def _draw(
    ax: Axes,
    panel: _Panel,
    parent: np.ndarray,
    positions: np.ndarray,
    highlight: np.ndarray,
    *,
    label_top: int,
    size_by: str,
) -> None:
    areas = _areas(panel, size_by)
    areas[panel.nb.center] = max(areas[panel.nb.center], TARGET_MIN_AREA)
    context = np.setdiff1d(panel.shown, panel.drawn)
    _draw_edges(ax, panel, positions, highlight)
    _draw_halos(ax, panel, positions, highlight, areas)
    _draw_context(ax, panel.nb, context, positions)
    _draw_nodes(ax, panel.nb, panel.drawn, positions, areas)
    _draw_labels(ax, panel, panel.drawn[: 1 + label_top], positions, areas)
    _draw_key(ax, panel, size_by)
    low = np.minimum(positions[panel.shown].min(axis=0), -0.5 * RING) - 0.6 * RING
    high = np.maximum(positions[panel.shown].max(axis=0), 0.5 * RING) + 0.6 * RING
    ax.update_datalim(np.stack([low, high]))
    ax.margins(0.0)
    ax.autoscale_view()
    # Equal aspect by widening the limits, not by shrinking the box: constrained layout then
    # places the title and key of each panel exactly.
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()


def _draw_edges(ax: Axes, panel: _Panel, positions: np.ndarray, highlight: np.ndarray) -> None:
    from matplotlib.collections import LineCollection

    src, dst = panel.nb.edges
    keep = np.isin(src, panel.shown) & np.isin(dst, panel.shown) & (src != dst)
    pairs = np.unique(np.sort(np.stack([src[keep], dst[keep]], axis=1), axis=1), axis=0)
    motif = highlight[pairs].all(axis=1) if pairs.size else np.zeros(0, dtype=bool)
    for mask, style in (
        (motif, {"colors": HALO_EDGE, "linewidths": 3.0, "gid": "niv-motif-edges"}),
        (~motif, {"colors": EDGE_COLOUR, "linewidths": 1.0, "gid": "niv-edges"}),
    ):
        segments = positions[pairs[mask]] if mask.any() else np.zeros((0, 2, 2))
        ax.add_collection(LineCollection(segments, zorder=1, **style))
    lost = panel.shown[panel.nb.hops[panel.shown] < 0]
    if lost.size:
        centre = positions[panel.nb.center]
        segments = [np.stack([centre, positions[i]]) for i in lost.tolist()]
        ax.add_collection(
            LineCollection(
                segments, colors="0.3", linestyles="--", linewidths=1.0, gid="niv-no-path"
            )
        )
        for i in lost.tolist():
            mid = (centre + positions[i]) / 2.0
            ax.text(*mid, "no path", fontsize=FONT_SIZE, color="0.3", ha="center", va="bottom")


def _draw_halos(
    ax: Axes, panel: _Panel, positions: np.ndarray, highlight: np.ndarray, areas: np.ndarray
) -> None:
    for i in panel.shown[highlight[panel.shown]].tolist():
        drawn = i in set(panel.drawn.tolist())
        size = (math.sqrt(areas[i] if drawn else CONTEXT_AREA) + HALO_PAD) ** 2
        ax.scatter(
            *positions[i][:, None],
            s=[size],
            facecolors=[HALO_COLOUR],
            edgecolors=HALO_EDGE,
            linewidths=1.0,
            zorder=1.5,
            gid=f"niv-halo-{panel.nb.nodes[i]}",
        )


def _draw_context(ax: Axes, nb: _Neighbourhood, context: np.ndarray, positions: np.ndarray) -> None:
    for i in context.tolist():
        ax.scatter(
            *positions[i][:, None],
            s=[CONTEXT_AREA],
            facecolors=[CONTEXT_COLOUR],
            edgecolors="0.45",
            linewidths=0.8,
            zorder=2,
            gid=f"niv-context-{nb.nodes[i]}",
        )


def _node_style(value: float) -> dict[str, Any]:
    if value > 0:
        return POSITIVE_STYLE
    return NEGATIVE_STYLE if value < 0 else ZERO_STYLE


def _draw_nodes(
    ax: Axes, nb: _Neighbourhood, drawn: np.ndarray, positions: np.ndarray, areas: np.ndarray
) -> None:
    n_classes = len(nb.class_names)
    for i in drawn.tolist():
        style = dict(_node_style(float(nb.values[i])))
        marker = "o"
        if i == nb.center:
            marker = "*"
            style.update(linewidths=2.5, hatch=None)
            style["edgecolors"] = "black" if nb.values[i] >= 0 else NEGATIVE_COLOUR
        ax.scatter(
            *positions[i][:, None],
            s=[areas[i]],
            marker=marker,
            facecolors=[_class_colour(int(nb.predicted[i]), n_classes)],
            zorder=4 if i == nb.center else 3,
            gid=f"niv-node-{nb.nodes[i]}",
            **style,
        )


def _draw_labels(
    ax: Axes, panel: _Panel, labelled: np.ndarray, positions: np.ndarray, areas: np.ndarray
) -> None:
    nb = panel.nb
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
    for i in labelled.tolist():
        is_target = i == nb.center
        direction = np.array([0.0, -1.0]) if is_target else positions[i]
        direction = direction / np.linalg.norm(direction)
        offset = direction * (math.sqrt(areas[i]) / 2 + 3)
        text = f"{nb.nodes[i]}\n{nb.values[i]:+.3g}"
        ax.annotate(
            f"target {text}" if is_target else text,
            xy=tuple(positions[i]),
            xytext=tuple(offset),
            textcoords="offset points",
            ha=_align(direction[0], "left", "right"),
            va=_align(direction[1], "bottom", "top"),
            fontsize=FONT_SIZE,
            fontweight="bold" if is_target else "normal",
            bbox=box,
            zorder=5,
            gid="niv-target-label" if is_target else f"niv-label-{nb.nodes[i]}",
        )


def _align(component: float, positive: str, negative: str) -> str:
    if component > 0.3:
        return positive
    return negative if component < -0.3 else "center"


def _summary(panel: _Panel) -> str:
    """What a panel drew and what the rest adds up to."""
    neighbours = panel.nb.nodes.size - 1
    text = f"target + top {panel.drawn.size - 1} of {neighbours} neighbours by |relevance|"
    if panel.rest.size:
        total = float(panel.nb.values[panel.rest].sum())
        text += f";\nthe other {panel.rest.size} sum to {_with_unit(total, panel.unit)}"
    return text


def _draw_key(ax: Axes, panel: _Panel, size_by: str) -> None:
    """Under the panel: the summary line and the size key (area of max |C| and of max |C| / 4)."""
    from matplotlib.lines import Line2D

    values = panel.nb.scores if size_by == "niv_score" else panel.nb.values
    top = float(np.abs(values).max())
    unit = "" if size_by == "niv_score" or not panel.unit else f" {panel.unit}"
    what = "|NIV score|" if size_by == "niv_score" else "|relevance|"
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markersize=math.sqrt(max(MIN_AREA, MAX_AREA * share)),
            markerfacecolor="white",
            markeredgecolor="0.3",
            label=f"{what} = {top * share:.3g}{unit}",
        )
        for share in (1.0, 0.25)
    ]
    key = ax.legend(
        handles=handles,
        title=f"{_summary(panel)}\nnode area ∝ {what}:",
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=2,
        frameon=False,
        fontsize=FONT_SIZE,
        title_fontsize=FONT_SIZE,
        borderaxespad=0.2,
        handlelength=2.5,
        handleheight=math.sqrt(MAX_AREA) / FONT_SIZE,
        handletextpad=0.9,
    )
    key.set_gid("niv-key")


def _legend_handles(
    panels: Sequence[_Panel], highlight: np.ndarray, top_k: int, highlight_label: str = ""
) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    nb = panels[0].nb
    n_classes = len(nb.class_names)
    drawn = np.unique(np.concatenate([p.drawn for p in panels]))
    handles: list[Any] = [
        Patch(facecolor=_class_colour(k, n_classes), edgecolor="none", label=nb.class_names[k])
        for k in np.unique(nb.predicted[drawn]).tolist()
    ]
    handles += [
        Patch(facecolor="white", edgecolor="black", linewidth=1.5, label="positive"),
        Patch(
            facecolor="white",
            edgecolor=NEGATIVE_COLOUR,
            linewidth=2.0,
            linestyle="--",
            hatch="///",
            label="negative",
        ),
    ]
    if any(np.any(p.nb.values[p.drawn] == 0) for p in panels):
        handles.append(
            Patch(facecolor="white", edgecolor="0.4", linewidth=1.0, linestyle=":", label="zero")
        )
    star = {"marker": "*", "linestyle": "none", "markersize": 14, "markerfacecolor": "white"}
    handles.append(
        Line2D([], [], markeredgecolor="black", markeredgewidth=2.0, label="target", **star)
    )
    if any(np.setdiff1d(p.shown, p.drawn).size for p in panels):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="-",
                color=EDGE_COLOUR,
                markersize=5,
                markerfacecolor=CONTEXT_COLOUR,
                markeredgecolor="0.45",
                label=f"not in top {top_k}: on the path to the target",
            )
        )
    if highlight.any():
        handles.append(
            Patch(
                facecolor=HALO_COLOUR,
                edgecolor=HALO_EDGE,
                label=highlight_label or "highlighted",
            )
        )
    return handles


def _caption(top_k: int, size_by: str) -> str:
    if size_by == "niv_score":
        sizes = "Node area ∝ |NIV score| = |sign(C)·softmax(C)| (NAM paper eq. 11), per panel."
    else:
        sizes = (
            "Node area ∝ |relevance C| ÷ the largest |C| of the panel's neighbourhood (key under "
            "each panel), not the NIV score sign(C)·softmax(C) of the NAM paper, which is nearly "
            "uniform when relevances are small."
        )
    text = (
        f"Each panel: the target (star) and its top {top_k} neighbours by |relevance| for that "
        f"method, on rings by hop distance. Fill = predicted class; outline = sign. {sizes}"
    )
    return text


def _shared_legend(fig: Figure, spare: Axes | None, handles: list[Any], caption: str) -> None:
    """The class and marker legend of all panels, titled by the caption."""
    where = spare if spare is not None else fig
    legend = where.legend(
        handles=handles,
        loc="center" if spare is not None else "outside lower center",
        ncol=2 if spare is not None else min(5, len(handles)),
        frameon=False,
        fontsize=FONT_SIZE,
        title=textwrap.fill(caption, 62 if spare is not None else 150),
        title_fontsize=FONT_SIZE,
    )
    legend.set_gid("niv-legend")
