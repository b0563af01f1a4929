"""Subgraph figure: one target's computation graph with node and edge relevance (Captum's
node-and-edge tutorial, PyG's ``Explanation.visualize_graph``).

Edges are drawn undirected: an undirected edge scores the sum of ``|relevance|`` of its two
directions (Captum's tutorial aggregates the two directions of a mask the same way); self loops
are not drawn. The drawn subgraph grows from the target best first (Prim's order: each step adds
the highest-scoring edge touching the nodes drawn so far) up to ``top_k`` edges, or while edges
score at least ``threshold`` times the largest; so it is connected to the target, as an
explanatory subgraph is. Edges are drawn with width and opacity in proportion to their score;
a node is drawn when it touches a drawn edge (the target always), with marker area and opacity in
proportion to ``|node relevance|`` and its predicted class as colour. Nodes sit on rings by hop
distance from the target, spread in the order of a breadth-first walk, so neighbours stay close.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from jgattr.viz._niv_style import (
    FONT_SIZE,
    HALO_COLOUR,
    HALO_EDGE,
    NEGATIVE_COLOUR,
    TITLE_SIZE,
    class_colour,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_WIDTH, MIN_WIDTH = 7.0, 0.6  # edge line widths (points) of the largest and smallest score
MAX_AREA, MIN_AREA = 900.0, 40.0  # node marker areas (points²)


def undirected_scores(
    senders: np.ndarray, receivers: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(``[2, m]`` undirected edges ``u < v``, ``[m]`` sum of ``|value|`` of both directions,
    ``[m]`` sign of the summed signed values), self loops left out."""
    senders, receivers = np.asarray(senders), np.asarray(receivers)
    values = np.asarray(values, dtype=np.float64)
    keep = senders != receivers
    low = np.minimum(senders, receivers)[keep]
    high = np.maximum(senders, receivers)[keep]
    pairs, inverse = np.unique(np.stack([low, high]), axis=1, return_inverse=True)
    inverse = inverse.reshape(-1)
    score = np.bincount(inverse, np.abs(values[keep]), pairs.shape[1])
    signed = np.bincount(inverse, values[keep], pairs.shape[1])
    return pairs, score, np.where(signed < 0, -1.0, 1.0)


def _grow(
    target: int,
    pairs: np.ndarray,
    score: np.ndarray,
    top_k: int | None,
    threshold: float | None,
) -> np.ndarray:
    """Indices of the drawn edges: grown from the target best first (Prim's order), each new
    edge the highest-scoring one touching the nodes drawn so far, so the subgraph is connected;
    up to ``top_k`` edges, none below ``threshold`` times the largest score, none scoring 0."""
    limit = pairs.shape[1] if top_k is None else top_k
    floor = 0.0 if threshold is None else threshold * score.max(initial=0.0)
    drawn, nodes, chosen = np.zeros(score.size, bool), {int(target)}, []
    while len(chosen) < limit:
        touching = ~drawn & (np.isin(pairs[0], list(nodes)) | np.isin(pairs[1], list(nodes)))
        candidates = np.flatnonzero(touching & (score > 0) & (score >= floor))
        if candidates.size == 0:
            break
        best = int(candidates[np.argmax(score[candidates])])
        drawn[best] = True
        chosen.append(best)
        nodes.update(pairs[:, best].tolist())
    return np.array(chosen, dtype=np.int64)


def _layout(target: int, edges: np.ndarray) -> dict[int, tuple[float, float]]:
    """Rings by hop distance from ``target`` over ``edges``, nodes in breadth-first order."""
    neighbours: dict[int, list[int]] = {}
    for u, v in edges.T.tolist():
        neighbours.setdefault(u, []).append(v)
        neighbours.setdefault(v, []).append(u)
    rings, seen, frontier = [[target]], {target}, [target]
    while frontier:
        nxt = []
        for node in frontier:
            for other in sorted(neighbours.get(node, [])):
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
        if nxt:
            rings.append(nxt)
        frontier = nxt
    unreached = sorted(set(neighbours) - seen)
    if unreached:
        rings.append(unreached)
    positions, radius = {target: (0.0, 0.0)}, 0.0
    for index, ring in enumerate(rings[1:], start=1):
        radius = max(radius + 1.0, len(ring) / 8.0)  # about 8 nodes per unit of radius
        angles = 2 * np.pi * (np.arange(len(ring)) + 0.5 * (index % 2)) / len(ring)
        for node, angle in zip(ring, angles, strict=True):
            positions[node] = (radius * np.cos(angle), radius * np.sin(angle))
    return positions


