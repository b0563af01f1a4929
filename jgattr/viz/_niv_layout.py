"""Which nodes a NIV panel draws, and where: a radial tree on rings by hop distance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from jgattr.viz._niv_input import Neighbourhood
from jgattr.viz._niv_style import RING, WEDGE_CAP


@dataclass(frozen=True)
class Panel:
    """What one panel draws: positions into the neighbourhood's ``nodes``."""

    method: str
    nb: Neighbourhood
    drawn: np.ndarray  # target first, then the top k by |relevance|
    rest: np.ndarray  # neighbours not in the top k
    shown: np.ndarray  # drawn plus the grey nodes joining them to the target (and highlights)
    unit: str | None


def _select(nb: Neighbourhood, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions drawn (target first, then neighbours by decreasing |C|) and summarized."""
    others = np.flatnonzero(np.arange(nb.nodes.size) != nb.center)
    ranked = others[np.lexsort((nb.nodes[others], -np.abs(nb.values[others])))]
    return np.concatenate([[nb.center], ranked[:top_k]]).astype(np.int64), ranked[top_k:]


def _parents(nb: Neighbourhood, preferred: np.ndarray, weight: np.ndarray) -> np.ndarray:
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


def arrange(
    hoods: Mapping[str, Neighbourhood],
    units: Mapping[str, str | None],
    top_k: int,
    highlight: np.ndarray,
    seed: int,
) -> tuple[list[Panel], np.ndarray, np.ndarray]:
    """The panels, the shared parent tree and the shared ``[n, 2]`` positions."""
    selections = {m: _select(nb, top_k) for m, nb in hoods.items()}
    first = next(iter(hoods.values()))
    wanted = np.concatenate([d for d, _ in selections.values()] + [np.flatnonzero(highlight)])
    preferred = np.zeros(first.nodes.size, dtype=bool)
    preferred[wanted] = True
    weight = np.max([relative(np.abs(nb.values)) for nb in hoods.values()], axis=0)
    parent = _parents(first, preferred, weight)
    panels = []
    for method, nb in hoods.items():
        drawn, rest = selections[method]
        shown = _closure(parent, np.union1d(drawn, np.flatnonzero(highlight)))
        panels.append(Panel(method, nb, drawn, rest, shown, units.get(method)))
    laid_out = _closure(parent, np.unique(wanted))
    return panels, parent, _layout(first, parent, laid_out, seed)


def relative(magnitude: np.ndarray) -> np.ndarray:
    """``magnitude`` divided by its maximum (all zeros when the maximum is 0)."""
    top = magnitude.max() if magnitude.size else 0.0
    return magnitude / top if top > 0 else np.zeros_like(magnitude)


def _layout(nb: Neighbourhood, parent: np.ndarray, laid_out: np.ndarray, seed: int) -> np.ndarray:
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
