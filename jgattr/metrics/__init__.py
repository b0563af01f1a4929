"""Metrics of attributions: faithfulness (deletion curves, fidelity, minimal patch, sparsity,
contrastivity) and accuracy against a known ground truth (ROC-AUC)."""

from jgattr.metrics._faithfulness import (
    LEVELS,
    candidate_scores,
    contrastivity,
    deletion_masks,
    evaluate,
)
from jgattr.metrics._ground_truth import explanation_accuracy, roc_auc
from jgattr.metrics._perturb import MODES, Neighbourhoods, evaluate_keep_masks, neighbourhoods

__all__ = [
    "LEVELS",
    "MODES",
    "Neighbourhoods",
    "candidate_scores",
    "contrastivity",
    "deletion_masks",
    "evaluate",
    "evaluate_keep_masks",
    "explanation_accuracy",
    "neighbourhoods",
    "roc_auc",
]
