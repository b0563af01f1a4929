"""NIV (node importance visualization): one target's neighbourhood drawn by contribution.

Node area encodes the NIV score ``sign(C) * softmax(C)`` of each node's attribution ``C`` to the
target's prediction, face colour the node's predicted class, the outline the sign (solid dark:
positive, dashed dark red with hatching: negative). The target sits at the centre as a star, its
1-hop neighbours on an inner ring, every other node on an outer ring.

References:
    NAM/NIV for GCNs, section 3.3 (``shared/seeds/nam_niv_gcn_attribution.md``), equations 10-11.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from jgattr.viz._checks import finite_array

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

INNER_RADIUS = 1.0
OUTER_RADIUS = 2.0
MIN_AREA = 60.0  # marker area in points² of the smallest drawn node: every node stays visible
MAX_AREA = 1800.0  # marker area of the drawn node with the largest |score|
TARGET_MIN_AREA = 350.0
NEGATIVE_COLOUR = "#8b0000"
EDGE_COLOUR = "0.65"
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
) -> Figure:
    """Draw the NIV of one target: its neighbourhood sized by NIV score, coloured by class.

    Only the target and its ``top_k`` neighbours with the largest ``|score|`` are drawn (ties by
    node id), with the edges among them; the rest are summarized as ``"+N more (sum of scores s)"``
    in the top-left corner. Scores are computed over all ``n`` nodes, target included (see
    :func:`niv_scores`). Marker area is ``MAX_AREA * |score| / max drawn |score|``, at least
    ``MIN_AREA``. The ``label_top`` drawn neighbours with the largest ``|score|`` are labelled
    ``"id\\nC"`` (attribution ``C`` to 3 significant digits), the target ``"target id\\nC"``.

    Layout (deterministic, no graph library): the target at the centre, neighbours adjacent to it in
    ``edges`` on a ring of radius 1 in node-id order, all others on a ring of radius 2, ordered by
    the angle of their first inner-ring neighbour, then by id. ``seed`` only rotates the rings by
    less than one slot. Every node artist has gid ``"niv-node-<id>"``.

    Args:
        target: node id of the explained node; must be in ``nodes``.
        nodes: ``[n]`` distinct integer node ids of the neighbourhood (e.g. the 2-hop one).
        values: ``[n]`` finite attribution of each node to the target's prediction.
        edges: ``[2, m]`` undirected edges among ``nodes``, as node ids (not positions).
        predicted: ``[n]`` non-negative integer predicted class of each node (face colour).
        method: attribution method name, shown in the title ``"NIV of node <target> (<method>)"``.
        class_names: names of classes ``0..C-1``; default ``"class k"``.
        top_k: number of neighbours drawn besides the target (>= 0).
        label_top: number of drawn neighbours labelled with id and value (>= 0).
        ax: existing Axes to draw into (for panels); default a new figure.
        seed: seed of the ring rotation; the same inputs and seed give the same figure.

    Returns:
        The figure holding the drawing (``ax.figure`` when ``ax`` is given).

    Raises:
        ValueError: shapes disagree, ``target`` not in ``nodes``, duplicate node ids, non-finite
            ``values``, ``edges`` naming ids outside ``nodes``, bad classes or counts.

    Example:
        >>> fig = niv_figure(0, np.array([0, 1, 2]), np.array([0.5, 0.2, -0.1]),
        ...                  np.array([[0, 0], [1, 2]]), np.array([0, 1, 0]))
    """
    _check_options(method=method, top_k=top_k, label_top=label_top, seed=seed)
    nb = _neighbourhood(target, nodes, values, edges, predicted, class_names)
    drawn, rest = _select(nb, top_k)
    positions = _layout(nb, drawn, seed)
    fig, ax = _figure_and_axes(ax)
    _draw(ax, nb, drawn, rest, positions, method=method, label_top=label_top)
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
) -> Figure:
    """One NIV per method side by side for the same target, all panels in one shared layout.

    The layout is computed once over the union of the nodes each method draws, so a node sits at
    the same place in every panel. Arguments are those of :func:`niv_figure`.

    Args:
        target: node id of the explained node; must be in ``nodes``.
        nodes: ``[n]`` distinct integer node ids of the neighbourhood.
        values_by_method: method name -> ``[n]`` attributions; one panel each, in this order.
        edges: ``[2, m]`` undirected edges among ``nodes``, as node ids.
        predicted: ``[n]`` predicted class of each node.
        class_names: names of classes ``0..C-1``; default ``"class k"``.
        top_k: neighbours drawn per panel besides the target.
        label_top: drawn neighbours labelled per panel.
        seed: seed of the ring rotation.

    Returns:
        A figure with one Axes per method, titled ``"NIV of node <target> (<method>)"``.

    Raises:
        ValueError: ``values_by_method`` is empty or any input is invalid (see :func:`niv_figure`).
    """
    if not isinstance(values_by_method, Mapping) or not values_by_method:
        raise ValueError(
            "values_by_method must be a non-empty mapping method name -> [n] attributions, "
            f"got {values_by_method!r}"
        )
    for method in values_by_method:
        _check_options(method=method, top_k=top_k, label_top=label_top, seed=seed)
    hoods = {
        m: _neighbourhood(target, nodes, v, edges, predicted, class_names)
        for m, v in values_by_method.items()
    }
    selections = {m: _select(nb, top_k) for m, nb in hoods.items()}
    union = np.unique(np.concatenate([drawn for drawn, _ in selections.values()]))
    positions = _layout(next(iter(hoods.values())), union, seed)
    fig = _new_figure(figsize=(6.0 * len(hoods), 6.8))
    axes = fig.subplots(1, len(hoods), squeeze=False)[0]
    for ax, (method, nb) in zip(axes, hoods.items(), strict=True):
        drawn, rest = selections[method]
        _draw(ax, nb, drawn, rest, positions, method=method, label_top=label_top)
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


def _check_options(*, method: str, top_k: int, label_top: int, seed: int) -> None:
    if not isinstance(method, str) or not method:
        raise ValueError(f"method must be a non-empty str (used in the title), got {method!r}")
    for name, value in (("top_k", top_k), ("label_top", label_top), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")


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
    return _Neighbourhood(
        target=int(target),
        center=center,
        nodes=ids,
        values=vals,
        scores=niv_scores(vals),
        edges=_edge_positions(edges, ids),
        predicted=pred,
        class_names=_class_names(class_names, pred),
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


# --- selection and layout -----------------------------------------------------------------------


def _select(nb: _Neighbourhood, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions drawn (target first, then neighbours by decreasing |score|) and summarized."""
    others = np.flatnonzero(np.arange(nb.nodes.size) != nb.center)
    ranked = others[np.lexsort((nb.nodes[others], -np.abs(nb.scores[others])))]
    return np.concatenate([[nb.center], ranked[:top_k]]).astype(np.int64), ranked[top_k:]


