"""Small-graph panels (molecules, BA-2Motifs): one graph drawn once per (class, method), nodes
coloured by relevance, as in Pope et al.'s figures (both classes side by side).

The layout is deterministic: classical multidimensional scaling of the shortest-path distances,
refined by a few stress-majorization (SMACOF) steps, so bonded atoms sit one unit apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from jgattr.viz._checks import finite_array

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_SMACOF_STEPS = 60
_UNREACHABLE = 2.0  # distance, in hops beyond the largest finite one, between components


def graph_layout(num_nodes: int, edges: np.ndarray) -> np.ndarray:
    """``[n, 2]`` positions of a small graph: nodes ``0..n-1``, ``edges [2, E]`` (either
    direction). Deterministic; components are placed apart."""
    if num_nodes == 1:
        return np.zeros((1, 2))
    adjacency = coo_matrix(
        (np.ones(edges.shape[1]), (edges[0], edges[1])), shape=(num_nodes, num_nodes)
    )
    hops = shortest_path(adjacency.tocsr(), directed=False, unweighted=True)
    finite = hops[np.isfinite(hops)]
    hops[~np.isfinite(hops)] = finite.max() + _UNREACHABLE
    # symmetric nodes (two sides of a ring) coincide in the MDS start; a fixed small jitter lets
    # the stress majorization pull them apart
    jitter = np.random.default_rng(0).normal(scale=0.05, size=(num_nodes, 2))
    return _smacof(hops, _classical_mds(hops) + jitter)


def _classical_mds(distances: np.ndarray) -> np.ndarray:
    n = distances.shape[0]
    centering = np.eye(n) - np.full((n, n), 1.0 / n)
    gram = -0.5 * centering @ (distances**2) @ centering
    values, vectors = np.linalg.eigh(gram)
    top = np.argsort(values)[::-1][:2]
    positions = vectors[:, top] * np.sqrt(np.maximum(values[top], 1e-9))
    signs = np.sign(positions[np.argmax(np.abs(positions), axis=0), [0, 1]])
    return positions * np.where(signs == 0, 1.0, signs)  # a fixed orientation


def _smacof(distances: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Stress majorization with weights ``1 / d²`` (Gansner, Koren & North 2004)."""
    n = distances.shape[0]
    weights = np.where(distances > 0, 1.0 / np.maximum(distances, 1e-9) ** 2, 0.0)
    laplacian = np.diag(weights.sum(1)) - weights
    pinv = np.linalg.pinv(laplacian)
    for _ in range(_SMACOF_STEPS):
        gaps = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
        ratio = np.where(gaps > 1e-9, weights * distances / np.maximum(gaps, 1e-9), 0.0)
        b = np.diag(ratio.sum(1)) - ratio
        positions = pinv @ (b @ positions)
    return positions - positions.mean(0) if n else positions


def graph_panels(
    edges: np.ndarray,
    maps: Mapping[str, np.ndarray],
    *,
    class_names: Sequence[str],
    node_names: Sequence[str] | None = None,
    highlight: np.ndarray | None = None,
    predicted: int | None = None,
    title: str | None = None,
) -> Figure:
    """One graph, a panel per (class, method): node colour = relevance for that class.

    Args:
      edges: ``[2, E]`` local node ids (both directions or one).
      maps: ``{method: [C, n]}`` relevance of each node for each class. Each panel's colours
        are scaled to its own largest ``|value|`` (red positive, blue negative), so the panels
        compare *where* relevance sits, not how much.
      class_names: ``C`` names, rows of the figure.
      node_names: ``n`` labels drawn on the nodes (atom symbols), or ``None``.
      highlight: ``[n]`` bool, nodes outlined as the ground truth (a planted motif).
      predicted: the model's predicted class (its row is marked).
      title: the figure title.

    Returns:
      A matplotlib figure (rows: classes, columns: methods).
    """
    from matplotlib.figure import Figure

    values = {name: finite_array(v, f"maps[{name!r}]") for name, v in maps.items()}
    if not values:
        raise ValueError("maps must hold at least one method's relevance")
    num_classes, num_nodes = next(iter(values.values())).shape
    edges = np.asarray(edges, dtype=np.int64).reshape(2, -1)
    positions = graph_layout(num_nodes, edges)
    rows, columns = num_classes, len(values)
    fig = Figure(figsize=(2.6 * columns + 0.6, 2.1 * rows + 0.9))
    axes = fig.subplots(rows, columns, squeeze=False)
    for column, (name, per_class) in enumerate(values.items()):
        for row in range(rows):
            ax = axes[row][column]
            _draw(ax, positions, edges, per_class[row], node_names, highlight)
            if row == 0:
                ax.set_title(name.replace("_", " "), fontsize=10)
            if column == 0:
                mark = " (predicted)" if predicted == row else ""
                ax.set_ylabel(f"class {class_names[row]}{mark}", fontsize=9)
    caption = "node colour: relevance for the row's class (red +, blue -, scaled per panel)"
    if highlight is not None and np.any(highlight):
        caption += "; black ring: ground-truth motif"
    fig.text(0.5, 0.01, caption, ha="center", fontsize=8, color="0.3")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    return fig


def _draw(ax, positions, edges, relevance, node_names, highlight) -> None:
    scale = float(np.max(np.abs(relevance))) or 1.0
    ring = np.zeros(len(relevance), bool) if highlight is None else np.asarray(highlight, bool)
    for s, r in edges.T:
        ax.plot(*positions[[s, r]].T, color="0.6", linewidth=1.2, zorder=1)
    ax.scatter(
        positions[:, 0],
        positions[:, 1],
        c=relevance / scale,
        cmap="RdBu_r",
        vmin=-1.0,
        vmax=1.0,
        s=170 if node_names is not None else 110,
        edgecolors=np.where(ring, "black", "0.55"),
        linewidths=np.where(ring, 2.0, 0.6),
        zorder=2,
    )
    if node_names is not None:
        for (x, y), label in zip(positions, node_names, strict=True):
            ax.text(x, y, label, ha="center", va="center", fontsize=7, zorder=3)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.margins(0.12)
