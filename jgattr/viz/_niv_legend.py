"""The legend shared by the NIV panels (classes, signs, markers) and its caption."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from jgattr.viz._niv_layout import Panel
from jgattr.viz._niv_style import (
    CONTEXT_COLOUR,
    EDGE_COLOUR,
    FONT_SIZE,
    HALO_COLOUR,
    HALO_EDGE,
    NEGATIVE_COLOUR,
    class_colour,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def legend_handles(
    panels: Sequence[Panel], highlight: np.ndarray, top_k: int, highlight_label: str = ""
) -> list[Any]:
    """Legend entries: the classes drawn in any panel, the signs and the markers used."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    nb = panels[0].nb
    n_classes = len(nb.class_names)
    drawn = np.unique(np.concatenate([p.drawn for p in panels]))
    handles: list[Any] = [
        Patch(facecolor=class_colour(k, n_classes), edgecolor="none", label=nb.class_names[k])
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


def legend_caption(top_k: int, size_by: str) -> str:
    """What every panel shows and how node areas were computed."""
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


def shared_legend(fig: Figure, spare: Axes | None, handles: list[Any], caption: str) -> None:
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
