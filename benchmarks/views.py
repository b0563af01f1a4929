"""The dataset-level views (jgattr.analysis) of Cora (every node a target) and MUTAG (every graph).

Usage:
  python benchmarks/views.py --out benchmarks/results/views

Cora: ``configs/cora.toml``'s GCN, then NAM, IG and saliency explain all 2,708 nodes (predicted
class) into result folders (``explain_to_folder``); every view is computed from the folders,
streaming. MUTAG: ``configs/mutag.toml``'s GIN, then saliency, IG, CAM and Grad-CAM explain all
188 graphs; relevance per atom type and the share on nitro groups. Writes ``<out>/summary.json``
and the PNG figures; the real files are read from ``../shared/data`` (``$JGATTR_SHARED_DATA``).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _report import emit
from _setup import methods_of, trained_run

from jgattr import analysis
from jgattr.attribution import explain_to_folder
from jgattr.viz import agreement_figure, grouped_bars_figure, influence_figure

CORA_METHODS = ["nam", "integrated_gradients", "saliency"]
MUTAG_METHODS = ["saliency", "integrated_gradients", "cam", "grad_cam"]
MIN_ATOMS = 10  # atom types drawn (rarer ones, e.g. MUTAG's one I atom, stay in the JSON)
_ARRAYS = ("abs", "signed", "per_class")


def _png(figure, path: Path) -> None:
    figure.savefig(path.with_suffix(".png"), dpi=150)


def _agreement(folders: dict, num_classes: int, title: str, out: Path) -> dict:
    """Method agreement of the folders, its figure saved as ``<dataset>_agreement.png``."""
    agreement = analysis.method_agreement(folders, num_classes)
    figure = agreement_figure(agreement.pop("per_pair"), title=title)
    _png(figure, out / f"{title.split(':')[0].lower()}_agreement")
    return agreement


def _explain(config, dataset, model, params, names, work: Path) -> tuple[dict, float]:
    start = time.perf_counter()
    folders = explain_to_folder(
        model,
        params,
        dataset,
        work,
        methods=methods_of(config, names),
        targets="all",
        classes="predicted",
    )
    return folders, time.perf_counter() - start


def cora_views(out: Path, work: Path) -> dict:
    config, dataset, model, trained = trained_run("cora")
    folders, seconds = _explain(config, dataset, model, trained.params, CORA_METHODS, work)
    n, c = dataset.num_nodes, dataset.num_classes
    degree = np.bincount(dataset.graph.receivers, minlength=n)
    influence = {m: analysis.influence(f, n, c) for m, f in folders.items()}
    for method, view in influence.items():
        figure = influence_figure(
            degree,
            view["abs"],
            dataset.labels,
            title=f"Cora, {method}: influence of each node on all 2,708 predictions",
        )
        _png(figure, out / f"cora_influence_{method}")
    predicted = analysis.open_result(folders["nam"]).classes
    locality = {
        m: analysis.class_locality(f, dataset.labels, predicted, c) for m, f in folders.items()
    }
    names = [f"class {k}" for k in range(c)]
    shares = {m: v["true_share"] for m, v in locality.items()}
    figure = grouped_bars_figure(
        shares,
        names,
        reference=locality["nam"]["true_baseline"],
        reference_label="share of same-class sources (count)",
        ylabel="share of neighbour |relevance| from the same true class",
        title="Cora: class locality",
    )
    _png(figure, out / "cora_class_locality")
    agreement = _agreement(folders, c, "Cora: method agreement over all 2,708 targets", out)
    return {
        "dataset": "cora",
        "accuracy": trained.accuracy,
        "explain_seconds": round(seconds, 2),
        "influence": {
            m: {k: v for k, v in view.items() if k not in _ARRAYS} for m, view in influence.items()
        },
        "degree_influence_spearman": {
            m: float(
                np.corrcoef(np.argsort(np.argsort(degree)), np.argsort(np.argsort(v["abs"])))[0, 1]
            )
            for m, v in influence.items()
        },
        "agreement": agreement,
        "class_locality": locality,
    }


def _atom_labels(dataset) -> tuple[np.ndarray, tuple[str, ...]]:
    """A label per atom: its element, with the N and O of nitro groups apart."""
    atoms = ("C", "N", "O", "F", "I", "Cl", "Br", "N in NO2", "O in NO2")
    names = np.asarray(dataset.node_names).astype(str)
    nitro = analysis.nitro_mask(dataset.graph.senders, dataset.graph.receivers, names)
    names = np.where(nitro, np.char.add(names, " in NO2"), names)
    return np.array([atoms.index(a) for a in names]), atoms


def nitro_shares(dataset, results: dict) -> dict:
    """Per method, the mean share of |relevance| on nitro-group atoms over the graphs predicted
    mutagenic (class 1) that hold a nitro group, and that share if relevance were uniform."""
    nitro = analysis.nitro_mask(dataset.graph.senders, dataset.graph.receivers, dataset.node_names)
    graph = dataset.graph_of_node
    on = np.bincount(graph[nitro], minlength=dataset.num_graphs)
    uniform = on / np.bincount(graph, minlength=dataset.num_graphs)
    shares = {}
    for method, result in results.items():
        targets, classes, share = analysis.mask_share(result, nitro)
        pick = (classes == 1) & (on[targets] > 0)
        shares[method] = {
            "graphs": int(pick.sum()),
            "mean_share": round(float(np.nanmean(share[pick])), 4),
            "uniform_share": round(float(uniform[targets[pick]].mean()), 4),
        }
    return shares


def mutag_views(out: Path, work: Path) -> dict:
    config, dataset, model, trained = trained_run("mutag")
    folders, seconds = _explain(config, dataset, model, trained.params, MUTAG_METHODS, work)
    node_labels, atoms = _atom_labels(dataset)
    per_atom = {m: analysis.label_relevance(f, node_labels, atoms, 2) for m, f in folders.items()}
    nitro_share = nitro_shares(dataset, folders)
    present = np.array(next(iter(per_atom.values()))["count"][1]) >= MIN_ATOMS
    enrichment = {m: np.array(v["enrichment"][1], float)[present] for m, v in per_atom.items()}
    figure = grouped_bars_figure(
        enrichment,
        [a for a, p in zip(atoms, present, strict=True) if p],
        reference=np.ones(int(present.sum())),
        reference_label="the average atom",
        ylabel="|relevance| per atom / average atom",
        title="MUTAG, graphs predicted mutagenic: relevance per atom type (NO2 atoms apart; "
        f"types with at least {MIN_ATOMS} atoms)",
    )
    _png(figure, out / "mutag_atoms")
    agreement = _agreement(folders, 2, "MUTAG: method agreement over all 188 graphs", out)
    return {
        "dataset": "tu:MUTAG",
        "accuracy": trained.accuracy,
        "explain_seconds": round(seconds, 2),
        "atoms": per_atom,
        "nitro_share_of_mutagenic_predictions": nitro_share,
        "agreement": agreement,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/views"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        report = {
            "benchmark": "views",
            "cora": cora_views(args.out, Path(work) / "cora"),
            "mutag": mutag_views(args.out, Path(work) / "mutag"),
        }
    return emit(report, args.out / "summary.json")


if __name__ == "__main__":
    sys.exit(main())
