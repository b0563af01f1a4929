"""Pope et al.'s table (CVPR 2019) reproduced on BBBP, and the same metrics on MUTAG.

Usage:
  python benchmarks/reproduce_pope.py --out benchmarks/results/reproduce_pope_cpu_2core.json

BBBP: ``configs/bbbp.toml`` (their GCN 128-256-512, mean readout, scaffold split) is trained,
then CG, CAM, Grad-CAM, Grad-CAM-avg, EB and c-EB (the authors' code variants: Grad-CAM-avg sums
the layers, c-EB's class-1 map subtracts the contrasted class-0 map) explain every molecule for
both classes, and :func:`jgattr.metrics.pope_metrics` scores them over the whole dataset, as the
authors' notebook does: fidelity at t = 0.01 (and the sweep), contrastivity, sparsity, and the
fidelity at fixed sparsities 10 % / 20 % beside random occlusion of as many atoms. The
authors' repository numbers stand beside them (``PUBLISHED``). The accuracy with every atom
occluded (random occlusion at f = 100 %) shows what a map that selects every atom scores.
MUTAG: ``configs/mutag.toml``'s GIN, the same methods and metrics, and the share of relevance on
nitro-group atoms of the graphs predicted mutagenic (``views.nitro_shares``).

Prints a Markdown table, then the JSON report (written to ``--out``).
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from _report import emit
from _setup import trained_run
from views import nitro_shares

from jgattr.attribution import explain, get_method
from jgattr.metrics import pope_metrics

METHODS = {  # label -> (registry name, the authors' code variant)
    "CG": ("cg", {}),
    "CAM": ("cam", {"bias": True}),
    "Grad-CAM": ("grad_cam", {}),
    "Grad-CAM-avg": ("grad_cam_avg", {"variant": "code"}),
    "EB": ("eb", {}),
    "c-EB": ("c_eb", {"variant": "code"}),
}
PUBLISHED = {  # github.com/ppope/explain_graphs results/occlusions, t = 0.01, mean of classes
    "bbbp": {
        "accuracy": 0.953,
        "fidelity": {
            "CG": 0.188,
            "CAM": 0.171,
            "Grad-CAM": 0.171,
            "Grad-CAM-avg": 0.174,
            "EB": 0.178,
            "c-EB": 0.182,
        },
        "source": "ppope/explain_graphs results/occlusions/*_cls_occlusion_results.csv (CAM "
        "and Grad-CAM share one row, 'CAM-GradCAM'); the paper's own table of fidelity, "
        "contrastivity and sparsity was not found in any stored source",
    },
}
FRACTIONS = (0.1, 0.2, 1.0)  # 1.0: every atom occluded, the score of a select-everything map


def _rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def pope_table(config_name: str, nitro: bool) -> dict:
    """Accuracy and Pope et al.'s metrics of the six methods on one dataset, every graph."""
    start, load = time.perf_counter(), os.getloadavg()
    _, dataset, model, trained = trained_run(config_name)
    trained_at = time.perf_counter()
    methods = [get_method(name, **kwargs) for name, kwargs in METHODS.values()]
    results = explain(model, trained.params, dataset, methods=methods, targets="all", classes="all")
    labels = dict(zip(results, METHODS, strict=True))
    metrics = {
        labels[name]: _rounded(
            pope_metrics(model, trained.params, dataset, result, fractions=FRACTIONS)
        )
        for name, result in results.items()
    }
    report = {
        "dataset": dataset.name,
        "config": f"configs/{config_name}.toml",
        "graphs": dataset.num_graphs,
        "class_counts": [int((dataset.labels == c).sum()) for c in range(2)],
        "accuracy": _rounded(trained.accuracy),
        "roc_auc": _rounded(trained.roc_auc),
        "epoch_kept": trained.epoch_kept,
        "methods": metrics,
        "train_seconds": round(trained_at - start, 1),
    }
    if nitro:
        predicted = explain(
            model, trained.params, dataset, methods=methods, targets="all", classes="predicted"
        )
        report["nitro_share"] = {labels[n]: s for n, s in nitro_shares(dataset, predicted).items()}
    report["seconds"] = round(time.perf_counter() - start, 1)
    report["load_average_at_start"] = [round(v, 2) for v in load]
    report["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    return report


def table(run: dict, published: dict | None) -> str:
    """One dataset's rows: ours beside the published fidelity where there is one."""
    first = next(iter(run["methods"].values()))
    everything = first["random_fidelity_at_fraction"][-1]
    rows = [
        f"{run['dataset']}: {run['graphs']} graphs, accuracy {first['accuracy']}"
        + (f" (published {published['accuracy']})" if published else "")
        + f", test split {run['accuracy']['test']} "
        f"(ROC-AUC {run['roc_auc']['test']}); every atom occluded: fidelity {everything}",
        "",
        "| method | fidelity t=0.01 (published) | contrastivity | sparsity | fidelity 10% | "
        "fidelity 20% |",
        "|---|---|---|---|---|---|",
    ]
    for label in (label for label in METHODS if label in run["methods"]):
        m = run["methods"][label]
        pub = published["fidelity"][label] if published else "—"
        rows.append(
            f"| {label} | {m['fidelity']} ({pub}) | {m['contrastivity']} | {m['sparsity']} | "
            f"{m['fidelity_at_fraction'][0]} | {m['fidelity_at_fraction'][1]} |"
        )
    chance = first["random_fidelity_at_fraction"]
    rows.append(f"| random atoms | | | | {chance[0]} | {chance[1]} |")
    if "nitro_share" in run:
        shares = {label: run["nitro_share"][label] for label in METHODS}
        base = next(iter(shares.values()))
        rows += [
            "",
            f"Share of \\|relevance\\| on nitro-group atoms, {base['graphs']} graphs predicted "
            f"mutagenic that hold one (uniform relevance: {base['uniform_share']}):",
            "",
            "| method | " + " | ".join(shares) + " |",
            "|---" * (len(shares) + 1) + "|",
            "| share on NO2 | " + " | ".join(str(v["mean_share"]) for v in shares.values()) + " |",
        ]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--datasets", nargs="+", default=["bbbp", "mutag"])
    args = parser.parse_args()
    runs = {name: pope_table(name, nitro=name == "mutag") for name in args.datasets}
    tables = "\n\n".join(table(run, PUBLISHED.get(name)) for name, run in runs.items())
    print(tables, file=sys.stderr)
    report = {
        "benchmark": "reproduce_pope",
        "machine": f"{platform.machine()}, cpu, 2 cores shared with other engineers' jobs",
        "published": PUBLISHED,
        "fractions": list(FRACTIONS),
        **runs,
        "table": tables,
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
