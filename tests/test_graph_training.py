"""Mini-batch training of graph classifiers: padded batches cut from the prepared union give each
graph the logits it has in the whole union, a batch holding every training graph takes the
full-batch step, and runs are deterministic and record the epoch they keep."""

import dataclasses

import jax
import numpy as np
import pytest

from jgattr._config import ConfigError, load_config
from jgattr._graph_batches import GraphBatches
from jgattr._names import NODE_ONLY_ARCHITECTURES
from jgattr._padding import padded_size
from jgattr._training import TrainConfig, train
from jgattr.data import load_dataset
from jgattr.models import ARCHITECTURES, GraphClassifier, init_params, prepare_graph
from tests.test_graph_tasks import _dataset


def test_padded_sizes():
    assert [padded_size(n) for n in (1, 16, 17, 24, 25, 33, 48, 49, 1000)] == [
        16, 16, 24, 24, 32, 48, 48, 64, 1024,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "architecture", [a for a in ARCHITECTURES if a not in NODE_ONLY_ARCHITECTURES]
)
def test_batch_logits_equal_union_logits(architecture):
    """Any subset of graphs, cut, renumbered and padded, has its rows of the union's logits."""
    data = _dataset(12)
    model = GraphClassifier(2, architecture, (6, 5), "mean", heads=2)
    prepared = prepare_graph(model, data.graph)
    params = init_params(model, prepared, key=jax.random.key(1))
    apply = jax.jit(lambda p, g: model.apply({"params": p}, g))  # op by op is slow on a cold cache
    union = np.asarray(apply(params, prepared))
    batches = GraphBatches.from_prepared(prepared, np.asarray(data.graph.n_node), 5)
    ids = np.array([7, 2, 11, 0])
    graph = batches.batch(ids)
    assert graph.n_node.shape == (6,) and graph.nodes.shape[0] == padded_size(
        graph.n_node[:4].sum() + 1
    )
    logits = np.asarray(apply(params, graph))
    np.testing.assert_allclose(logits[:4], union[ids], atol=1e-5)
    assert np.all(np.isfinite(logits))


@pytest.mark.parametrize("balance", [False, True])
def test_one_batch_of_every_graph_is_the_full_batch_step(balance):
    """batch_size >= the training graphs: the parameters after one epoch (one Adam step) equal
    full-batch training's, whatever the shuffled order."""
    jax.config.update("jax_enable_x64", True)
    try:
        data = _dataset(24)
        model = GraphClassifier(2, "gcn", (8, 8), "mean")
        config = TrainConfig(0.05, 1e-3, 1, 0, restore_best=False, balance_classes=balance)
        full = train(model, data, config, key=jax.random.key(0))
        batched = train(
            model, data, TrainConfig(**{**vars(config), "batch_size": 32}), key=jax.random.key(0)
        )
    finally:
        jax.config.update("jax_enable_x64", False)
    moved = jax.tree.map(lambda a, b: float(np.abs(a - b).max()), full.params, batched.params)
    assert max(jax.tree.leaves(moved)) < 1e-6
    assert full.accuracy == {k: v for k, v in batched.accuracy.items() if k != "all"}


def test_undersampling_draws_balanced_seeded_epochs():
    from jgattr._graph_training import epoch_order

    labels = np.array([0, 1, 1, 0, 1, 1, 1, 2, 2, 1, 0, 1])
    train_ids = np.arange(11)  # graph 11 is not a training graph
    orders = [epoch_order(np.random.default_rng(3), train_ids, labels, undersample=True)]
    rng = np.random.default_rng(3)
    epochs = [epoch_order(rng, train_ids, labels, undersample=True) for _ in range(4)]
    np.testing.assert_array_equal(orders[0], epochs[0])  # seeded
    for order in epochs:  # class 2 is the rarest in training (2 graphs): 2 of each class
        assert sorted(np.bincount(labels[order], minlength=3)) == [2, 2, 2]
        assert len(set(order.tolist())) == 6 and set(order.tolist()) <= set(range(11))
        assert set(order[labels[order] == 2].tolist()) == {7, 8}
    assert len({tuple(sorted(order)) for order in epochs}) > 1  # a new subset every epoch
    whole = epoch_order(np.random.default_rng(3), train_ids, labels, undersample=False)
    np.testing.assert_array_equal(np.sort(whole), train_ids)


