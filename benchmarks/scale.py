"""Whole-dataset scale: every node of ``powerlaw:N`` explained, streamed to a result folder.

Usage:
  python benchmarks/scale.py                          # N = 10^4 and 10^5, NAM and IG-50
  python benchmarks/scale.py --sizes 10000 100000 1000000 --out benchmarks/results/scale.json

Each (N, method) runs in a fresh process (so peak RSS is its own): a random 2-layer GCN (hidden
16) on ``powerlaw:N`` (power-law degrees, mean about 5.4, 500 sparse bag-of-words features),
``explain_to_folder`` on every node, first cold (compiling), then warm into an empty folder.
Reported per run: ``warm_seconds`` (the second call, host preparation and shard writing
included), ``warm_cpu_seconds`` (its CPU time over all threads: a check on a shared machine),
``prep_seconds`` (building the blocks' computation graphs, overlapped with running),
``compile_seconds``, ``first_call_seconds``, ``peak_rss_mb`` (the whole process, dataset
generation included), ``pairs``, ``bytes_on_disk``, and ``select_10_read_bytes`` (what loading
10 random targets from the result folder reads from storage, its files first dropped from the
page cache) with its fraction of the folder's bytes; then the fitted cost exponent
``log(t2 / t1) / log(N2 / N1)`` of warm seconds (and of CPU seconds and of pairs) between
consecutive sizes.
"""

import argparse
import itertools
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np
from _report import emit

from jgattr import build_model, load_dataset
from jgattr.attribution import Attributions, explain_to_folder, get_method
from jgattr.models import ModelConfig, init_params, prepare_graph

METHODS = {
    "nam": get_method("nam"),
    "ig": get_method("ig", n_steps=50, quadrature_rule="gauss_legendre"),
}


def _random_gcn(dataset):
    model = build_model(ModelConfig("gcn", 2, 16, 0.5), dataset.num_classes)
    tiny = dataset.graph._replace(
        nodes=np.zeros((16, dataset.graph.nodes.shape[1]), np.float32),  # shapes only
        senders=np.zeros(0, np.int32),
        receivers=np.zeros(0, np.int32),
        n_node=np.array([16], np.int32),
        n_edge=np.array([0], np.int32),
    )
    return model, init_params(model, prepare_graph(model, tiny), key=jax.random.key(0))


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _storage_read_bytes() -> int:
    """Bytes this process has fetched from storage (``/proc/self/io``: page faults of memory
    maps and readahead included, page-cache hits not)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("read_bytes:"):
            return int(line.split()[1])
    raise OSError("/proc/self/io has no read_bytes")


def _select_read_bytes(folder: Path, num_nodes: int, count: int = 10) -> int:
    """Storage bytes read by ``Attributions.load(folder, targets=<count random nodes>)`` after
    the folder's files are dropped from the page cache (``posix_fadvise(DONTNEED)``)."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as file:
                os.fsync(file.fileno())
                os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    targets = np.random.default_rng(0).choice(num_nodes, count, replace=False)
    before = _storage_read_bytes()
    selected = Attributions.load(folder, targets=targets)
    assert selected.num_targets == count
    return _storage_read_bytes() - before


def _worker(size: int, method: str, host_memory_mb: float) -> dict:
    start = time.perf_counter()
    dataset = load_dataset(f"powerlaw:{size}")
    generate = time.perf_counter() - start
    model, params = _random_gcn(dataset)
    kwargs = dict(methods=[METHODS[method]], targets="all", host_memory_mb=host_memory_mb)
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        explain_to_folder(model, params, dataset, Path(scratch) / "cold", **kwargs)
        first = time.perf_counter() - start
        cold = json.loads(next((Path(scratch) / "cold").rglob("index-*.json")).read_text())
        shutil.rmtree(Path(scratch) / "cold")
        start, cpu = time.perf_counter(), time.process_time()
        folders = explain_to_folder(model, params, dataset, Path(scratch) / "warm", **kwargs)
        warm, cpu = time.perf_counter() - start, time.process_time() - cpu
        folder = next(iter(folders.values()))
        stats = json.loads(next(folder.glob("index-*.json")).read_text())["stats"]
        on_disk = _folder_bytes(folder)
        select_read = _select_read_bytes(folder, dataset.num_nodes)
    return {
        "nodes": size,
        "edges": dataset.num_edges,
        "method": method,
        "warm_seconds": round(warm, 3),
        "warm_cpu_seconds": round(cpu, 3),
        "prep_seconds": stats["prep_seconds"],
        "compile_seconds": cold["stats"]["compile_seconds"],
        "first_call_seconds": round(first, 3),
        "generate_seconds": round(generate, 3),
        "blocks": stats["blocks"],
        "chunks": stats["chunks"],
        "pairs": stats["pairs"],
        "bytes_on_disk": on_disk,
        "select_10_read_bytes": select_read,
        "select_10_read_fraction": round(select_read / on_disk, 5),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _exponents(runs: list[dict]) -> list[dict]:
    fits = []
    for method in METHODS:
        mine = sorted((r for r in runs if r["method"] == method), key=lambda r: r["nodes"])
        for small, large in itertools.pairwise(mine):
            ratio = math.log(large["nodes"] / small["nodes"])
            fits.append(
                {
                    "method": method,
                    "from": small["nodes"],
                    "to": large["nodes"],
                    "time_exponent": round(
                        math.log(large["warm_seconds"] / small["warm_seconds"]) / ratio, 3
                    ),
                    "cpu_time_exponent": round(
                        math.log(large["warm_cpu_seconds"] / small["warm_cpu_seconds"]) / ratio, 3
                    ),
                    "pairs_exponent": round(math.log(large["pairs"] / small["pairs"]) / ratio, 3),
                }
            )
    return fits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=lambda s: int(float(s)), default=[10**4, 10**5])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--host-memory-mb", type=float, default=1024.0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(int(args.worker[0]), args.worker[1], args.host_memory_mb)))
        return 0
    runs = []
    for size in args.sizes:
        for method in args.methods:
            command = [sys.executable, __file__, "--worker", str(size), method]
            command += ["--host-memory-mb", str(args.host_memory_mb)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                runs.append({"nodes": size, "method": method, "error": done.stderr[-2000:]})
                continue
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), file=sys.stderr)
    report = {
        "benchmark": "scale",
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
        "machine": platform.machine(),
        "jax": jax.__version__,
        "host_memory_mb": args.host_memory_mb,
        "runs": runs,
        "exponents": _exponents([r for r in runs if "error" not in r]),
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
