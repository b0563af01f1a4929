"""Whole-dataset runs: every block's results written to disk as it finishes, never all in memory.

:func:`explain_to_folder` runs the engine's blocks (:mod:`._blocks`) and writes each method's
result for a block as one shard of a result folder (:mod:`._shards`), so peak host memory is one
block's, whatever the number of targets. A rerun with the same arguments skips finished shards.
Under ``jax.distributed`` each process takes every ``P``-th block on its own devices and writes
its shards into the same folder; the folder then loads as one result.
"""

import resource
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jgattr._types import Params
from jgattr.attribution._completeness import (
    completeness_stats,
    merge_completeness,
    warn_incomplete,
)
from jgattr.attribution._engine import block_results, setup
from jgattr.attribution._method_types import Method
from jgattr.attribution._results import Attributions, top_k
from jgattr.attribution._resume import discard_parts, fingerprint, parts_prefix
from jgattr.attribution._shards import ShardWriter


def _fingerprint(problem, run, blocks, k) -> str:
    params = jax.tree.leaves(jax.tree.map(np.asarray, problem.params))
    x_ref = None if run.x_ref is None else jax.tree.map(np.asarray, run.x_ref)
    return fingerprint(
        run.method, run.walks, problem.nodes, problem.classes, problem.prepared.fingerprint,
        x_ref, blocks, k, *params,
    )  # fmt: skip


def _add(totals: dict, result: Attributions, tolerance: float | None) -> None:
    """Accumulate one block's stats (and its completeness deltas) into ``totals``."""
    merge_completeness(totals, completeness_stats(tolerance, result.delta, result.expected))
    delta = np.abs(result.delta[np.isfinite(result.delta)])
    for name in (*_COUNTED[:-1], "resumed_rounds"):
        totals[name] = totals.get(name, 0) + result.stats[name]
    totals["blocks_run"] = totals.get("blocks_run", 0) + 1
    totals["delta_sum"] = totals.get("delta_sum", 0.0) + float(delta.sum())
    totals["delta_count"] = totals.get("delta_count", 0) + int(delta.size)
    if delta.size:
        totals["max_abs_delta"] = max(totals.get("max_abs_delta") or 0.0, float(delta.max()))


_COUNTED = ("seconds", "chunks", "rounds", "compile_seconds", "programs_compiled", "blocks_run")


