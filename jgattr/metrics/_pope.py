"""Pope et al.'s metrics of graph-classification explanations: fidelity, contrastivity, sparsity.

The explained graphs are cut from the dataset's disjoint union in blocks of ``GRAPHS_PER_BLOCK``
graphs (padded to bucketed shapes); per block, occluding the selected nodes and predicting again
is one forward pass per (class map, threshold), all of them batched by ``vmap`` in one jitted
call. Memory follows the block, not the dataset.

Pope's fidelity rewards selecting everything: a map that is positive on every node occludes
the whole graph at t = 0.01 and scores accuracy minus the accuracy on all-zero graphs. The
*fixed-sparsity* fidelity occludes at most ``⌈f·n⌉`` nodes of each ``n``-node graph (its
top-ranked nodes of positive relevance, ``f`` fixed), beside the same occlusion of ``⌈f·n⌉``
nodes drawn at random: methods are compared at the same budget, and against chance.

References:
  Pope, Kolouri, Rostami, Martin & Hoffmann, Explainability Methods for Graph Convolutional
  Neural Networks, CVPR 2019, section 4.3 (code: github.com/ppope/explain_graphs,
  notebooks/0.4-occlusion.ipynb, ``occlude_and_predict``).
"""

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jgattr._graph_batches import GraphBatches
from jgattr.attribution import Attributions, PreparedGraph, as_explainable, prepare_data

THRESHOLDS = (0.0, 0.01, 0.05, 0.1)
HEADLINE_THRESHOLD = 0.01
FRACTIONS = (0.1, 0.2)
RANDOM_SEEDS = (0, 1, 2, 3, 4)
GRAPHS_PER_BLOCK = 128


def _class_maps(result: Attributions, n_node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[2, N]`` node maps of classes 0 and 1, each graph divided by its maximum over both
    maps, and the ``[G]`` mask of the graphs explained for both classes."""
    if result.target_level != "graph" or result.level != "node" or result.values.ndim != 1:
        raise ValueError(
            f"attributions of {result.method!r} must be node maps of graph targets (explain a "
            "graph classifier on a GraphDataset with feature_level=False), got "
            f"target_level={result.target_level!r}, level={result.level!r}"
        )
    if np.any((result.classes < 0) | (result.classes > 1)):
        raise ValueError(
            f"Pope et al.'s metrics compare the maps of classes 0 and 1, got classes "
            f"{sorted(set(result.classes.tolist()))}: explain a binary classifier"
        )
    num_graphs, num_nodes = n_node.shape[0], int(n_node.sum())
    maps = np.zeros((2, num_nodes))
    maps[result.classes[result.rows], result.sources] = result.values
    explained = np.zeros((num_graphs, 2), bool)
    explained[result.targets, result.classes] = True
    if not np.all(explained.any(1) == explained.all(1)) or not explained.any():
        raise ValueError(
            f"attributions of {result.method!r} must explain each graph for both classes: "
            "call explain(..., classes='all')"
        )
    graph_of = np.repeat(np.arange(num_graphs), n_node)
    peak = np.zeros(num_graphs)
    np.maximum.at(peak, graph_of, maps.max(0))
    scale = peak[graph_of]
    maps = np.where(scale > 0, maps / np.where(scale > 0, scale, 1.0), 0.0)
    return maps, explained.all(1)


def _ranks(keys: np.ndarray, n_node: np.ndarray) -> np.ndarray:
    """``[..., N]`` each node's rank inside its graph by descending ``keys [..., N]`` (0 = the
    largest; ties go to the lower node id)."""
    num_nodes = keys.shape[-1]
    graph_of = np.repeat(np.arange(n_node.shape[0]), n_node)
    starts = np.concatenate([[0], np.cumsum(n_node)[:-1]])
    flat = keys.reshape(-1, num_nodes)
    ranks = np.empty(flat.shape, np.int64)
    for row, key in zip(ranks, flat, strict=True):
        order = np.lexsort((np.arange(num_nodes), -key, graph_of))  # by graph, key, node id
        row[order] = np.arange(num_nodes) - starts[graph_of[order]]
    return ranks.reshape(keys.shape)


def _top_fraction(
    maps: np.ndarray, n_node: np.ndarray, fractions: Sequence[float], seeds: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-sparsity selections: ``[2, F, N]`` the at most ``⌈f·n⌉`` top-ranked nodes of
    positive relevance of each ``n``-node graph, per class map and fraction ``f``; and
    ``[S, F, N]`` exactly ``⌈f·n⌉`` nodes per graph drawn at random, per seed."""
    budget = np.ceil(np.outer(fractions, n_node) - 1e-9).astype(np.int64)  # [F, G]
    budget = np.repeat(budget, n_node, axis=1)[None]  # [1, F, N]
    top = (_ranks(maps, n_node)[:, None, :] < budget) & (maps[:, None, :] > 0)
    draws = np.stack([np.random.default_rng(s).random(maps.shape[1]) for s in seeds])
    random = _ranks(draws, n_node)[:, None, :] < budget
    return top, random


