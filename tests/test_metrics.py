"""Faithfulness metrics: hand-built graphs with known answers, and batched vs one-at-a-time."""

import dataclasses

import jax
import jax.numpy as jnp
import jraph
import numpy as np
import pytest

from jgattr.attribution import explain
from jgattr.data import Dataset
from jgattr.metrics import (
    deletion_masks,
    edge_candidate_scores,
    edge_candidates,
    evaluate,
    evaluate_keep_masks,
    neighbourhoods,
)
from jgattr.models import GCN, gcn_normalize, make_apply_fn, prepare_graph
from tests.attribution_helpers import NUM_NODES, build, raw_graph


def _dataset(graph: jraph.GraphsTuple, labels, num_classes: int) -> Dataset:
    n = graph.nodes.shape[0]
    return Dataset(
        name="toy",
        graph=graph,
        labels=np.asarray(labels, np.int32),
        train_mask=np.zeros(n, bool),
        val_mask=np.zeros(n, bool),
        test_mask=np.ones(n, bool),
        num_classes=num_classes,
    )


def _star():
    """Target 0 linked to nodes 1 and 2; only node 1 has features; a bias favours class 1."""
    pairs = np.array([[0, 1], [1, 0], [0, 2], [2, 0]], np.int32)
    nodes = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]], np.float32)
    graph = jraph.GraphsTuple(
        nodes=nodes,
        edges=None,
        senders=pairs[:, 0],
        receivers=pairs[:, 1],
        n_node=np.array([3], np.int32),
        n_edge=np.array([4], np.int32),
        globals=None,
    )
    model = GCN(num_classes=2, hidden_size=2, num_layers=1)
    params = {
        "conv_0": {
            "kernel": jnp.array([[1.0, -1.0], [0.0, 0.0]]),
            "bias": jnp.array([0.0, 0.1]),
        }
    }
    return model, params, _dataset(graph, [0, 0, 0], 2)


@pytest.mark.parametrize("mode", ["remove", "zero"])
def test_prediction_depending_on_one_neighbour(mode):
    model, params, dataset = _star()
    results = explain(model, params, dataset, methods=["nam"], targets=np.array([0]))
    sources, values = results["nam"].for_target(0)
    assert sources.tolist() == [0, 1, 2]
    np.testing.assert_allclose(values, [0.0, 1 / np.sqrt(6), 0.0], atol=1e-6)
    metrics = evaluate(
        model, params, dataset, results, mode=mode, levels=[0.0, 0.5, 1.0], random_seeds=(0,)
    )
    nam = metrics["methods"]["nam"]
    assert metrics["accuracy_unperturbed"] == 1.0
    assert nam["deletion_accuracy"] == [1.0, 0.0, 0.0]  # node 1 goes first: class 1 wins
    assert nam["reverse_deletion_accuracy"] == [1.0, 1.0, 0.0]  # node 2 first: no change
    assert nam["fidelity_plus"] == 0.0 and nam["deletion_auc"] == pytest.approx(0.25)
    assert nam["minimal_patch_probability_change"] == pytest.approx(0.0)  # no negative node


def test_minimal_patch_raises_the_probability_when_a_node_hurts():
    model, params, dataset = _star()
    hurting = dataset.graph._replace(nodes=np.array([[0, 0], [1, 0], [-0.5, 0]], np.float32))
    dataset = _dataset(hurting, [0, 0, 0], 2)
    results = explain(model, params, dataset, methods=["nam"], targets=np.array([0]))
    assert results["nam"].for_target(0)[1][2] < 0
    metrics = evaluate(model, params, dataset, results, levels=[0.0, 1.0], random_seeds=(0,))
    assert metrics["methods"]["nam"]["minimal_patch_probability_change"] > 0.05


def _reference_logits(model, params, raw, target, keep_nodes, mode):
    """One target, one mask, the slow way: delete the nodes' edges (or zero their features) in
    the raw graph, prepare the whole graph anew through the model and run it."""
    if mode == "remove":
        alive = keep_nodes[raw.senders] & keep_nodes[raw.receivers]
        raw = raw._replace(senders=raw.senders[alive], receivers=raw.receivers[alive])
    else:
        raw = raw._replace(nodes=np.where(keep_nodes[:, None], raw.nodes, 0.0))
    prepared = jax.tree.map(jnp.asarray, prepare_graph(model, raw))
    return np.asarray(make_apply_fn(model)(params, prepared))[target]