def test_an_undersampled_epoch_in_one_batch_is_the_full_batch_step_on_its_subset():
    """One epoch, one batch: the parameters equal full-batch training on the graphs drawn."""
    from jgattr._graph_training import epoch_order

    jax.config.update("jax_enable_x64", True)
    try:
        data = _dataset(24)
        labels = data.labels.copy()
        labels[[1, 3, 5, 7, 9]] = 0  # 13 of class 0, 3 of class 1 among the 16 training graphs
        data = dataclasses.replace(data, labels=labels)
        model = GraphClassifier(2, "gcn", (8, 8), "mean")
        config = TrainConfig(0.05, 1e-3, 1, 0, restore_best=False, seed=4, batch_size=32,
                             balance_classes="undersample")  # fmt: skip
        batched = train(model, data, config, key=jax.random.key(0))
        train_ids = np.flatnonzero(data.train_mask)
        drawn = epoch_order(np.random.default_rng(4), train_ids, labels, undersample=True)
        assert len(drawn) == 6
        subset = dataclasses.replace(data, train_mask=np.isin(np.arange(24), drawn))
        full_config = dataclasses.replace(config, batch_size=0, balance_classes=False)
        full = train(model, subset, full_config, key=jax.random.key(0))
        weighted = train(model, data, dataclasses.replace(config, balance_classes="weights"),
                         key=jax.random.key(0))  # fmt: skip
    finally:
        jax.config.update("jax_enable_x64", False)
    moved = jax.tree.map(lambda a, b: float(np.abs(a - b).max()), full.params, batched.params)
    assert max(jax.tree.leaves(moved)) < 1e-6
    # the loss (before the step) is the mean cross entropy over exactly the graphs drawn; Adam's
    # first step is about lr * sign(gradient), so the loss tells subsets apart, not the params
    loss = batched.history["train_loss"][0]
    assert loss == pytest.approx(full.history["train_loss"][0], rel=1e-9)
    assert abs(loss - weighted.history["train_loss"][0]) > 1e-4


def test_mini_batches_learn_deterministically_and_record_the_epoch_kept():
    data = _dataset(24)
    val = np.zeros(24, bool)
    val[:4] = True
    nodes = data.graph.nodes.copy()
    nodes[:, 1] += data.labels[data.graph_of_node] - 0.5  # a signal a few steps can learn
    graph = data.graph._replace(nodes=nodes)
    data = dataclasses.replace(data, graph=graph, train_mask=data.train_mask & ~val, val_mask=val)
    model = GraphClassifier(2, "gin", (16, 16), "sum")
    config = TrainConfig(0.01, 0.0, 12, 0, batch_size=4, balance_classes=True)
    first = train(model, data, config, key=jax.random.key(0))
    second = train(model, data, config, key=jax.random.key(0))
    assert first.accuracy["train"] == 1.0 and first.accuracy["all"] == 1.0
    assert first.epoch_kept == 1 + int(np.argmin(first.history["val_loss"]))
    assert first.roc_auc["test"] == 1.0
    for a, b in zip(jax.tree.leaves(first.params), jax.tree.leaves(second.params), strict=True):
        np.testing.assert_array_equal(a, b)


def test_batch_size_is_checked(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[data]\nname = "ba-2motifs"\n[train]\nbatch_size = -1\n')
    with pytest.raises(ConfigError, match=r"train.batch_size must be >= 0"):
        load_config(config)
    config.write_text('[data]\nname = "ba-2motifs"\n[train]\nbalance_classes = "undersample"\n')
    with pytest.raises(ConfigError, match=r"needs mini-batches of graphs: set train.batch_size"):
        load_config(config)
    config.write_text('[data]\nname = "ba-2motifs"\n[train]\nbalance_classes = "over"\n')
    with pytest.raises(ConfigError, match=r"balance_classes must be true, false or one of"):
        load_config(config)
    config.write_text(
        '[data]\nname = "ba-2motifs"\n[train]\nbalance_classes = "undersample"\nbatch_size = 8\n'
    )
    assert load_config(config).train.undersampled
    with pytest.raises(ValueError, match=r"batch_size = 8 needs a graph-classification dataset"):
        cora = load_dataset("ba-shapes")
        train(GraphClassifier(2), cora, TrainConfig(batch_size=8), key=jax.random.key(0))


def test_report_says_the_epoch_kept_and_the_whole_dataset_scores():
    from jgattr.jobs._report import _model_line

    trained = {
        "task": "graph classification",
        "seed": 0,
        "epochs": 100,
        "epoch_kept": 37,
        "accuracy": {"train": 0.9, "val": 0.8, "test": 0.7, "all": 0.88},
        "roc_auc": {"all": 0.95, "test": 0.72, "train": 0.99, "val": None},
        "model": {"architecture": "gcn", "num_layers": 3, "hidden_size": [8, 8, 8]},
        "settings": {"train": {"batch_size": 32}},
    }
    line = _model_line(trained)[0]
    assert "100 epochs of mini-batches of 32 graphs run, parameters of epoch 37 kept" in line
    assert "whole dataset 0.8800; ROC-AUC train 0.9900, test 0.7200, all 0.9500)" in line


@pytest.mark.parametrize("name", ["bbbp", "bace", "tox21-nr-er"])
def test_pope_configs_name_a_moleculenet_set_and_pope_model(name):
    from jgattr.data import is_graph_dataset
    from jgattr.data._graph_loaders import MOLECULENET
    from tests.conftest import REPO

    config = load_config(REPO / "configs" / f"{name}.toml")
    prefix, _, key = config.data.name.partition(":")
    assert prefix == "moleculenet" and key in MOLECULENET and is_graph_dataset(config.data.name)
    assert (config.model.architecture, config.model.readout) == ("gcn", "mean")
    assert tuple(config.model.hidden_size) == (128, 256, 512)
    assert config.train.batch_size > 0 and config.train.undersampled == (name != "bbbp")
