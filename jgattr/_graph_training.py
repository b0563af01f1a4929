"""Mini-batch training of graph classifiers (``[train] batch_size``).

Each epoch shuffles the training graphs with the seed (``balance_classes = "undersample"``: a
class-balanced random subset of them, Pope et al.'s balancing), cuts them into batches of
``batch_size`` graphs padded to bucketed shapes (:class:`GraphBatches`), and takes one Adam step
per batch with the same loss as full-batch training: the (class-weighted) mean cross entropy
over the batch's graphs, plus the first kernel's weight decay. Evaluation streams over the
graphs in batches too, so no step holds more than one batch of node embeddings.
"""

import time
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jgattr._graph_batches import GraphBatches
from jgattr._train_config import TrainConfig
from jgattr._training import TrainResult, _make_steps, _should_stop, class_weights
from jgattr._types import Params
from jgattr.metrics import roc_auc
from jgattr.models import init_params, make_apply_fn, prepare_graph

SPLITS = ("train", "val", "test")


def graph_logits(model: Any, params: Params, batches: GraphBatches, ids: np.ndarray) -> np.ndarray:
    """``[len(ids), C]`` logits (dropout off) of graphs ``ids``, one padded batch at a time."""
    apply, size = jax.jit(make_apply_fn(model)), batches.graphs_per_batch
    parts = [ids[start : start + size] for start in range(0, len(ids), size)]
    rows = [np.asarray(apply(params, batches.batch(part)))[: len(part)] for part in parts]
    return np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)


def _loss_and_accuracy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean cross entropy and accuracy of ``logits [G, C]`` (0 and 0 without graphs)."""
    if len(labels) == 0:
        return 0.0, 0.0
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    loss = -float(np.mean(log_p[np.arange(len(labels)), labels]))
    return loss, float(np.mean(logits.argmax(axis=-1) == labels))


def _batch_targets(labels: np.ndarray, ids: np.ndarray, rows: int) -> tuple[np.ndarray, ...]:
    """``(labels [rows], mask [rows])`` of a batch of graphs ``ids`` (padding rows masked)."""
    y = np.zeros(rows, np.int32)
    y[: len(ids)] = labels[ids]
    return y, np.arange(rows) < len(ids)


def epoch_order(
    rng: np.random.Generator, train_ids: np.ndarray, labels: np.ndarray, *, undersample: bool
) -> np.ndarray:
    """The training graphs of one epoch, shuffled: all of ``train_ids``, or (``undersample``,
    Pope et al.'s balancing) for each class present a random subset of as many graphs as the
    rarest class has, drawn without replacement, class by class in label order, then shuffled."""
    if not undersample:
        return rng.permutation(train_ids)
    groups = [train_ids[labels[train_ids] == c] for c in np.unique(labels[train_ids])]
    size = min(len(group) for group in groups)
    chosen = [rng.choice(group, size, replace=False) for group in groups]
    return rng.permutation(np.concatenate(chosen))


def _epoch(state: tuple, step: Callable, batches: GraphBatches, order: np.ndarray, data: dict):
    """One pass over ``order`` (training graph ids) in batches; the new state and mean loss."""
    params, opt_state = state
    size, losses = batches.graphs_per_batch, []
    for index, start in enumerate(range(0, len(order), size)):
        ids = order[start : start + size]
        labels, mask = _batch_targets(data["labels"], ids, size + 1)
        key = jax.random.fold_in(data["key"], index)
        params, opt_state, loss = step(
            params, opt_state, batches.batch(ids), labels, mask, key, data["nonzero"], data["w"]
        )
        losses.append((loss, len(ids)))
    mean = sum(float(loss) * n for loss, n in losses) / len(order)
    return (params, opt_state), mean


def _scores(logits: np.ndarray, labels: np.ndarray, masks: dict[str, np.ndarray]) -> tuple:
    """Accuracy per split and the whole dataset; ROC-AUC of class 1 for a binary task."""
    accuracy = {name: _loss_and_accuracy(logits[m], labels[m])[1] for name, m in masks.items()}
    accuracy["all"] = _loss_and_accuracy(logits, labels)[1]
    if logits.shape[-1] != 2:
        return accuracy, None
    margin = logits[:, 1] - logits[:, 0]
    auc = {
        name: roc_auc(margin[m], labels[m] == 1) if len(set(labels[m])) == 2 else None
        for name, m in {**masks, "all": np.ones(len(labels), bool)}.items()
    }
    return accuracy, auc


def train_graph_batches(
    model: nn.Module,
    dataset: Any,
    config: TrainConfig,
    *,
    key: jax.Array,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train a graph classifier on ``dataset``'s training graphs, ``config.batch_size`` at a time.

    Same arguments and result as :func:`jgattr.train` (which calls this for a
    :class:`~jgattr.data.GraphDataset` when ``config.batch_size > 0``). Batch ``b`` of epoch
    ``e`` holds the graphs ``order_e[bB:(b + 1)B]`` (:func:`epoch_order`: a permutation, or an
    undersampled one, from a ``numpy`` generator seeded with ``config.seed``); its loss is the
    class-weighted mean cross entropy over its graphs, so a batch holding every training graph
    takes exactly the full-batch step.
    """
    start = time.perf_counter()
    labels = np.asarray(dataset.labels)
    masks = {name: np.asarray(getattr(dataset, f"{name}_mask")) for name in SPLITS}
    train_ids, val_ids = np.flatnonzero(masks["train"]), np.flatnonzero(masks["val"])
    batches = GraphBatches.from_prepared(
        prepare_graph(model, dataset.graph), np.asarray(dataset.graph.n_node), config.batch_size
    )
    init_key, dropout_key = jax.random.split(key)
    params = init_params(model, batches.batch(train_ids[: config.batch_size]), key=init_key)
    step, _, optimizer = _make_steps(model, config.learning_rate, config.weight_decay)
    weights = None
    if config.class_weighted:
        weights = jnp.asarray(class_weights(labels, masks["train"], dataset.num_classes))
    data = {"labels": labels, "nonzero": (jnp.zeros(0, jnp.int32),) * 2, "w": weights}
    state, rng = (params, optimizer.init(params)), np.random.default_rng(config.seed)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    epoch, best, best_loss, kept = 0, state[0], float("inf"), 0
    for epoch in range(1, config.epochs + 1):
        data["key"] = jax.random.fold_in(dropout_key, epoch)
        order = epoch_order(rng, train_ids, labels, undersample=config.undersampled)
        state, loss = _epoch(state, step, batches, order, data)
        val = _loss_and_accuracy(graph_logits(model, state[0], batches, val_ids), labels[val_ids])
        for name, value in zip(history, (loss, *val), strict=True):
            history[name].append(value)
        if val[0] < best_loss:
            best, best_loss, kept = state[0], val[0], epoch
        if on_epoch is not None:
            on_epoch(epoch, {name: values[-1] for name, values in history.items()})
        if len(val_ids) and _should_stop(history["val_loss"], config.early_stopping):
            break
    params = best if config.restore_best and len(val_ids) else state[0]
    kept = kept if config.restore_best and len(val_ids) else epoch
    logits = graph_logits(model, params, batches, np.arange(dataset.num_graphs))
    accuracy, auc = _scores(logits, labels, masks)
    seconds = time.perf_counter() - start
    return TrainResult(params, epoch, accuracy, history, seconds, epoch_kept=kept, roc_auc=auc)
