"""The report's faithfulness table: node methods' deletion metrics, what each column means and
which way is better (the edge methods' own table is :mod:`._report_edges`)."""

from typing import Any

from jgattr.attribution import get_method
from jgattr.jobs._report_edges import edge_faithfulness_table, table_head

MODES = {
    "remove": "a deleted node and its edges go, and the model re-prepares what is left "
    "(GCN: the normalization from the remaining degrees)",
    "zero": "a deleted node's features are set to zero, the graph is unchanged",
}

FAITHFULNESS_COLUMNS = (
    # (header, key, format, legend line)
    ("deletion AUC ↓", "deletion_auc", "{:.4f}", None),  # legend line needs K, built below
    (
        "reverse AUC ↑",
        "reverse_deletion_auc",
        "{:.4f}",
        "*reverse AUC*: the same, deleting the least relevant first; higher = more faithful.",
    ),
    (
        "prob. change AUC ↑",
        "probability_change_auc",
        "{:.4f}",
        "*prob. change AUC*: area under the mean change in p(explained class) when only the top "
        "fraction q of each target's {nb} is kept (q from 0 to 1): negative when dropping "
        "the rest lowers p, positive when the dropped {nb} argued against the class; "
        "higher = the top-ranked {nb} carry the prediction.",
    ),
    (
        "fidelity+ ↑",
        "fidelity_plus",
        "{:.3f}",
        "*fidelity+*: fraction of targets whose prediction changes when the top 20% of their "
        "{nb} are deleted; higher = the top nodes are necessary.",
    ),
    (
        "fidelity- ↓",
        "fidelity_minus",
        "{:.3f}",
        "*fidelity-*: fraction of targets whose prediction changes when only the top 20% are kept; "
        "lower = the top nodes are sufficient.",
    ),
    (
        "minimal patch Δp ↑",
        "minimal_patch_probability_change",
        "{:+.4f}",
        "*minimal patch Δp*: mean change in p(explained class) after deleting every one of "
        "the {nb} with a negative score; higher = the negative scores really marked evidence "
        "against the class.",
    ),
    (
        "sparsity ↑",
        "sparsity",
        "{:.3f}",
        "*sparsity*: 1 − the share of {nb} whose \\|score\\| is at least 10% of the target's "
        "largest (Pope et al.); higher = a more concentrated explanation.",
    ),
    (
        "contrastivity ↑",
        "contrastivity",
        "{:.3f}",
        "*contrastivity*: how different the positive evidence (score > 0 and at least 10% of the "
        "largest) for the predicted class and for the runner-up class is, 0 = the same nodes, "
        "1 = disjoint (Pope et al.); higher = more class-specific.",
    ),
)


def fact(name: str, metrics: dict | None, key: str) -> Any:
    """A method's ``level`` or ``signed`` as ``eval.json`` recorded it, else the method's own
    (its registry entry at default settings)."""
    entry = (metrics or {}).get("methods", {}).get(name, {})
    return entry[key] if key in entry else getattr(get_method(name), key)


def neighbours(hops: int | None, level: str = "node") -> str:
    if level == "graph":
        return "graph nodes"
    return f"{hops}-hop neighbours" if hops else "neighbours (its receptive field)"


def _sample_sentence(metrics: dict) -> str:
    """Says that the metrics score a sample when they do (``[evaluate] sample``)."""
    scored, explained = metrics.get("targets_scored"), metrics.get("targets_explained")
    if scored is None or scored == explained:
        return ""
    return (
        f" The metrics score a seeded sample of {scored:,} of the {explained:,} explained "
        "targets (`[evaluate] sample`)."
    )


def faithfulness_table(metrics: dict, hops: int | None) -> list[str]:
    random_auc = metrics["random"]["deletion_auc"]
    node = {
        n: m
        for n, m in metrics["methods"].items()
        if "deletion_auc" in m and m.get("deletes", "nodes") == "nodes"
    }
    scored = {n for n, m in metrics["methods"].items() if m.get("deletes") == "edges"}
    edge = [n for n in metrics["methods"] if n not in node and n not in scored]
    lines = [
        "## Faithfulness",
        "",
        f"{metrics['targets']} targets; each target's "
        f"{neighbours(hops, metrics.get('target_level', 'node'))} are deleted "
        f"(mode `{metrics['mode']}`: {MODES.get(metrics['mode'], metrics['mode'])}) in the "
        f"order of each method's scores. A random order reaches deletion AUC {random_auc:.4f}."
        + _sample_sentence(metrics),
        "",
        *table_head(FAITHFULNESS_COLUMNS),
    ]
    for name, m in node.items():
        signed = fact(name, metrics, "signed")
        cells = [_cell(signed, m, key, fmt) for _, key, fmt, _ in FAITHFULNESS_COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        f"| {name} | " + " | ".join(["—¹"] * len(FAITHFULNESS_COLUMNS)) + " |" for name in edge
    ]
    lines += ["", *_faithfulness_legend(hops, random_auc, edge, metrics, node)]
    return [*lines, "", *edge_faithfulness_table(metrics, hops, FAITHFULNESS_COLUMNS, _cell)]


def _cell(signed: bool, entry: dict, key: str, fmt: str) -> str:
    if key == "minimal_patch_probability_change" and not signed:
        return "n/a²"
    value = entry.get(key)
    return "—" if value is None else fmt.format(value)


def _faithfulness_legend(
    hops: int | None, random_auc: float, edge: list[str], metrics: dict, node: dict
) -> list[str]:
    level = metrics.get("target_level", "node")
    deletion = (
        f"- *deletion AUC*: area under the test accuracy of the targets against the fraction of "
        f"each target's {neighbours(hops, level)} deleted, most relevant first; lower = more "
        f"faithful (random order: {random_auc:.4f})."
    )
    words = {"nb": "graph nodes" if level == "graph" else "neighbours"}
    lines = [deletion, *("- " + c[3].format(**words) for c in FAITHFULNESS_COLUMNS if c[3])]
    if edge:
        where = (
            "their explanation accuracy is in the next table"
            if any("explanation_accuracy" in metrics["methods"][n] for n in edge)
            else "this dataset has no ground truth, so they have no metric here"
        )
        lines.append(
            f"- ¹ {', '.join(edge)} score edges, not nodes, and this eval.json has no edge "
            f"deletion for them (rerun `jgattr evaluate`); {where}."
        )
    unsigned = sorted(name for name in node if not fact(name, metrics, "signed"))
    if unsigned:
        lines.append(
            f"- ² {', '.join(unsigned)} scores are magnitudes (never negative): its minimal patch "
            "deletes nothing, so Δp would be 0 by construction."
        )
    return lines
