"""The attribution engine: every target of a graph explained in one jit-compiled, sharded run.

The data flow of one :func:`explain` call (docs/architecture.md):

1. :mod:`._prepare`: the graph as the model prepares it, targets and classes resolved;
2. :mod:`._forward`: ``P = X W``, the logits (and walk-sum pre-activations) at X, once;
3. per method, a :class:`ChunkProgram` (:mod:`._programs`): :mod:`._walks` (exact walk sums,
   GCN) or :mod:`._general` (autodiff of any model on a chunk's union of computation graphs);
4. :mod:`._blocks`: the targets in blocks whose host-side unions fit ``host_memory_mb``; per
   block, its union (:mod:`._subgraphs`), then for every method:
5. :mod:`._plan`: chunks under the memory budget, padded to bucketed shapes, grouped in rounds;
6. :mod:`._execute`: one chunk per device per round under ``shard_map``, compiled once per
   shape; :mod:`._resume` keeps finished rounds on disk when ``out_dir`` is given;
7. :mod:`._results`: the rounds' rows joined into a sparse :class:`Attributions` per block, then
   joined (:func:`explain`) or written as a shard (:func:`explain_to_folder`, :mod:`._shards`).
"""

import dataclasses
import functools
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import numpy as np
from jax.sharding import PartitionSpec as P

from jgattr._names import PATHS
from jgattr._types import Params
from jgattr._xla_cache import enable_persistent_cache
from jgattr.attribution._blocks import pipeline_blocks, target_blocks, target_walks
from jgattr.attribution._completeness import warn_incomplete
from jgattr.attribution._estimate import guard_resources
from jgattr.attribution._execute import Progress, mesh_of, put, round_structure, run_sharded
from jgattr.attribution._forward import input_forward
from jgattr.attribution._method_types import Method
from jgattr.attribution._methods import resolve_methods
from jgattr.attribution._plan import Chunk, chunk_targets, group_rounds, plan_chunks, stack
from jgattr.attribution._prepare import prepare_data, resolve_classes, resolve_targets
from jgattr.attribution._programs import (
    ChunkProgram,
    Problem,
    general_program,
    uses_walks,
    walk_program,
)
from jgattr.attribution._results import Attributions, concatenate, concatenate_results
from jgattr.attribution._resume import Resume, discard_parts, fingerprint, parts_prefix
from jgattr.attribution._run_stats import method_stats
from jgattr.attribution._subgraphs import Union, computation_graphs, graph_unions
from jgattr.models import as_explainable, check_params


class _MethodRun(NamedTuple):
    """One method's program for a whole call, its replicated inputs already on the devices."""

    method: Method
    walks: bool
    x_ref: Any
    program: ChunkProgram
    replicated: Any


def _unpad(union: Union, chunk: Chunk, outputs, row: int, problem, level: str) -> dict:
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


def _resume_for(out_dir, run: _MethodRun, problem, chunks, rounds, block: tuple[int, int]):
    """Where finished rounds of this exact computation are kept (nothing without ``out_dir``);
    ``block``: (index, number of blocks)."""
    if out_dir is None:
        return Resume(None, "")
    method, graph, x_ref = run.method, problem.prepared.graph, run.x_ref
    x_ref = method.reference(problem.prepared.features_on_device) if x_ref is None else x_ref
    params = jax.tree.leaves(jax.tree.map(np.asarray, problem.params))
    key = fingerprint(
        method, run.walks, problem.nodes, problem.classes, graph.nodes, graph.senders,
        graph.receivers, graph.edges, jax.tree.map(np.asarray, x_ref), [c.bucket for c in chunks],
        *params,
    )  # fmt: skip
    folder = Path(out_dir) / "parts" / f"{parts_prefix(method)}{block[0]:06d}"
    return Resume(folder, key, len(rounds), block=block)


