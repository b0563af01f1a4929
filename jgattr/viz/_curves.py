"""Deletion/perturbation curves (accuracy against fraction deleted) and atomic figure saving."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from jgattr._io import atomic_write_bytes
from jgattr.viz._checks import finite_array

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SAVE_FORMATS = ("png", "svg")
REFERENCE_COLOUR = "0.5"
FONT_SIZE = 10.0  # axis labels, ticks, legend, note: readable at 100% (>= 9 pt)
MARKERS = ("o", "s", "^", "D", "v", "P")  # one per method: overlapping curves stay apart
FIGURE_SIZE = (8.0, 4.6)  # inches: 1200 x 690 px at save_figure's 150 dpi


def curves_figure(
    levels: np.ndarray,
    curves: Mapping[str, np.ndarray],
    *,
    xlabel: str = "fraction of neighbours deleted",
    ylabel: str = "test accuracy",
    title: str | None = None,
    reference: str | None = "random",
    note: str | None = None,
    scale_after_first: bool = False,
) -> Figure:
    """Plot one curve per method against ``levels``, e.g. accuracy as neighbours are deleted.

    Each curve is a line with its own colour and marker (hollow after the first, so curves that
    overlap stay apart). A ``[R, L]`` array is ``R`` repeats (seeds, random
    deletions): drawn as the mean with a shaded band of ± the sample standard deviation
    (``ddof=1``; no band when ``R == 1``). The ``reference`` curve (if present) is dashed grey.
    The y-axis is fixed to ``[0, 1]`` when every value lies in ``[0, 1]``. The legend sits to the
    right of the axes, so it never covers a curve; every text is at least 9 pt at 150 dpi.

    Args:
        levels: ``[L]`` finite x values, e.g. deletion fractions ``0..1``.
        curves: name -> ``[L]`` curve or ``[R, L]`` repeats; legend in this order.
        xlabel: x-axis label; say what was deleted, e.g. ``"fraction of 2-hop neighbours
            deleted"`` for a 2-layer model (the receptive field is ``num_layers`` hops).
        ylabel: y-axis label.
        title: axes title; none when ``None``.
        reference: name of the baseline curve drawn dashed grey; ``None`` for none.
        note: a line under the plot (e.g. which methods are not shown and why); none if ``None``.
        scale_after_first: scale the y-axis to the levels after the first when the first
            level's values lie far outside them (more than half their span beyond), so the
            curves there can be told apart; the first level's values are then written at the
            axis edge with an arrow (gid ``"curves-off-scale"``). E.g. keeping nothing (q = 0)
            gives every method the same large drop.

    Returns:
        The figure. Line artists have gid ``"curve-<name>"``, bands ``"band-<name>"``.

    Raises:
        ValueError: ``levels`` is not a finite 1-D array, ``curves`` is empty, or a curve is not
            finite with shape ``[L]`` or ``[R, L]``.

    Example:
        >>> fig = curves_figure(np.linspace(0, 1, 5), {"nam": np.linspace(0.8, 0.2, 5),
        ...                                            "random": np.full((3, 5), 0.8)})
    """
    x = _levels(levels)
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(
            f"curves must be a non-empty mapping name -> [L] or [R, L], got {curves!r}"
        )
    stats = {name: _curve_stats(name, arr, x.size) for name, arr in curves.items()}
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGURE_SIZE, layout="constrained")
    ax = fig.add_subplot()
    styles = iter((f"C{i % 10}", MARKERS[i % len(MARKERS)]) for i in range(len(stats)))
    for name, (mean, std) in stats.items():
        colour, marker = (REFERENCE_COLOUR, "o") if name == reference else next(styles)
        _draw_curve(ax, x, name, mean, std, colour=colour, marker=marker, dashed=name == reference)
    values = np.concatenate([np.ravel(np.asarray(c, dtype=np.float64)) for c in curves.values()])
    scaled = scale_after_first and _off_scale(ax, x, {n: m for n, (m, _) in stats.items()})
    if not scaled and values.min() >= 0.0 and values.max() <= 1.0:
        ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(xlabel, fontsize=FONT_SIZE)
    ax.set_ylabel(ylabel, fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    if title is not None:
        ax.set_title(title, fontsize=FONT_SIZE + 1)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=FONT_SIZE)
    if note is not None:
        fig.supxlabel(note, fontsize=FONT_SIZE - 1, color="0.3", gid="curves-note")
    return fig


def _off_scale(ax: Axes, x: np.ndarray, means: Mapping[str, np.ndarray]) -> bool:
    """Scale ``ax`` to the curves after the first level if the first level lies far outside
    them; write the first level's values at the edge. Whether it did."""
    if x.size < 3:
        return False
    rest = np.stack([m[1:] for m in means.values()])
    first = np.array([m[0] for m in means.values()])
    low, high = rest.min(), rest.max()
    span = max(high - low, 1e-12)
    below, above = first < low - span / 2, first > high + span / 2
    if not (below.any() or above.any()):
        return False
    pad = 0.08 * span
    ax.set_ylim(low - pad, high + pad)
    for outside, edge, marker in ((below, low - pad, "v"), (above, high + pad, "^")):
        if outside.any():
            shown = first[outside]
            text = f"{shown.min():.3g}"
            text += "" if np.ptp(shown) < 1e-3 else f" to {shown.max():.3g}"
            ax.plot([x[0]], [edge], marker=marker, ms=9, color="0.3", clip_on=False, zorder=5)
            ax.annotate(
                f"at {x[0]:g}: {text} (off scale)",
                xy=(x[0], edge),
                xytext=(8, 6 if marker == "v" else -6),
                textcoords="offset points",
                ha="left",
                va="bottom" if marker == "v" else "top",
                fontsize=FONT_SIZE - 1,
                color="0.2",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.6", "lw": 0.5},
                zorder=6,
                gid="curves-off-scale",
            )
    return True


