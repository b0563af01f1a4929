"""Drawing one NIV panel: edges, motif halos, grey context dots, nodes, labels and size key."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from jgattr.viz._niv_input import Neighbourhood
from jgattr.viz._niv_layout import Panel, relative
from jgattr.viz._niv_style import (
    CONTEXT_AREA,
    CONTEXT_COLOUR,
    EDGE_COLOUR,
    FONT_SIZE,
    HALO_COLOUR,
    HALO_EDGE,
    HALO_PAD,
    MAX_AREA,
    MIN_AREA,
    NEGATIVE_COLOUR,
    NEGATIVE_STYLE,
    POSITIVE_STYLE,
    RING,
    TARGET_MIN_AREA,
    ZERO_STYLE,
    class_colour,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _areas(panel: Panel, size_by: str) -> np.ndarray:
    """``[n]`` marker area of every node of the neighbourhood."""
    magnitude = np.abs(panel.nb.scores if size_by == "niv_score" else panel.nb.values)
    return np.maximum(MIN_AREA, MAX_AREA * relative(magnitude))


def _with_unit(value: float, unit: str | None) -> str:
    return f"{value:+.3g}" + (f" {unit}" if unit else "")


def draw_panel(
    ax: Axes,
    panel: Panel,
    parent: np.ndarray,
    positions: np.ndarray,
    highlight: np.ndarray,
    *,
    label_top: int,
    size_by: str,
) -> None:
    """Draw ``panel`` into ``ax`` at the shared ``positions``, with its key under it."""
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


def _draw_edges(ax: Axes, panel: Panel, positions: np.ndarray, highlight: np.ndarray) -> None:
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
    ax: Axes, panel: Panel, positions: np.ndarray, highlight: np.ndarray, areas: np.ndarray
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


def _draw_context(ax: Axes, nb: Neighbourhood, context: np.ndarray, positions: np.ndarray) -> None:
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
    ax: Axes, nb: Neighbourhood, drawn: np.ndarray, positions: np.ndarray, areas: np.ndarray
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
            facecolors=[class_colour(int(nb.predicted[i]), n_classes)],
            zorder=4 if i == nb.center else 3,
            gid=f"niv-node-{nb.nodes[i]}",
            **style,
        )


def _draw_labels(
    ax: Axes, panel: Panel, labelled: np.ndarray, positions: np.ndarray, areas: np.ndarray
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


def _summary(panel: Panel) -> str:
    """What a panel drew and what the rest adds up to."""
    neighbours = panel.nb.nodes.size - 1
    text = f"target + top {panel.drawn.size - 1} of {neighbours} neighbours by |relevance|"
    if panel.rest.size:
        total = float(panel.nb.values[panel.rest].sum())
        text += f";\nthe other {panel.rest.size} sum to {_with_unit(total, panel.unit)}"
    return text


def _draw_key(ax: Axes, panel: Panel, size_by: str) -> None:
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