def subgraph_figure(
    target: int,
    edges: np.ndarray,
    edge_values: np.ndarray,
    node_ids: np.ndarray,
    node_values: np.ndarray | None,
    predicted: np.ndarray,
    *,
    class_names: Sequence[str] | None = None,
    top_k: int | None = 30,
    threshold: float | None = None,
    label_top: int = 6,
    highlight: Sequence[int] | np.ndarray | None = None,
    title: str | None = None,
    edge_method: str = "edge relevance",
    node_method: str | None = None,
    budget: str | None = None,
) -> Figure:
    """Draw a target's explanatory subgraph: edge width/opacity and node size/opacity by relevance.

    Args:
        target: the explained node id.
        edges: ``[2, E]`` directed edges (sender, receiver node ids) of the target's computation
            graph, e.g. the graph edges named by an edge result's ``sources``.
        edge_values: ``[E]`` relevance of each edge (sign kept: negative edges are dark red).
        node_ids: ``[n]`` node ids with a node relevance (e.g. a node result's ``sources``).
        node_values: ``[n]`` node relevance, or ``None`` (all nodes drawn the same size).
        predicted: ``[N]`` predicted class of every graph node (face colour).
        class_names: names of classes ``0..C-1``; default ``"class k"``.
        top_k: the number of undirected edges drawn (grown from the target, best first);
            ``None``: no limit.
        threshold: draw only edges scoring at least this fraction of the largest score.
        label_top: nodes labelled with their id (target first, then largest ``|node value|``).
        highlight: node ids to mark with a halo (e.g. a ground-truth motif).
        title: figure title.
        edge_method: the edge method's name, shown in the caption.
        node_method: the node method's name, shown in the caption.
        budget: a line (or two) under the title saying where the prediction comes from, e.g.
            ``"nam: logit +4.09 = nodes −111.8 + biases +115.9"`` (gid ``"subgraph-budget"``).

    Returns:
        A matplotlib ``Figure`` (1200 x 1100 px at 150 dpi).
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    pairs, score, sign = undirected_scores(edges[0], edges[1], edge_values)
    chosen = _grow(int(target), pairs, score, top_k, threshold)
    drawn_edges = pairs[:, chosen]
    positions = _layout(int(target), drawn_edges)
    nodes = np.array(sorted(positions), dtype=np.int64)
    relevance = np.zeros(nodes.size)
    if node_values is not None:
        ids, values = np.asarray(node_ids).tolist(), np.asarray(node_values).tolist()
        lookup = dict(zip(ids, values, strict=True))
        relevance = np.array([lookup.get(int(n), 0.0) for n in nodes])
    node_scale = np.abs(relevance) / max(np.abs(relevance).max(initial=0.0), 1e-300)
    edge_scale = score[chosen] / max(score[chosen].max(initial=0.0), 1e-300)
    fig = Figure(figsize=(8.0, 7.33))
    ax = fig.add_axes((0.02, 0.2, 0.96, 0.64 if budget else 0.72))  # room for the budget lines
    ax.set_axis_off()
    ax.set_aspect("equal")
    for (u, v), s, sg in zip(drawn_edges.T.tolist(), edge_scale, sign[chosen], strict=True):
        (x0, y0), (x1, y1) = positions[u], positions[v]
        colour = "black" if sg > 0 else NEGATIVE_COLOUR
        width = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * s
        ax.plot([x0, x1], [y0, y1], color=colour, lw=width, alpha=0.15 + 0.85 * s, zorder=1)
    num_classes = int(np.max(predicted)) + 1 if class_names is None else len(class_names)
    marked = set(np.asarray(highlight if highlight is not None else [], dtype=np.int64).tolist())
    xy = np.array([positions[int(n)] for n in nodes])
    for (x, y), node, s, r in zip(xy, nodes.tolist(), node_scale, relevance, strict=True):
        area = MIN_AREA + (MAX_AREA - MIN_AREA) * (s if node_values is not None else 0.3)
        if node in marked:
            ax.scatter(x, y, s=area * 2.2 + 200, color=HALO_COLOUR, ec=HALO_EDGE, zorder=2)
        ax.scatter(
            x,
            y,
            s=area if node != target else max(area, 500.0),
            marker="*" if node == target else "o",
            color=class_colour(int(predicted[node]), num_classes),
            alpha=0.35 + 0.65 * s if node_values is not None else 1.0,
            ec=NEGATIVE_COLOUR if r < 0 else "black",
            lw=1.5,
            ls="--" if r < 0 else "-",
            zorder=3,
        )
    ranked = [int(nodes[i]) for i in np.argsort(-np.abs(relevance), kind="stable")]
    labelled = [int(target), *[n for n in ranked if n != target][: max(label_top, 0)]]
    for node in labelled:
        x, y = positions[node]
        text = f"{node}" if node_values is None else f"{node}\n{relevance[nodes == node][0]:+.3g}"
        ax.annotate(
            text,
            (x, y),
            xytext=(9, 9),
            textcoords="offset points",
            fontsize=FONT_SIZE,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.8, "lw": 0},
            zorder=4,
        )
    names = class_names or [f"class {k}" for k in range(num_classes)]
    shown = sorted({int(predicted[n]) for n in nodes})
    handles = [
        Line2D([], [], ls="", marker="o", ms=9, mfc=class_colour(k, num_classes), mec="black")
        for k in shown
    ]
    labels = [f"predicted {names[k]}" for k in shown]
    if marked:
        handles.append(Line2D([], [], ls="", marker="o", ms=14, mfc=HALO_COLOUR, mec=HALO_EDGE))
        labels.append("ground-truth motif")
    ax.margins(0.08)
    fig.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.02, 0.105),
        ncol=min(len(labels), 3),
        fontsize=FONT_SIZE,
        frameon=False,
    )
    total = int((score > 0).sum())
    caption = (
        f"Edges: {chosen.size} of the {total} undirected edges of the computation graph, grown "
        f"from the target by largest {edge_method} (|both directions| summed; self loops not "
        "drawn); width and opacity ∝ relevance, dark red = negative."
    )
    caption += (
        f"\nNodes: size and opacity ∝ |{node_method}|, labels give it; colour = predicted class."
        if node_values is not None
        else "\nNodes: colour = predicted class; the star is the target."
    )
    fig.text(0.02, 0.02, caption, fontsize=FONT_SIZE, wrap=True, va="bottom")
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE)
    if budget:
        fig.text(
            0.5, 0.945, budget, ha="center", va="top", fontsize=FONT_SIZE, wrap=True,
            color=NEGATIVE_COLOUR, gid="subgraph-budget",
        )  # fmt: skip
    return fig
