"""The attribution engine: every target of a graph explained in one jit-compiled, sharded run.

Work follows each target's K-hop computation graph. The host extracts all computation graphs
at once (:mod:`._subgraphs`), splits the targets into chunks under a memory budget, and pads
each chunk with jraph to a few bucketed sizes. Chunks of one bucket run in rounds of one chunk
per device: ``shard_map`` over a ``targets`` mesh axis, ``vmap`` over the chunks a device holds.
Each chunk runs one method either on the general path (autodiff of the model on the chunk's
disjoint union) or, for walk-sum methods on the built-in GCN, on the exact fast path (one
linear backward pass in P-space with the method's masks and top vectors).
"""

import dataclasses
import functools
import hashlib
import io
import json
import resource
import shutil
import sys
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import jraph
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from tqdm.auto import tqdm

from jgattr._io import atomic_write_bytes, atomic_write_json
from jgattr._types import ApplyFn, Array, Params
from jgattr.attribution._methods import (
    GCNForward,
    Method,
    UnionModel,
    get_method,
)
from jgattr.attribution._results import Attributions, concatenate
from jgattr.attribution._subgraphs import InEdges, Union, computation_graphs
from jgattr.models import GCN, gcn_convolutions, gcn_normalize, make_apply_fn, propagate

TARGET_SETS = ("train", "val", "test", "all")
CLASS_CHOICES = ("predicted", "true", "all")
PATHS = ("auto", "fast", "general")
_AXIS = "targets"
_SPARSE_DENSITY = 0.25  # below this fraction of non-zeros, P = X W¹ is a sparse product


@dataclasses.dataclass(frozen=True, eq=False)
class Explainable:
    """A model as the engine sees it.

    Attributes:
      apply: pure ``(params, graph) -> logits [N, C]`` over a normalized graph.
      num_layers: K, the number of message-passing rounds (the receptive field in hops).
      convolutions: optional ``(params, graph) -> (conv_1, ..., conv_K)`` with each
        ``conv_l: h ↦ pre-activation`` and ReLU between consecutive ones; needed by the
        layer-wise (LID) methods on the general path.
      is_gcn: the built-in GCN, eligible for the exact walk-sum fast path.
    """

    apply: ApplyFn
    num_layers: int
    convolutions: Callable[[Params, jraph.GraphsTuple], tuple[Callable, ...]] | None = None
    is_gcn: bool = False


@functools.lru_cache(maxsize=64)
def _gcn_explainable(num_classes: int, hidden_size: int, num_layers: int) -> Explainable:
    model = GCN(num_classes=num_classes, hidden_size=hidden_size, num_layers=num_layers)
    return Explainable(
        make_apply_fn(model), num_layers, functools.partial(gcn_convolutions, model), is_gcn=True
    )


def as_explainable(model: Any) -> Explainable:
    """An :class:`Explainable` for a built-in :class:`~jgattr.models.GCN` or an Explainable."""
    if isinstance(model, Explainable):
        return model
    if isinstance(model, GCN):
        return _gcn_explainable(model.num_classes, model.hidden_size, model.num_layers)
    raise TypeError(
        "model must be a jgattr GCN or an Explainable(apply, num_layers) wrapping a pure "
        f"(params, graph) -> logits function, got {type(model).__name__}"
    )


# ------------------------------------------------------------------------------- inputs


@dataclasses.dataclass(frozen=True, eq=False)
class _Graph:
    """A normalized host graph with its cached in-edges and computation graphs (per K, targets)."""

    graph: jraph.GraphsTuple
    masks: dict[str, np.ndarray]
    labels: np.ndarray | None
    unions: dict = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def on_device(self) -> jraph.GraphsTuple:
        return jax.tree.map(jnp.asarray, self.graph)

    @functools.cached_property
    def sparse_features(self) -> tuple[Array, Array, Array] | None:
        """(rows, cols, values) of X's non-zeros when X is sparse (bag-of-words), else None."""
        x = self.graph.nodes
        rows, cols = np.nonzero(x)
        if rows.size > _SPARSE_DENSITY * x.size:
            return None
        return (
            jnp.asarray(rows, jnp.int32),
            jnp.asarray(cols, jnp.int32),
            jnp.asarray(x[rows, cols]),
        )

    @functools.cached_property
    def in_edges(self) -> InEdges:
        return InEdges.of(self.graph)

    def union(self, nodes: np.ndarray, num_hops: int) -> Union:
        key = (num_hops, nodes.tobytes())
        if key not in self.unions:
            if len(self.unions) >= 8:
                self.unions.pop(next(iter(self.unions)))
            self.unions[key] = computation_graphs(self.in_edges, nodes, num_hops)
        return self.unions[key]


