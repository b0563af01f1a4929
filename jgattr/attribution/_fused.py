"""Methods fused: one chunk program for several methods on the same targets.

When several methods run on one call's targets, the engine builds one :class:`ChunkProgram` per
group of methods whose chunks carry the same structure (the same ``hops``), so that each chunk's
union is gathered once for all of them: the members' replicated inputs are passed once where
they are the same array (parameters, ``P = X W``, edge weights), and XLA's common-subexpression
elimination shares the identical computations of the one program (the gathers of the union's
rows and edge weights, forward work the methods write alike). Walk-sum methods run in one pass
(``ChunkProgram.run_many``: one scatter over their columns side by side) and their whole-graph
tables come from one jitted program. Each member computes what it computes alone, and its
outputs are split out per method: bit for bit a separate run's when the chunks are the same
(``tests/test_fused.py``). Planning sums the members' memory per copy and per edge, so a fused
chunk, which holds every member's activations and outputs, still fits the memory budget (the
same chunks as a separate run when the whole block fits one chunk, more otherwise).
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
from jax.sharding import PartitionSpec as P

from jgattr.attribution._execute import put
from jgattr.attribution._method_types import Method
from jgattr.attribution._programs import (
    ChunkProgram,
    Problem,
    general_program,
    uses_walks,
    walk_programs,
)

SEPARATOR = "/"  # a member's per-target input ``name`` is ``f"{member}/{name}"`` in the fused one


def fusable(programs: Sequence[ChunkProgram]) -> list[list[int]]:
    """Positions of ``programs`` grouped by the chunk structure they read (``hops``), in order
    of first appearance; each group runs as one program."""
    groups: dict[int, list[int]] = {}
    for position, program in enumerate(programs):
        groups.setdefault(program.hops, []).append(position)
    return list(groups.values())


def _shared_leaves(replicated: Sequence[tuple]) -> tuple[list, tuple]:
    """The members' replicated leaves with each array once (by identity), and per member
    ``(treedef, positions)`` to rebuild its own inputs from them."""
    unique, position_of, layouts = [], {}, []
    for inputs in replicated:
        leaves, treedef = jax.tree.flatten(inputs)
        positions = []
        for leaf in leaves:
            if id(leaf) not in position_of:
                position_of[id(leaf)] = len(unique)
                unique.append(leaf)
            positions.append(position_of[id(leaf)])
        layouts.append((treedef, tuple(positions)))
    return unique, tuple(layouts)


def member_inputs(chunk: dict, member: int, names: Sequence[str]) -> dict:
    """One member's chunk: the shared structure and its own per-target inputs ``names``."""
    own = {name: chunk[f"{member}{SEPARATOR}{name}"] for name in names}
    shared = {k: v for k, v in chunk.items() if SEPARATOR not in k}
    return {**shared, **own}


def fuse(programs: Sequence[ChunkProgram]) -> ChunkProgram:
    """One program running every member of ``programs`` (same ``hops``) on each chunk.

    ``run(*shared replicated leaves, chunk) -> tuple`` of each member's outputs, in order; in one
    pass (``run_many``) when every member is the same kind of program and has one.
    ``bytes_per_copy`` and ``bytes_per_edge`` are the members' sums: a fused chunk holds all of
    their activations and outputs at once. One program is returned as it is.
    """
    if len(programs) == 1:
        return programs[0]
    if len({p.hops for p in programs}) != 1:
        raise ValueError(f"fused programs must read the same structure, got hops {programs}")
    unique, layouts = _shared_leaves([p.replicated for p in programs])
    names = [tuple(p.per_target) for p in programs]
    runs = [p.run for p in programs]
    first = programs[0]
    together = first.run_many if all(p.key == first.key for p in programs) else None

    def run(*args):
        *leaves, chunk = args
        replicated = [
            jax.tree.unflatten(treedef, [leaves[i] for i in positions])
            for treedef, positions in layouts
        ]
        inputs = [member_inputs(chunk, m, names[m]) for m in range(len(programs))]
        if together is not None:
            return tuple(together(replicated, inputs))
        return tuple(runs[m](*replicated[m], inputs[m]) for m in range(len(programs)))

    per_target = {
        f"{member}{SEPARATOR}{name}": values
        for member, program in enumerate(programs)
        for name, values in program.per_target.items()
    }
    return ChunkProgram(
        key=("fused", tuple(p.key for p in programs), tuple(p for _, p in layouts)),
        run=run,
        replicated=tuple(unique),
        per_target=per_target,
        bytes_per_copy=sum(p.bytes_per_copy for p in programs),
        bytes_per_edge=sum(p.bytes_per_edge for p in programs),
        hops=programs[0].hops,
    )


class MethodRun(NamedTuple):
    """One method of a call: which path it takes and its reference input."""

    method: Method
    walks: bool
    x_ref: Any


class RunGroup(NamedTuple):
    """Methods run by one program per chunk (:mod:`._fused` when several), its replicated
    inputs already on the devices."""

    runs: tuple[MethodRun, ...]
    program: ChunkProgram
    replicated: Any


class Runs(NamedTuple):
    """Every method of a call (in the order asked) and the groups that run them."""

    methods: list[MethodRun]
    groups: list[RunGroup]


def method_runs(resolved, problem: Problem, path, feature_level, fuse_methods: bool = True) -> Runs:
    """Each method's run, and one group (one program per chunk) per set of fusable programs
    (``fuse_methods=False``: one group per method, its walk tables made on their own)."""
    runs, programs = [], [None] * len(resolved)
    for method in resolved:
        walks = uses_walks(method, problem, path, feature_level)
        x_ref = None
        if not (walks and method.zero_reference):
            x_ref = method.reference(problem.prepared.features_on_device)
        runs.append(MethodRun(method, walks, x_ref))
    fast = [i for i, run in enumerate(runs) if run.walks]
    for together in [fast] if fuse_methods else [[i] for i in fast]:
        if together:
            made = walk_programs(
                [runs[i].method for i in together], problem, [runs[i].x_ref for i in together]
            )
            for i, program in zip(together, made, strict=True):
                programs[i] = program
    for i, run in enumerate(runs):
        if not run.walks:
            programs[i] = general_program(run.method, problem, run.x_ref, feature_level)
    groups = []
    for members in fusable(programs) if fuse_methods else [[i] for i in range(len(runs))]:
        program = fuse([programs[i] for i in members])
        replicated = put(program.replicated, problem.mesh, P())
        groups.append(RunGroup(tuple(runs[i] for i in members), program, replicated))
    return Runs(runs, groups)
