"""The edges a deletion curve may delete, per target, and edge methods' scores on them.

An edge method (edge saliency, edge IG, GNNExplainer's edge mask, the edge half of joint IG)
scores the edges of each target's computation graph: every edge into a node within K − 1 hops
(graph targets: every edge of the graph). Its deletion curves delete those edges, most relevant
first, from the same (K + 1)-hop neighbourhoods the node curves use (:mod:`._perturb`); every
node stays. Self loops are candidates only where the model's edge masks cover them
(``Explainable.edge_mask_self_loops``), as the edge methods score them only there.
"""

import dataclasses

import numpy as np

from jgattr.attribution import Attributions, prepare_data
from jgattr.metrics._perturb import Neighbourhoods
from jgattr.models import as_explainable


@dataclasses.dataclass(frozen=True)
class EdgeCandidates:
    """The deletable edges of T targets, aligned with the neighbourhoods' union edges.

    Attributes:
      copy_target: ``[E_u]`` target index of each union edge.
      candidate: ``[E_u]`` whether the edge may be deleted (it is scored by edge methods).
      edge_id: ``[E_u]`` id of the prepared graph's edge each union edge copies.
      targets: ``[T]`` target ids.
      num_edges: edges of the prepared graph (edge methods' source ids are below it).
    """

    copy_target: np.ndarray
    candidate: np.ndarray
    edge_id: np.ndarray
    targets: np.ndarray
    num_edges: int

    @property
    def counts(self) -> np.ndarray:
        """``[T]`` number of deletable edges of each target."""
        return np.bincount(self.copy_target[self.candidate], minlength=self.targets.shape[0])


def edge_candidates(model, data, neighbourhood: Neighbourhoods) -> EdgeCandidates:
    """The edges of each target's computation graph among ``neighbourhood``'s union edges.

    Args:
      model: the model the neighbourhoods were built for.
      data: the Dataset (or graph) they come from.
      neighbourhood: from :func:`jgattr.metrics.neighbourhoods`.
    """
    explainable = as_explainable(model)
    prepared = prepare_data(data, explainable)
    wide, targets = neighbourhood.union, neighbourhood.targets
    owner = np.repeat(np.arange(targets.shape[0]), np.diff(wide.edge_offsets)).astype(np.int32)
    num_edges = np.int64(prepared.graph.senders.shape[0])
    if prepared.level == "graph":
        candidate = np.ones(wide.num_edges, bool)
    else:
        inner = prepared.union(targets, explainable.num_layers)
        inner_owner = np.repeat(np.arange(targets.shape[0]), np.diff(inner.edge_offsets))
        inner_keys = inner_owner.astype(np.int64) * num_edges + inner.edge_id
        candidate = np.isin(owner.astype(np.int64) * num_edges + wide.edge_id, inner_keys)
    if not explainable.edge_mask_self_loops:
        senders = np.asarray(prepared.graph.senders)[wide.edge_id]
        candidate &= senders != np.asarray(prepared.graph.receivers)[wide.edge_id]
    return EdgeCandidates(owner, candidate, wide.edge_id.astype(np.int32), targets, int(num_edges))


def edge_candidate_scores(candidates: EdgeCandidates, result: Attributions) -> np.ndarray:
    """``[E_u]`` an edge method's score of each candidate edge (NaN elsewhere; 0 for a candidate
    the result does not score)."""
    if not np.array_equal(result.targets, candidates.targets):
        raise ValueError(
            f"attributions of {result.method!r} are for other targets than the neighbourhoods; "
            "explain and evaluate the same targets in the same order"
        )
    num_edges = candidates.num_edges
    keys = result.rows.astype(np.int64) * num_edges + result.sources
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], np.asarray(result.values)[order]
    wide = candidates.copy_target.astype(np.int64) * num_edges + candidates.edge_id
    position = np.clip(np.searchsorted(keys, wide), 0, max(keys.shape[0] - 1, 0))
    found = keys[position] == wide if keys.size else np.zeros(wide.shape[0], bool)
    scores = np.where(found, values[position] if keys.size else 0.0, 0.0)
    return np.where(candidates.candidate, scores, np.nan).astype(np.float64)
