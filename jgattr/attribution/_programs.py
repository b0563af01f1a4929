"""What each method runs on a chunk: the walk-sum or the general-path :class:`ChunkProgram`.

The engine builds one program per method and call (whole-graph tables, replicated inputs,
per-target inputs for all targets); blocks and chunks then slice its per-target inputs.
"""

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from jgattr._types import Params
from jgattr.attribution._forward import InputForward, reference_inputs
from jgattr.attribution._general import general_chunk, layer_hops, uses_projection
from jgattr.attribution._method_types import Method
from jgattr.attribution._subgraphs import Union
from jgattr.attribution._walks import walk_chunk, walk_prep
from jgattr.models import Explainable


@dataclasses.dataclass(frozen=True)
class Problem:
    """Everything shared by the methods of one :func:`explain` call."""

    model: Explainable
    params: Params
    prepared: Any  # PreparedGraph
    at_input: InputForward
    union: Union | None  # the current block's union
    nodes: np.ndarray  # [T]
    classes: np.ndarray  # [T]
    logits: np.ndarray  # [T] logit of each target's class
    mesh: Mesh
    budget_bytes: float
    cache_unions: bool = False  # every block's union fits the host budget: keep them cached


class ChunkProgram(NamedTuple):
    """How one method runs on a chunk, and what it needs.

    Attributes:
      key: identity of the compiled program (with the input shapes).
      run: ``(*replicated, chunk) -> {"values", "expected", "layer_totals"}``.
      replicated: inputs every device gets whole.
      per_target: ``{name: [T, ...]}`` inputs split with the targets.
      bytes_per_copy: estimated device memory per union copy (planning).
      bytes_per_edge: the same per union edge.
      hops: K when each chunk carries the edges of its layers ``2..K`` (``_plan.layer_edges``);
        0 otherwise.
    """

    key: Any
    run: Callable
    replicated: tuple
    per_target: dict[str, np.ndarray]
    bytes_per_copy: float
    bytes_per_edge: float
    hops: int = 0


def uses_walks(method: Method, problem: Problem, path: str, feature_level: bool) -> bool:
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


def walk_program(method: Method, problem: Problem, x_ref) -> ChunkProgram:
    graph = problem.prepared.input_graph(problem.model)
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


def general_program(method: Method, problem: Problem, x_ref, feature_level: bool):
    model, prepared = problem.model, problem.prepared
    projected = uses_projection(model, feature_level or method.needs_features)
    graph = prepared.input_graph(model) if projected else prepared.on_device
    inputs = problem.at_input.projected if projected else graph.nodes
    inputs_ref = reference_inputs(model, problem.params, x_ref, projected)
    width = int(inputs.shape[1])
    itemsize = np.dtype(graph.nodes.dtype).itemsize
    # forward and backward activations of a few layers; path integrals scan their points, so
    # memory does not grow with n_steps
    per_copy = 12 * width
    if projected and method.needs_input_gradient:
        per_copy += 2 * int(prepared.graph.nodes.shape[1])
    row_nnz = None
    if method.reads_nonzeros and not projected:
        row_nnz = _row_nnz_bound(model, problem.prepared)
    if row_nnz is not None:  # X's rows once, then [nnz, D] per copy: the kernel rows and masks
        hidden = int(problem.at_input.projected.shape[1])
        per_copy = 3 * width + 8 * row_nnz * hidden + 12 * hidden
    batch = step_batch(method, problem, itemsize * per_copy)
    per_copy *= batch
    return ChunkProgram(
        key=("general", method, model, projected, feature_level, row_nnz, batch),
        run=general_chunk(method, model, projected, feature_level, row_nnz, batch),
        replicated=(problem.params, inputs, inputs_ref, graph.edges),
        per_target={"classes": problem.classes},
        bytes_per_copy=itemsize * per_copy,
        bytes_per_edge=itemsize * 4 * max(width, 64),
        hops=layer_hops(model),
    )


STEP_BATCH = 16  # most path-integral points in one pass (accelerators)
MIN_CHUNK_COPIES = 2**15  # a step batch leaves room in the budget for chunks this large


def step_batch(method: Method, problem: Problem, bytes_per_copy: float) -> int:
    """Points of a path integral per pass (:attr:`UnionModel.step_batch`) for ``method``.

    1 on CPUs: XLA:CPU runs the gathers and scatters of a ``vmap``-ped pass 2-4x slower per
    point than one point at a time (GAT, GIN on Cora: docs/math.md §6), and
    its passes are already wide enough to keep the cores busy. On accelerators, the method's
    ``n_steps`` up to :data:`STEP_BATCH`, as far as the memory budget still holds chunks of
    :data:`MIN_CHUNK_COPIES` copies at that batch.
    """
    steps = dict(method.hyperparameters).get("n_steps")
    if problem.mesh.devices.flat[0].platform == "cpu" or not isinstance(steps, int):
        return 1
    room = int(problem.budget_bytes // (bytes_per_copy * MIN_CHUNK_COPIES))
    return max(1, min(steps, STEP_BATCH, room))


def _row_nnz_bound(model: Explainable, prepared) -> int | None:
    """The most non-zeros of one row of sparse X, rounded up to a power of two (a few compiled
    shapes) and at most F; ``None`` when X is dense or the model does not read it as ``X W``."""
    sparse = prepared.sparse_features
    if model.input_kernel is None or sparse is None:
        return None
    counts = np.bincount(np.asarray(sparse.rows), minlength=1)
    width = int(prepared.graph.nodes.shape[1])
    return min(width, 1 << max(0, int(counts.max()) - 1).bit_length())
