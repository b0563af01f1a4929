"""Planning: targets split into chunks under a memory budget, padded to a few bucketed shapes.

Each chunk is the disjoint union of its targets' computation graphs, padded by jraph to a
bucketed size (``2^k`` or ``1.5 * 2^k``), so a hub only pads its own chunk and ``jit`` compiles
a handful of shapes. Chunks of one bucket run together in rounds of one chunk per device.
"""

import dataclasses

import jax
import numpy as np

from jgattr._types import Array
from jgattr.attribution._subgraphs import Union


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Targets ``start:stop`` of a union, padded to ``bucket`` = (copies, edges, targets)."""

    start: int  # first target
    stop: int  # one past the last target
    bucket: tuple[int, int, int]  # padded (copies, edges, targets)


def padded_size(size: int, minimum: int = 16) -> int:
    """Round up to 2^k or 1.5 * 2^k, so chunks share a few compiled shapes."""
    size = max(size, minimum)
    power = 1 << (size - 1).bit_length()
    return power * 3 // 4 if power * 3 // 4 >= size else power


def plan_chunks(
    union: Union, bytes_per_copy: float, bytes_per_edge: float, budget: float, devices: int
) -> list[Chunk]:
    """Consecutive targets grouped into chunks whose estimated memory fits ``budget`` bytes.

    At least one chunk per device when the work allows it, so every device gets a share.
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
    chunks = []
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        n = int(union.node_offsets[stop] - union.node_offsets[start])
        e = int(union.edge_offsets[stop] - union.edge_offsets[start])
        chunks.append(
            Chunk(
                start, stop, (padded_size(n + 1), padded_size(e), padded_size(stop - start + 1, 4))
            )
        )
    return chunks


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
    n_node, n_edge, n_graph = chunk.bucket
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
    }


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
