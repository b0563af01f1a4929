"""The attribution engine: every target of a graph explained in one jit-compiled, sharded run.

The data flow of one :func:`explain` call (docs/architecture.md):

1. :mod:`._prepare`: the graph as the model prepares it, targets and classes resolved;
2. :mod:`._forward`: ``P = X W``, the logits (and walk-sum pre-activations) at X, once;
3. per method, a :class:`ChunkProgram`: :mod:`._walks` (exact walk sums, GCN) or
   :mod:`._general` (autodiff of any model on a chunk's union of computation graphs);
4. :mod:`._plan`: chunks under the memory budget, padded to bucketed shapes, grouped in rounds;
5. :mod:`._execute`: one chunk per device per round under ``shard_map``, compiled once per
   shape; :mod:`._resume` keeps finished rounds on disk when ``out_dir`` is given;
6. :mod:`._results`: the rounds' rows joined into a sparse :class:`Attributions`.
"""

import dataclasses
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from jgattr._types import Params
from jgattr.attribution._execute import Progress, mesh_of, put, round_structure, run_sharded
from jgattr.attribution._forward import InputForward, input_forward, reference_inputs
from jgattr.attribution._general import general_chunk, uses_projection
from jgattr.attribution._method_types import Method
from jgattr.attribution._methods import get_method
from jgattr.attribution._plan import Chunk, chunk_targets, group_rounds, plan_chunks, stack
from jgattr.attribution._prepare import prepare_data, resolve_classes, resolve_targets
from jgattr.attribution._results import Attributions, concatenate
from jgattr.attribution._resume import Resume, fingerprint
from jgattr.attribution._subgraphs import Union
from jgattr.attribution._walks import walk_chunk, walk_prep
from jgattr.models import Explainable, as_explainable

PATHS = ("auto", "fast", "general")


@dataclasses.dataclass(frozen=True)
class _Problem:
    """Everything shared by the methods of one :func:`explain` call."""

    model: Explainable
    params: Params
    prepared: Any  # PreparedGraph
    at_input: InputForward
    union: Union
    nodes: np.ndarray  # [T]
    classes: np.ndarray  # [T]
    logits: np.ndarray  # [T] logit of each target's class
    mesh: Mesh
    budget_bytes: float


class ChunkProgram(NamedTuple):
    """How one method runs on a chunk, and what it needs.

    Attributes:
      key: identity of the compiled program (with the input shapes).
      run: ``(*replicated, chunk) -> {"values", "expected", "layer_totals"}``.
      replicated: inputs every device gets whole.
      per_target: ``{name: [T, ...]}`` inputs split with the targets.
      bytes_per_copy: estimated device memory per union copy (planning).
      bytes_per_edge: the same per union edge.
    """

    key: Any
    run: Callable
    replicated: tuple
    per_target: dict[str, np.ndarray]
    bytes_per_copy: float
    bytes_per_edge: float


def _uses_walks(method: Method, problem: _Problem, path: str, feature_level: bool) -> bool:
    model = problem.model
    if method.level == "edge" and feature_level:
        raise ValueError(f"{method.name} attributes edges: feature_level=True does not apply")
    available = model.walk_sum is not None and method.has_fast_path(model.num_layers)
    if path == "fast" and (not available or feature_level):
        raise ValueError(
            f"path='fast' is not available for {method.name} {dict(method.hyperparameters)} "
            f"on {model.name}"
            + (" with feature_level=True" if feature_level else "")
            + "; the exact walk-sum path needs a model with the walk_sum hook (GCN)"
            + (f" and K <= {method.fast_max_layers}" if method.fast_max_layers else "")
            + ". Use path='auto' or 'general'"
        )
    use = available and path != "general" and not feature_level
    if method.walks_only and not use:
        raise ValueError(
            f"{method.name} with relu_average='exact' needs the exact walk-sum path, which "
            + (f"model {model.name!r} does not have" if not available else "was turned off")
            + ": pass relu_average='n_sample' (the paper's t = k/n rule) for the general path"
        )
    if method.needs_layers and model.layers is None and not use:
        raise ValueError(
            f"{method.name} needs the 'layers' hook, which model {model.name!r} does not "
            "provide: give Explainable(layers=...) (its K layers h -> next h)"
        )
    return use