def _run_rounds(program: ChunkProgram, replicated, problem: Problem, rounds, resume, bar):
    """Every round's outputs (computed or resumed); returns (parts by chunk start, compiling)."""
    mesh = problem.mesh
    parts, compile_seconds, compiled = {}, 0.0, 0
    for index, members in enumerate(rounds):
        outputs = resume.load(index)
        if outputs is None:
            targets = stack([chunk_targets(chunk, program.per_target) for chunk in members])
            stacked = {
                **round_structure(problem.union, members, mesh),
                **put(targets, mesh, P("targets")),
            }
            outputs, seconds = run_sharded(program.key, program.run, mesh, replicated, stacked)
            compile_seconds += seconds
            compiled += seconds > 0
            resume.store(index, outputs)
        for row, chunk in enumerate(members):
            parts.setdefault(chunk.start, (chunk, outputs, row))
        bar.update()
    return parts, compile_seconds, compiled


def _method_runs(resolved, problem: Problem, path, feature_level) -> list[_MethodRun]:
    runs = []
    for method in resolved:
        walks = uses_walks(method, problem, path, feature_level)
        x_ref = None
        if not (walks and method.zero_reference):
            x_ref = method.reference(problem.prepared.features_on_device)
        if walks:
            program = walk_program(method, problem, x_ref)
        else:
            program = general_program(method, problem, x_ref, feature_level)
        replicated = put(program.replicated, problem.mesh, P())
        runs.append(_MethodRun(method, walks, x_ref, program, replicated))
    return runs


def _run_block(run: _MethodRun, block: Problem, index, out_dir, progress, count) -> Attributions:
    """One method on one block ``index`` = (block, blocks): planned, run (or resumed), unpadded;
    ``count``: ``[rounds done, planned]`` of the method's earlier blocks, updated (progress)."""
    start = time.perf_counter()
    devices = block.mesh.devices.size
    program = run.program
    chunks = plan_chunks(
        block.union,
        program.bytes_per_copy,
        program.bytes_per_edge,
        block.budget_bytes,
        devices,
        program.hops,
    )
    rounds = group_rounds(chunks, devices)
    resume = _resume_for(out_dir, run, block, chunks, rounds, index)
    name = run.method.name
    label = name if index[1] == 1 else f"{name} (block {index[0] + 1} of {index[1]})"
    count[1] += len(rounds)
    with Progress(count[1], progress, label, done=count[0]) as bar:
        parts, compile_seconds, compiled = _run_rounds(
            program, run.replicated, block, rounds, resume, bar
        )
    count[0] += len(rounds)
    rows = [
        _unpad(block.union, chunk, outputs, row, block, run.method.level)
        for chunk, outputs, row in (parts[s] for s in sorted(parts))
    ]
    level, target_level = run.method.level, block.prepared.level
    result = concatenate(name, rows, {}, level=level, target_level=target_level)
    stats = {
        "seconds": time.perf_counter() - start,
        "chunks": len(chunks),
        "rounds": len(rounds),
        "compile_seconds": compile_seconds,
        "programs_compiled": compiled,
        "resumed_rounds": resume.resumed,
    }
    return dataclasses.replace(result, stats=stats)


def _block_view(problem: Problem, runs, union: Union, start: int, stop: int):
    """The problem restricted to targets ``start:stop`` (and each program's per-target inputs)."""
    view = dataclasses.replace(
        problem,
        union=union,
        nodes=problem.nodes[start:stop],
        classes=problem.classes[start:stop],
        logits=problem.logits[start:stop],
    )
    sliced = [
        run._replace(
            program=run.program._replace(
                per_target={k: v[start:stop] for k, v in run.program.per_target.items()}
            )
        )
        for run in runs
    ]
    return view, sliced