def _adjacent_to_target(nb: _Neighbourhood) -> np.ndarray:
    """``[n]`` bool: node shares an edge with the target (the target itself excluded)."""
    src, dst = nb.edges
    near = np.zeros(nb.nodes.size, dtype=bool)
    near[dst[src == nb.center]] = True
    near[src[dst == nb.center]] = True
    near[nb.center] = False
    return near


def _ring_angles(count: int, phase: float) -> np.ndarray:
    return phase + 2.0 * math.pi * np.arange(count) / max(count, 1)


def _unit(angles: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def _layout(nb: _Neighbourhood, laid_out: np.ndarray, seed: int) -> np.ndarray:
    """``[n, 2]`` positions of the nodes in ``laid_out`` (NaN elsewhere); target at the origin."""
    pos = np.full((nb.nodes.size, 2), np.nan)
    pos[nb.center] = 0.0
    rest = np.setdiff1d(laid_out, [nb.center])
    near = _adjacent_to_target(nb)
    inner = rest[near[rest]]
    inner = inner[np.argsort(nb.nodes[inner], kind="stable")]
    outer = rest[~near[rest]]
    jitter = np.random.default_rng(seed).uniform(0.0, 1.0)
    phase = math.pi / 2 + jitter * 2.0 * math.pi / max(inner.size, 1)
    inner_angles = _ring_angles(inner.size, phase)
    pos[inner] = INNER_RADIUS * _unit(inner_angles)
    parent = _parent_angles(nb, outer, inner, (inner_angles - phase) % (2.0 * math.pi))
    outer = outer[np.lexsort((nb.nodes[outer], parent))]
    outer_phase = phase + math.pi / max(outer.size, 1)
    pos[outer] = OUTER_RADIUS * _unit(_ring_angles(outer.size, outer_phase))
    return pos


def _parent_angles(
    nb: _Neighbourhood, outer: np.ndarray, inner: np.ndarray, inner_angles: np.ndarray
) -> np.ndarray:
    """Smallest angle of an inner-ring neighbour of each outer node (inf when it has none)."""
    angle = np.full(nb.nodes.size, np.inf)
    angle[inner] = inner_angles
    best = np.full(nb.nodes.size, np.inf)
    src, dst = nb.edges
    np.minimum.at(best, src, angle[dst])
    np.minimum.at(best, dst, angle[src])
    return best[outer]


# --- drawing ------------------------------------------------------------------------------------


def _new_figure(figsize: tuple[float, float]) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _figure_and_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = _new_figure(figsize=(6.5, 7.2))
    return fig, fig.add_subplot()


def _class_colour(k: int, n_classes: int) -> tuple[float, ...]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n_classes <= 10 else "tab20"]
    return cmap(k % cmap.N)


def _areas(scores: np.ndarray) -> np.ndarray:
    mag = np.abs(scores)
    top = mag.max() if mag.size else 0.0
    rel = mag / top if top > 0 else np.zeros_like(mag)
    return np.maximum(MIN_AREA, MAX_AREA * rel)


