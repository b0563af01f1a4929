"""Accuracy of a graph-classification config over seeded splits (MUTAG's GIN, BBBP's GCN).

Usage:
  python benchmarks/graph_accuracy.py --config mutag --seeds 0 1 2 3 4 \
      --out benchmarks/results/graph_accuracy_mutag_cpu_2core.json

For every seed, ``[data] seed`` (the random stratified split; a scaffold split does not move)
and ``[train] seed`` are both replaced by it, and the config's model is trained as ``jgattr
train`` would. Prints one JSON object: per seed the accuracy per split and on the whole dataset,
the ROC-AUCs of a binary task, the epochs run and kept and the seconds; then the mean and std of
the test accuracy (and test ROC-AUC) over the seeds, and the machine load.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from _report import emit
from _setup import trained_run


def _run(config_name: str, seed: int) -> dict:
    config, _, _, result = trained_run(config_name, data={"seed": seed}, train={"seed": seed})
    auc = result.roc_auc or {}
    return {
        "seed": seed,
        "epochs": result.epochs,
        "epoch_kept": result.epoch_kept,
        "accuracy": {k: round(v, 4) for k, v in result.accuracy.items()},
        "roc_auc": {k: None if v is None else round(v, 4) for k, v in auc.items()},
        "seconds": round(result.seconds, 1),
        "batch_size": config.train.batch_size,
    }


def _mean_std(values: list[float]) -> dict[str, float]:
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="mutag", help="a name in configs/")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    start, load = time.perf_counter(), os.getloadavg()
    runs = [_run(args.config, seed) for seed in args.seeds]
    aucs = [r["roc_auc"]["test"] for r in runs if r["roc_auc"].get("test") is not None]
    report = {
        "config": args.config,
        "runs": runs,
        "test_accuracy": _mean_std([r["accuracy"]["test"] for r in runs]),
        "all_accuracy": _mean_std([r["accuracy"]["all"] for r in runs]),
        "test_roc_auc": _mean_std(aucs) if aucs else None,
        "seconds": round(time.perf_counter() - start, 1),
        "load_average_at_start": [round(x, 2) for x in load],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