def _block_union(problem: Problem, start: int, stop: int, cached: bool) -> tuple[Union, float]:
    """The union of targets ``start:stop`` and its seconds (``cached``: in the union cache)."""
    began, prepared, nodes = time.perf_counter(), problem.prepared, problem.nodes[start:stop]
    if cached:
        union = prepared.union(nodes, problem.model.num_hops)
    elif prepared.level == "graph":
        union = graph_unions(prepared.in_edges, prepared.node_offsets, nodes)
    else:
        union = computation_graphs(prepared.in_edges, nodes, problem.model.num_hops)
    return union, time.perf_counter() - began


def block_results(
    problem: Problem, runs, blocks, out_dir, progress, skip=None, cache: bool = True
) -> Iterator[tuple[int, dict[str, Attributions], float]]:
    """Per block (except those ``skip(index)`` names): its index, every method's result, and
    the seconds spent building its union.

    The first block's union is built on a host thread while ``runs()`` (the methods' programs:
    whole-graph device work) is made, and each next block's while the current one runs (numpy
    releases the GIL), so at most two unions are alive; when all of them fit the host budget
    (``problem.cache_unions``) they are kept in the dataset's union cache, if ``cache``.
    """
    todo = [i for i in range(len(blocks)) if skip is None or not skip(i)]
    cached, counts = cache and problem.cache_unions, defaultdict(lambda: [0, 0])
    with ThreadPoolExecutor(max_workers=1) as pool:
        build = lambda i: pool.submit(_block_union, problem, *blocks[i], cached)
        pending = build(todo[0]) if todo else None
        made = runs()
        for position, index in enumerate(todo):
            union, prep_seconds = pending.result()
            pending = build(todo[position + 1]) if position + 1 < len(todo) else None
            view, sliced = _block_view(problem, made, union, *blocks[index])
            results = {
                run.method.name: _run_block(
                    run, view, (index, len(blocks)), out_dir, progress, counts[run.method.name]
                )
                for run in sliced
            }
            del union, view
            yield index, results, prep_seconds


