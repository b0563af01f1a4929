"""Node-classification graphs from arrays you already hold: scipy adjacencies and networkx graphs.

Both end in :func:`node_dataset`, the same checks and layout as :func:`~jgattr.data.load_npz`:
every field validated (the message names the field, the value and the fix), node ids kept, the
edges made undirected without self loops or duplicates (your edge ids map to jgattr's through
:func:`~jgattr.data.edge_map`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse

from jgattr.data._dataset import DataError, Dataset, cleaned_edges, make_dataset, row_normalize
from jgattr.data._edge_map import adjacency_edge_index, as_numpy, is_networkx, networkx_edge_index
from jgattr.data._fields import (
    MASK_FIELDS,
    Source,
    check_edge_index,
    check_features,
    check_labels,
    check_mask,
    check_num_classes,
)
from jgattr.data._sparse_features import SparseFeatures

Masks = Sequence[Any] | None


def node_dataset(
    name: str,
    src: Source,
    *,
    features: Any,
    edge_index: Any,
    labels: Any,
    masks: Masks = None,
    num_classes: Any = None,
    normalize_features: bool = False,
    directed: bool = False,
) -> Dataset:
    """A validated :class:`Dataset` from raw fields (numpy arrays or tensors).

    Args:
      name: the dataset name.
      src: where the fields come from and their names, for messages.
      features: ``[N, F]`` real numbers.
      edge_index: int ``[2, E_user]`` directed pairs ``sender -> receiver``.
      labels: int ``[N]``, ``-1`` for unlabeled nodes.
      masks: ``(train, val, test)``, each bool ``[N]`` or ``None`` (selects no node); ``None``:
        no split.
      num_classes: ``C``, or ``None`` to infer it from the labels (rule of ``load_npz``).
      normalize_features: divide each feature row by its sum.
      directed: keep one-way edges one-way (:func:`~jgattr.data.cleaned_edges`); the default
        makes the graph undirected. Either way ``Dataset.edge_changes`` says what changed.
    """
    if not isinstance(features, SparseFeatures):  # from_scipy's sparse x is checked already
        features = check_features(_numeric(features, src.features, src), src)
    n = features.shape[0]
    edges = check_edge_index(_numeric(edge_index, src.edge_index, src), n, src)
    labels = check_labels(_numeric(labels, src.labels, src), n, src)
    count = check_num_classes(num_classes, labels, src)
    masks = _three_masks(masks, src)
    pairs = zip(MASK_FIELDS, masks, strict=True)
    checked = tuple(check_mask(as_numpy(m), field, labels, src) for field, m in pairs)
    senders, receivers, changes = cleaned_edges(edges[0], edges[1], n, directed=directed)
    return make_dataset(
        name,
        features=row_normalize(features) if normalize_features else features,
        senders=senders,
        receivers=receivers,
        labels=labels,
        masks=checked,  # type: ignore[arg-type]
        num_classes=count,
        edge_changes=changes,
    )


def _numeric(value: Any, field: str, src: Source) -> np.ndarray:
    """``value`` as a numpy array (sparse matrices made dense); ``None`` is a named error."""
    if value is None:
        raise DataError(f"{src.where}: field {field!r} is missing (None)")
    if scipy.sparse.issparse(value):
        return value.toarray()
    return as_numpy(value)


def _three_masks(masks: Masks, src: Source) -> tuple[Any, Any, Any]:
    if masks is None:
        return (None, None, None)
    if isinstance(masks, str) or len(masks) != 3:
        raise DataError(
            f"{src.where}: masks must be (train, val, test), each [N] bool or None, got "
            f"{type(masks).__name__}"
            + ("" if isinstance(masks, str) else f" of length {len(masks)}")
        )
    return tuple(masks)  # type: ignore[return-value]


def from_scipy(
    adj: Any,
    x: Any,
    y: Any,
    masks: Masks = None,
    *,
    num_classes: int | None = None,
    name: str = "scipy",
) -> Dataset:
    """A node-classification :class:`Dataset` from an adjacency matrix and arrays.

    Args:
      adj: square ``[N, N]`` scipy sparse matrix (or dense array): ``adj[s, r] != 0`` is the
        edge ``s -> r`` (weights and explicit zeros are not edges' values: jgattr's models
        weight edges themselves). The graph is made undirected.
      x: ``[N, F]`` features (dense, or scipy sparse: kept sparse, a
        :class:`~jgattr.data.SparseFeatures`).
      y: int ``[N]`` labels, ``-1`` for unlabeled nodes.
      masks: ``(train, val, test)``, each bool ``[N]`` or ``None``.
      num_classes: ``C``; ``None`` infers it from ``y`` (rule of :func:`load_npz`).
      name: the dataset's name.

    Returns:
      The :class:`Dataset`; your edge ``i`` is the ``i``-th nonzero of ``adj.tocoo()``
      (:func:`edge_map` maps it to jgattr's ids).

    Raises:
      DataError: a field is malformed (the message names it: ``adj``, ``x``, ``y``,
        ``train_mask``, ...).

    Example:
      >>> import scipy.sparse, numpy as np
      >>> adj = scipy.sparse.csr_array(np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]))
      >>> from_scipy(adj, np.eye(3), np.array([0, 1, 1])).num_edges
      4
    """
    src = Source("from_scipy", features="x", labels="y", edge_index="adj", give_classes=_GIVE)
    features = check_features(x if scipy.sparse.issparse(x) else _numeric(x, "x", src), src)
    edge_index = adjacency_edge_index(adj, src)
    if np.shape(adj)[0] != features.shape[0]:
        raise DataError(
            f"from_scipy: adj is {np.shape(adj)} but x has {features.shape[0]} rows; both must "
            "have one row per node (N)"
        )
    return node_dataset(
        name,
        src,
        features=features,
        edge_index=edge_index,
        labels=y,
        masks=masks,
        num_classes=num_classes,
    )


_GIVE = "pass num_classes={}"


def _node_values(graph: Any, attribute: Any, field: str) -> Any:
    """An array as given, or the node attribute ``attribute`` stacked in ``graph.nodes`` order."""
    if not isinstance(attribute, str):
        return attribute
    values = []
    for node, data in graph.nodes(data=True):
        if attribute not in data:
            raise DataError(
                f"from_networkx: node {node!r} has no attribute {attribute!r} ({field}); give "
                f"every node one, or pass {field} as an array in graph.nodes order"
            )
        values.append(as_numpy(data[attribute]))
    return np.stack(values) if values else np.zeros((0,))


def from_networkx(
    graph: Any,
    *,
    features: Any = "x",
    label: Any = "y",
    masks: Sequence[Any] | None = None,
    num_classes: int | None = None,
    name: str = "networkx",
) -> Dataset:
    """A node-classification :class:`Dataset` from a networkx graph.

    Node ``i`` of the dataset is the ``i``-th node of ``graph.nodes``; your edge ``i`` is the
    ``i``-th pair of ``graph.edges()`` (:func:`edge_map` maps it to jgattr's ids). Directed
    graphs and multigraphs are made undirected and simple; self loops are dropped.

    Args:
      graph: a ``networkx.Graph`` (or ``DiGraph``, ``MultiGraph``, ...); networkx itself is
        not imported.
      features: a node attribute name (a number or vector per node) or an ``[N, F]`` array.
      label: a node attribute name (an int per node, ``-1``: unlabeled) or an ``[N]`` array.
      masks: ``(train, val, test)``, each a node attribute name, a bool ``[N]`` array or
        ``None``.
      num_classes: ``C``; ``None`` infers it from the labels (rule of :func:`load_npz`).
      name: the dataset's name.

    Raises:
      DataError: not a graph, a node without the attribute (named), or a malformed field.

    Example:
      >>> g = networkx.karate_club_graph()
      >>> ds = from_networkx(g, features=numpy.eye(34), label=numpy.zeros(34, int))
    """
    if not is_networkx(graph):
        kind = type(graph).__name__
        raise DataError(f"from_networkx: graph must be a networkx graph, got {kind}")
    src = Source("from_networkx", features="features", labels="label", give_classes=_GIVE)
    masks = _three_masks(masks, src)
    return node_dataset(
        name,
        src,
        features=_as_columns(_node_values(graph, features, "features")),
        edge_index=networkx_edge_index(graph),
        labels=_node_values(graph, label, "label"),
        masks=[_node_values(graph, m, f) for f, m in zip(MASK_FIELDS, masks, strict=True)],
        num_classes=num_classes,
    )


def _as_columns(values: Any) -> Any:
    """A per-node scalar feature as one column ``[N, 1]``."""
    array = as_numpy(values)
    return array[:, None] if array is not None and array.ndim == 1 else array