def _walk_program(method: Method, problem: _Problem, x_ref) -> ChunkProgram:
    graph = problem.prepared.on_device
    tables, top, expected = walk_prep(method, problem.model)(
        problem.params,
        graph,
        problem.at_input.projected,
        problem.at_input.pre,
        x_ref,
        jnp.asarray(problem.nodes),
        jnp.asarray(problem.classes),
    )
    width = max(int(k.shape[1]) for k in tables.kernels)
    itemsize = np.dtype(graph.nodes.dtype).itemsize
    return ChunkProgram(
        key=("walks", problem.model.num_layers),
        run=walk_chunk(problem.model.num_layers),
        replicated=(graph.edges, tables),
        per_target={"top": np.asarray(top), "expected": np.asarray(expected)},
        bytes_per_copy=itemsize * (3 * width + 2),
        bytes_per_edge=itemsize * 3 * width,
    )


def _general_program(method: Method, problem: _Problem, x_ref, feature_level: bool):
    model, graph = problem.model, problem.prepared.on_device
    projected = uses_projection(model, feature_level) and not method.needs_features
    inputs = problem.at_input.projected if projected else graph.nodes
    inputs_ref = reference_inputs(model, problem.params, x_ref, projected)
    width = int(inputs.shape[1])
    itemsize = np.dtype(graph.nodes.dtype).itemsize
    # forward and backward activations of a few layers; path integrals scan their points, so
    # memory does not grow with n_steps
    per_copy = 12 * width
    if projected and method.needs_input_gradient:
        per_copy += 2 * int(graph.nodes.shape[1])
    return ChunkProgram(
        key=("general", method, model, projected, feature_level),
        run=general_chunk(method, model, projected, feature_level),
        replicated=(problem.params, inputs, inputs_ref, graph.edges),
        per_target={"classes": problem.classes},
        bytes_per_copy=itemsize * per_copy,
        bytes_per_edge=itemsize * 4 * max(width, 64),
    )


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


def _resume_for(out_dir, method: Method, walks: bool, problem, x_ref, chunks, rounds) -> Resume:
    """Where finished rounds of this exact computation are kept (nothing without ``out_dir``)."""
    if out_dir is None:
        return Resume(None, "")
    graph = problem.prepared.graph
    x_ref = method.reference(problem.prepared.on_device.nodes) if x_ref is None else x_ref
    params = jax.tree.leaves(jax.tree.map(np.asarray, problem.params))
    key = fingerprint(
        method,
        walks,
        problem.nodes,
        problem.classes,
        graph.nodes,
        graph.senders,
        graph.receivers,
        graph.edges,
        np.asarray(x_ref),
        [c.bucket for c in chunks],
        *params,
    )
    tag = f"{method.name}-{fingerprint(method.hyperparameters)[:12]}"
    return Resume(Path(out_dir) / "parts" / tag, key, len(rounds))


def _run_rounds(program: ChunkProgram, problem: _Problem, rounds, resume, progress, name):
    """Every round's outputs (computed or resumed); returns (parts by chunk start, compiling)."""
    mesh = problem.mesh
    replicated = put(program.replicated, mesh, P())
    parts, compile_seconds, compiled = {}, 0.0, 0
    with Progress(len(rounds), progress, name) as bar:
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


def _explain_one(method, problem: _Problem, path, feature_level, out_dir, progress) -> Attributions:
    start = time.perf_counter()
    walks = _uses_walks(method, problem, path, feature_level)
    x_ref = None
    if not (walks and method.zero_reference):
        x_ref = method.reference(problem.prepared.on_device.nodes)
    if walks:
        program = _walk_program(method, problem, x_ref)
    else:
        program = _general_program(method, problem, x_ref, feature_level)
    devices = problem.mesh.devices.size
    chunks = plan_chunks(
        problem.union,
        program.bytes_per_copy,
        program.bytes_per_edge,
        problem.budget_bytes,
        devices,
    )
    rounds = group_rounds(chunks, devices)
    resume = _resume_for(out_dir, method, walks, problem, x_ref, chunks, rounds)
    parts, compile_seconds, compiled = _run_rounds(
        program, problem, rounds, resume, progress, method.name
    )
    rows = [
        _unpad(problem.union, chunk, outputs, row, problem, method.level)
        for chunk, outputs, row in (parts[s] for s in sorted(parts))
    ]
    result = concatenate(method.name, rows, {}, level=method.level)
    stats = _stats(method, result, walks, time.perf_counter() - start, len(chunks), len(rounds))
    stats |= {
        "compile_seconds": round(compile_seconds, 4),
        "programs_compiled": compiled,
        "resumed_rounds": resume.resumed,
        "devices": devices,
    }
    resume.finish()
    return dataclasses.replace(result, stats=stats)


