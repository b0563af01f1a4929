"""Datasets for jgattr: Planetoid (Cora, Citeseer, Pubmed) and user graphs in ``.npz`` files.

Planetoid files are found in a data directory (``data_dir``, else ``$JGATTR_DATA_DIR``, else the
user cache), then the cache, then downloaded into the cache; every file is checked against its
published SHA-256 and unpickled with a restricted unpickler that refuses anything but arrays,
sparse matrices and dicts of lists.

Example:
  >>> from jgattr.data import load_dataset
  >>> ds = load_dataset("cora")
  >>> ds.graph.nodes.shape, ds.num_edges, ds.num_classes
  ((2708, 1433), 10556, 7)
"""

from jgattr.data._dataset import ChecksumError, DataError, Dataset, UnsafePickleError
from jgattr.data._fetch import cache_dir, resolve_data_dir
from jgattr.data._npz import load_npz
from jgattr.data._planetoid import DATASETS, load_dataset

__all__ = [
    "DATASETS",
    "ChecksumError",
    "DataError",
    "Dataset",
    "UnsafePickleError",
    "cache_dir",
    "load_dataset",
    "load_npz",
    "resolve_data_dir",
]
