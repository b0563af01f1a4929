"""Test accuracy of each config's model over several seeds (GCN, GAT, GIN, GraphSAGE).

Usage:
  python benchmarks/accuracy.py --configs cora cora-gat cora-gin cora-sage citeseer \
      --seeds 0 1 2 3 4 --data-dir ../shared/data/planetoid --out runs/accuracy.json

A config is a name in ``configs/`` (``cora-gat``) or a path to a TOML file. Each one is trained
with its own ``[model]`` and ``[train]`` tables, once per seed (the seed replaces ``train.seed``).
Prints one JSON object: per config the architecture, the per-seed accuracies, epochs and seconds,
and the mean, std and min of test accuracy.
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
DEFAULT_CONFIGS = ["cora", "cora-gat", "cora-gin", "cora-sage", "citeseer"]


def _config_path(name: str) -> Path:
    """``configs/<name>.toml`` for a bare name, else ``name`` as a path."""
    path = Path(name)
    return path if path.suffix == ".toml" else REPO / "configs" / f"{name}.toml"


def _summary(values: list[float]) -> dict[str, float]:
    array = np.asarray(values)
    return {
        "test_mean": round(float(array.mean()), 4),
        "test_std": round(float(array.std()), 4),
        "test_min": round(float(array.min()), 4),
    }


def _run_config(name: str, seeds: list[int], data_dir: Path | None) -> dict:
    start = time.perf_counter()
    config = load_config(_config_path(name))
    dataset = load_dataset(config.data.name, data_dir=data_dir)
    model = build_model(config.model, dataset.num_classes)
    runs = []
    for seed in seeds:
        result = train(model, dataset, config.train, key=jax.random.key(seed))
        runs.append(
            {
                "seed": seed,
                "epochs": result.epochs,
                **{split: round(acc, 4) for split, acc in result.accuracy.items()},
                "seconds": round(result.seconds, 3),
            }
        )
    return {
        "config": name,
        "dataset": dataset.name,
        "architecture": config.model.architecture,
        "runs": runs,
        **_summary([run["test"] for run in runs]),
        "epochs_mean": round(float(np.mean([run["epochs"] for run in runs])), 1),
        "seconds": round(time.perf_counter() - start, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configs",
        "--datasets",  # the older name: cora and citeseer are config names too
        dest="configs",
        nargs="+",
        default=DEFAULT_CONFIGS,
        help="config names in configs/ or TOML paths",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    missing = [name for name in args.configs if not _config_path(name).is_file()]
    if missing:
        parser.error(f"--configs: no such config(s) {missing}; see {REPO / 'configs'}")
    start = time.perf_counter()
    report = {
        "benchmark": "accuracy",
        "backend": jax.default_backend(),
        "seeds": args.seeds,
        "results": [_run_config(name, args.seeds, args.data_dir) for name in args.configs],
    }
    report["seconds"] = round(time.perf_counter() - start, 2)
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
