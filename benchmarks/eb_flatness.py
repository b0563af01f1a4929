"""How flat are excitation backprop's maps, and is that the z⁺ rule or the port? (issue 20)

Usage:
  python benchmarks/eb_flatness.py --config configs/mutag.toml --run RUN [--data-dir DIR]

Results: ``benchmarks/results/eb_flatness_mutag_{gcn,gin}_cpu_2core.json``. GIN:
``configs/mutag.toml`` as shipped (``jgattr train --config configs/mutag.toml --out RUN``; the
JSON records its training from ``RUN/train.json``). GCN (an older run, full batch):
``configs/mutag.toml`` with ``architecture = "gcn"``, ``hidden_size = [128, 256, 512]``,
``readout = "mean"``, ``learning_rate = 0.001``, trained with ``--epochs 150``.

``RUN`` is a trained run folder of the config (``jgattr train --config ... --out RUN``). Every
graph is explained by EB (the engine: the paper's z⁺ rule) for both classes. Per graph and
class it reports the ratio smallest / largest node value (``flat`` = 1), and how much the two
classes' maps differ (``L1 / 2`` of the two maps, each summing to 1). For a GCN it also computes,
in float64 numpy, the map of the authors' code's steps (docs/graph_methods.md: per-node dense step
without the z⁺ division, adjacency step ``(Â F) ⊙ P``, GAP renormalized per column). Prints JSON.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from jgattr._checkpoint import load_checkpoint
from jgattr._config import load_config
from jgattr.attribution import explain
from jgattr.jobs._run_folder import load_configured_dataset
from jgattr.models import as_explainable

EPS = 1e-5


def _code_rule(x, adjacency, params, num_layers, c):
    """The authors' code's EB steps for ``GraphClassifier(gcn, mean)``, one graph, class c."""
    enc = params["encoder"]
    kernels = [np.float64(enc[f"conv_{i}"]["kernel"]) for i in range(num_layers)]
    biases = [np.float64(enc[f"conv_{i}"]["bias"]) for i in range(num_layers)]
    hs, aggs = [np.float64(x)], []
    for w, b in zip(kernels, biases, strict=True):
        aggs.append(adjacency @ hs[-1])
        hs.append(np.maximum(aggs[-1] @ w + b, 0.0))
    head = np.maximum(np.float64(params["head"]["kernel"]), 0.0)
    pooled = hs[-1].mean(0)
    z = pooled @ head
    p = pooled * (head @ np.where(z > 0, np.eye(head.shape[1])[c] / np.where(z > 0, z, 1), 0))
    p = p * hs[-1] / (EPS + hs[-1].sum(0))
    p = p / (p.sum(0) + EPS)
    for layer in range(num_layers - 1, -1, -1):
        p = (p[:, None, :] * aggs[layer][:, :, None] * np.maximum(kernels[layer], 0)[None]).mean(2)
        p = aggs[layer] * p
    return p.sum(1)


def _flatness(maps):
    ratios = [m.min() / m.max() for m in maps if m.max() > 0]
    return {"median": float(np.median(ratios)), "p10": float(np.quantile(ratios, 0.1)),
            "p90": float(np.quantile(ratios, 0.9))}  # fmt: skip


def _training_facts(path: Path) -> dict:
    """The model, epochs, epoch kept and accuracies that ``jgattr train`` wrote to train.json."""
    trained = json.loads(path.read_text())
    keys = ("model", "epochs", "epoch_kept", "accuracy", "roc_auc")
    return {key: trained.get(key) for key in keys} | {"train": trained["settings"]["train"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    config = load_config(args.config)
    dataset = load_configured_dataset(config, data_dir=args.data_dir)
    trained = load_checkpoint(args.run)
    model, params = trained.model, trained.params
    eb = explain(model, params, dataset, methods=["eb"], targets="all", classes="all")
    eb = eb["excitation_backprop"]
    maps = {c: [] for c in (0, 1)}
    for t in range(eb.num_targets):
        maps[int(eb.classes[t])].append(eb.for_target(t)[1])
    difference = [0.5 * np.abs(a - b).sum() for a, b in zip(maps[0], maps[1], strict=True)]
    trained_json = Path(args.run) / "train.json"
    report = {
        "config": args.config,
        "trained": _training_facts(trained_json) if trained_json.is_file() else None,
        "graphs": len(maps[0]),
        "z_plus_min_over_max": {c: _flatness(m) for c, m in maps.items()},
        "z_plus_class_difference_median": float(np.median(difference)),
    }
    if trained.model_config.architecture == "gcn":
        prepared = as_explainable(model).prepare_graph(dataset.graph)
        offsets = np.concatenate([[0], np.cumsum(dataset.graph.n_node)])
        code = {0: [], 1: []}
        for g in range(len(offsets) - 1):
            lo, hi = offsets[g], offsets[g + 1]
            inside = (prepared.receivers >= lo) & (prepared.receivers < hi)
            a = np.zeros((hi - lo, hi - lo))
            a[prepared.receivers[inside] - lo, prepared.senders[inside] - lo] = prepared.edges[
                inside
            ]
            x = np.asarray(dataset.graph.nodes[lo:hi])
            for c in (0, 1):
                code[c].append(_code_rule(x, a, params, trained.model_config.num_layers, c))
        report["code_min_over_max"] = {c: _flatness(m) for c, m in code.items()}
        normalized = [(a / a.sum(), b / b.sum()) for a, b in zip(code[0], code[1], strict=True)]
        report["code_class_difference_median"] = float(
            np.median([0.5 * np.abs(a - b).sum() for a, b in normalized])
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