def setup(
    model, params, data, *, methods, targets, classes, path, memory_budget_mb, host_memory_mb,
    feature_level, devices, limits: dict | None = None,
) -> tuple[Problem, Callable[[], list[_MethodRun]], list[tuple[int, int]]]:  # fmt: skip
    """Everything before the blocks run: the problem, the blocks, and each method's program
    (made on the first call of the returned function, then kept: :func:`block_results` makes
    them while the first block's union is built). ``limits``: the keywords of
    :func:`guard_resources`; the estimate is checked before any union is built."""
    enable_persistent_cache()
    if path not in PATHS:
        raise ValueError(f"path must be one of {list(PATHS)}, got {path!r}")
    for name, value in (("memory_budget_mb", memory_budget_mb), ("host_memory_mb", host_memory_mb)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")
    resolved = resolve_methods(methods)
    explainable = as_explainable(model)
    graph = prepare_data(data, explainable)
    if isinstance(model, nn.Module):  # a named error, not a KeyError from inside Flax
        check_params(model, params, int(np.shape(getattr(data, "graph", data).nodes)[-1]))
    at_input = input_forward(explainable)(
        params, graph.input_graph(explainable), graph.sparse_features
    )
    all_logits = np.asarray(at_input.logits)
    nodes = resolve_targets(targets, graph.num_targets, graph.masks, graph.level)
    nodes, target_classes = resolve_classes(
        classes, nodes, all_logits.shape[1], all_logits.argmax(axis=1), graph.labels
    )
    estimate = target_walks(graph, nodes, explainable.num_hops)
    devices = devices or jax.devices()
    guard_resources(
        estimate, resolved, graph.graph, params, host_memory_mb=host_memory_mb,
        memory_budget_mb=memory_budget_mb, devices=devices, limits=limits,
    )  # fmt: skip
    # two blocks' unions are alive at once (see block_results)
    blocks = target_blocks(estimate, host_memory_mb * 2**20 / 2)
    fits = len(blocks) == 1
    problem = Problem(
        explainable,
        params,
        graph,
        at_input,
        None,
        nodes,
        target_classes,
        all_logits[nodes, target_classes],
        mesh_of(devices),
        memory_budget_mb * 2**20,
        cache_unions=fits,
    )
    runs = functools.cache(lambda: _method_runs(resolved, problem, path, feature_level))
    return problem, runs, pipeline_blocks(estimate) if fits else blocks


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
    host_memory_mb: float = 2048.0,
    feature_level: bool = False,
    max_host_mb: float | None = None,
    out_dir: str | Path | None = None,
    progress: bool | None = None,
    devices: Sequence[jax.Device] | None = None,
) -> dict[str, Attributions]:
    """Attributions of every target for each method, in one jit-compiled, sharded run per method.

    Args:
      model: a built-in model (:class:`~jgattr.models.GCN`, GAT, GIN, GraphSAGE) or an
        :class:`~jgattr.models.Explainable`.
      params: the model's parameters.
      data: a :class:`~jgattr.data.Dataset`, a :class:`~jgattr.data.GraphDataset` (with a graph
        classifier: targets are graphs, each explained over its own nodes), or a
        ``jraph.GraphsTuple`` (prepared by the model when its ``edges`` is ``None``, else taken
        as prepared).
      methods: names (``nam``, ``ig``, ``sig-lid-ig``, … see :data:`METHODS`) or
        :class:`Method` objects from the factories.
      targets: ``"test"``, ``"val"``, ``"train"``, ``"all"`` or an int array of node ids ``[T]``
        (graph ids for a graph classifier).
      classes: ``"predicted"``, ``"true"``, ``"all"`` (one target per class), an int, or ``[T]``.
      path: ``"auto"`` (the exact walk-sum path where it exists), ``"fast"`` or ``"general"``.
      memory_budget_mb: device memory one chunk may use; chunks are planned to fit.
      host_memory_mb: host memory one block of targets may use while its computation graphs
        are built and run; targets are prepared block by block under it (the results are
        still joined; :func:`explain_to_folder` writes each block to disk instead).
      feature_level: node x feature relevance ``[nnz, F]`` (general path; small target sets).
      max_host_mb: the peak host memory the call may need, estimated before it starts
        (:mod:`._estimate`: the graph, the unions, every method's joined results); ``None``:
        the memory available on the machine. Beyond it: :class:`ResourceError`.
      out_dir: if given, finished rounds are kept under ``out_dir/parts`` so that an interrupted
        run resumes where it stopped.
      progress: report progress (``True``: a bar on a terminal, plain lines elsewhere; ``None``:
        a bar on a terminal only; ``False``: never).
      devices: devices to shard targets over (default: all of ``jax.devices()``).

    Returns:
      ``{method name: Attributions}``.

    Example:
      >>> results = explain(model, params, dataset, methods=["nam", "ig", "sig-lid-ig"])
      >>> sources, values = results["nam"].for_target(0)
    """
    problem, runs, blocks = setup(
        model, params, data, methods=methods, targets=targets, classes=classes, path=path,
        memory_budget_mb=memory_budget_mb, host_memory_mb=host_memory_mb,
        feature_level=feature_level, devices=devices,
        limits={"max_host_mb": max_host_mb, "progress": progress},
    )  # fmt: skip
    parts: dict[str, list] = {}
    prep = 0.0
    for _, results, seconds in block_results(problem, runs, blocks, out_dir, progress):
        prep += seconds
        for name, result in results.items():
            parts.setdefault(name, []).append(result)
    joined = {}
    for run in runs():
        name, blocks_done = run.method.name, parts[run.method.name]
        result = concatenate_results(blocks_done)
        if out_dir is not None:  # every block done: its kept rounds are no longer needed
            discard_parts(Path(out_dir) / "parts", parts_prefix(run.method))
        stats = method_stats(
            run.method, run.walks, result, [r.stats for r in blocks_done], prep, problem.mesh.size
        )
        joined[name] = dataclasses.replace(result, stats=stats)
        warn_incomplete(name, stats)
    return joined