@functools.partial(jax.jit, static_argnums=0)
def _occluded_logits(apply: Callable, params, graph, occluded: jax.Array) -> jax.Array:
    """``[M, G, C]`` logits with the feature rows of ``occluded [M, N]`` set to 0, per mask."""

    def one(mask):
        nodes = graph.nodes * (1.0 - mask.astype(graph.nodes.dtype))[:, None]
        return apply(params, graph._replace(nodes=nodes))

    return jax.vmap(one)(occluded)


def _occluded_correct(explainable, params, prepared, occluded: np.ndarray, explained) -> np.ndarray:
    """``[M, explained graphs]`` whether each explained graph is still classified correctly with
    the nodes of ``occluded [M, N]`` occluded, mask by mask; streamed over blocks of
    ``GRAPHS_PER_BLOCK`` graphs cut from the union, so memory does not grow with the dataset."""
    ids = np.flatnonzero(explained)
    n_node = np.asarray(prepared.graph.n_node)
    batches = GraphBatches.from_prepared(prepared.graph, n_node, GRAPHS_PER_BLOCK)
    correct = []
    for start in range(0, len(ids), GRAPHS_PER_BLOCK):
        part = ids[start : start + GRAPHS_PER_BLOCK]
        graph, nodes = batches.batch(part), batches.node_ids(part)
        masks = np.zeros((occluded.shape[0], graph.nodes.shape[0]), bool)
        masks[:, : len(nodes)] = occluded[:, nodes]
        logits = _occluded_logits(explainable.apply, params, graph, jnp.asarray(masks))
        correct.append(np.asarray(logits)[:, : len(part)].argmax(-1) == prepared.labels[part])
    return np.concatenate(correct, axis=1)


