"""Seeded GNNExplainer synthetic node-classification benchmarks with their ground-truth motifs.

Each graph is a base graph with small motifs planted on evenly spaced base nodes, each motif joined
to its base node by one edge from the motif's anchor node; then random noise edges are added. The
label of a node says which part of which motif it is, so a model can only classify a motif node by
looking at the motif: the motif's nodes and edges are the true explanation (:class:`GroundTruth`).

* ``ba-shapes``: Barabási–Albert base (300 nodes, ``m = 5``, from a complete graph on 5 nodes:
  ``10 + 5 * 295 = 1485`` edges) with 80 five-node houses attached by their bottom node (label
  0 base, 1 roof, 2 middle, 3 bottom); ``N = 700``, 4 classes, constant features ``F = 10``.
* ``ba-community``: two BA-Shapes graphs (independent child generators), the second's labels
  ``+ 4`` (8 classes, ``N = 1400``), joined by 350 random edges between the communities.
  Gaussian features ``F = 10``, unit variance; dims 0-1 have mean ``-1`` in community 0 and
  ``+1`` in community 1, the other dims mean 0.
* ``tree-cycles``: balanced binary tree of height 8 (511 nodes, node ``i`` has children
  ``2i + 1, 2i + 2``) with 60 six-cycles (label 1, tree label 0); ``N = 871``, constant features.
* ``tree-grid``: the same tree with 80 3x3 grids (12 edges each, label 1); ``N = 1231``.

Motifs sit on base nodes ``linspace(0, num_base - 1, num_motifs).astype(int)``. Noise: a fraction
of the undirected edge count before noise (1% for BA-Shapes, each BA-Community half and
Tree-Cycles, 10% for Tree-Grid), rounded, of new uniformly random node pairs (never a self loop
or an existing edge; a noise edge may fall inside a motif but is not a motif edge). Split: a seeded
permutation, ``round(0.8 N)`` train, ``round(0.1 N)`` val, the rest test; every node is labelled.

Counts (undirected edges; :attr:`Dataset.num_edges` is twice these):

============  =====  ======  ======  ======  =======  =====  =====
dataset       N      base    motif   attach  noise    inter  total
============  =====  ======  ======  ======  =======  =====  =====
ba-shapes     700    1485    480     80      20       --     2065
ba-community  1400   2970    960     160     40       350    4480
tree-cycles   871    510     360     60      9        --     939
tree-grid     1231   510     960     80      155      --     1705
============  =====  ======  ======  ======  =======  =====  =====

References: Ying, Bourgeois, You, Zitnik & Leskovec, "GNNExplainer: Generating Explanations for
Graph Neural Networks", NeurIPS 2019 (https://github.com/RexYing/gnn-model-explainer,
``gengraph.py``); Barabási & Albert, "Emergence of Scaling in Random Networks", Science 1999.

Example:
  >>> ds = synthetic_dataset("tree-cycles", seed=0)
  >>> ds.num_nodes, ds.num_classes, int(ds.ground_truth.motif_id.max()) + 1
  (871, 2, 60)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jgattr._dataset_table import dataset_names
from jgattr.data._dataset import DataError, Dataset, GroundTruth, cleaned_edges, make_dataset

SYNTHETIC: tuple[str, ...] = dataset_names(loader="synthetic")  # ba-shapes, ..., tree-grid

NUM_FEATURES = 10
BA_NODES = 300
BA_M = 5
TREE_HEIGHT = 8
COMMUNITY_EDGES = 350
SPLIT = (0.8, 0.1)
NOISE = {"ba-shapes": 0.01, "ba-community": 0.01, "tree-cycles": 0.01, "tree-grid": 0.1}


@dataclasses.dataclass(frozen=True)
class _Motif:
    """A motif template: ``size`` nodes, local ``edges [M, 2]``, ``labels [size]``, ``anchor``."""

    size: int
    edges: np.ndarray
    labels: np.ndarray
    anchor: int


def _grid_edges(side: int) -> np.ndarray:
    """int64 ``[2 side (side - 1), 2]`` edges of a ``side x side`` grid, cell ``(i, j)`` = node
    ``side * i + j``."""
    cells = np.arange(side * side).reshape(side, side)
    rows = np.stack([cells[:, :-1].ravel(), cells[:, 1:].ravel()], axis=1)
    columns = np.stack([cells[:-1].ravel(), cells[1:].ravel()], axis=1)
    return np.concatenate([rows, columns])


# Roof 0; middles 1 (above bottom 3) and 2 (above bottom 4); the house hangs from bottom node 3.
_HOUSE = _Motif(
    size=5,
    edges=np.array([[0, 1], [0, 2], [1, 2], [1, 3], [2, 4], [3, 4]]),
    labels=np.array([1, 2, 2, 3, 3]),
    anchor=3,
)
_CYCLE = _Motif(
    size=6,
    edges=np.stack([np.arange(6), (np.arange(6) + 1) % 6], axis=1),
    labels=np.ones(6, np.int64),
    anchor=0,
)
_GRID = _Motif(size=9, edges=_grid_edges(3), labels=np.ones(9, np.int64), anchor=0)


@dataclasses.dataclass(frozen=True)
class _Graph:
    """An undirected graph under construction.

    Attributes:
      edges: int64 ``[K, 2]``, each undirected edge once.
      motif_edges: int64 ``[M, 2]``, the motif edges (a subset of ``edges``).
      labels: int64 ``[N]``.
      motif_id: int64 ``[N]``, ``-1`` for base nodes.
    """

    edges: np.ndarray
    motif_edges: np.ndarray
    labels: np.ndarray
    motif_id: np.ndarray

    @property
    def num_nodes(self) -> int:
        return int(self.labels.shape[0])


def _barabasi_albert(rng: np.random.Generator, num_nodes: int, m: int) -> np.ndarray:
    """Preferential attachment from a complete graph on ``s = max(m, 2)`` nodes.

    Each new node ``v = s, ..., num_nodes - 1`` links to ``m`` distinct earlier nodes drawn with
    probability proportional to their current degree (``m = 1`` grows a tree from one edge, as
    networkx's ``barabasi_albert_graph``).

    Returns:
      int64 ``[s (s - 1) / 2 + m (num_nodes - s), 2]`` undirected edges.
    """
    start = max(m, 2)
    degree = np.zeros(num_nodes, dtype=np.float64)
    degree[:start] = start - 1
    targets = np.empty((num_nodes - start, m), dtype=np.int64)
    for v in range(start, num_nodes):
        weights = degree[:v]
        chosen = rng.choice(v, size=m, replace=False, p=weights / weights.sum())
        degree[chosen] += 1
        degree[v] = m
        targets[v - start] = chosen
    seed_edges = np.stack(np.triu_indices(start, k=1), axis=1)
    sources = np.repeat(np.arange(start, num_nodes), m)
    return np.concatenate([seed_edges, np.stack([sources, targets.ravel()], axis=1)])


def _binary_tree(height: int) -> np.ndarray:
    """Balanced binary tree, node ``i`` the parent of ``2i + 1`` and ``2i + 2``.

    Returns:
      int64 ``[2 ** (height + 1) - 2, 2]`` (parent, child) edges.
    """
    children = np.arange(1, 2 ** (height + 1) - 1)
    return np.stack([(children - 1) // 2, children], axis=1)


def _plant(base_edges: np.ndarray, num_base: int, motif: _Motif, num_motifs: int) -> _Graph:
    """Append ``num_motifs`` copies of ``motif`` after the base nodes, each tied to one base node.

    Copy ``k`` has nodes ``num_base + k * size + [0, size)``; its anchor is linked to base node
    ``linspace(0, num_base - 1, num_motifs).astype(int)[k]``. Base nodes get label 0.
    """
    offsets = num_base + motif.size * np.arange(num_motifs)
    motif_edges = (offsets[:, None, None] + motif.edges[None]).reshape(-1, 2)
    hosts = np.linspace(0, num_base - 1, num_motifs).astype(np.int64)
    attach = np.stack([offsets + motif.anchor, hosts], axis=1)
    return _Graph(
        edges=np.concatenate([base_edges, motif_edges, attach]),
        motif_edges=motif_edges,
        labels=np.concatenate([np.zeros(num_base, np.int64), np.tile(motif.labels, num_motifs)]),
        motif_id=np.concatenate(
            [np.full(num_base, -1), np.repeat(np.arange(num_motifs), motif.size)]
        ),
    )


def _new_edges(
    rng: np.random.Generator,
    count: int,
    taken: np.ndarray,
    num_nodes: int,
    ends: tuple[tuple[int, int], tuple[int, int]],
) -> np.ndarray:
    """``count`` distinct random edges ``(u, v)``, ``u`` in ``[*ends[0])``, ``v`` in ``[*ends[1])``.

    Draws pairs in batches and keeps, in draw order, those that are no self loop, not in ``taken``
    (int64 ``[K, 2]`` undirected edges) and not drawn before.

    Returns:
      int64 ``[count, 2]``.
    """
    seen = np.sort(np.minimum(taken[:, 0], taken[:, 1]) * num_nodes + taken.max(axis=1))
    found: list[np.ndarray] = []
    need = count
    while need > 0:
        u = rng.integers(*ends[0], size=2 * need + 16)
        v = rng.integers(*ends[1], size=2 * need + 16)
        keys = np.minimum(u, v) * num_nodes + np.maximum(u, v)
        keys = keys[(u != v) & ~np.isin(keys, seen)]
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)][:need]
        found.append(keys)
        seen = np.union1d(seen, keys)
        need -= keys.size
    keys = np.concatenate(found) if found else np.empty(0, np.int64)
    return np.stack([keys // num_nodes, keys % num_nodes], axis=1)


def _add_noise(rng: np.random.Generator, graph: _Graph, fraction: float) -> _Graph:
    """Add ``round(fraction * K)`` random new edges between any two nodes."""
    n = graph.num_nodes
    noise = _new_edges(rng, round(fraction * len(graph.edges)), graph.edges, n, ((0, n), (0, n)))
    return dataclasses.replace(graph, edges=np.concatenate([graph.edges, noise]))


def _ba_shapes(rng: np.random.Generator, noise_fraction: float) -> _Graph:
    base = _barabasi_albert(rng, BA_NODES, BA_M)
    return _add_noise(rng, _plant(base, BA_NODES, _HOUSE, 80), noise_fraction)


def _ba_community(rng: np.random.Generator, noise_fraction: float) -> _Graph:
    """Two BA-Shapes halves (child generators), the second shifted by its node, label (4) and motif
    counts, joined by :data:`COMMUNITY_EDGES` random edges between the halves."""
    first, second = (_ba_shapes(child, noise_fraction) for child in rng.spawn(2))
    half, motifs = first.num_nodes, int(first.motif_id.max()) + 1
    joined = _Graph(
        edges=np.concatenate([first.edges, second.edges + half]),
        motif_edges=np.concatenate([first.motif_edges, second.motif_edges + half]),
        labels=np.concatenate([first.labels, second.labels + 4]),
        motif_id=np.concatenate(
            [first.motif_id, np.where(second.motif_id < 0, -1, second.motif_id + motifs)]
        ),
    )
    ends = ((0, half), (half, 2 * half))
    inter = _new_edges(rng, COMMUNITY_EDGES, joined.edges, 2 * half, ends)
    return dataclasses.replace(joined, edges=np.concatenate([joined.edges, inter]))


def _community_features(rng: np.random.Generator, num_nodes: int) -> np.ndarray:
    """float32 ``[N, F]`` unit Gaussians; dims 0-1 shifted by -1 (first half) / +1 (second)."""
    features = rng.standard_normal((num_nodes, NUM_FEATURES))
    features[:, :2] += np.where(np.arange(num_nodes) < num_nodes // 2, -1.0, 1.0)[:, None]
    return features.astype(np.float32)


def _split(rng: np.random.Generator, num_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded permutation split: bool ``[N]`` train / val / test masks (80% / 10% / rest)."""
    order = rng.permutation(num_nodes)
    bounds = np.cumsum([round(SPLIT[0] * num_nodes), round(SPLIT[1] * num_nodes)])
    masks = np.zeros((3, num_nodes), dtype=bool)
    for i, part in enumerate(np.split(order, bounds)):
        masks[i, part] = True
    return masks[0], masks[1], masks[2]


def _edge_mask(
    senders: np.ndarray, receivers: np.ndarray, motif_edges: np.ndarray, n: int
) -> np.ndarray:
    """bool ``[E]``: the directed edge ``senders -> receivers`` is a motif edge (either way)."""
    keys = senders.astype(np.int64) * n + receivers
    motif_keys = np.concatenate(
        [motif_edges[:, 0] * n + motif_edges[:, 1], motif_edges[:, 1] * n + motif_edges[:, 0]]
    )
    return np.isin(keys, motif_keys)


def _generate(name: str, *, seed: int, noise_fraction: float | None = None) -> Dataset:
    """:func:`synthetic_dataset`, with the noise fraction overridable (tests: ``0`` = no noise)."""
    key = _check_name(name)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"{key}: seed must be a non-negative int, got {seed!r}")
    fraction = NOISE[key] if noise_fraction is None else noise_fraction
    if not 0.0 <= fraction <= 1.0:
        raise DataError(f"{key}: noise_fraction must be in [0, 1], got {noise_fraction!r}")
    rng = np.random.default_rng(seed)
    if key == "ba-shapes":
        graph = _ba_shapes(rng, fraction)
    elif key == "ba-community":
        graph = _ba_community(rng, fraction)
    else:
        motif, count = (_CYCLE, 60) if key == "tree-cycles" else (_GRID, 80)
        tree = _binary_tree(TREE_HEIGHT)
        graph = _add_noise(rng, _plant(tree, 2 ** (TREE_HEIGHT + 1) - 1, motif, count), fraction)
    n = graph.num_nodes
    if key == "ba-community":
        features = _community_features(rng, n)
    else:
        features = np.ones((n, NUM_FEATURES), dtype=np.float32)
    senders, receivers, changes = cleaned_edges(graph.edges[:, 0], graph.edges[:, 1], n)
    truth = GroundTruth(
        node_mask=graph.motif_id >= 0,
        edge_mask=_edge_mask(senders, receivers, graph.motif_edges, n),
        motif_id=graph.motif_id.astype(np.int32),
    )
    return make_dataset(
        key,
        features=features,
        senders=senders,
        receivers=receivers,
        labels=graph.labels,
        masks=_split(rng, n),
        num_classes=int(graph.labels.max()) + 1,
        ground_truth=truth,
        edge_changes=changes,
    )


