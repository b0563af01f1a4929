"""Planning: targets split into chunks under a memory budget, padded to a few bucketed shapes.

Each chunk is the disjoint union of its targets' computation graphs, padded by jraph to a
bucketed size (``2^k`` or ``1.5 * 2^k``), so a hub only pads its own chunk and ``jit`` compiles
a handful of shapes. Chunks of one bucket run together in rounds of one chunk per device.
"""

import dataclasses

import jax
import numpy as np

from jgattr._padding import padded_size
from jgattr._types import Array
from jgattr.attribution._subgraphs import Union, receiver_depths


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Targets ``start:stop`` of a union, padded to ``bucket`` = (copies, edges, targets), and
    with ``hops`` = K > 1 the padded count of the edges layers ``2..K`` need (:func:`layer_edges`).
    """

    start: int  # first target
    stop: int  # one past the last target
    bucket: tuple[int, ...]  # padded (copies, edges, targets[, edges of layers 2..K])
    hops: int = 0  # K when the chunk carries each later layer's edges; 0 otherwise


def plan_chunks(
    union: Union,
    bytes_per_copy: float,
    bytes_per_edge: float,
    budget: float,
    devices: int,
    hops: int = 0,
) -> list[Chunk]:
    """Consecutive targets grouped into chunks whose estimated memory fits ``budget`` bytes.

    At least one chunk per device when the work allows it, so every device gets a share.
    ``hops`` = K > 1: each chunk also carries the edges its layers ``2..K`` need
    (:func:`layer_edges`), padded to a bucket of their own.
    """
    copies = np.diff(union.node_offsets)
    edges = np.diff(union.edge_offsets)
    cost = copies * bytes_per_copy + edges * bytes_per_edge
    total = float(cost.sum())
    capacity = max(min(budget, total / devices), 1.0)
    before = np.cumsum(cost) - cost
    chunk_of = (before // capacity).astype(np.int64)
    starts = np.flatnonzero(np.diff(chunk_of, prepend=-1))
    stops = np.append(starts[1:], union.num_targets)
    later = _later_edges(union, hops) if hops > 1 else None
    chunks = []
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        n = int(union.node_offsets[stop] - union.node_offsets[start])
        e0, e1 = union.edge_offsets[start], union.edge_offsets[stop]
        bucket = (padded_size(n + 1), padded_size(int(e1 - e0)), padded_size(stop - start + 1, 4))
        if later is not None:
            bucket += (padded_size(int(later[e1] - later[e0])),)
        chunks.append(Chunk(start, stop, bucket, hops if later is not None else 0))
    return chunks


def _later_edges(union: Union, hops: int) -> np.ndarray:
    """``[E_u + 1]`` running count of the union edges layer 2 needs (the most of layers 2..K)."""
    depth = receiver_depths(
        union.target_copy, union.edge_sender, union.edge_receiver, union.num_copies, hops
    )
    return np.concatenate([[0], np.cumsum(depth <= hops - 2)])


def group_rounds(chunks: list[Chunk], devices: int) -> list[list[Chunk]]:
    """Group chunks of one bucket into rounds of ``devices`` (the last one padded by repeats)."""
    by_bucket: dict[tuple, list[Chunk]] = {}
    for chunk in chunks:
        by_bucket.setdefault(chunk.bucket, []).append(chunk)
    grouped = []
    for group in by_bucket.values():
        for i in range(0, len(group), devices):
            members = group[i : i + devices]
            grouped.append(members + [members[-1]] * (devices - len(members)))
    return grouped


def chunk_structure(union: Union, chunk: Chunk) -> dict[str, np.ndarray]:
    """Padded structure of one chunk's union, one graph per target, laid out as
    ``jraph.pad_with_graphs`` pads: one padding graph holds every padding node and edge (edges
    from and to its first node), then empty graphs."""
    s, t = chunk.start, chunk.stop
    n0, n1 = union.node_offsets[s], union.node_offsets[t]
    e0, e1 = union.edge_offsets[s], union.edge_offsets[t]
    n_node, n_edge, n_graph = chunk.bucket[:3]
    real_nodes, real_edges, real_graphs = n1 - n0, e1 - e0, t - s
    sizes = np.zeros((2, n_graph), np.int32)
    sizes[0, :real_graphs] = np.diff(union.node_offsets[s : t + 1])
    sizes[1, :real_graphs] = np.diff(union.edge_offsets[s : t + 1])
    sizes[:, real_graphs] = n_node - real_nodes, n_edge - real_edges
    graph_ids = np.arange(n_graph, dtype=np.int32)
    return {
        "copy_node": _pad(union.copy_node[n0:n1], n_node, 0),
        "copy_target": np.repeat(graph_ids, sizes[0]),
        "edge_target": np.repeat(graph_ids, sizes[1]),
        "edge_id": _pad(union.edge_id[e0:e1], n_edge, 0),
        "edge_mask": np.arange(n_edge) < real_edges,
        "top_edge": _pad(union.copy_top_edge[n0:n1], n_node, -1),
        "senders": _pad(union.edge_sender[e0:e1] - n0, n_edge, real_nodes),
        "receivers": _pad(union.edge_receiver[e0:e1] - n0, n_edge, real_nodes),
        "n_node": sizes[0],
        "n_edge": sizes[1],
        # padding targets point at the first padding copy, outside every real target
        "target_copy": _pad(union.target_copy[s:t] - n0, n_graph, real_nodes),
        **layer_edges(union, chunk),
    }


def layer_edges(union: Union, chunk: Chunk) -> dict[str, np.ndarray]:
    """The edges each layer ``l = 2..K`` of the chunk needs (``chunk.hops`` = K; none if 0).

    ``layer_edge [K − 1, L]``: positions in the chunk's edge arrays of the edges whose receiver
    is within ``K − l`` hops of its target; ``layer_senders``/``layer_receivers [K − 1, L]``
    their copies; ``layer_valid [K − 1, L]``: real entries. Padding entries run from and to the
    first padding copy, like the chunk's own padding edges.
    """
    if chunk.hops < 2:
        return {}
    s, t, hops = chunk.start, chunk.stop, chunk.hops
    n0, n1 = union.node_offsets[s], union.node_offsets[t]
    e0, e1 = union.edge_offsets[s], union.edge_offsets[t]
    senders, receivers = union.edge_sender[e0:e1] - n0, union.edge_receiver[e0:e1] - n0
    depth = receiver_depths(union.target_copy[s:t] - n0, senders, receivers, n1 - n0, hops)
    size, pad = chunk.bucket[3], n1 - n0
    fields = {
        name: np.full((hops - 1, size), fill, np.int32)
        for name, fill in (("layer_edge", 0), ("layer_senders", pad), ("layer_receivers", pad))
    }
    valid = np.zeros((hops - 1, size), bool)
    for row, layer in enumerate(range(2, hops + 1)):
        kept = np.flatnonzero(depth <= hops - layer)
        count = kept.shape[0]
        fields["layer_edge"][row, :count] = kept
        fields["layer_senders"][row, :count] = senders[kept]
        fields["layer_receivers"][row, :count] = receivers[kept]
        valid[row, :count] = True
    return {**fields, "layer_valid": valid}


def _pad(values: np.ndarray, size: int, fill: int) -> np.ndarray:
    padded = np.full(size, fill, dtype=np.int32)
    padded[: values.shape[0]] = values
    return padded


def chunk_targets(chunk: Chunk, per_target: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-target inputs of one chunk (classes, top vectors...), zero-padded to its bucket."""
    pad = chunk.bucket[2] - (chunk.stop - chunk.start)
    return {
        name: np.concatenate(
            [values[chunk.start : chunk.stop], np.zeros((pad, *values.shape[1:]), values.dtype)]
        )
        for name, values in per_target.items()
    }


def stack(dicts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.stack([d[name] for d in dicts]) for name in dicts[0]}


def segment_totals(per_copy: Array, chunk: dict) -> Array:
    """``[T]`` per-copy values of a padded chunk summed per target (``chunk_structure``'s
    ``copy_target``); padding targets get the padding copies' sum."""
    return jax.ops.segment_sum(
        per_copy, chunk["copy_target"], num_segments=chunk["target_copy"].shape[0]
    )
