"""The graph-classification sections of ``report.md``: Pope et al.'s metrics and graph figures."""

from pathlib import Path

POPE_LEGEND = [
    "- Each graph is explained for both classes; its two maps are divided by their joint "
    "maximum, and a node is *selected* when its normalized relevance is above t = {t}.",
    "- *fidelity*: test accuracy minus the accuracy after the features of the selected nodes "
    "are set to zero (edges kept), mean of the class-0 and class-1 maps; higher = the selected "
    "nodes matter to the prediction.",
    "- *fidelity at t = …*: the same at each threshold of the sweep.",
    "- *contrastivity*: Hamming distance of the two binarized class maps over their union, "
    "summed over graphs; higher = the classes are explained by different nodes.",
    "- *sparsity*: 1 − the share of a graph's nodes selected, averaged; higher = smaller "
    "explanations (an empty map scores 1, so read it beside fidelity).",
    "- *fidelity at f*: the same accuracy drop when each n-node graph loses at most ⌈f·n⌉ "
    "nodes, its top-ranked nodes of positive relevance (mean of the two class maps); higher = "
    "more faithful, and selecting more does not help: fidelity at t rewards maps that select "
    "every node (then it is the accuracy minus the accuracy on all-zero graphs).",
    "- *random nodes*: fidelity at f with ⌈f·n⌉ nodes per graph drawn at random (mean over seeds): "
    "the chance level a method should beat.",
]


def pope_table(metrics: dict) -> list[str]:
    """Pope et al.'s fidelity, contrastivity and sparsity of every node method (binary tasks)."""
    rows = {n: m["pope"] for n, m in metrics["methods"].items() if "pope" in m}
    if not rows:
        return []
    first = next(iter(rows.values()))
    sweep = first["thresholds"]
    fractions = first.get("fractions", [])  # absent in an older eval.json
    lines = [
        "## Pope et al.'s metrics",
        "",
        f"{first['graphs']} graphs, unoccluded accuracy {first['accuracy']:.4f}.",
        "",
        "| method | fidelity ↑ | "
        + " | ".join(f"fidelity at t = {t:g}" for t in sweep)
        + " | contrastivity ↑ | sparsity ↑ |"
        + "".join(f" fidelity at f = {f:.0%} ↑ |" for f in fractions),
        "|---" * (len(sweep) + 4 + len(fractions)) + "|",
    ]
    for name, pope in rows.items():
        per_threshold = [
            sum(per_class[i] for per_class in pope["fidelity_per_class"]) / 2
            for i in range(len(sweep))
        ]
        lines.append(
            f"| {name} | {pope['fidelity']:.3f} | "
            + " | ".join(f"{v:.3f}" for v in per_threshold)
            + f" | {pope['contrastivity']:.3f} | {pope['sparsity']:.3f} |"
            + "".join(f" {v:.3f} |" for v in pope.get("fidelity_at_fraction", []))
        )
    if fractions:
        chance = "".join(f" {v:.3f} |" for v in first["random_fidelity_at_fraction"])
        lines.append("| random nodes |" + " |" * (len(sweep) + 3) + chance)
    legend = [line.replace("{t}", f"{first['threshold']:g}") for line in POPE_LEGEND]
    return [*lines, "", *legend, ""]


def graph_figures(run: Path, metrics: dict) -> list[str]:
    """The drawn graphs (``graph_<g>.png``), each explained for every class by every method."""
    pngs = sorted(Path(run).glob("graph_*.png"), key=lambda p: int(p.stem.split("_")[1]))
    if not pngs:
        return []
    truth = any("explanation_accuracy" in m for m in metrics["methods"].values())
    lines = [
        "## Graphs",
        "",
        "Each figure draws one test graph once per (class, node method): node colour = relevance "
        "for the row's class, red positive, blue negative, scaled to each panel's largest "
        "\\|relevance\\|; the predicted class's row is marked"
        + ("; black rings = the planted motif (ground truth)." if truth else "."),
        "",
    ]
    for png in pngs:
        lines += [f"![{png.stem}]({png.name})", ""]
    return lines
