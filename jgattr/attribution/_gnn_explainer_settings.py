"""GNNExplainer's settings: their checks, and two sets of defaults (PyG's; Ying et al.'s code).

``pyg`` is ``torch_geometric.explain.algorithm.GNNExplainer`` (the default). ``ying`` is
Ying et al.'s ``explainer/explain.py`` (``ExplainModule``) with ``explainer_main.py``'s defaults,
as far as jgattr's per-edge objective can follow it: Adam lr 0.1 for 100 epochs; the edge mask
starts at ``N(1, 2 / N)`` (mean 1, where PyG's mean is 0); one feature mask shared by all nodes
(``common_attributes``), starting at 0 (σ = 0.5); loss = cross entropy + 0.005 Σ σ(M_e) + mean
H(σ(M_e)) + mean σ(M_x) (their loss leaves the feature-mask entropy out: ``node_feat_ent = 0``).
Their mask covers every entry of the neighbourhood's dense ``n x n`` adjacency, so its entropy
mean runs over ``n²`` entries (``edge_entropy_mean = "dense"``: each edge's entropy weighs
``1 / n²``; the non-edge entries do not move the edges' masks, so the rest of their size and
entropy terms changes no gradient). Not followed: the symmetrized mask (``(M + Mᵀ) / 2``), the
Laplacian term of the predicted labels (weight 1 / n²), and their cross entropy of the true label.

References:
  Ying et al., GNNExplainer, NeurIPS 2019 (https://github.com/RexYing/gnn-model-explainer);
  PyG 2.x ``torch_geometric/explain/algorithm/gnn_explainer.py``.
"""

import math
from typing import Any

from jgattr._names import GNN_EXPLAINER_PRESETS, shown
from jgattr.attribution._method_types import check_choice

NODE_MASK_TYPES = ("object", "attributes", "common_attributes", "none")
LEVELS = ("edge", "node")
STATISTICS = ("mean", "std")

PRESETS: dict[str, dict[str, Any]] = {
    "pyg": {
        "epochs": 100,
        "lr": 0.01,
        "edge_size": 0.005,
        "edge_ent": 1.0,
        "node_feat_size": 1.0,
        "node_feat_ent": 0.1,
        "node_mask_type": "object",
        "edge_init_mean": 0.0,
        "node_init_std": 0.1,
        "edge_entropy_mean": "edges",
    },
    "ying": {
        "epochs": 100,
        "lr": 0.1,
        "edge_size": 0.005,
        "edge_ent": 1.0,
        "node_feat_size": 1.0,
        "node_feat_ent": 0.0,
        "node_mask_type": "common_attributes",
        "edge_init_mean": 1.0,
        "node_init_std": 0.0,
        "edge_entropy_mean": "dense",
    },
}
FROM_PRESET = "preset"  # node_mask_type's default: the preset's (None already means no mask)


def resolve_preset(preset: str, given: dict[str, Any]) -> dict[str, Any]:
    """The preset's settings, overridden by every setting in ``given`` that is set (not None;
    ``node_mask_type``: not :data:`FROM_PRESET`)."""
    if preset not in PRESETS:
        raise ValueError(
            f"preset must be one of {list(GNN_EXPLAINER_PRESETS)}, got {shown(preset)}: 'pyg' "
            "(PyG's defaults) or 'ying' (Ying et al.'s code)"
        )
    chosen = dict(PRESETS[preset])
    for key, value in given.items():
        unset = value == FROM_PRESET if key == "node_mask_type" else value is None
        if not unset:
            chosen[key] = value
    _check_numbers(chosen)
    return chosen


def _check_numbers(chosen: dict[str, Any]) -> None:
    epochs = chosen["epochs"]
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    for name in ("lr", "edge_size", "edge_ent", "node_feat_size", "node_feat_ent"):
        value = chosen[name]
        finite = isinstance(value, int | float) and math.isfinite(value)
        if not finite or value < 0 or (name == "lr" and value == 0):
            kind = "a positive number" if name == "lr" else "a number >= 0"
            raise ValueError(f"{name} must be {kind}, got {value!r}")
    if chosen["edge_entropy_mean"] not in ("edges", "dense"):
        raise ValueError(
            "edge_entropy_mean must be 'edges' (PyG) or 'dense' (Ying et al.), got "
            f"{chosen['edge_entropy_mean']!r}"
        )
    for name in ("edge_init_mean", "node_init_std"):
        value = chosen[name]
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number, got {value!r}")


def check_structure(
    node_mask_type: str,
    level: str,
    statistic: str,
    init_nodes: int | None,
    restarts: int,
    edge_mask: bool,
    eps: float,
) -> None:
    """The choices of :func:`~jgattr.attribution.gnn_explainer` that are not numbers of the
    objective: a ``ValueError`` naming the argument, its value and the fix."""
    check_choice("node_mask_type", node_mask_type, NODE_MASK_TYPES)
    check_choice("level", level, LEVELS)
    check_choice("statistic", statistic, STATISTICS)
    if init_nodes is not None and (not isinstance(init_nodes, int) or init_nodes < 1):
        raise ValueError(f"init_nodes must be None or an integer >= 1, got {init_nodes!r}")
    if not isinstance(restarts, int) or isinstance(restarts, bool) or restarts < 1:
        raise ValueError(f"restarts must be an integer >= 1, got {restarts!r}")
    if level == "edge" and not edge_mask:
        raise ValueError("edge_mask=False learns no edge mask: use level='node' for the node mask")
    if level == "node" and node_mask_type == "none":
        raise ValueError(
            "node_mask_type='none' learns no node mask: use level='edge', or a node_mask_type"
        )
    if not (isinstance(eps, int | float) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