@pytest.mark.parametrize("mode", ["remove", "zero"])
@pytest.mark.parametrize(
    "model_name",
    [
        "gcn-1",
        "gcn-2",
        "gcn-3",
        # 30-40 s each cold: the GCN variants stay in the default suite
        *(pytest.param(m, marks=pytest.mark.slow) for m in ("gat", "gin", "sage")),
    ],
)
def test_batched_evaluation_equals_one_target_at_a_time(mode, model_name):
    """Every model re-prepares each perturbed neighbourhood through its own hook (GCN: degrees;
    GAT: attention over the edges left; GraphSAGE: the mean over them)."""
    model, params, graph = build(model_name, seed=2, dtype=np.float32)
    raw = raw_graph(seed=2, dtype=np.float32)
    targets = np.array([0, 3, 8, 15])  # the hub, two others, the isolated node
    hood = neighbourhoods(model, graph, targets)
    rng = np.random.default_rng(0)
    keep = rng.random((3, hood.union.num_copies)) < 0.6
    keep[:, hood.union.target_copy] = True
    logits = evaluate_keep_masks(model, params, graph, hood, keep, mode=mode)
    for m in range(keep.shape[0]):
        for t, node in enumerate(targets):
            window = slice(hood.union.node_offsets[t], hood.union.node_offsets[t + 1])
            keep_nodes = np.ones(NUM_NODES, bool)
            keep_nodes[hood.union.copy_node[window]] = keep[m, window]
            expected = _reference_logits(model, params, raw, node, keep_nodes, mode)
            np.testing.assert_allclose(logits[m, t], expected, rtol=1e-4, atol=1e-5)


def test_neighbourhoods_of_similar_size_share_one_padded_shape():
    """Blocks of targets pad their copies, edges and targets to bucketed sizes (one compiled
    evaluator for all); the spare copies and edges change no target's logits."""
    model, params, graph = build("gcn-2", seed=2, dtype=np.float32)
    first, second = (neighbourhoods(model, graph, np.array(t)) for t in ([1, 2], [5, 6]))
    assert first.union.num_copies != second.union.num_copies
    assert first.shape == second.shape and first.shape[0] > first.union.num_copies
    keep = np.random.default_rng(1).random((5, first.union.num_copies)) < 0.7
    padded = evaluate_keep_masks(model, params, graph, first, keep)
    exact = evaluate_keep_masks(
        model, params, graph, dataclasses.replace(first, padded=False), keep
    )
    assert padded.shape == exact.shape == (5, 2, exact.shape[-1])
    np.testing.assert_allclose(padded, exact, rtol=1e-6, atol=1e-6)


def test_deletion_masks_follow_the_ranking():
    model, _, graph = build("gcn-2", seed=1, dtype=np.float32)
    hood = neighbourhoods(model, graph, np.array([0, 5]))
    scores = np.random.default_rng(1).normal(size=hood.union.num_copies)
    masks = deletion_masks(hood, scores, [0.0, 0.5, 1.0])
    assert masks[0].all()
    assert not masks[2][hood.candidate].any() and masks[2][~hood.candidate].all()
    for t in range(2):
        mine = hood.candidate & (hood.copy_target == t)
        deleted = mine & ~masks[1]
        assert deleted.sum() == int(np.floor(0.5 * mine.sum() + 0.5))
        assert scores[deleted].min() >= scores[mine & masks[1]].max()


def test_contrastivity_of_hand_made_explanations():
    from jgattr.attribution import Attributions
    from jgattr.metrics import contrastivity

    def result(values):
        values = np.asarray(values, np.float64)
        return Attributions(
            "toy",
            np.array([0, 1]),
            np.array([0, 0]),
            np.zeros(2),
            np.array([0, 3, 6]),
            np.array([0, 1, 2, 0, 1, 2]),
            values,
            np.full(2, np.nan),
            np.zeros((2, 1)),
        )

    same = result([1.0, 0.5, -1.0, 0.2, 0.3, 0.0])
    assert contrastivity(same, same) == 0.0
    # target 0: {0, 1} vs {2} -> 3/3 differ; target 1: {0, 1} vs {0, 1} -> 0
    other = result([-1.0, 0.0, 2.0, 0.2, 0.3, 0.0])
    assert contrastivity(same, other) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same targets"):
        contrastivity(same, dataclasses.replace(other, targets=np.array([0, 2])))


