"""Peak memory of the dataset-level views over a result folder much larger than one block.

Usage:
  python benchmarks/views_scale.py --folder /tmp/views-scale [--targets 1000000]

Writes (once) a result folder of ``--targets`` targets with 40 random sources each, in 20
shards, then, in a fresh process, runs influence, class locality and the agreement of the
folder with itself from it, and prints the time and the peak RSS of that process (its imports
of jax and numpy included) as JSON.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _report import emit

from jgattr import analysis
from jgattr.attribution import Attributions
from jgattr.attribution._shards import ShardWriter

SOURCES_PER_TARGET, CLASSES, SHARDS = 40, 5, 20


def write_folder(folder: Path, targets: int) -> None:
    """A random result (sources unique and sorted per target) as ``SHARDS`` shards."""
    rng = np.random.default_rng(0)
    writer, per, k = ShardWriter(folder, "views-scale", 0, 1), targets // SHARDS, SOURCES_PER_TARGET
    for block in range(SHARDS):
        ids = np.arange(block * per, (block + 1) * per, dtype=np.int32)
        start = rng.integers(0, targets, (per, 1))
        stride = rng.integers(1, targets // k, (per, 1))  # k distinct sources per row
        sources = np.sort((start + stride * np.arange(k)) % targets, axis=1)
        part = Attributions(
            "random",
            targets=ids,
            classes=ids % CLASSES,
            logits=np.zeros(per, np.float32),
            offsets=np.arange(0, per * k + 1, k, dtype=np.int64),
            sources=sources.astype(np.int32).ravel(),
            values=rng.normal(size=per * k).astype(np.float32),
            expected=np.zeros(per, np.float32),
            layer_totals=np.zeros((per, 2), np.float32),
        )
        writer.write(block, block * per, part)
    writer.finish("random", ("node", "node"), SHARDS, {})


def measure(folder: Path, targets: int) -> dict:
    """Run the views from ``folder`` in this process; time and peak RSS."""
    start = time.perf_counter()
    influence = analysis.influence(folder, targets, CLASSES)
    labels = np.random.default_rng(1).integers(0, CLASSES, targets)
    analysis.class_locality(folder, labels, labels, CLASSES)
    agreement = analysis.method_agreement({"a": folder, "b": folder}, CLASSES)
    return {
        "pairs": targets * SOURCES_PER_TARGET,
        "seconds": round(time.perf_counter() - start, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "top1_share": round(influence["top1_share"], 4),
        "self_agreement_median_spearman": agreement["pairs"]["a|b"]["spearman"]["median"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.folder, args.targets)))
        return 0
    if not (args.folder / "index-00000-of-00001.json").is_file():
        write_folder(args.folder, args.targets)
    command = [
        sys.executable,
        __file__,
        "--measure",
        "--folder",
        str(args.folder),
        "--targets",
        str(args.targets),
    ]
    child = subprocess.run(command, capture_output=True, text=True, check=True)
    report = {"benchmark": "views_scale", **json.loads(child.stdout.splitlines()[-1])}
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