def _stats(method, result: Attributions, walks: bool, seconds, chunks, rounds) -> dict:
    delta = np.abs(result.delta[np.isfinite(result.delta)])
    return {
        "method": method.name,
        "hyperparameters": {k: v for k, v in method.hyperparameters},
        "path": "fast" if walks else "general",
        "targets": result.num_targets,
        "pairs": int(result.sources.shape[0]),
        "seconds": round(seconds, 4),
        "chunks": chunks,
        "rounds": rounds,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "max_abs_delta": float(delta.max()) if delta.size else None,
        "mean_abs_delta": float(delta.mean()) if delta.size else None,
    }


def _resolve_methods(methods: Sequence[str | Method]) -> list[Method]:
    if isinstance(methods, str | Method):
        methods = [methods]
    resolved = [get_method(m) for m in methods]
    if not resolved:
        raise ValueError("methods is empty: name at least one method, e.g. ['nam', 'ig']")
    names = [m.name for m in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"methods must be distinct, got {names}")
    return resolved


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
      model: a built-in model (:class:`~jgattr.models.GCN`, GAT, GIN, GraphSAGE) or an
        :class:`~jgattr.models.Explainable`.
      params: the model's parameters.
      data: a :class:`~jgattr.data.Dataset`, or a ``jraph.GraphsTuple`` (prepared by the model
        when its ``edges`` is ``None``, else taken as prepared).
      methods: names (``nam``, ``ig``, ``sig-lid-ig``, … see :data:`METHODS`) or
        :class:`Method` objects from the factories.
      targets: ``"test"``, ``"val"``, ``"train"``, ``"all"`` or an int array of node ids ``[T]``.
      classes: ``"predicted"``, ``"true"``, ``"all"`` (one target per class), an int, or ``[T]``.
      path: ``"auto"`` (the exact walk-sum path where it exists), ``"fast"`` or ``"general"``.
      memory_budget_mb: device memory one chunk may use; chunks are planned to fit.
      feature_level: node x feature relevance ``[nnz, F]`` (general path; small target sets).
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
    if path not in PATHS:
        raise ValueError(f"path must be one of {list(PATHS)}, got {path!r}")
    if not memory_budget_mb > 0:
        raise ValueError(f"memory_budget_mb must be > 0, got {memory_budget_mb}")
    resolved = _resolve_methods(methods)
    explainable = as_explainable(model)
    graph = prepare_data(data, explainable)
    at_input = input_forward(explainable)(params, graph.on_device, graph.sparse_features)
    all_logits = np.asarray(at_input.logits)
    nodes = resolve_targets(targets, graph.num_nodes, graph.masks)
    nodes, target_classes = resolve_classes(
        classes, nodes, all_logits.shape[1], all_logits.argmax(axis=1), graph.labels
    )
    prep_start = time.perf_counter()
    union = graph.union(nodes, explainable.num_layers)
    prep_seconds = time.perf_counter() - prep_start
    problem = _Problem(
        explainable,
        params,
        graph,
        at_input,
        union,
        nodes,
        target_classes,
        all_logits[nodes, target_classes],
        mesh_of(devices or jax.devices()),
        memory_budget_mb * 2**20,
    )
    results = {}
    for method in resolved:
        result = _explain_one(method, problem, path, feature_level, out_dir, progress)
        result.stats["prep_seconds"] = round(prep_seconds, 4)
        results[method.name] = result
    return results