_PREPARED: "weakref.WeakKeyDictionary[Any, _Graph]" = weakref.WeakKeyDictionary()


def _prepared(data: Any) -> _Graph:
    """The normalized graph of ``data``, cached per Dataset object (datasets are immutable)."""
    if isinstance(data, jraph.GraphsTuple):
        return _Graph(*_normalized(data))
    if data not in _PREPARED:
        _PREPARED[data] = _Graph(*_normalized(data))
    return _PREPARED[data]


def _normalized(data: Any) -> tuple[jraph.GraphsTuple, dict[str, np.ndarray], np.ndarray | None]:
    """(normalized graph on the host, split masks, labels) of a Dataset or a GraphsTuple."""
    if isinstance(data, jraph.GraphsTuple):
        graph = data if data.edges is not None else gcn_normalize(data)
        masks, labels = {}, None
    else:
        graph = gcn_normalize(data.graph)
        masks = {name: np.asarray(getattr(data, f"{name}_mask")) for name in TARGET_SETS[:3]}
        labels = np.asarray(data.labels)
    graph = jax.tree.map(np.asarray, graph)
    _validate_graph(graph)
    return graph, masks, labels


def _validate_graph(graph: jraph.GraphsTuple) -> None:
    nodes = graph.nodes
    if nodes.ndim != 2:
        raise ValueError(f"graph.nodes must be [N, F], got shape {nodes.shape}")
    if not np.all(np.isfinite(nodes)):
        rows = np.unique(np.nonzero(~np.isfinite(nodes))[0])
        raise ValueError(
            f"graph.nodes has non-finite features in {rows.size} rows "
            f"(first: {rows[:5].tolist()}); clean or impute them before explaining"
        )
    n, e = nodes.shape[0], graph.senders.shape[0]
    if graph.receivers.shape != (e,) or np.asarray(graph.edges).shape[0] != e:
        raise ValueError(
            "graph.senders, graph.receivers and graph.edges must have the same length, got "
            f"{graph.senders.shape}, {graph.receivers.shape}, {np.asarray(graph.edges).shape}"
        )
    for name in ("senders", "receivers"):
        ids = getattr(graph, name)
        if e and (ids.min() < 0 or ids.max() >= n):
            raise ValueError(
                f"graph.{name} must hold node ids in [0, {n}), found {ids.min()}..{ids.max()}"
            )
    if not np.all(np.bincount(graph.receivers[graph.senders == graph.receivers], minlength=n) >= 1):
        raise ValueError(
            "the normalized graph needs a self loop on every node (gcn_normalize adds them); "
            "pass a graph with edges=None to have it normalized"
        )


def _resolve_targets(spec: Any, num_nodes: int, masks: dict[str, np.ndarray]) -> np.ndarray:
    if isinstance(spec, str):
        if spec == "all":
            return np.arange(num_nodes, dtype=np.int32)
        if spec not in TARGET_SETS:
            raise ValueError(
                f"targets must be one of {list(TARGET_SETS)} or node ids, got {spec!r}"
            )
        if spec not in masks:
            raise ValueError(f"targets={spec!r} needs a Dataset with split masks; pass node ids")
        return np.flatnonzero(masks[spec]).astype(np.int32)
    ids = np.asarray(spec)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"targets must be a 1-D array of integer node ids, got {ids.dtype} {ids.shape}"
        )
    bad = ids[(ids < 0) | (ids >= num_nodes)]
    if bad.size:
        raise ValueError(
            f"targets must be node ids in [0, {num_nodes}), got {bad.size} outside it "
            f"(e.g. {int(bad[0])})"
        )
    return ids.astype(np.int32)


