"""Sharded execution: one chunk per device per round, compiled once per shape and kept.

A round's chunks are stacked on a leading axis and sharded over a one-axis ``targets`` mesh;
``shard_map`` hands each device its own chunk. Replicated inputs (parameters, whole-graph
tables) go to every device. Under ``jax.distributed`` every process gathers all rows.
"""

import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from tqdm.auto import tqdm

from jgattr._xla_cache import persistent_cache_hits
from jgattr.attribution._cache import BoundedCache
from jgattr.attribution._plan import Chunk, chunk_structure, stack
from jgattr.attribution._subgraphs import Union

AXIS = "targets"
_PROGRAMS: BoundedCache[Any] = BoundedCache("programs", 256)
_compilations = 0


def compilation_count() -> int:
    """How many chunk programs the engine has compiled in this process (for tests)."""
    return _compilations


def mesh_of(devices) -> Mesh:
    """A one-axis mesh named ``targets`` over ``devices``."""
    return Mesh(np.array(devices), (AXIS,))


def _is_local(mesh: Mesh) -> bool:
    """Whether every device of ``mesh`` belongs to this process."""
    return all(d.process_index == jax.process_index() for d in mesh.devices.flat)


def put(tree, mesh: Mesh, spec: P):
    """``tree`` on the mesh's devices: sharded on its leading axis (``P(AXIS)``) or replicated.

    Under ``jax.distributed`` every process holds the same host arrays, and each one places
    only the shards of its own devices (``jax.device_put`` would first check that the arrays
    are equal on every process, which NaN padding fails: NaN != NaN).
    """
    sharding = NamedSharding(mesh, spec)
    if _is_local(mesh):
        return jax.device_put(tree, sharding)

    def place(leaf):
        host = np.asarray(leaf)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(place, tree)


def round_structure(union: Union, members: list[Chunk], mesh: Mesh) -> dict:
    """The stacked, sharded structure of one round, kept on the devices for later methods."""
    key = (tuple((c.start, c.stop, c.bucket, c.hops) for c in members), mesh.device_ids.tobytes())
    return union.device_cache.get_or_make(
        key, lambda: put(stack([chunk_structure(union, chunk) for chunk in members]), mesh, P(AXIS))
    )[0]


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


def run_sharded(
    key: Any, chunk_fn: Callable, mesh: Mesh, replicated: tuple, stacked: dict
) -> tuple[dict[str, np.ndarray], float]:
    """``chunk_fn(*replicated, chunk)`` on each chunk of ``stacked`` (leading axis: chunks).

    Returns:
      (host outputs with a leading chunk axis, seconds spent compiling; 0.0 when the program
      came from this process's cache or from JAX's persistent cache on disk).
    """
    global _compilations
    args = (*replicated, stacked)
    specs = (*(P() for _ in replicated), P(AXIS))
    mapped = jax.shard_map(
        _one_chunk_per_device(chunk_fn), mesh=mesh, in_specs=specs, out_specs=P(AXIS)
    )
    compile_seconds = 0.0

    def compile_program():
        nonlocal compile_seconds
        start, hits = time.perf_counter(), persistent_cache_hits()
        program = jax.jit(mapped).lower(*args).compile()
        if persistent_cache_hits() == hits:
            compile_seconds = time.perf_counter() - start
        return program

    program, made = _PROGRAMS.get_or_make((key, _signature(args)), compile_program)
    _compilations += made
    outputs = program(*args)
    if not _is_local(mesh):  # a mesh over several processes: each gets all rows
        outputs = multihost_utils.process_allgather(outputs, tiled=True)
    return jax.tree.map(np.asarray, outputs), compile_seconds


class Progress:
    """Progress over rounds: a bar on a terminal, plain lines every few seconds elsewhere.

    ``enabled``: ``True`` always reports (bar or lines), ``False`` never, ``None`` only on a
    terminal. ``done``: rounds already counted (a method's earlier blocks), so that one method's
    count runs on over its blocks, as its ``rounds`` and ``resumed_rounds`` stats do.
    """

    def __init__(
        self,
        total: int,
        enabled: bool | None,
        description: str,
        every: float = 2.0,
        *,
        done: int = 0,
    ):
        terminal = sys.stderr.isatty()
        self.total, self.description, self.every = total, description, every
        self.lines = enabled is True and not terminal
        self.bar = tqdm(
            total=total,
            initial=done,
            desc=description,
            unit="round",
            disable=enabled is False or not terminal,
            leave=False,
        )
        self.done, self.last = done, time.monotonic()

    def update(self) -> None:
        self.done += 1
        self.bar.update(1)
        now = time.monotonic()
        if self.lines and (now - self.last >= self.every or self.done == self.total):
            print(f"{self.description}: {self.done}/{self.total} rounds", file=sys.stderr)
            self.last = now

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()
