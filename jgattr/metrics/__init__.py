"""Metrics of attributions: faithfulness (deletion curves of nodes, or of edges for edge
methods; fidelity, minimal patch, sparsity, contrastivity), accuracy against a known ground
truth (ROC-AUC), and Pope et al.'s graph-classification metrics (fidelity by occlusion,
contrastivity, sparsity)."""

from jgattr.metrics._blocked import MAX_COPIES, MAX_GRAPH_NODES, evaluate, target_blocks
from jgattr.metrics._edge_deletion import EdgeCandidates, edge_candidate_scores, edge_candidates
from jgattr.metrics._faithfulness import (
    LEVELS,
    candidate_scores,
    contrastivity,
    deletion_masks,
)
from jgattr.metrics._ground_truth import explanation_accuracy, roc_auc
from jgattr.metrics._perturb import MODES, Neighbourhoods, evaluate_keep_masks, neighbourhoods
from jgattr.metrics._pope import pope_metrics

__all__ = [
    "LEVELS",
    "MAX_COPIES",
    "MAX_GRAPH_NODES",
    "MODES",
    "EdgeCandidates",
    "Neighbourhoods",
    "candidate_scores",
    "contrastivity",
    "deletion_masks",
    "edge_candidate_scores",
    "edge_candidates",
    "evaluate",
    "evaluate_keep_masks",
    "explanation_accuracy",
    "neighbourhoods",
    "pope_metrics",
    "roc_auc",
    "target_blocks",
]
