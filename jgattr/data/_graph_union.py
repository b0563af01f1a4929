"""Helpers shared by the graph-classification loaders: the union's edge layout and the splits.

Every loader builds its graphs with global node ids (graph after graph), then calls
:func:`union_edges` for the :class:`GraphDataset` edge layout and one of the split functions
for the per-graph train / val / test masks.
"""

from __future__ import annotations

import numpy as np

from jgattr.data._dataset import DataError, undirected_edges

SPLIT = (0.8, 0.1)

Masks = tuple[np.ndarray, np.ndarray, np.ndarray]


def union_edges(edges: np.ndarray, n_node: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each graph's edges undirected, deduplicated, without self loops, graph after graph.

    Sorting every edge by ``(receiver, sender)`` over the whole union keeps each graph's edges
    together and in order, because graph ``g``'s node ids all lie below graph ``g + 1``'s.

    Args:
      edges: int ``[K, 2]`` edges in global node ids, any order, either direction; both ends of
        an edge must lie in the same graph.
      n_node: int ``[G]`` nodes per graph.

    Returns:
      ``(senders, receivers, n_edge)``: int32 ``[E]``, ``[E]`` and ``[G]``.
    """
    num_nodes = int(np.sum(n_node))
    senders, receivers = undirected_edges(edges[:, 0], edges[:, 1], num_nodes)
    owner = np.repeat(np.arange(len(n_node)), n_node)
    n_edge = np.bincount(owner[receivers], minlength=len(n_node)).astype(np.int32)
    return senders, receivers, n_edge


def _masks(parts: list[np.ndarray], size: int) -> Masks:
    masks = np.zeros((3, size), dtype=bool)
    for i, part in enumerate(parts):
        masks[i, part] = True
    return masks[0], masks[1], masks[2]


def random_split(rng: np.random.Generator, num_graphs: int) -> Masks:
    """A seeded permutation: ``round(0.8 G)`` train, ``round(0.1 G)`` val, the rest test.

    Returns:
      bool ``[G]`` train / val / test masks.
    """
    order = rng.permutation(num_graphs)
    bounds = np.cumsum([round(SPLIT[0] * num_graphs), round(SPLIT[1] * num_graphs)])
    return _masks(np.split(order, bounds), num_graphs)


def stratified_split(rng: np.random.Generator, labels: np.ndarray) -> Masks:
    """:func:`random_split` within each class (classes in increasing order, one generator).

    A class of ``n`` graphs gives ``round(0.8 n)`` train, ``round(0.1 n)`` val, the rest test, so
    every part keeps the class balance of the whole dataset.

    Args:
      rng: the generator.
      labels: int ``[G]`` classes.

    Returns:
      bool ``[G]`` train / val / test masks.
    """
    parts: list[list[np.ndarray]] = [[], [], []]
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        order = members[rng.permutation(len(members))]
        bounds = np.cumsum([round(SPLIT[0] * len(members)), round(SPLIT[1] * len(members))])
        for i, piece in enumerate(np.split(order, bounds)):
            parts[i].append(piece)
    return _masks([np.concatenate(p) for p in parts], len(labels))


def scaffold_split(scaffolds: list[str]) -> Masks:
    """DeepChem's ``ScaffoldSplitter``: whole scaffold sets, largest first, fill train to 80%,
    then val to 90%, the rest test. Deterministic (no seed).

    Sets are ordered by ``(size, first index)`` descending, exactly as DeepChem sorts them; a set
    goes to train unless it would push train past ``0.8 G``, then to val unless train + val would
    pass ``0.9 G``, else to test.

    Args:
      scaffolds: ``[G]`` one Bemis–Murcko scaffold SMILES per graph (``""`` for acyclic ones).

    Returns:
      bool ``[G]`` train / val / test masks.
    """
    sets: dict[str, list[int]] = {}
    for index, scaffold in enumerate(scaffolds):
        sets.setdefault(scaffold, []).append(index)
    ordered = sorted(sets.values(), key=lambda s: (len(s), s[0]), reverse=True)
    size = len(scaffolds)
    train_cut, val_cut = SPLIT[0] * size, (SPLIT[0] + SPLIT[1]) * size
    parts: list[list[int]] = [[], [], []]
    for members in ordered:
        if len(parts[0]) + len(members) <= train_cut:
            parts[0] += members
        elif len(parts[0]) + len(parts[1]) + len(members) <= val_cut:
            parts[1] += members
        else:
            parts[2] += members
    return _masks([np.asarray(p, dtype=np.int64) for p in parts], size)


def check_seed(name: str, seed: object) -> int:
    """``seed`` as an int, or a :class:`DataError` naming ``name`` and the bad value."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"{name}: seed must be a non-negative int, got {seed!r}")
    return int(seed)
