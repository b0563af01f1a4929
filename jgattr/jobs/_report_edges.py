"""The report's faithfulness table of the edge methods: their deletion curves delete edges."""

from collections.abc import Callable, Sequence

EDGE_MODES = {
    "remove": "a deleted edge goes and the model re-prepares what is left (GCN: the "
    "normalization from the remaining degrees)",
    "zero": "a deleted edge's weight is set to zero, the other weights are unchanged",
}


def table_head(columns: Sequence[tuple]) -> list[str]:
    """The header and rule of a faithfulness table: ``method`` then each column's header."""
    return [
        "| method | " + " | ".join(c[0] for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]


def edge_faithfulness_table(
    metrics: dict,
    hops: int | None,
    columns: Sequence[tuple],
    cell: Callable[[str, dict, str, str], str],
) -> list[str]:
    """``## Faithfulness of edge methods``: one row per edge method with deletion metrics.

    Args:
      metrics: the content of ``eval.json``.
      hops: the model's layers K (the edges deleted are those into nodes within K − 1 hops).
      columns: the node table's ``(header, key, format, legend)`` columns, read the same way.
      cell: ``(method, entry, key, format) -> text`` of one cell.
    """
    edge = {
        name: entry
        for name, entry in metrics["methods"].items()
        if entry.get("deletes") == "edges" and "deletion_auc" in entry
    }
    if not edge:
        return []
    into = f"into a node within {hops - 1} hops" if hops else "of its computation graph"
    into = "of its graph" if metrics.get("target_level") == "graph" else into
    random_auc = metrics["random_edges"]["deletion_auc"]
    mode = metrics["mode"]
    lines = [
        "## Faithfulness of edge methods",
        "",
        f"{metrics['targets']} targets; each target's edges {into} (mean "
        f"{metrics['edges_mean']:.1f} per target; every node stays) are deleted (mode `{mode}`: "
        f"{EDGE_MODES.get(mode, mode)}) in the order of each method's edge scores. A random "
        f"edge order reaches deletion AUC {random_auc:.4f}.",
        "",
        *table_head(columns),
    ]
    unsigned = []
    for name, entry in edge.items():
        cells = [cell(name, entry, key, fmt) for _, key, fmt, _ in columns]
        unsigned += [name] if "n/a²" in cells else []
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "- The columns read as in the table above with *edges* in place of neighbours: "
        f"*deletion AUC* is lower = more faithful (random edge order: {random_auc:.4f}), "
        "*fidelity+* / *fidelity-* delete / keep the top 20% of the edges. *contrastivity* is "
        "computed for node methods only (—).",
    ]
    if unsigned:
        lines.append(
            f"- ² {', '.join(unsigned)} scores are magnitudes (never negative): the minimal "
            "patch deletes nothing, so Δp would be 0 by construction."
        )
    return [*lines, ""]
