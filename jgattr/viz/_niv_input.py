"""Validated NIV input: one target's neighbourhood, its NIV scores and hop distances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jgattr.viz._checks import finite_array
from jgattr.viz._niv_style import SIZE_BY


@dataclass(frozen=True)
class Neighbourhood:
    """Validated NIV input; ``edges`` holds positions into ``nodes``, not node ids."""

    target: int
    center: int  # position of the target in ``nodes``
    nodes: np.ndarray  # [n] int64 node ids
    values: np.ndarray  # [n] float64 attributions C
    scores: np.ndarray  # [n] NIV scores sign(C) * softmax(C)
    edges: np.ndarray  # [2, m] int64 positions into ``nodes``
    predicted: np.ndarray  # [n] int64 predicted classes
    class_names: tuple[str, ...]
    hops: np.ndarray  # [n] hop distance from the target along ``edges``; -1: no path


def niv_scores(values: np.ndarray) -> np.ndarray:
    """NIV score ``sign(C) * softmax(C)`` over one target's neighbourhood.

    The softmax (paper eq. 10) turns the attributions ``C`` of the ``n`` nodes of a target's
    neighbourhood into shares of importance; it hides the sign, which eq. 11 restores:
    ``S'_i = sign(C_i) * exp(C_i) / sum_j exp(C_j)``. So ``sum |S'| == 1`` (less the share of nodes
    with ``C_i == 0`` exactly, whose score is 0) and ``|S'|`` is ordered like ``C``.

    Args:
        values: ``[n]`` finite attributions ``C`` of each node to the target's prediction.

    Returns:
        ``[n]`` float64 scores in ``[-1, 1]``.

    Raises:
        ValueError: ``values`` is not a non-empty 1-D array of finite numbers.

    Example:
        >>> niv_scores(np.array([1.0, 0.0, -1.0])).round(3).tolist()
        [0.665, 0.0, -0.09]
    """
    c = _finite_vector(values, "values")
    e = np.exp(c - c.max())
    return np.sign(c) * (e / e.sum())


def _finite_vector(x: Any, name: str) -> np.ndarray:
    arr = finite_array(x, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    return arr


def _int_array(x: Any, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != ndim or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(
            f"{name} must be a {ndim}-D integer array, got shape {arr.shape} dtype {arr.dtype}"
        )
    return arr.astype(np.int64)


def check_options(*, method: str, top_k: int, label_top: int, seed: int, size_by: str) -> None:
    """ValueError naming the first bad option of a NIV figure."""
    if not isinstance(method, str) or not method:
        raise ValueError(f"method must be a non-empty str (used in the title), got {method!r}")
    for name, value in (("top_k", top_k), ("label_top", label_top), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if size_by not in SIZE_BY:
        raise ValueError(f"size_by must be one of {list(SIZE_BY)}, got {size_by!r}")


def neighbourhood(
    target: int,
    nodes: np.ndarray,
    values: np.ndarray,
    edges: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str] | None,
) -> Neighbourhood:
    """The validated neighbourhood of ``target`` (see :func:`jgattr.viz.niv_figure`)."""
    ids = _node_ids(nodes)
    center = _target_position(target, ids)
    vals = _finite_vector(values, "values")
    pred = _int_array(predicted, "predicted", 1)
    for name, arr in (("values", vals), ("predicted", pred)):
        if arr.shape != ids.shape:
            raise ValueError(
                f"{name} must have one entry per node, shape {ids.shape}, got shape {arr.shape}"
            )
    positions = _edge_positions(edges, ids)
    return Neighbourhood(
        target=int(target),
        center=center,
        nodes=ids,
        values=vals,
        scores=niv_scores(vals),
        edges=positions,
        predicted=pred,
        class_names=_class_names(class_names, pred),
        hops=_hops(positions, ids.size, center),
    )


def _node_ids(nodes: np.ndarray) -> np.ndarray:
    ids = _int_array(nodes, "nodes", 1)
    if ids.size == 0:
        raise ValueError("nodes must hold at least the target, got an empty array")
    uniq, counts = np.unique(ids, return_counts=True)
    if uniq.size != ids.size:
        raise ValueError(
            f"nodes must be distinct, got repeated ids {uniq[counts > 1][:5].tolist()}"
        )
    return ids


def _target_position(target: int, ids: np.ndarray) -> int:
    if isinstance(target, bool) or not isinstance(target, int | np.integer):
        raise ValueError(f"target must be an int node id, got {target!r}")
    where = np.flatnonzero(ids == target)
    if where.size == 0:
        raise ValueError(f"target {target} is not in nodes; include the target's own id in nodes")
    return int(where[0])


def _edge_positions(edges: np.ndarray, ids: np.ndarray) -> np.ndarray:
    e = _int_array(edges, "edges", 2)
    if e.shape[0] != 2:
        raise ValueError(f"edges must have shape [2, m] (sources; destinations), got {e.shape}")
    order = np.argsort(ids)
    flat = e.ravel()
    where = np.clip(np.searchsorted(ids[order], flat), 0, ids.size - 1)
    missing = flat[ids[order][where] != flat]
    if missing.size:
        raise ValueError(
            f"edges reference node ids not in nodes: {np.unique(missing)[:5].tolist()}; "
            "pass only edges among the neighbourhood, as node ids"
        )
    return order[where].reshape(2, -1)


def _class_names(class_names: Sequence[str] | None, predicted: np.ndarray) -> tuple[str, ...]:
    if predicted.size and predicted.min() < 0:
        raise ValueError(f"predicted must hold class indices >= 0, got {predicted.min()}")
    n_classes = int(predicted.max()) + 1 if predicted.size else 0
    if class_names is None:
        return tuple(f"class {k}" for k in range(n_classes))
    if isinstance(class_names, str) or not all(isinstance(c, str) for c in class_names):
        raise ValueError(f"class_names must be a sequence of str, got {class_names!r}")
    if len(class_names) < n_classes:
        raise ValueError(
            f"class_names has {len(class_names)} names but predicted holds class {n_classes - 1}; "
            "give one name per class"
        )
    return tuple(class_names)


def highlight_mask(highlight: Any, nb: Neighbourhood) -> np.ndarray:
    """``[n]`` bool: the node is in ``highlight`` (ids outside the neighbourhood are ignored)."""
    if highlight is None:
        return np.zeros(nb.nodes.size, dtype=bool)
    ids = _int_array(np.asarray(highlight).reshape(-1), "highlight", 1)
    return np.isin(nb.nodes, ids)


# --- selection and layout -----------------------------------------------------------------------


def _hops(edges: np.ndarray, n: int, center: int) -> np.ndarray:
    """``[n]`` breadth-first hop distance from ``center`` over undirected ``edges`` (-1: none)."""
    src = np.concatenate([edges[0], edges[1]])
    dst = np.concatenate([edges[1], edges[0]])
    hops = np.full(n, -1, dtype=np.int64)
    hops[center] = 0
    frontier, depth = np.array([center]), 0
    while frontier.size:
        depth += 1
        reached = np.unique(dst[np.isin(src, frontier)])
        frontier = reached[hops[reached] < 0]
        hops[frontier] = depth
    return hops
