"""Figures of the dataset-level views (:mod:`jgattr.analysis`): influence against degree, method
agreement per pair, class locality and relevance per node label."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FONT_SIZE = 10.0
WIDE = (9.0, 4.8)


def _figure(size: tuple[float, float] = WIDE, ncols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def influence_figure(
    degree: np.ndarray,
    influence: np.ndarray,
    classes: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Each node's total ``|relevance|`` over all targets against its degree (log-log), one
    colour per class; nodes that never score (influence 0) are left out.

    Args:
      degree: ``[N]`` degree of each node (nodes of degree 0 are left out).
      influence: ``[N]`` total |relevance| (:func:`jgattr.analysis.influence` ``abs``).
      classes: int ``[N]`` the class to colour each node by (``-1``: grey, "unlabeled").
      class_names: a name per class for the legend.
      title: axes title.

    Returns:
      The figure (points of class ``c`` have gid ``"class-<c>"``).
    """
    degree, influence = np.asarray(degree, float), np.asarray(influence, float)
    classes = np.asarray(classes)
    if not degree.shape == influence.shape == classes.shape or degree.ndim != 1:
        raise ValueError(
            f"degree, influence and classes must be [N] arrays of one length, got "
            f"{degree.shape}, {influence.shape}, {classes.shape}"
        )
    fig, (ax,) = _figure((7.5, 5.0))
    shown = (influence > 0) & (degree > 0)
    for c in np.unique(classes[shown]):
        pick = shown & (classes == c)
        name = "unlabeled" if c < 0 else (class_names[c] if class_names else f"class {c}")
        ax.scatter(
            degree[pick],
            influence[pick],
            s=9,
            alpha=0.6,
            label=name,
            color="0.6" if c < 0 else None,
            gid=f"class-{c}",
            linewidths=0,
        )
    ax.set(xscale="log", yscale="log", xlabel="degree", ylabel="total |relevance| over all targets")
    if shown.sum() > 1:
        rho = np.corrcoef(np.log(degree[shown]), np.log(influence[shown]))[0, 1]
        ax.text(
            0.02,
            0.97,
            f"log-log Pearson r = {rho:.2f} ({int(shown.sum())} nodes)",
            transform=ax.transAxes,
            va="top",
            fontsize=FONT_SIZE,
        )
    ax.legend(loc="lower right", fontsize=FONT_SIZE - 1, markerscale=2, title="node class")
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1)
    return fig


def agreement_figure(
    per_pair: Mapping[str, Mapping[str, np.ndarray]],
    *,
    metrics: Sequence[str] = ("spearman", "overlap@5", "overlap@10"),
    title: str | None = None,
) -> Figure:
    """Distribution over targets of each agreement number, one box per method pair.

    Args:
      per_pair: ``"a|b"`` → arrays per target (:func:`jgattr.analysis.method_agreement`'s
        ``per_pair``); NaN entries are left out.
      metrics: which arrays to draw, one panel each.
      title: the figure's title.

    Returns:
      The figure.
    """
    if not per_pair:
        raise ValueError("per_pair is empty: agreement needs at least two methods")
    fig, axes = _figure((4.0 * len(metrics), 0.5 * len(per_pair) + 2.4), len(metrics))
    labels = [pair.replace("|", " vs ") for pair in per_pair]
    for ax, metric in zip(axes, metrics, strict=True):
        data = [np.asarray(v[metric])[~np.isnan(v[metric])] for v in per_pair.values()]
        ax.boxplot(
            data,
            orientation="horizontal",
            tick_labels=labels,
            showmeans=True,
            flierprops={"markersize": 2, "alpha": 0.4},
        )
        ax.set_xlim(-1.05 if metric == "spearman" else -0.05, 1.05)
        ax.set_xlabel(f"{metric} of |relevance| per target", fontsize=FONT_SIZE)
        ax.tick_params(labelsize=FONT_SIZE - 1)
        if ax is not axes[0]:
            ax.set_yticklabels([])
    fig.supxlabel("box: quartiles; line: median; triangle: mean", fontsize=FONT_SIZE - 1)
    if title:
        fig.suptitle(title, fontsize=FONT_SIZE + 1)
    return fig


def grouped_bars_figure(
    values: Mapping[str, Sequence[float]],
    groups: Sequence[str],
    *,
    ylabel: str,
    reference: Sequence[float] | None = None,
    reference_label: str = "baseline",
    title: str | None = None,
) -> Figure:
    """One bar per (group, method): e.g. class locality per class, or relevance per atom type.

    Args:
      values: method → one number per group.
      groups: the group names (classes, atom symbols).
      ylabel: y-axis label.
      reference: one number per group drawn as a black tick (e.g. the count-based baseline).
      reference_label: its legend entry.
      title: axes title.

    Returns:
      The figure (bars of a method have gid ``"bars-<method>"``).
    """
    fig, (ax,) = _figure((min(12.0, 4.0 + 0.3 * len(groups) * max(1, len(values))), 4.6))
    x = np.arange(len(groups))
    width = 0.8 / max(1, len(values))
    for i, (method, numbers) in enumerate(values.items()):
        ax.bar(
            x + (i - (len(values) - 1) / 2) * width,
            np.asarray(numbers, float),
            width,
            label=method,
            gid=f"bars-{method}",
        )
    if reference is not None:
        ax.hlines(reference, x - 0.42, x + 0.42, color="black", label=reference_label, zorder=3)
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_xticks(x, groups, fontsize=FONT_SIZE)
    ax.set_ylabel(ylabel, fontsize=FONT_SIZE)
    ax.legend(fontsize=FONT_SIZE - 1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1)
    return fig