def save_figure(fig: Figure, path_without_suffix: str | os.PathLike) -> list[Path]:
    """Write ``fig`` as ``<path>.png`` and ``<path>.svg``, each atomically (temp file + replace).

    Parent folders are created. Output is reproducible: no date in the SVG and a fixed SVG id salt.

    Args:
        fig: the figure to save.
        path_without_suffix: destination without extension, e.g. ``results/niv_cora_1358``.

    Returns:
        The written paths, ``[png, svg]``.

    Raises:
        ValueError: the path already ends in ``.png`` or ``.svg``.
    """
    base = Path(path_without_suffix)
    if base.suffix.lower() in {f".{fmt}" for fmt in SAVE_FORMATS}:
        raise ValueError(
            f"path_without_suffix must not end in an image suffix, got {str(base)!r}; "
            f"pass {str(base.with_suffix(''))!r} and both .png and .svg are written"
        )
    return [
        atomic_write_bytes(base.with_name(f"{base.name}.{fmt}"), _render(fig, fmt))
        for fmt in SAVE_FORMATS
    ]


def _render(fig: Figure, fmt: str) -> bytes:
    import matplotlib

    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {}
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "jgattr"}):
        fig.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
    return buffer.getvalue()


def _levels(levels: np.ndarray) -> np.ndarray:
    x = finite_array(levels, "levels")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"levels must be a non-empty 1-D array [L], got shape {x.shape}")
    return x


def _curve_stats(
    name: str, curve: np.ndarray, n_levels: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean ``[L]`` and sample std ``[L]`` (``None`` for one repeat) of one curve."""
    if not isinstance(name, str):
        raise ValueError(f"curves keys must be str names, got {name!r}")
    arr = finite_array(curve, f"curves[{name!r}]")
    if arr.ndim not in (1, 2) or arr.shape[-1] != n_levels or arr.size == 0:
        raise ValueError(
            f"curves[{name!r}] must have shape [L] or [R, L] with L = len(levels) = {n_levels}, "
            f"got {arr.shape}"
        )
    if arr.ndim == 1:
        return arr, None
    std = np.std(arr, axis=0, ddof=1) if arr.shape[0] > 1 else None
    return arr.mean(axis=0), std


def _draw_curve(
    ax: Axes,
    x: np.ndarray,
    name: str,
    mean: np.ndarray,
    std: np.ndarray | None,
    *,
    colour: str,
    marker: str,
    dashed: bool,
) -> None:
    ax.plot(
        x,
        mean,
        marker=marker,
        markersize=5,
        markerfacecolor="none" if marker != "o" else colour,
        color=colour,
        label=name,
        linestyle="--" if dashed else "-",
        gid=f"curve-{name}",
    )
    if std is not None:
        ax.fill_between(
            x, mean - std, mean + std, color=colour, alpha=0.2, linewidth=0, gid=f"band-{name}"
        )