def _draw(
    ax: Axes,
    nb: _Neighbourhood,
    drawn: np.ndarray,
    rest: np.ndarray,
    positions: np.ndarray,
    *,
    method: str,
    label_top: int,
) -> None:
    areas = dict(zip(drawn.tolist(), _areas(nb.scores[drawn]).tolist(), strict=True))
    _draw_edges(ax, nb, drawn, positions)
    _draw_nodes(ax, nb, drawn, positions, areas)
    _draw_labels(ax, nb, drawn[: 1 + label_top], positions, areas)
    if rest.size:
        total = float(nb.scores[rest].sum())
        ax.text(
            0.01,
            0.99,
            f"+{rest.size} more (sum of scores {total:.3g})",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            gid="niv-summary",
        )
    _draw_legend(ax, nb, drawn)
    lim = OUTER_RADIUS + 0.45
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax.set_axis_off()
    ax.set_title(f"NIV of node {nb.target} ({method})")


def _draw_edges(ax: Axes, nb: _Neighbourhood, drawn: np.ndarray, positions: np.ndarray) -> None:
    from matplotlib.collections import LineCollection

    src, dst = nb.edges
    keep = np.isin(src, drawn) & np.isin(dst, drawn) & (src != dst)
    pairs = np.unique(np.sort(np.stack([src[keep], dst[keep]], axis=1), axis=1), axis=0)
    segments = positions[pairs] if pairs.size else np.zeros((0, 2, 2))
    ax.add_collection(
        LineCollection(segments, colors=EDGE_COLOUR, linewidths=1.0, zorder=1, gid="niv-edges")
    )


def _node_style(score: float) -> dict[str, Any]:
    if score > 0:
        return POSITIVE_STYLE
    return NEGATIVE_STYLE if score < 0 else ZERO_STYLE


def _draw_nodes(
    ax: Axes,
    nb: _Neighbourhood,
    drawn: np.ndarray,
    positions: np.ndarray,
    areas: dict[int, float],
) -> None:
    n_classes = len(nb.class_names)
    for i in drawn.tolist():
        style = dict(_node_style(float(nb.scores[i])))
        marker, area = "o", areas[i]
        if i == nb.center:
            marker, area = "*", max(area, TARGET_MIN_AREA)
            style.update(linewidths=2.5, hatch=None)
            style["edgecolors"] = "black" if nb.scores[i] >= 0 else NEGATIVE_COLOUR
        x, y = positions[i]
        colour = _class_colour(int(nb.predicted[i]), n_classes)
        ax.scatter(
            [x],
            [y],
            s=[area],
            marker=marker,
            facecolors=[colour],
            zorder=3 if i == nb.center else 2,
            gid=f"niv-node-{nb.nodes[i]}",
            **style,
        )


def _draw_labels(
    ax: Axes,
    nb: _Neighbourhood,
    labelled: np.ndarray,
    positions: np.ndarray,
    areas: dict[int, float],
) -> None:
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
    for i in labelled.tolist():
        is_target = i == nb.center
        direction = np.array([0.0, -1.0]) if is_target else positions[i] / INNER_RADIUS
        direction = direction / np.linalg.norm(direction)
        offset = direction * (math.sqrt(areas[i]) / 2 + 3)
        text = f"{nb.nodes[i]}\n{nb.values[i]:.3g}"
        ax.annotate(
            f"target {text}" if is_target else text,
            xy=tuple(positions[i]),
            xytext=tuple(offset),
            textcoords="offset points",
            ha=_align(direction[0], "left", "right"),
            va=_align(direction[1], "bottom", "top"),
            fontsize=8,
            fontweight="bold" if is_target else "normal",
            bbox=box,
            zorder=4,
            gid="niv-target-label" if is_target else f"niv-label-{nb.nodes[i]}",
        )


def _align(component: float, positive: str, negative: str) -> str:
    if component > 0.3:
        return positive
    return negative if component < -0.3 else "center"


def _draw_legend(ax: Axes, nb: _Neighbourhood, drawn: np.ndarray) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n_classes = len(nb.class_names)
    classes = np.unique(nb.predicted[drawn]).tolist()
    handles: list[Any] = [
        Patch(facecolor=_class_colour(k, n_classes), edgecolor="none", label=nb.class_names[k])
        for k in classes
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
    if np.any(nb.scores[drawn] == 0):
        handles.append(
            Patch(facecolor="white", edgecolor="0.4", linewidth=1.0, linestyle=":", label="zero")
        )
    handles.append(
        Line2D(
            [],
            [],
            marker="*",
            linestyle="none",
            markersize=14,
            markerfacecolor="white",
            markeredgecolor="black",
            markeredgewidth=2.0,
            label="target",
        )
    )
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(4, len(handles)),
        frameon=False,
        fontsize=8,
    )