def test_metric_errors():
    model, params, dataset = _star()
    results = explain(model, params, dataset, methods=["nam"], targets=np.array([0]))
    with pytest.raises(ValueError, match="mode must be one of"):
        evaluate(model, params, dataset, results, mode="shuffle")
    with pytest.raises(ValueError, match="levels must be fractions"):
        evaluate(model, params, dataset, results, levels=[0.0, 2.0])
    with pytest.raises(ValueError, match="at least one"):
        evaluate(model, params, dataset, {})
    other = explain(model, params, dataset, methods=["nam"], targets=np.array([1]))
    with pytest.raises(ValueError, match="other targets"):
        evaluate(model, params, dataset, {"nam": results["nam"], "x": other["nam"]})


def test_roc_auc_equals_pairwise_count_with_ties():
    from jgattr.metrics import roc_auc

    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, 40).astype(float)  # many ties
    truth = rng.random(40) < 0.4
    pos, neg = scores[truth], scores[~truth]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert roc_auc(scores, truth) == pytest.approx(pairs.mean())
    assert roc_auc(np.arange(4.0), np.array([0, 0, 1, 1], bool)) == 1.0
    assert np.isnan(roc_auc(np.arange(3.0), np.ones(3, bool)))


def test_explanation_accuracy_of_oracle_and_reversed_scores():
    from jgattr.data import load_dataset
    from jgattr.metrics import explanation_accuracy
    from jgattr.models import init_params

    dataset = load_dataset("ba-shapes")
    model = GCN(num_classes=4, hidden_size=4, num_layers=3)
    params = init_params(model, gcn_normalize(dataset.graph), key=jax.random.key(0))
    targets = np.flatnonzero(dataset.test_mask)
    result = explain(model, params, dataset, methods=["nam"], targets=targets)["nam"]
    rows = np.repeat(np.arange(result.num_targets), np.diff(result.offsets))
    motif = dataset.ground_truth.motif_id
    own = (motif[result.sources] == motif[result.targets][rows]) & (
        motif[result.targets][rows] >= 0
    )
    oracle = dataclasses.replace(result, values=own.astype(np.float64))
    scores = explanation_accuracy(oracle, dataset)
    in_motif = int(np.sum(motif[targets] >= 0))
    assert scores["targets_scored"] == in_motif > 0
    assert scores["node_auc"] == 1.0 and scores["edge_auc"] == 1.0
    reversed_scores = explanation_accuracy(
        dataclasses.replace(oracle, values=-oracle.values), dataset
    )
    assert reversed_scores["node_auc_signed"] == 0.0 and reversed_scores["node_auc"] == 1.0
    with pytest.raises(ValueError, match="no ground truth"):
        explanation_accuracy(result, dataclasses.replace(dataset, ground_truth=None))


def test_explanation_accuracy_of_edge_attributions():
    from jgattr.data import load_dataset
    from jgattr.metrics import explanation_accuracy
    from jgattr.models import init_params

    dataset = load_dataset("ba-shapes")
    model = GCN(num_classes=4, hidden_size=4, num_layers=3)
    params = init_params(model, gcn_normalize(dataset.graph), key=jax.random.key(0))
    targets = np.flatnonzero(dataset.test_mask)
    result = explain(model, params, dataset, methods=["edge_saliency"], targets=targets)
    result = result["edge_saliency"]
    truth = dataset.ground_truth
    rows = np.repeat(np.arange(result.num_targets), np.diff(result.offsets))
    real = result.sources < dataset.num_edges
    ids = np.where(real, result.sources, 0)
    motif_of_target = truth.motif_id[result.targets][rows]
    own = (
        real
        & truth.edge_mask[ids]
        & (truth.motif_id[dataset.graph.senders[ids]] == motif_of_target)
    )
    scores = explanation_accuracy(dataclasses.replace(result, values=own * 1.0), dataset)
    assert scores["edge_auc"] == 1.0 and scores["node_auc"] is None
    assert scores["targets_scored"] > 0