def _check_name(name: object) -> str:
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in SYNTHETIC:
        raise DataError(f"unknown synthetic dataset {name!r}: choose one of {', '.join(SYNTHETIC)}")
    return key


def synthetic_dataset(name: str, *, seed: int = 0) -> Dataset:
    """Generate a GNNExplainer synthetic benchmark with its ground-truth motifs.

    The graph follows the :class:`Dataset` conventions (both directions, sorted by
    ``(receiver, sender)``, no self loops or duplicates); every node is labelled and the split is a
    seeded 80% / 10% / 10% permutation. The same ``(name, seed)`` always gives the same arrays;
    generation takes a few milliseconds and needs no files or network.

    Args:
      name: one of :data:`SYNTHETIC` (case-insensitive): ``"ba-shapes"`` (``N = 700``, 4
        classes), ``"ba-community"`` (1400, 8), ``"tree-cycles"`` (871, 2) or ``"tree-grid"``
        (1231, 2).
      seed: seed of ``np.random.default_rng`` (the base graph, noise edges, features and split).

    Returns:
      The :class:`Dataset`, named ``name`` in lower case, with ``ground_truth`` a
      :class:`GroundTruth`: ``node_mask`` bool ``[N]``, ``edge_mask`` bool ``[E]`` aligned with
      ``graph.senders``, ``motif_id`` int32 ``[N]`` (80, 160, 60 and 80 motifs).

    Raises:
      DataError: unknown ``name`` or a negative / non-integer ``seed``.

    Example:
      >>> ds = synthetic_dataset("BA-Shapes", seed=1)
      >>> ds.name, ds.graph.nodes.shape, ds.num_classes, int(ds.ground_truth.edge_mask.sum())
      ('ba-shapes', (700, 10), 4, 960)
    """
    return _generate(name, seed=seed)
