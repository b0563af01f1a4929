"""BA-2Motifs (Luo et al. 2020), generated offline from a seed, with its ground-truth motifs.

Each of the ``G`` graphs (1000 by default) has 25 nodes: a Barabási–Albert tree on nodes 0-19
(``m = 1``: grown from the edge 0-1, each new node linked to one earlier node drawn with
probability proportional to its degree; 19 edges), a motif on nodes 20-24 and one random edge
joining a uniform base node to a uniform motif node. The first ``ceil(G / 2)`` graphs carry a
house (6 edges, label 0), the others a 5-cycle (5 edges, label 1); so a house graph has
``2 * (19 + 6 + 1) = 52`` directed edges, a cycle graph 50, 51 on average, as the official data
(PGExplainer's ``BA-2motif.pkl``: 1000 graphs, 25 nodes, ~51.0 directed edges each).

Node features are the constant ``0.1`` in all 10 dimensions, as the third-party generators that
reproduce the pickle use (the official value is not documented). Since every node looks the same,
only the structure separates the classes: the motif is the explanation. :class:`GroundTruth`
marks the 5 motif nodes of every graph (``motif_id`` = the graph's index) and the motif's own
edges (12 directed for a house, 10 for a cycle); the joining edge is not part of the motif.

The split is stratified and seeded: in each class ``round(0.8 n)`` train, ``round(0.1 n)`` val,
the rest test (800 / 100 / 100 for the default size).

References: Luo et al., "Parameterized Explainer for Graph Neural Network", NeurIPS 2020
(https://github.com/flyingdoog/PGExplainer); PyG ``BA2MotifDataset``.

Example:
  >>> ds = ba_2motifs(seed=0)
  >>> ds.num_graphs, ds.num_nodes, ds.num_features, ds.num_edges / ds.num_graphs
  (1000, 25000, 10, 51.0)
"""

from __future__ import annotations

import numpy as np

from jgattr.data._dataset import DataError, GroundTruth
from jgattr.data._graph_dataset import GraphDataset, make_graph_dataset
from jgattr.data._graph_union import check_seed, stratified_split, union_edges
from jgattr.data._synthetic import _HOUSE, _barabasi_albert, _edge_mask

NAME = "ba-2motifs"
BASE_NODES = 20
MOTIF_NODES = 5
NUM_FEATURES = 10
FEATURE_VALUE = 0.1
CLASS_NAMES = ("house", "cycle")

_CYCLE5 = np.stack([np.arange(MOTIF_NODES), (np.arange(MOTIF_NODES) + 1) % MOTIF_NODES], axis=1)


def _one_graph(rng: np.random.Generator, motif_edges: np.ndarray) -> np.ndarray:
    """int64 ``[K, 2]`` local undirected edges: the BA tree, the motif (nodes 20-24), the join."""
    base = _barabasi_albert(rng, BASE_NODES, 1)
    join = [[rng.integers(BASE_NODES), BASE_NODES + rng.integers(MOTIF_NODES)]]
    return np.concatenate([base, motif_edges + BASE_NODES, np.asarray(join, dtype=np.int64)])


def ba_2motifs(*, seed: int = 0, num_graphs: int = 1000) -> GraphDataset:
    """Generate BA-2Motifs: BA trees with a house (label 0) or a 5-cycle (label 1) attached.

    The same ``(seed, num_graphs)`` always gives the same arrays; no files or network are needed.

    Args:
      seed: seed of ``np.random.default_rng`` (base trees, joining edges and split).
      num_graphs: ``G >= 2``; ``ceil(G / 2)`` houses come first, then the cycles.

    Returns:
      The :class:`GraphDataset` ``"ba-2motifs"``: ``nodes`` float32 ``[25 G, 10]`` all ``0.1``,
      labels int32 ``[G]``, ``ground_truth`` with the motif nodes (``motif_id`` = graph index)
      and motif edges, ``class_names = ("house", "cycle")``.

    Raises:
      DataError: a negative or non-integer ``seed``, or ``num_graphs < 2``.

    Example:
      >>> ds = ba_2motifs(seed=1, num_graphs=10)
      >>> ds.labels.tolist(), int(ds.ground_truth.edge_mask.sum())
      ([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 110)
    """
    seed = check_seed(NAME, seed)
    if (
        isinstance(num_graphs, bool)
        or not isinstance(num_graphs, int | np.integer)
        or num_graphs < 2
    ):
        raise DataError(f"{NAME}: num_graphs must be an int >= 2, got {num_graphs!r}")
    num_graphs = int(num_graphs)
    rng = np.random.default_rng(seed)
    labels = (np.arange(num_graphs) >= (num_graphs + 1) // 2).astype(np.int32)
    size = BASE_NODES + MOTIF_NODES
    offsets = size * np.arange(num_graphs)
    motifs = (_HOUSE.edges, _CYCLE5)
    pairs = list(zip(labels, offsets, strict=True))
    edges = [_one_graph(rng, motifs[y]) + offset for y, offset in pairs]
    motif_edges = [motifs[y] + BASE_NODES + offset for y, offset in pairs]
    n_node = np.full(num_graphs, size, dtype=np.int32)
    senders, receivers, n_edge = union_edges(np.concatenate(edges), n_node)
    motif_id = np.where(np.arange(size) >= BASE_NODES, np.arange(num_graphs)[:, None], -1)
    motif_id = motif_id.ravel().astype(np.int32)
    truth = GroundTruth(
        node_mask=motif_id >= 0,
        edge_mask=_edge_mask(senders, receivers, np.concatenate(motif_edges), size * num_graphs),
        motif_id=motif_id,
    )
    return make_graph_dataset(
        NAME,
        features=np.full((size * num_graphs, NUM_FEATURES), FEATURE_VALUE, dtype=np.float32),
        senders=senders,
        receivers=receivers,
        n_node=n_node,
        n_edge=n_edge,
        labels=labels,
        masks=stratified_split(rng, labels),
        num_classes=2,
        ground_truth=truth,
        class_names=CLASS_NAMES,
    )
