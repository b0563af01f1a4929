"""Test accuracy of the default GCN over several seeds (Kipf & Welling reproduction).

Usage:
  python benchmarks/accuracy.py --datasets cora citeseer --seeds 0 1 2 3 4 --out runs/accuracy.json

Prints one JSON object: per dataset the per-seed accuracies, mean and std of test accuracy,
epochs run and seconds.
"""

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np
from _report import emit

from jgattr import build_model, load_config, load_dataset, train

REPO = Path(__file__).resolve().parents[1]


def _run_dataset(name: str, seeds: list[int], data_dir: Path | None) -> dict:
    config = load_config(REPO / "configs" / f"{name}.toml")
    dataset = load_dataset(config.data.name, data_dir=data_dir)
    model = build_model(config.model, dataset.num_classes)
    runs = []
    for seed in seeds:
        result = train(model, dataset, config.train, key=jax.random.key(seed))
        runs.append(
            {
                "seed": seed,
                "epochs": result.epochs,
                **result.accuracy,
                "seconds": round(result.seconds, 3),
            }
        )
    test = np.array([run["test"] for run in runs])
    return {
        "dataset": dataset.name,
        "runs": runs,
        "test_mean": round(float(test.mean()), 4),
        "test_std": round(float(test.std()), 4),
        "test_min": round(float(test.min()), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    start = time.perf_counter()
    report = {
        "benchmark": "accuracy",
        "backend": jax.default_backend(),
        "results": [_run_dataset(name, args.seeds, args.data_dir) for name in args.datasets],
    }
    report["seconds"] = round(time.perf_counter() - start, 2)
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