@pytest.mark.slow  # every block compiles its own evaluator: about 10 s each on 2 cores
def test_evaluation_in_blocks_equals_one_evaluation():
    """Targets cut into blocks of bounded neighbourhoods give the metrics of one evaluation:
    per-target means weighted by each block's targets, sparsity by its candidates, the random
    baseline's spread recomputed over the merged per-seed curves."""
    from jgattr.data import synthetic_dataset
    from jgattr.metrics import MAX_COPIES, target_blocks
    from jgattr.models import init_params

    dataset = synthetic_dataset("ba-shapes")
    model = GCN(num_classes=dataset.num_classes, hidden_size=8, num_layers=2)
    params = jax.tree.map(
        lambda a: a * 3.0,
        init_params(model, prepare_graph(model, dataset.graph), key=jax.random.key(0)),
    )
    # node 300 twice, apart: its rows must land in one block, counted once
    targets = np.array([300, *range(301, 318), 300])
    results = explain(model, params, dataset, methods=["nam", "saliency"], targets=targets)
    whole = evaluate(model, params, dataset, results, random_seeds=(0, 1, 2))
    assert "blocks" not in whole and MAX_COPIES == 1 << 19  # one block by default
    blocks = target_blocks(model, dataset, targets, 3000)
    assert len(blocks) == 3 and np.array_equal(np.concatenate(blocks), np.arange(300, 318))
    split = evaluate(model, params, dataset, results, max_copies=3000, random_seeds=(0, 1, 2))
    assert split["blocks"] == len(blocks) and split["targets"] == whole["targets"] == 19
    for key in ("neighbours_mean", "accuracy_unperturbed"):
        assert split[key] == pytest.approx(whole[key], rel=1e-9)
    np.testing.assert_allclose(
        split["random"]["deletion_accuracy_std"],
        whole["random"]["deletion_accuracy_std"],
        atol=1e-9,
    )
    for name, method in whole["methods"].items():
        for key in (
            "deletion_accuracy",
            "probability_change_keep_top",
            "sparsity",
            "fidelity_plus",
        ):
            np.testing.assert_allclose(
                split["methods"][name][key], method[key], rtol=1e-5, atol=1e-6
            )
        assert split["methods"][name]["delta"]["max_abs"] == pytest.approx(
            method["delta"]["max_abs"]
        )


@pytest.mark.slow  # every block compiles its own evaluator
def test_graph_targets_in_blocks_equal_one_evaluation():
    """Graph targets cut into blocks of at most ``max_copies`` nodes plus edges (a wide graph
    classifier on many molecules made gigabyte activations in one call) give one evaluation's
    metrics."""
    from jgattr.attribution import as_explainable, prepare_data, target_walks
    from jgattr.metrics import target_blocks
    from jgattr.metrics._faithfulness import evaluate_together
    from jgattr.models import GraphClassifier, init_params
    from tests.test_graph_tasks import _dataset

    dataset = _dataset(24)
    model = GraphClassifier(2, "gcn", (8, 8), "mean")
    params = init_params(model, prepare_graph(model, dataset.graph), key=jax.random.key(0))
    targets = np.flatnonzero(dataset.test_mask)
    results = explain(model, params, dataset, methods=["nam", "saliency"], targets=targets)
    settings = {"mode": "zero", "random_seeds": (0, 1)}
    whole = evaluate_together(model, params, dataset, results, **settings)
    prepared = prepare_data(dataset, as_explainable(model))
    sizes = target_walks(prepared, targets, 2)  # the graphs' nodes plus edges
    bound = 2.5 * sizes.max()
    blocks = target_blocks(model, dataset, targets, bound)
    assert len(blocks) == 4 and all(sizes[np.isin(targets, b)].sum() <= bound for b in blocks)
    split = evaluate(model, params, dataset, results, max_copies=bound, **settings)
    assert split["blocks"] == len(blocks) and split["targets"] == whole["targets"] == 8
    assert split["neighbours_mean"] == pytest.approx(whole["neighbours_mean"], rel=1e-9)
    np.testing.assert_allclose(
        split["random"]["deletion_accuracy"], whole["random"]["deletion_accuracy"], atol=1e-9
    )
    for name, method in whole["methods"].items():
        for key in ("deletion_accuracy", "probability_change_keep_top", "sparsity"):
            np.testing.assert_allclose(
                split["methods"][name][key], method[key], rtol=1e-5, atol=1e-6
            )
    assert "blocks" not in evaluate(model, params, dataset, results, **settings)  # one block


