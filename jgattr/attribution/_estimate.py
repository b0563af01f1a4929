"""Resources estimated before any heavy work: peak host and device memory and pairs written.

Every :func:`~jgattr.attribution.explain` and :func:`~jgattr.attribution.explain_to_folder` call
estimates, once its targets are known and before any computation graph is built:

* **pairs** per method: each target's ``(target, source)`` pairs are bounded by its walk counts
  (:func:`~jgattr.attribution._blocks.walk_counts`: walks of length <= K into it bound its
  computation graph's nodes, and twice that its nodes plus edges: edge methods), and by ``N``
  (``E``); ``top_k_sources`` caps them at ``k``;
* **host memory**: what the process holds now (the graph, JAX), plus the blocks' unions
  (``host_memory_mb`` at most), plus the results: ``explain`` keeps every method's joined result
  (8 bytes per pair, twice while the blocks are joined), ``explain_to_folder`` one block's;
  on CPU devices also the device memory below;
* **device memory**: one chunk (``memory_budget_mb``) plus the whole-graph tables
  (``N x`` the model's widths, a few copies).

Beyond the limit (``max_host_mb``, default: the memory available on the machine; on an
accelerator, its memory) the call raises :class:`ResourceError` naming the settings that help.
"""

import dataclasses
import os
import sys
from pathlib import Path

import jax
import numpy as np

from jgattr.attribution._blocks import BYTES_PER_PAIR, target_walks
from jgattr.attribution._methods import resolve_methods
from jgattr.attribution._prepare import prepare_data, resolve_targets
from jgattr.models import as_explainable, param_template

RESULT_BYTES_PER_PAIR = 8.0  # int32 source + float32 value
JOIN_COPIES = 2.0  # explain joins its blocks' results: the parts and the whole are alive at once
TABLE_COPIES = 4.0  # whole-graph tables per width: activations, pre-activations, walk tables


class ResourceError(ValueError):
    """An explain call whose estimated memory exceeds the limit; raised before the work starts."""


@dataclasses.dataclass(frozen=True)
class ResourceEstimate:
    """The up-front estimate of one call (upper bounds; megabytes are 2**20 bytes).

    Attributes:
      targets: rows explained.
      pairs: ``{method: estimated (target, source) pairs written}``.
      host_mb: estimated peak host memory of the process.
      device_mb: estimated peak memory per device.
      limit_mb: the host limit it was checked against.
      parts: ``{"now", "unions", "results", "device"}`` megabytes behind ``host_mb``.
    """

    targets: int
    pairs: dict[str, int]
    host_mb: float
    device_mb: float
    limit_mb: float
    parts: dict[str, float]

    def line(self) -> str:
        """The estimate in one line."""
        pairs = max(self.pairs.values(), default=0)
        return (
            f"estimate: {self.targets:,} targets, up to {pairs:,} pairs per method, peak host "
            f"~{_gb(self.host_mb)} of {_gb(self.limit_mb)} allowed, ~{self.device_mb:,.0f} MB "
            "per device"
        )


def _gb(mb: float) -> str:
    return f"{mb / 1024:,.1f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


def available_host_mb() -> float:
    """Memory this process may still use: ``MemAvailable`` of ``/proc/meminfo``, lowered by a
    cgroup (container) limit; the physical memory where those are not readable."""
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) / 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        cap = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        if cap != "max":
            limits.append((int(cap) - used) / 2**20)
    except (OSError, ValueError):
        pass
    if not limits:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20)
    return min(limits) + current_rss_mb()