def pope_metrics(
    model,
    params,
    data,
    attributions: Attributions,
    *,
    thresholds: Sequence[float] = THRESHOLDS,
    threshold: float = HEADLINE_THRESHOLD,
    fractions: Sequence[float] = FRACTIONS,
    random_seeds: Sequence[int] = RANDOM_SEEDS,
) -> dict:
    """Fidelity, contrastivity and sparsity of one method's class-0 and class-1 maps, all graphs.

    Each graph's two maps are stacked and divided by their joint maximum (the authors' code does
    this per molecule). A node is *selected* by a map when its value is ``> t``.

    - fidelity (per class map c and threshold t): ``accuracy − accuracy with the feature rows
      X[n, :] of the selected nodes set to 0`` (edges kept), over the explained graphs. The
      headline ``fidelity`` is the mean over the two class maps at ``threshold``. Higher is
      better: the selected nodes matter to the prediction.
    - contrastivity (at ``threshold``): ``Σ_g Hamming(m̂0, m̂1) / Σ_g |m̂0 ∨ m̂1|`` of the
      binarized maps. Higher is better: the two classes are explained by different nodes.
    - sparsity (at ``threshold``): ``1 − selected / nodes`` per graph and class map, averaged.
      Higher is better: explanations are small (an empty map scores 1).
    - fidelity at a fixed sparsity ``f`` (per class map and fraction): the same accuracy drop
      when each ``n``-node graph loses at most ``⌈f·n⌉`` nodes, its top-ranked nodes of
      positive relevance (ties to the lower node id); ``fidelity_at_fraction`` is the mean over
      the two class maps. Higher is better, and no better for selecting more: every method
      gets the same budget. ``random_fidelity_at_fraction`` occludes exactly ``⌈f·n⌉`` nodes
      per graph drawn at random (mean over ``random_seeds``), the chance level to beat.

    Args:
      model: a graph classifier (:class:`~jgattr.models.GraphClassifier`) or its
        :class:`~jgattr.models.Explainable`.
      params: its parameters.
      data: the :class:`~jgattr.data.GraphDataset` (its labels give the accuracy), or the
        :class:`~jgattr.attribution.PreparedGraph` that :func:`jgattr.attribution.prepare_data`
        made of it.
      attributions: one method's result from ``explain(model, params, data, methods=[...],
        targets=..., classes="all")``: each explained graph for class 0 and class 1.
      thresholds: the thresholds t of the fidelity sweep.
      threshold: the headline threshold (one of ``thresholds``).
      fractions: the fixed sparsities ``f`` (shares of each graph's nodes, in ``(0, 1]``).
      random_seeds: the seeds of the random occlusions at each fraction.

    Returns:
      A JSON-ready dict: ``graphs`` (how many were explained), ``thresholds``, ``threshold``,
      ``accuracy`` (unoccluded), ``accuracy_occluded`` and ``fidelity_per_class`` (``[2][L]``:
      class map × threshold), ``fidelity``, ``contrastivity``, ``sparsity``; ``fractions``,
      ``fidelity_at_fraction_per_class`` (``[2][F]``), ``fidelity_at_fraction`` (``[F]``),
      ``occluded_share_at_fraction`` (``[F]``: the mean share of a graph's nodes occluded, both
      class maps), ``random_fidelity_at_fraction`` (``[F]``); and ``higher_is_better``.

    Example:
      >>> result = explain(model, params, ds, methods=["cg"], targets="test", classes="all")
      >>> pope_metrics(model, params, ds, result["contrastive_gradient"])["fidelity"]
    """
    thresholds = [float(t) for t in thresholds]
    if float(threshold) not in thresholds:
        raise ValueError(f"threshold must be one of thresholds {thresholds}, got {threshold}")
    fractions = [float(f) for f in fractions]
    if not fractions or not all(0.0 < f <= 1.0 for f in fractions) or not random_seeds:
        raise ValueError(
            f"fractions must be shares of a graph's nodes in (0, 1] and random_seeds at least "
            f"one seed, got fractions={fractions}, random_seeds={list(random_seeds)}"
        )
    explainable = as_explainable(model)
    prepared = data if isinstance(data, PreparedGraph) else prepare_data(data, explainable)
    if prepared.level != "graph" or prepared.labels is None:
        raise ValueError(
            "pope_metrics evaluates graph classification: pass a graph classifier and its "
            f"GraphDataset, got {prepared.level}-level data"
        )
    n_node = np.asarray(prepared.graph.n_node)
    maps, explained = _class_maps(attributions, n_node)
    node_explained = np.repeat(explained, n_node)
    selected = (maps[:, None, :] > np.asarray(thresholds)[None, :, None]) & node_explained
    top, random = _top_fraction(maps, n_node, fractions, random_seeds)
    occluded = np.concatenate(
        [np.zeros((1, maps.shape[1]), bool)]
        + [m.reshape(-1, maps.shape[1]) & node_explained for m in (selected, top, random)]
    )
    accuracy = _occluded_correct(explainable, params, prepared, occluded, explained).mean(-1)
    cut = np.cumsum([1, 2 * len(thresholds), 2 * len(fractions)])
    occluded_accuracy = accuracy[cut[0] : cut[1]].reshape(2, len(thresholds))
    fidelity = accuracy[0] - occluded_accuracy
    at_fraction = accuracy[0] - accuracy[cut[1] : cut[2]].reshape(2, len(fractions))
    at_random = accuracy[0] - accuracy[cut[2] :].reshape(len(random_seeds), len(fractions))
    headline = thresholds.index(float(threshold))
    chosen = selected[:, headline][:, node_explained]  # [2, explained nodes]
    either = np.sum(chosen[0] | chosen[1])
    graph_of = np.repeat(np.arange(int(explained.sum())), n_node[explained])
    sizes = n_node[explained]
    counts = np.stack([np.bincount(graph_of, c, minlength=sizes.shape[0]) for c in chosen])
    return {
        "graphs": int(explained.sum()),
        "thresholds": thresholds,
        "threshold": float(threshold),
        "accuracy": float(accuracy[0]),
        "accuracy_occluded": occluded_accuracy.tolist(),
        "fidelity_per_class": fidelity.tolist(),
        "fidelity": float(fidelity[:, headline].mean()),
        "contrastivity": float(np.sum(chosen[0] ^ chosen[1]) / either) if either else float("nan"),
        "sparsity": float(np.mean(1.0 - counts[:, sizes > 0] / sizes[sizes > 0])),
        "fractions": fractions,
        "fidelity_at_fraction_per_class": at_fraction.tolist(),
        "fidelity_at_fraction": at_fraction.mean(0).tolist(),
        "occluded_share_at_fraction": _occluded_share(top, n_node, explained).tolist(),
        "random_fidelity_at_fraction": at_random.mean(0).tolist(),
        "higher_is_better": {
            "fidelity": True,
            "contrastivity": True,
            "sparsity": True,
            "fidelity_at_fraction": True,
        },
    }


def _occluded_share(top: np.ndarray, n_node: np.ndarray, explained: np.ndarray) -> np.ndarray:
    """``[F]`` the mean share of an explained graph's nodes that ``top [2, F, N]`` occludes,
    over graphs and both class maps."""
    graph_of = np.repeat(np.arange(n_node.shape[0]), n_node)
    keep = explained & (n_node > 0)
    shares = [
        np.bincount(graph_of, row, minlength=n_node.shape[0])[keep] / n_node[keep]
        for row in top.reshape(-1, top.shape[-1]).astype(float)
    ]
    return np.mean(np.reshape(shares, (*top.shape[:2], -1)), axis=(0, 2))