def _final_stats(run, totals: dict, prep: float, bytes_written: int, devices: int) -> dict:
    """The method's stats over the blocks this call ran (none when every shard was already
    there); ``targets`` and ``pairs`` are completed from the whole folder by the caller."""
    count = totals.pop("delta_count", 0)
    total_delta = totals.pop("delta_sum", 0.0)
    totals = {**dict.fromkeys((*_COUNTED, "resumed_rounds"), 0), **totals}
    return {
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in totals.items()},
        "method": run.method.name,
        "hyperparameters": {k: v for k, v in run.method.hyperparameters},
        "path": "fast" if run.walks else "general",
        "mean_abs_delta": total_delta / count if count else None,
        "max_abs_delta": totals.get("max_abs_delta"),
        "prep_seconds": round(prep, 4),
        "bytes_written": bytes_written,
        "devices": devices,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def explain_to_folder(
    model: Any,
    params: Params,
    data: Any,
    out_dir: str | Path,
    *,
    methods: Sequence[str | Method] = ("nam",),
    targets: Any = "all",
    classes: Any = "predicted",
    path: str = "auto",
    memory_budget_mb: float = 1024.0,
    host_memory_mb: float = 1024.0,
    top_k_sources: int | None = None,
    max_host_mb: float | None = None,
    progress: bool | None = None,
    devices: Sequence[jax.Device] | None = None,
    resume_rounds: bool = False,
) -> dict[str, Path]:
    """Explain every target, writing each block's results to ``out_dir/attributions_<method>/``.

    Arguments are those of :func:`~jgattr.attribution.explain` (no ``feature_level``), plus:

    Args:
      out_dir: where the result folders go (one per method, see :mod:`jgattr.attribution._shards`
        for the shard format); finished shards of the same computation are kept and skipped.
      host_memory_mb: host memory one block of targets may use (peak RSS is about this plus the
        graph, its features and the model's whole-graph tables).
      top_k_sources: keep only each target's ``k`` sources of largest ``|value|`` (``None``: all).
      max_host_mb: the peak host memory the call may need, estimated before it starts (one
        block's unions and results, the graph); ``None``: the memory available on the machine.
        Beyond it: :class:`~jgattr.attribution.ResourceError`.
      devices: this process's devices (default: its local devices). Under ``jax.distributed``
        process ``p`` of ``P`` runs blocks ``p, p + P, ...``.
      resume_rounds: also keep each unfinished block's finished rounds under
        ``out_dir/parts`` (as :func:`~jgattr.attribution.explain`'s ``out_dir``), so that an
        interrupted block resumes mid-way, not from its start.

    Returns:
      ``{method name: result folder}``; read one with ``Attributions.load(folder, targets=...)``
      or ``open_shards(folder)`` once every process has finished.

    Example:
      >>> folders = explain_to_folder(model, params, load_dataset("powerlaw:1000000"), "run",
      ...                             methods=["nam", "ig"])
      >>> Attributions.load(folders["nam"], targets=[0, 1, 2]).for_target(0)
    """
    if top_k_sources is not None and not (isinstance(top_k_sources, int) and top_k_sources > 0):
        raise ValueError(f"top_k_sources must be a positive int or None, got {top_k_sources!r}")
    process, processes = jax.process_index(), jax.process_count()
    problem, make_runs, blocks = setup(
        model, params, data, methods=methods, targets=targets, classes=classes, path=path,
        memory_budget_mb=memory_budget_mb, host_memory_mb=host_memory_mb,
        feature_level=False, devices=devices or jax.local_devices(),
        limits={"joined": False, "top_k": top_k_sources, "max_host_mb": max_host_mb,
                "progress": progress},
    )  # fmt: skip
    runs = make_runs()  # the writers' fingerprints need them before the first block
    writers = {
        run.method.name: ShardWriter(
            Path(out_dir) / f"attributions_{run.method.name}",
            _fingerprint(problem, run, blocks, top_k_sources),
            process,
            processes,
        )
        for run in runs
    }
    elsewhere = lambda index: index % processes != process  # another process's block
    skip = lambda index: elsewhere(index) or all(w.done(index) for w in writers.values())
    totals = {run.method.name: {} for run in runs}
    tolerance = {run.method.name: run.method.completeness_tolerance for run in runs}
    written, prep = dict.fromkeys(writers, 0), 0.0
    methods_by_name = {run.method.name: run.method for run in runs}
    for index, results, seconds in block_results(
        problem, make_runs, blocks, out_dir if resume_rounds else None, progress, skip, cache=False
    ):
        prep += seconds
        for name, result in results.items():
            _add(totals[name], result, tolerance[name])
            if top_k_sources is not None:
                result = top_k(result, top_k_sources)
            written[name] += writers[name].write(index, blocks[index][0], result)
            if resume_rounds:  # the shard holds the block now: its kept rounds can go
                block_parts = f"{parts_prefix(methods_by_name[name])}{index:06d}"
                discard_parts(Path(out_dir) / "parts", block_parts)
    devices_used = problem.mesh.size
    for run in runs:
        name = run.method.name
        stats = _final_stats(run, totals[name], prep, written[name], devices_used)
        stats["blocks"] = len(blocks)
        stats["targets"] = int(problem.nodes.shape[0])
        stats["pairs"] = writers[name].pairs_written()
        warn_incomplete(name, stats)
        levels = (run.method.level, problem.prepared.level)
        writers[name].finish(name, levels, len(blocks), stats)
    return {name: writer.folder for name, writer in writers.items()}