def current_rss_mb() -> float:
    """Resident memory of this process now (``/proc/self/statm``; 0 where unreadable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _device_limit_mb(devices) -> float | None:
    stats = [d.memory_stats() for d in devices if d.platform != "cpu"]
    limits = [s["bytes_limit"] / 2**20 for s in stats if s and "bytes_limit" in s]
    return min(limits) if limits else None


def _table_mb(params, num_nodes: int) -> float:
    widths = sum(int(np.shape(leaf)[-1]) for leaf in jax.tree.leaves(params) if np.ndim(leaf) == 2)
    return num_nodes * max(widths, 1) * 4.0 * TABLE_COPIES / 2**20


def estimate_resources(
    walks: np.ndarray,
    methods,
    *,
    num_nodes: int,
    num_edges: int,
    params,
    host_memory_mb: float,
    memory_budget_mb: float,
    devices,
    joined: bool,
    top_k: int | None = None,
    max_host_mb: float | None = None,
) -> ResourceEstimate:
    """The estimate of a call (see the module docstring); ``walks`` ``[T]`` each target's walk
    count bound (nodes plus edges of its computation graph)."""
    pairs = {}
    for method in methods:
        bound = walks if method.level == "edge" else walks / 2
        cap = num_edges if method.level == "edge" else num_nodes
        per_target = np.minimum(bound, min(cap, top_k) if top_k else cap)
        pairs[method.name] = int(per_target.sum())
    unions = min(float(walks.sum()) * BYTES_PER_PAIR / 2**20, host_memory_mb)
    result_bytes = sum(pairs.values()) * RESULT_BYTES_PER_PAIR
    if not joined:  # one block's results at a time
        result_bytes *= min(1.0, host_memory_mb * 2**20 / 2 / max(walks.sum() * BYTES_PER_PAIR, 1))
    results = result_bytes * (JOIN_COPIES if joined else 1.0) / 2**20
    # a chunk never holds more than the whole union, padded
    chunk = min(memory_budget_mb, float(walks.sum()) * BYTES_PER_PAIR * 2 / 2**20)
    device = chunk + _table_mb(params, num_nodes)
    on_cpu = _device_limit_mb(devices) is None
    parts = {
        "now": current_rss_mb(),
        "unions": unions,
        "results": results,
        "device": device if on_cpu else 0.0,
    }
    limit = available_host_mb() if max_host_mb is None else float(max_host_mb)
    return ResourceEstimate(len(walks), pairs, sum(parts.values()), device, limit, parts)


def check_resources(estimate: ResourceEstimate, devices, *, joined: bool, progress) -> None:
    """Raise :class:`ResourceError` when ``estimate`` exceeds the host limit or a device's memory
    (the message names the settings that help); print its line when ``progress`` is True."""
    if progress:
        print(estimate.line(), file=sys.stderr, flush=True)
    if estimate.host_mb > estimate.limit_mb:
        parts = ", ".join(f"{k} {_gb(v)}" for k, v in estimate.parts.items() if v >= 1)
        fixes = (
            "write each block to disk instead with explain_to_folder (peak about host_memory_mb "
            "plus the graph), keep each target's largest sources (top_k_sources=), explain "
            "fewer targets"
            if joined
            else "keep each target's largest sources (top_k_sources=), lower host_memory_mb, "
            "explain fewer targets"
        )
        raise ResourceError(
            f"this job would need about {_gb(estimate.host_mb)} of host memory ({parts}; "
            f"{estimate.targets:,} targets, up to {max(estimate.pairs.values()):,} pairs per "
            f"method), more than the {_gb(estimate.limit_mb)} allowed (max_host_mb, default: "
            f"the memory available): {fixes}, or raise max_host_mb"
        )
    limit = _device_limit_mb(devices)
    if limit is not None and estimate.device_mb > limit:
        raise ResourceError(
            f"this job would need about {estimate.device_mb:,.0f} MB per device (one chunk of "
            f"memory_budget_mb plus the whole-graph tables), more than its {limit:,.0f} MB: "
            "lower memory_budget_mb, or explain on a device with more memory"
        )


def guard_resources(
    walks: np.ndarray,
    methods,
    graph,
    params,
    *,
    host_memory_mb: float,
    memory_budget_mb: float,
    devices,
    limits: dict | None,
) -> ResourceEstimate:
    """Estimate a call and check it (:func:`check_resources`), before its work starts.

    ``limits``: ``joined`` (``explain``: True, the default; ``explain_to_folder``: False),
    ``top_k``, ``max_host_mb`` (see :func:`estimate_resources`) and ``progress``.
    """
    limits = {"joined": True, "progress": None, **(limits or {})}
    progress = limits.pop("progress")
    estimate = estimate_resources(
        walks,
        methods,
        num_nodes=int(graph.nodes.shape[0]),
        num_edges=int(graph.senders.shape[0]),
        params=params,
        host_memory_mb=host_memory_mb,
        memory_budget_mb=memory_budget_mb,
        devices=devices,
        **limits,
    )
    check_resources(estimate, devices, joined=limits["joined"], progress=progress)
    return estimate


def estimate_explain(
    model,
    data,
    *,
    methods=("nam",),
    targets="test",
    classes="predicted",
    memory_budget_mb: float = 1024.0,
    host_memory_mb: float = 2048.0,
    max_host_mb: float | None = None,
    to_folder: bool = False,
    top_k_sources: int | None = None,
    num_classes: int | None = None,
    devices=None,
    params=None,
) -> ResourceEstimate:
    """The estimate :func:`~jgattr.attribution.explain` (``to_folder=True``:
    ``explain_to_folder``) makes before it starts, without a forward pass, e.g. before a model
    is trained. Without ``params``, ``model`` must be a Flax module (its parameter shapes come
    from ``init``); a model given as an ``Explainable`` (e.g. imported from PyG) needs its
    ``params``. ``classes="all"`` counts ``num_classes`` targets per node.

    Raises:
      ResourceError: the estimate exceeds ``max_host_mb`` or a device's memory.
    """
    explainable = as_explainable(model)
    prepared = prepare_data(data, explainable)
    nodes = resolve_targets(targets, prepared.num_targets, prepared.masks, prepared.level)
    if classes == "all":
        nodes = np.repeat(nodes, num_classes or 1)
    walks = target_walks(prepared, nodes, explainable.num_hops)
    features = int(np.shape(getattr(data, "graph", data).nodes)[-1])
    limits = {"joined": not to_folder, "top_k": top_k_sources, "max_host_mb": max_host_mb}
    if params is None and not hasattr(model, "init"):
        raise ValueError(
            f"estimate_explain: model {type(model).__name__} is not a Flax module, so its "
            "parameter shapes are unknown: pass params="
        )
    shapes = param_template(model, features) if params is None else params
    return guard_resources(
        walks, resolve_methods(methods), prepared.graph, shapes,
        host_memory_mb=host_memory_mb, memory_budget_mb=memory_budget_mb,
        devices=devices or jax.devices(), limits=limits,
    )  # fmt: skip