def _resolve_classes(
    spec: Any, nodes: np.ndarray, num_classes: int, predicted: np.ndarray, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(target nodes, classes), with ``"all"`` expanding every node into one target per class."""
    if isinstance(spec, str):
        if spec == "predicted":
            return nodes, predicted[nodes].astype(np.int32)
        if spec == "all":
            return np.repeat(nodes, num_classes), np.tile(
                np.arange(num_classes, dtype=np.int32), nodes.size
            )
        if spec == "true":
            if labels is None:
                raise ValueError("classes='true' needs a Dataset with labels")
            classes = labels[nodes]
            if np.any(classes < 0):
                raise ValueError(
                    f"classes='true': {int(np.sum(classes < 0))} targets have no label "
                    f"(e.g. node {int(nodes[classes < 0][0])}); pick labelled targets"
                )
            return nodes, classes.astype(np.int32)
        raise ValueError(
            f"classes must be one of {list(CLASS_CHOICES)}, an int or an array, got {spec!r}"
        )
    classes = np.broadcast_to(np.asarray(spec), nodes.shape)
    if not np.issubdtype(classes.dtype, np.integer) or np.any(
        (classes < 0) | (classes >= num_classes)
    ):
        raise ValueError(f"classes must be integers in [0, {num_classes}), got {spec!r}")
    return nodes, classes.astype(np.int32)


# ------------------------------------------------------------------------------ planning


@dataclasses.dataclass(frozen=True)
class _Chunk:
    start: int  # first target
    stop: int  # one past the last target
    bucket: tuple[int, int, int]  # padded (copies, edges, targets)


def _bucket(size: int, minimum: int = 16) -> int:
    """Round up to 2^k or 1.5 * 2^k, so chunks share a few compiled shapes."""
    size = max(size, minimum)
    power = 1 << (size - 1).bit_length()
    return power * 3 // 4 if power * 3 // 4 >= size else power


def _plan(union: Union, bytes_per_copy: float, bytes_per_edge: float, budget: float, devices: int):
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
            _Chunk(start, stop, (_bucket(n + 1), _bucket(e), _bucket(stop - start + 1, 4)))
        )
    return chunks


def _chunk_structure(union: Union, chunk: _Chunk) -> dict[str, np.ndarray]:
    """Padded structure of one chunk's union (jraph padding, one graph per target)."""
    s, t = chunk.start, chunk.stop
    n0, n1 = union.node_offsets[s], union.node_offsets[t]
    e0, e1 = union.edge_offsets[s], union.edge_offsets[t]
    graph = jraph.GraphsTuple(
        nodes=union.copy_node[n0:n1],
        edges=union.edge_id[e0:e1],
        senders=union.edge_sender[e0:e1] - n0,
        receivers=union.edge_receiver[e0:e1] - n0,
        n_node=np.diff(union.node_offsets[s : t + 1]).astype(np.int32),
        n_edge=np.diff(union.edge_offsets[s : t + 1]).astype(np.int32),
        globals=None,
    )
    n_node, n_edge, n_graph = chunk.bucket
    padded = jraph.pad_with_graphs(graph, n_node, n_edge, n_graph)
    pad_targets = n_graph - (t - s)
    return {
        "copy_node": np.asarray(padded.nodes, np.int32),
        "copy_target": np.repeat(np.arange(n_graph, dtype=np.int32), np.asarray(padded.n_node)),
        "edge_target": np.repeat(np.arange(n_graph, dtype=np.int32), np.asarray(padded.n_edge)),
        "edge_id": np.asarray(padded.edges, np.int32),
        "edge_mask": np.arange(n_edge) < e1 - e0,  # jraph puts padding edges last
        "top_edge": np.pad(union.copy_top_edge[n0:n1], (0, n_node - (n1 - n0)), constant_values=-1),
        "senders": np.asarray(padded.senders, np.int32),
        "receivers": np.asarray(padded.receivers, np.int32),
        "n_node": np.asarray(padded.n_node, np.int32),
        "n_edge": np.asarray(padded.n_edge, np.int32),
        "target_copy": np.concatenate(
            # padding targets point at the first padding copy, outside every real target
            [union.target_copy[s:t] - n0, np.full(pad_targets, n1 - n0, np.int32)]
        ).astype(np.int32),
    }


def _chunk_targets(chunk: _Chunk, per_target: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-target inputs of one chunk (classes, top vectors...), zero-padded to its bucket."""
    pad = chunk.bucket[2] - (chunk.stop - chunk.start)
    return {
        name: np.concatenate(
            [values[chunk.start : chunk.stop], np.zeros((pad, *values.shape[1:]), values.dtype)]
        )
        for name, values in per_target.items()
    }


def _stack(dicts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.stack([d[name] for d in dicts]) for name in dicts[0]}


def _round_structure(union: Union, members: list[_Chunk], mesh: Mesh) -> dict:
    """The stacked, sharded structure of one round, kept on the devices for later methods."""
    key = (tuple((c.start, c.stop, c.bucket) for c in members), mesh.device_ids.tobytes())
    cache = union.device_cache
    if key not in cache:
        if len(cache) >= 64:
            cache.pop(next(iter(cache)))
        arrays = _stack([_chunk_structure(union, chunk) for chunk in members])
        cache[key] = _put(arrays, mesh, P(_AXIS))
    return cache[key]


# --------------------------------------------------------------------------- chunk kernels


def _segment_totals(per_copy: Array, chunk: dict) -> Array:
    return jax.ops.segment_sum(
        per_copy, chunk["copy_target"], num_segments=chunk["target_copy"].shape[0]
    )


def _relu_layers(convolutions: tuple[Callable, ...]) -> tuple[Callable, ...]:
    last = len(convolutions) - 1
    return tuple(
        conv if index == last else (lambda h, conv=conv: jax.nn.relu(conv(h)))
        for index, conv in enumerate(convolutions)
    )


def _general_chunk(method: Method, model: Explainable, feature_level: bool):
    """General path on one padded chunk: autodiff of the model on the chunk's disjoint union."""

    def run(params, x, x_ref, weights, chunk):
        union = jraph.GraphsTuple(
            nodes=x[chunk["copy_node"]],
            edges=weights[chunk["edge_id"]] * chunk["edge_mask"].astype(weights.dtype),
            senders=chunk["senders"],
            receivers=chunk["receivers"],
            n_node=chunk["n_node"],
            n_edge=chunk["n_edge"],
            globals=None,
        )
        target_copy = chunk["target_copy"]
        logits = lambda h: model.apply(params, union._replace(nodes=h))[target_copy]
        edge_logits = lambda m: model.apply(params, union._replace(edges=union.edges * m))[
            target_copy
        ]
        layers = None
        if model.convolutions is not None:
            layers = _relu_layers(model.convolutions(params, union))
        edges = int(union.senders.shape[0])
        contribution = method.attribute(
            UnionModel(logits, layers, target_copy, edge_logits, edges),
            union.nodes,
            x_ref[chunk["copy_node"]],
            chunk["classes"],
        )
        if method.level == "edge":
            total = jax.ops.segment_sum(
                contribution.relevance,
                chunk["edge_target"],
                num_segments=target_copy.shape[0],
            )
            return {
                "values": contribution.relevance,
                "expected": contribution.expected,
                "layer_totals": _pad_layers(total[:, None], model.num_layers),
            }
        node_relevance = contribution.relevance.sum(axis=-1)
        totals = [_segment_totals(node_relevance, chunk)]
        totals += [_segment_totals(h, chunk) for h in contribution.hidden]
        return {
            "values": contribution.relevance if feature_level else node_relevance,
            "expected": contribution.expected,
            "layer_totals": _pad_layers(jnp.stack(totals, axis=-1), model.num_layers),
        }

    return run


def _pad_layers(totals: Array, num_layers: int) -> Array:
    missing = num_layers - totals.shape[-1]
    return jnp.pad(totals, ((0, 0), (0, missing)), constant_values=jnp.nan)


class _WalkTables(NamedTuple):
    """Whole-graph tables that make the fast path's widest steps C-wide (MATH.md's ``Q_c``).

    Attributes:
      kernels: ``(W_0, ..., W_{K-1})`` of the convolutions (0-based).
      masks: ReLU Jacobians of ``Z¹..Zᴷ⁻¹``, ``[N, H_l]``.
      hidden_projections: ``ΔHˡ W_l`` for ``l = 1..K-1``, ``[N, out_l]``: with them the
        relevance of hidden layer l is ``Σ a ⊙ ΔHˡ W_l`` (no ``[S, H]`` product needed).
      edge_table: for K >= 2, ``Q[e] = (M¹[j] ⊙ ΔP[φ]) W_1`` per graph edge ``e = φ → j``,
        ``[E, out_1]``, so the input relevance is one ``out_1``-wide dot product per walk;
        for K = 1 the P-space increment ``ΔP`` ``[N, C]`` itself.
    """

    kernels: tuple[Array, ...]
    masks: tuple[Array, ...]
    hidden_projections: tuple[Array, ...]
    edge_table: Array


def _walk_tables(linear, kernels: tuple[Array, ...], graph: jraph.GraphsTuple) -> _WalkTables:
    projections = tuple(
        increment @ kernels[layer + 1] for layer, increment in enumerate(linear.hidden_increments)
    )
    if len(kernels) == 1:
        return _WalkTables(kernels, linear.masks, projections, linear.increment)
    masked = linear.masks[0][graph.receivers] * linear.increment[graph.senders]
    return _WalkTables(kernels, linear.masks, projections, masked @ kernels[1])


def _fast_chunk(num_layers: int):
    """Fast path on one padded chunk: the GCN's linear backward pass with fixed masks.

    ``a = ∂/∂(H W_c)`` of conv ``c`` (0-based, ``Z = Â H W_c + b``) on every copy starts as
    ``Â[a_t, j] top_t`` (only the target copy has a gradient at the top). At each hidden layer the
    relevance is ``Σ a ⊙ (ΔHᶜ W_c)``, then ``g = (a W_cᵀ) ⊙ Mᶜ`` and ``a ← Âᵀ g`` (messages sent
    back along every union edge). At conv 1 each union edge ``φ → j`` (graph edge ``e``) gives
    ``w_e ⟨a[j], Q[e]⟩`` to copy φ.
    """

    def run(weights, tables: _WalkTables, chunk):
        node, senders, receivers = chunk["copy_node"], chunk["senders"], chunk["receivers"]
        edge_weights = weights[chunk["edge_id"]] * chunk["edge_mask"].astype(weights.dtype)
        top_edge = chunk["top_edge"]
        top_weights = jnp.where(top_edge >= 0, weights[jnp.maximum(top_edge, 0)], 0.0)
        a = top_weights[:, None] * chunk["top"][chunk["copy_target"]]
        hidden_totals = []
        for conv in range(num_layers - 1, -1, -1):
            if conv == 0:  # K = 1: a = ∂/∂P
                values = jnp.sum(a * tables.edge_table[node], axis=-1)
                break
            projection = tables.hidden_projections[conv - 1][node]
            hidden_totals.append(_segment_totals(jnp.sum(a * projection, axis=-1), chunk))
            if conv == 1:
                table = tables.edge_table[chunk["edge_id"]]
                per_walk = edge_weights * jnp.sum(a[receivers] * table, axis=-1)
                values = jax.ops.segment_sum(per_walk, senders, num_segments=node.shape[0])
                break
            g = (a @ tables.kernels[conv].T) * tables.masks[conv - 1][node]
            messages = edge_weights[:, None] * g[receivers]
            a = jax.ops.segment_sum(messages, senders, num_segments=node.shape[0])
        totals = [_segment_totals(values, chunk), *reversed(hidden_totals)]
        return {
            "values": values,
            "expected": chunk["expected"],
            "layer_totals": jnp.stack(totals, axis=-1),
        }

    return run


def _gcn_pre_activations(model: Explainable, params, graph, projected: Array) -> tuple:
    """``(Z¹, ..., Zᴷ)`` of the built-in GCN from ``P = X W¹`` (so X̂ = 0 costs no matmul)."""
    convolutions = model.convolutions(params, graph)
    pre = [propagate(graph, projected) + params["conv_0"]["bias"][None, :]]
    for conv in convolutions[1:]:
        pre.append(conv(jax.nn.relu(pre[-1])))
    return tuple(pre)


@functools.lru_cache(maxsize=64)
def _jitted_input_forward(model: Explainable):
    """``(P, (Z¹, ..., Zᴷ))`` at the input X, computed once per :func:`explain` call."""

    def forward(params, graph, sparse_features):
        kernel = params["conv_0"]["kernel"]
        if sparse_features is None:
            projected = graph.nodes @ kernel
        else:  # Σ over X's non-zeros only: same P, 10-100x fewer products on Planetoid data
            rows, cols, values = sparse_features
            products = values[:, None] * kernel[cols]
            projected = jax.ops.segment_sum(products, rows, num_segments=graph.nodes.shape[0])
        return projected, _gcn_pre_activations(model, params, graph, projected)

    return jax.jit(forward)


@functools.lru_cache(maxsize=256)
def _jitted_fast_prep(method: Method, model: Explainable):
    """Reference forward, linearization and walk tables of one method, in one program.

    ``x_ref`` is ``None`` for a zero reference (then ``P̂ = 0`` and no matmul is needed).
    """

    def prepare(params, graph, at_input, x_ref, nodes, classes):
        projected, pre = at_input
        kernels = tuple(params[f"conv_{i}"]["kernel"] for i in range(model.num_layers))
        projected_ref = jnp.zeros_like(projected) if x_ref is None else x_ref @ kernels[0]
        pre_ref = _gcn_pre_activations(model, params, graph, projected_ref)
        forward = GCNForward(pre, pre_ref, projected, projected_ref)
        linear = method.linearize(forward, nodes, classes)
        return _walk_tables(linear, kernels, graph), linear.top, linear.expected

    return jax.jit(prepare)


# ------------------------------------------------------------------------------ execution

_EXECUTABLES: dict[Any, Any] = {}


def compilation_count() -> int:
    """How many chunk programs the engine has compiled in this process (for tests)."""
    return len(_EXECUTABLES)


def _signature(args) -> tuple:
    leaves, treedef = jax.tree.flatten(args)
    return treedef, tuple((leaf.shape, str(leaf.dtype), str(leaf.sharding)) for leaf in leaves)


def _one_chunk_per_device(chunk_fn: Callable) -> Callable:
    """Run ``chunk_fn`` on the one chunk a device holds in a round (``[1, ...]`` blocks).

    Indexing the block instead of ``vmap``-ping over it keeps gathers and scatters unbatched,
    which XLA:CPU runs several times faster.
    """

    def run(*args):
        *replicated, chunk = args
        outputs = chunk_fn(*replicated, jax.tree.map(lambda leaf: leaf[0], chunk))
        return jax.tree.map(lambda leaf: leaf[None], outputs)

    return run


def _run_sharded(key: Any, chunk_fn: Callable, mesh: Mesh, replicated: tuple, stacked: dict):
    """Run ``chunk_fn(*replicated, chunk)`` on each chunk of ``stacked`` (leading axis: chunks)."""
    args = (*replicated, stacked)
    cache_key = (key, _signature(args))
    compile_seconds = 0.0
    if cache_key not in _EXECUTABLES:
        specs = (*(P() for _ in replicated), P(_AXIS))
        mapped = jax.shard_map(
            _one_chunk_per_device(chunk_fn), mesh=mesh, in_specs=specs, out_specs=P(_AXIS)
        )
        start = time.perf_counter()
        _EXECUTABLES[cache_key] = jax.jit(mapped).lower(*args).compile()
        compile_seconds = time.perf_counter() - start
    outputs = _EXECUTABLES[cache_key](*args)
    if jax.process_count() > 1:  # multi-host (jax.distributed): every process gets all rows
        outputs = multihost_utils.process_allgather(outputs, tiled=True)
    return jax.tree.map(np.asarray, outputs), compile_seconds


def _put(tree, mesh: Mesh, spec: P):
    return jax.device_put(tree, NamedSharding(mesh, spec))


def _rounds(chunks: list[_Chunk], devices: int) -> list[list[_Chunk]]:
    """Group chunks of one bucket into rounds of ``devices`` (the last one padded by repeats)."""
    by_bucket: dict[tuple, list[_Chunk]] = {}
    for chunk in chunks:
        by_bucket.setdefault(chunk.bucket, []).append(chunk)
    rounds = []
    for group in by_bucket.values():
        for i in range(0, len(group), devices):
            members = group[i : i + devices]
            rounds.append(members + [members[-1]] * (devices - len(members)))
    return rounds


def _fingerprint(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(np.ascontiguousarray(part).tobytes())
            digest.update(str((part.shape, part.dtype)).encode())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()


class _Resume:
    """Finished rounds of one method on disk, so an interrupted run resumes where it stopped."""

    def __init__(self, folder: Path | None, fingerprint: str):
        self.folder = folder
        if folder is None:
            return
        manifest = folder / "manifest.json"
        if (
            manifest.is_file()
            and json.loads(manifest.read_text()).get("fingerprint") != fingerprint
        ):
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(manifest, {"fingerprint": fingerprint})

    def load(self, index: int) -> dict[str, np.ndarray] | None:
        if self.folder is None or not (self.folder / f"round_{index:06d}.npz").is_file():
            return None
        try:
            with np.load(self.folder / f"round_{index:06d}.npz", allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError):
            return None

    def store(self, index: int, outputs: dict[str, np.ndarray]) -> None:
        if self.folder is None:
            return
        buffer = io.BytesIO()
        np.savez(buffer, **outputs)
        atomic_write_bytes(self.folder / f"round_{index:06d}.npz", buffer.getvalue())

    def finish(self) -> None:
        """Drop the finished rounds (and ``parts/`` once no other method has any left)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            if not any(self.folder.parent.iterdir()):
                self.folder.parent.rmdir()


def _progress(total: int, enabled: bool | None, description: str) -> tqdm:
    """A progress bar over rounds; by default only when stderr is a terminal."""
    return tqdm(
        total=total,
        desc=description,
        unit="round",
        disable=enabled is False or (enabled is None and not sys.stderr.isatty()),
        leave=False,
    )


# ------------------------------------------------------------------------------ the API


@dataclasses.dataclass(frozen=True)
class _Problem:
    """Everything shared by the methods of one :func:`explain` call."""

    model: Explainable
    params: Params
    graph: jraph.GraphsTuple  # host arrays, normalized
    graph_device: jraph.GraphsTuple
    union: Union
    nodes: np.ndarray  # [T]
    classes: np.ndarray  # [T]
    logits: np.ndarray  # [T] logit of each target's class
    mesh: Mesh
    budget_bytes: float
    at_input: Any  # GCN only: (P, pre-activations) at X


def _uses_fast_path(method: Method, problem: _Problem, path: str, feature_level: bool) -> bool:
    if method.level == "edge" and feature_level:
        raise ValueError(f"{method.name} attributes edges: feature_level=True does not apply")
    available = problem.model.is_gcn and method.has_fast_path(problem.model.num_layers)
    if path == "fast" and (not available or feature_level):
        raise ValueError(
            f"path='fast' is not available for {method.name} {dict(method.hyperparameters)} "
            f"with K={problem.model.num_layers}"
            + (" and feature_level=True" if feature_level else "")
            + "; use path='auto' or 'general'"
        )
    if method.needs_layers and problem.model.convolutions is None and not available:
        raise ValueError(
            f"{method.name} needs a model with layers: give Explainable(convolutions=...)"
        )
    return available and path != "general" and not feature_level


def _fast_inputs(method: Method, problem: _Problem, x_ref: Array):
    params, graph = problem.params, problem.graph_device
    tables, top, expected = _jitted_fast_prep(method, problem.model)(
        params,
        graph,
        problem.at_input,
        x_ref,
        jnp.asarray(problem.nodes),
        jnp.asarray(problem.classes),
    )
    per_target = {"top": np.asarray(top), "expected": np.asarray(expected)}
    width = max(int(k.shape[1]) for k in tables.kernels)
    itemsize = np.dtype(graph.nodes.dtype).itemsize
    costs = (itemsize * (3 * width + 2), itemsize * 3 * width)
    key = ("fast", problem.model.num_layers)
    return key, _fast_chunk(problem.model.num_layers), (graph.edges, tables), per_target, costs


def _general_inputs(method: Method, problem: _Problem, x_ref: Array, feature_level: bool):
    graph = problem.graph_device
    replicated = (problem.params, graph.nodes, x_ref, graph.edges)
    features = int(graph.nodes.shape[1])
    itemsize = np.dtype(graph.nodes.dtype).itemsize
    steps = method.evaluations
    costs = (itemsize * features * (4 + 3 * steps), itemsize * 64 * (1 + steps))
    key = ("general", method, problem.model, feature_level)
    chunk_fn = _general_chunk(method, problem.model, feature_level)
    return key, chunk_fn, replicated, {"classes": problem.classes}, costs


def _unpad(union: Union, chunk: _Chunk, outputs, row: int, problem, level: str) -> dict:
    """One chunk's rows without padding; sources are node ids, or edge ids for edge methods."""
    s, t = chunk.start, chunk.stop
    offsets, sources = (
        (union.edge_offsets, union.edge_id)
        if level == "edge"
        else (union.node_offsets, union.copy_node)
    )
    first, last = offsets[s], offsets[t]
    return {
        "sizes": np.diff(offsets[s : t + 1]),
        "targets": problem.nodes[s:t],
        "classes": problem.classes[s:t],
        "logits": problem.logits[s:t],
        "sources": sources[first:last],
        "values": outputs["values"][row, : last - first],
        "expected": outputs["expected"][row, : t - s],
        "layer_totals": outputs["layer_totals"][row, : t - s],
    }


def _resume_for(out_dir, method: Method, fast: bool, problem, x_ref, chunks) -> "_Resume":
    """Where finished rounds of this exact computation are kept (nothing without ``out_dir``)."""
    if out_dir is None:
        return _Resume(None, "")
    x_ref = method.reference(problem.graph_device.nodes) if x_ref is None else x_ref
    params = jax.tree.leaves(jax.tree.map(np.asarray, problem.params))
    fingerprint = _fingerprint(
        method,
        fast,
        problem.nodes,
        problem.classes,
        problem.graph.nodes,
        problem.graph.senders,
        problem.graph.receivers,
        problem.graph.edges,
        np.asarray(x_ref),
        [c.bucket for c in chunks],
        *params,
    )
    tag = f"{method.name}-{_fingerprint(method.hyperparameters)[:12]}"
    return _Resume(Path(out_dir) / "parts" / tag, fingerprint)


def _explain_one(method, problem: _Problem, path, feature_level, out_dir, progress) -> Attributions:
    start = time.perf_counter()
    fast = _uses_fast_path(method, problem, path, feature_level)
    x_ref = None if fast and method.zero_reference else method.reference(problem.graph_device.nodes)
    if fast:
        key, chunk_fn, replicated, per_target, costs = _fast_inputs(method, problem, x_ref)
    else:
        key, chunk_fn, replicated, per_target, costs = _general_inputs(
            method, problem, x_ref, feature_level
        )
    devices = problem.mesh.devices.size
    chunks = _plan(problem.union, *costs, problem.budget_bytes, devices)
    rounds = _rounds(chunks, devices)
    replicated = _put(replicated, problem.mesh, P())
    resume = _resume_for(out_dir, method, fast, problem, x_ref, chunks)
    parts, compile_seconds = {}, 0.0
    with _progress(len(rounds), progress, method.name) as bar:
        for index, members in enumerate(rounds):
            outputs = resume.load(index)
            if outputs is None:
                targets = _stack([_chunk_targets(chunk, per_target) for chunk in members])
                stacked = {
                    **_round_structure(problem.union, members, problem.mesh),
                    **_put(targets, problem.mesh, P(_AXIS)),
                }
                outputs, seconds = _run_sharded(key, chunk_fn, problem.mesh, replicated, stacked)
                compile_seconds += seconds
                resume.store(index, outputs)
            for row, chunk in enumerate(members):
                parts.setdefault(
                    chunk.start, _unpad(problem.union, chunk, outputs, row, problem, method.level)
                )
            bar.update(1)
    total = time.perf_counter() - start
    result = concatenate(method.name, [parts[s] for s in sorted(parts)], {}, level=method.level)
    delta = np.abs(result.delta[np.isfinite(result.delta)])
    stats = {
        "method": method.name,
        "hyperparameters": {k: v for k, v in method.hyperparameters},
        "path": "fast" if fast else "general",
        "targets": result.num_targets,
        "pairs": int(result.sources.shape[0]),
        "seconds": round(total, 4),
        "compile_seconds": round(compile_seconds, 4),
        "chunks": len(chunks),
        "rounds": len(rounds),
        "devices": devices,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "max_abs_delta": float(delta.max()) if delta.size else None,
        "mean_abs_delta": float(delta.mean()) if delta.size else None,
    }
    resume.finish()
    return dataclasses.replace(result, stats=stats)


def explain(
    model: Any,
    params: Params,
    data: Any,
    *,
    methods: Sequence[str | Method] = ("nam",),
    targets: Any = "test",
    classes: Any = "predicted",
    path: str = "auto",
    memory_budget_mb: float = 1024.0,
    feature_level: bool = False,
    out_dir: str | Path | None = None,
    progress: bool | None = None,
    devices: Sequence[jax.Device] | None = None,
) -> dict[str, Attributions]:
    """Attributions of every target for each method, in one jit-compiled, sharded run per method.

    Args:
      model: a :class:`~jgattr.models.GCN` or an :class:`Explainable`.
      params: the model's parameters.
      data: a :class:`~jgattr.data.Dataset`, or a ``jraph.GraphsTuple`` (normalized by
        :func:`~jgattr.models.gcn_normalize` when its ``edges`` is ``None``).
      methods: names (``nam``, ``ig``, ``sig-lid-ig``, … see :data:`METHODS`) or
        :class:`Method` objects from the factories.
      targets: ``"test"``, ``"val"``, ``"train"``, ``"all"`` or an int array of node ids ``[T]``.
      classes: ``"predicted"``, ``"true"``, ``"all"`` (one target per class), an int, or ``[T]``.
      path: ``"auto"`` (the exact GCN fast path where it exists), ``"fast"`` or ``"general"``.
      memory_budget_mb: device memory one chunk may use; chunks are planned to fit.
      feature_level: node x feature relevance ``[nnz, F]`` (general path; small target sets).
      out_dir: if given, finished rounds are kept under ``out_dir/parts`` so that an interrupted
        run resumes where it stopped.
      progress: show a progress bar (default: only on a terminal).
      devices: devices to shard targets over (default: all of ``jax.devices()``).

    Returns:
      ``{method name: Attributions}``.

    Example:
      >>> results = explain(model, params, dataset, methods=["nam", "ig", "sig-lid-ig"])
      >>> sources, values = results["nam"].for_target(0)
    """
    if path not in PATHS:
        raise ValueError(f"path must be one of {list(PATHS)}, got {path!r}")
    if memory_budget_mb <= 0:
        raise ValueError(f"memory_budget_mb must be > 0, got {memory_budget_mb}")
    resolved = [get_method(m) for m in methods]
    names = [m.name for m in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"methods must be distinct, got {names}")
    explainable = as_explainable(model)
    prepared = _prepared(data)
    graph, graph_device = prepared.graph, prepared.on_device
    at_input = None
    if explainable.is_gcn:
        at_input = _jitted_input_forward(explainable)(
            params, graph_device, prepared.sparse_features
        )
        all_logits = np.asarray(at_input[1][-1])
    else:
        all_logits = np.asarray(jax.jit(explainable.apply)(params, graph_device))
    nodes = _resolve_targets(targets, graph.nodes.shape[0], prepared.masks)
    nodes, target_classes = _resolve_classes(
        classes, nodes, all_logits.shape[1], all_logits.argmax(axis=1), prepared.labels
    )
    prep_start = time.perf_counter()
    union = prepared.union(nodes, explainable.num_layers)
    prep_seconds = time.perf_counter() - prep_start
    problem = _Problem(
        explainable,
        params,
        graph,
        graph_device,
        union,
        nodes,
        target_classes,
        all_logits[nodes, target_classes],
        Mesh(np.array(devices or jax.devices()), (_AXIS,)),
        memory_budget_mb * 2**20,
        at_input,
    )
    results = {}
    for method in resolved:
        result = _explain_one(method, problem, path, feature_level, out_dir, progress)
        result.stats["prep_seconds"] = round(prep_seconds, 4)
        results[method.name] = result
    return results
