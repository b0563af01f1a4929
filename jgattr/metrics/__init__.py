"""Faithfulness metrics of attributions: deletion curves, fidelity, minimal patch, sparsity."""

from jgattr.metrics._faithfulness import (
    LEVELS,
    candidate_scores,
    contrastivity,
    deletion_masks,
    evaluate,
)
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
    "neighbourhoods",
]