@pytest.mark.parametrize("mode", ["remove", "zero"])
def test_edge_method_deletes_edges_of_the_computation_graph(mode):
    """Target 0 of the star reads node 1 through the edge 1 → 0 alone (nodes 0 and 2 have no
    features): edge saliency ranks it first, and deleting it (with or without renormalizing
    the rest) leaves the bias, which picks class 1."""
    model, params, dataset = _star()
    results = explain(model, params, dataset, methods=["edge_saliency"], targets=np.array([0]))
    graph = prepare_graph(model, dataset.graph)
    sources, values = results["edge_saliency"].for_target(0)
    assert set(zip(graph.senders[sources], graph.receivers[sources], strict=True)) == {
        (1, 0),
        (2, 0),
        (0, 0),
    }
    metrics = evaluate(
        model, params, dataset, results, mode=mode, levels=[0, 1 / 3, 2 / 3, 1], random_seeds=(0,)
    )
    edge = metrics["methods"]["edge_saliency"]
    assert edge["deletes"] == "edges" and metrics["edges_mean"] == 3.0
    assert edge["deletion_accuracy"] == [1.0, 0.0, 0.0, 0.0]  # 1 → 0 goes first
    assert edge["reverse_deletion_accuracy"] == [1.0, 1.0, 1.0, 0.0]  # 1 → 0 goes last
    assert edge["fidelity_plus"] == 1.0 and edge["fidelity_minus"] == 0.0
    assert edge["deletion_auc"] == pytest.approx(1 / 6)
    assert len(metrics["random_edges"]["deletion_accuracy_mean"]) == 4
    hood = neighbourhoods(model, dataset, np.array([0]))
    candidates = edge_candidates(model, dataset, hood)
    scores = edge_candidate_scores(candidates, results["edge_saliency"])
    dense = dict(zip(sources.tolist(), values.tolist(), strict=True))
    picked = np.flatnonzero(candidates.candidate)
    assert sorted(candidates.edge_id[picked].tolist()) == sorted(dense)
    np.testing.assert_allclose(scores[picked], [dense[e] for e in candidates.edge_id[picked]])
    assert np.isnan(scores[~candidates.candidate]).all()


def _edge_weights_by_hand(model_name: str, graph, alive: np.ndarray) -> np.ndarray:
    """Each model's edge weights of the edges left, written out with numpy."""
    senders, receivers = np.asarray(graph.senders), np.asarray(graph.receivers)
    degree = np.bincount(receivers, weights=alive, minlength=graph.nodes.shape[0])
    if model_name.startswith("gcn-"):  # D^-1/2 with 0 for a node left without in-edges
        inv_sqrt = np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1e-12)), 0.0)
        return alive * inv_sqrt[senders] * inv_sqrt[receivers]
    if model_name == "sage":
        return alive / np.maximum(degree, 1.0)[receivers]
    return alive  # GIN and the concat-GCN: a plain sum over the edges present


@pytest.mark.parametrize("model_name", ["gcn-2", "sage", "concat-gcn"])
def test_batched_edge_deletion_equals_the_whole_graph_without_those_edges(model_name):
    """Random edge keep masks over each target's union edges, against the whole prepared graph
    with those edges gone and its weights recomputed by hand."""
    model, params, graph = build(model_name, seed=2, dtype=np.float32)
    targets = np.array([0, 3, 8, 15])
    hood = neighbourhoods(model, graph, targets)
    union = hood.union
    edge_keep = np.random.default_rng(1).random((3, union.num_edges)) < 0.6
    keep = np.ones((3, union.num_copies), bool)
    logits = evaluate_keep_masks(model, params, graph, hood, keep, edge_keep=edge_keep)
    apply = make_apply_fn(model)
    for m in range(3):
        for t, node in enumerate(targets):
            window = slice(union.edge_offsets[t], union.edge_offsets[t + 1])
            alive = np.ones(graph.senders.shape[0])
            alive[union.edge_id[window]] = edge_keep[m, window]
            weights = _edge_weights_by_hand(model_name, graph, alive).astype(np.float32)
            whole = jax.tree.map(jnp.asarray, graph._replace(edges=weights))
            expected = np.asarray(apply(params, whole))[node]
            np.testing.assert_allclose(logits[m, t], expected, rtol=1e-4, atol=1e-5)
