"""Datasets for jgattr: Planetoid (Cora, Citeseer, Pubmed), OGB (ogbn-arxiv, ogbn-products, from
the released zips), the GNNExplainer synthetic benchmarks
(BA-Shapes, BA-Community, Tree-Cycles, Tree-Grid, with ground-truth motifs) and user graphs in
``.npz`` files (node classification, :func:`load_dataset`); graphs you already hold, from PyG,
networkx or scipy (:func:`from_pyg`, :func:`from_networkx`, :func:`from_scipy`, with
:func:`edge_map` between your edge ids and jgattr's); real graphs from their released files
(:data:`RELEASED_DATASETS`: ``twitch:EN``, the released GNNExplainer ``gnnexplainer:syn1`` ...
``syn4``); BA-2Motifs, TU datasets (MUTAG) and
MoleculeNet molecules (BBBP, BACE, Tox21; SMILES need the ``molecules`` extra) for graph
classification (:func:`load_graph_dataset`, a :class:`GraphDataset`).

Planetoid files are found in a data directory (``data_dir``, else ``$JGATTR_DATA_DIR``, else the
user cache), then the cache, then downloaded into the cache; every file is checked against its
published SHA-256 and unpickled with a restricted unpickler that refuses anything but arrays,
sparse matrices and dicts of lists. Synthetic benchmarks are generated from a seed, offline.

Example:
  >>> from jgattr.data import load_dataset
  >>> ds = load_dataset("cora")
  >>> ds.graph.nodes.shape, ds.num_edges, ds.num_classes
  ((2708, 1433), 10556, 7)
  >>> int(load_dataset("ba-shapes").ground_truth.motif_id.max()) + 1
  80
"""

from jgattr.data._ba2motifs import ba_2motifs
from jgattr.data._convert import from_networkx, from_scipy
from jgattr.data._dataset import (
    ChecksumError,
    DataError,
    Dataset,
    GroundTruth,
    UnsafePickleError,
    cleaned_edges,
    edge_changes_line,
)
from jgattr.data._edge_map import EdgeMap, edge_map
from jgattr.data._fetch import cache_dir, resolve_data_dir
from jgattr.data._from_pyg import from_pyg
from jgattr.data._graph_dataset import GraphDataset, make_graph_dataset
from jgattr.data._graph_loaders import GRAPH_DATASETS, is_graph_dataset, load_graph_dataset
from jgattr.data._npz import load_npz
from jgattr.data._ogb import OGB_DATASETS
from jgattr.data._planetoid import DATASETS
from jgattr.data._registry import RELEASED_DATASETS, load_dataset
from jgattr.data._sparse_features import SparseFeatures
from jgattr.data._synthetic import SYNTHETIC, synthetic_dataset

__all__ = [
    "DATASETS",
    "GRAPH_DATASETS",
    "OGB_DATASETS",
    "RELEASED_DATASETS",
    "SYNTHETIC",
    "ChecksumError",
    "DataError",
    "Dataset",
    "EdgeMap",
    "GraphDataset",
    "GroundTruth",
    "SparseFeatures",
    "UnsafePickleError",
    "ba_2motifs",
    "cache_dir",
    "cleaned_edges",
    "edge_changes_line",
    "edge_map",
    "from_networkx",
    "from_pyg",
    "from_scipy",
    "is_graph_dataset",
    "load_dataset",
    "load_graph_dataset",
    "load_npz",
    "make_graph_dataset",
    "resolve_data_dir",
    "synthetic_dataset",
]
