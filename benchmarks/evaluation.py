"""Evaluating attributions on Cora: all test nodes x 11 deletion levels x (methods + 5 random).

Usage:
  python benchmarks/evaluation.py [--dataset cora] [--mode remove] [--out runs/bench_eval.json]

Trains the configured GCN, explains the 1000 test nodes with every method, then times
:func:`jgattr.metrics.evaluate` (first call with compilation, then the best warm run) and prints
JSON: seconds, the area under every curve, and whether each method's deletion curve lies below
the random one at every p in (0, 1) (the NAM paper's Fig. 6).
"""

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np
from _report import emit

from jgattr import build_model, load_config, load_dataset, train
from jgattr.attribution import explain
from jgattr.metrics import evaluate

REPO = Path(__file__).resolve().parents[1]
METHODS = ["saliency", "nam", "ig", "lid_ig", "sig_lid_taylor", "sig_lid_ig"]


def _table(metrics: dict) -> dict:
    levels = np.asarray(metrics["levels"])
    inside = (levels > 0) & (levels < 1)
    random_curve = np.asarray(metrics["random"]["deletion_accuracy_mean"])
    table = {"random": {"deletion_auc": round(metrics["random"]["deletion_auc"], 4)}}
    for name, values in metrics["methods"].items():
        curve = np.asarray(values["deletion_accuracy"])
        table[name] = {
            "deletion_auc": round(values["deletion_auc"], 4),
            "reverse_deletion_auc": round(values["reverse_deletion_auc"], 4),
            "probability_change_auc": round(values["probability_change_auc"], 4),
            "fidelity_plus": round(values["fidelity_plus"], 4),
            "fidelity_minus": round(values["fidelity_minus"], 4),
            "minimal_patch_probability_change": round(
                values["minimal_patch_probability_change"], 4
            ),
            "sparsity": round(values["sparsity"], 4),
            "below_random_at_every_inner_p": bool(np.all(curve[inside] < random_curve[inside])),
        }
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cora")
    parser.add_argument("--mode", default="remove", choices=["remove", "zero"])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    config = load_config(REPO / "configs" / f"{args.dataset}.toml")
    dataset = load_dataset(config.data.name, data_dir=args.data_dir)
    model = build_model(config.model, dataset.num_classes)
    params = train(model, dataset, config.train, key=jax.random.key(config.train.seed)).params
    results = explain(model, params, dataset, methods=METHODS, targets="test")
    start = time.perf_counter()
    metrics = evaluate(model, params, dataset, results, mode=args.mode)
    first = time.perf_counter() - start
    warm = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        metrics = evaluate(model, params, dataset, results, mode=args.mode)
        warm.append(time.perf_counter() - start)
    report = {
        "benchmark": "evaluation",
        "dataset": dataset.name,
        "mode": args.mode,
        "targets": metrics["targets"],
        "levels": len(metrics["levels"]),
        "methods": len(METHODS),
        "random_seeds": len(metrics["random"]["seeds"]),
        "first_call_seconds": round(first, 3),
        "seconds": round(min(warm), 3),
        "accuracy_unperturbed": metrics["accuracy_unperturbed"],
        "table": _table(metrics),
        "random_curve": [round(v, 4) for v in metrics["random"]["deletion_accuracy_mean"]],
        "curves": {
            name: [round(v, 4) for v in values["deletion_accuracy"]]
            for name, values in metrics["methods"].items()
        },
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
