"""The measured tables of the README and docs/benchmarks.md, rendered from the files that hold
their numbers.

Usage:
  python benchmarks/readme_tables.py ba-2motifs runs/ba-2motifs   # after `jgattr run --config
                                                                   # configs/ba-2motifs.toml`
  python benchmarks/readme_tables.py ground-truth                  # benchmarks/results JSONs
  python benchmarks/readme_tables.py peers                         # the README's Captum table

Prints the Markdown the README and docs/benchmarks.md hold, so a rerun shows at once whether they
still say what the command gives; ``tests/test_readme_numbers.py`` compares them. ``ba-2motifs``
reads a run folder's ``train.json`` and ``eval.json``; ``ground-truth`` reads
``benchmarks/results/ground_truth_cpu_2core.json``; ``peers`` reads
``benchmarks/results/peers.json``.
"""

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
# Luo et al. 2020 (PGExplainer), Table 3, BA-2Motifs edge AUC: recalled, not checked (docs).
PUBLISHED_2MOTIFS = {
    "saliency": "GRAD 0.717",
    "edge_saliency": "ATT 0.674",
    "gnn_explainer": "GNNExplainer 0.742, PGExplainer 0.926",
}
NAMES_2MOTIFS = {"gnn_explainer": "gnn_explainer (PyG defaults: 100 epochs, lr 0.01)"}
ORDER_2MOTIFS = (  # configs/ba-2motifs.toml's [explain] methods
    "saliency", "nam", "integrated_gradients", "sig_lid_ig", "contrastive_gradient", "cam",
    "grad_cam", "grad_cam_avg", "edge_integrated_gradients", "edge_saliency", "gnn_explainer",
)  # fmt: skip
POPE_ORDER = (
    "cam", "grad_cam", "grad_cam_avg", "contrastive_gradient", "saliency", "nam",
    "integrated_gradients", "sig_lid_ig",
)  # fmt: skip
GROUND_TRUTH_COLUMNS = (  # (docs/benchmarks.md column, method key)
    ("saliency", "saliency"),
    ("NAM", "nam"),
    ("IG (50 steps)", "integrated_gradients"),
    ("SIG-LID-IG", "sig_lid_ig"),
    ("edge IG", "edge_integrated_gradients"),
    ("edge saliency", "edge_saliency"),
    ("GNNExplainer, PyG defaults", "gnn_explainer"),
    ("GNNExplainer, Ying et al.'s settings", "gnn_explainer_ying"),
)
DATASETS = (  # (docs/benchmarks.md label, benchmarks/ground_truth.py dataset)
    ("BA-Shapes (generated)", "ba-shapes"),
    ("BA-Community (generated)", "ba-community"),
    ("Tree-Cycles (generated)", "tree-cycles"),
    ("Tree-Grid (generated)", "tree-grid"),
    ("BA-Shapes (released syn1)", "gnnexplainer:syn1"),
    ("BA-Community (released syn2)", "gnnexplainer:syn2"),
)


def _header(*columns: str) -> list[str]:
    """A Markdown table's header line and rule."""
    return ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]


def _f(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def ba2motifs_accuracy(run: Path) -> str:
    """The sentence's accuracies: ``test accuracy **1.000** (train 0.996, val 1.000)``."""
    acc = json.loads((run / "train.json").read_text())["accuracy"]
    return f"test accuracy **{acc['test']:.3f}** (train {acc['train']:.3f}, val {acc['val']:.3f})"


def ba2motifs_tables(run: Path) -> list[str]:
    """The explanation-accuracy table and Pope et al.'s table of a BA-2Motifs run folder."""
    methods = json.loads((run / "eval.json").read_text())["methods"]
    accuracy = _header(
        "method", "node AUC (\\|score\\|)", "edge AUC (\\|score\\|)", "edge AUC (signed)",
        "published edge AUC",
    )  # fmt: skip
    for name in ORDER_2MOTIFS:
        a = methods[name]["explanation_accuracy"]
        accuracy.append(
            f"| {NAMES_2MOTIFS.get(name, name)} | {_f(a['node_auc'])} | {_f(a['edge_auc'])} | "
            f"{_f(a['edge_auc_signed'])} |"
            + (f" {PUBLISHED_2MOTIFS[name]} |" if name in PUBLISHED_2MOTIFS else " |")
        )
    pope = ["| method | fidelity | contrastivity | sparsity |", "|---|---|---|---|"]
    for name in POPE_ORDER:
        p = methods[name]["pope"]
        pope.append(
            f"| {name} | {p['fidelity']:.3f} | {p['contrastivity']:.3f} | {p['sparsity']:.3f} |"
        )
    return ["\n".join(accuracy), "\n".join(pope)]


def ground_truth_rows(results: Path = RESULTS) -> list[str]:
    """The explanation-accuracy table that ``benchmarks/ground_truth.py`` measured: one line per
    benchmark, the model's test accuracy beside every method's AUC (node / edge for node
    methods, edge for edge methods) and the published GNNExplainer and gradient edge AUCs."""
    runs = json.loads((results / "ground_truth_cpu_2core.json").read_text())["results"]
    by_name = {r["dataset"]: r for r in runs}
    rows = [
        "| benchmark | model test acc. | "
        + " | ".join(label for label, _ in GROUND_TRUTH_COLUMNS)
        + " | published GNNExplainer / gradient |",
        "|---" * (len(GROUND_TRUTH_COLUMNS) + 3) + "|",
    ]
    for label, dataset in DATASETS:
        run = by_name[dataset]
        cells = []
        for _, key in GROUND_TRUTH_COLUMNS:
            a = run["methods"][key]
            node = "" if a["node_auc"] is None else f"{a['node_auc']:.3f} / "
            cells.append(f"{node}{a['edge_auc']:.3f}")
        published = run["published_edge_auc"]
        rows.append(
            f"| {label} | {run['accuracy']['test']:.3f} | " + " | ".join(cells)
            + f" | {published['gnnexplainer']:.3f} / {published['grad']:.3f} |"
        )  # fmt: skip
    return rows


PEERS_ORDER = ("saliency", "nam", "ig")  # benchmarks/results/peers.json's methods, in order


def peers_rows(results: Path = RESULTS) -> list[str]:
    """The README's table of jgattr beside Captum (``benchmarks/peers.py``): per method, the
    relative difference, Captum's seconds per node and the speed ratio, warm (first call)."""
    methods = json.loads((results / "peers.json").read_text())["methods"]
    rows = _header(
        "jgattr method", "Captum peer", "max relative difference (median)", "Captum s / node",
        "ratio warm (first call)",
    )  # fmt: skip
    for name in PEERS_ORDER:
        m = methods[name]
        rows.append(
            f"| `{name}` | `{m['captum']}` | {m['max_relative_difference']:.1e} "
            f"({m['median_relative_difference']:.1e}) | {m['captum_seconds_per_target']:.3g} | "
            f"{m['speed_ratio_warm']:,.0f}x ({m['speed_ratio_cold']:.1f}x) |"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", choices=["ba-2motifs", "ground-truth", "peers"])
    parser.add_argument("run", nargs="?", type=Path, help="run folder (ba-2motifs)")
    args = parser.parse_args()
    if args.table == "ba-2motifs":
        if args.run is None:
            parser.error("ba-2motifs needs the run folder of `jgattr run --config configs/...`")
        print(ba2motifs_accuracy(args.run), *ba2motifs_tables(args.run), sep="\n\n")
    elif args.table == "peers":
        print("\n".join(peers_rows()))
    else:
        print("\n".join(ground_truth_rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
