"""Sparse node features (:class:`jgattr.data.SparseFeatures`) from the loader to the first layer:
the same numbers as dense X for training and every method on every node model, with no dense
copy of X on the way."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse

from jgattr import GCN, GIN, GraphSAGE, TrainConfig, train
from jgattr.attribution import explain
from jgattr.data import DataError, SparseFeatures, from_scipy, load_dataset

from .attribution_helpers import MODEL_NAMES, TARGETS, build
from .test_attribution import TABLE_METHODS, _paths

NODE_MODELS = [name for name in MODEL_NAMES if not name.startswith("graph")]


def _sparsified(graph, seed: int = 0):
    """``graph`` with about 70% of X zeroed (dense), and the same X as SparseFeatures."""
    keep = np.random.default_rng(seed).random(graph.nodes.shape) < 0.3
    dense = np.where(keep, graph.nodes, 0.0)
    return graph._replace(nodes=dense), graph._replace(nodes=SparseFeatures.from_dense(dense))


def test_from_scipy_sums_duplicates_drops_zeros_and_sorts():
    coo = scipy.sparse.coo_array(
        (np.array([1.0, 2.0, 0.0, 4.0], np.float32), (np.array([2, 0, 1, 2]), [1, 3, 0, 1])),
        shape=(3, 4),
    )
    x = SparseFeatures.from_scipy(coo)
    assert x.shape == (3, 4) and x.nnz == 2 and x.dtype == np.float32
    np.testing.assert_array_equal(x.rows, [0, 2])
    np.testing.assert_array_equal(x.cols, [3, 1])
    np.testing.assert_array_equal(x.values, [2.0, 5.0])
    np.testing.assert_array_equal(x.todense(), coo.toarray())


def test_product_rows_and_pytree_match_dense_x():
    rng = np.random.default_rng(1)
    dense = np.where(rng.random((50, 9)) < 0.2, rng.normal(size=(50, 9)), 0.0)
    x, w = SparseFeatures.from_dense(dense), rng.normal(size=(9, 4))
    with jax.enable_x64(True):
        np.testing.assert_allclose(np.asarray(x @ w), dense @ w, rtol=1e-12, atol=1e-12)
        on_device = jax.tree.map(jnp.asarray, x)
        jitted = jax.jit(lambda features, kernel: features @ kernel)(on_device, w)
        np.testing.assert_allclose(np.asarray(jitted), dense @ w, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(np.asarray(on_device.todense_on_device()), dense)
    ids = np.array([7, 0, 7, 49, 3])
    np.testing.assert_array_equal(x.rows_dense(ids), dense[ids])
    empty = SparseFeatures(x.rows[:0], x.cols[:0], x.values[:0], x.shape)
    assert np.all(np.asarray(empty @ w) == 0.0) and empty.nnz == 0


@pytest.mark.parametrize("model_cls", [GCN, GIN, GraphSAGE])
def test_training_on_sparse_features_equals_dense(model_cls):
    """Same dropout draws (non-zeros in row-major order) and the same products: the same model."""
    dataset = load_dataset("powerlaw:400")
    dense = dataclasses.replace(
        dataset, graph=dataset.graph._replace(nodes=dataset.graph.nodes.todense())
    )
    config = TrainConfig(epochs=5)
    key = jax.random.key(0)
    sparse_run = train(model_cls(num_classes=4), dataset, config, key=key)
    dense_run = train(model_cls(num_classes=4), dense, config, key=key)
    assert sparse_run.accuracy == dense_run.accuracy
    pairs = zip(jax.tree.leaves(sparse_run.params), jax.tree.leaves(dense_run.params), strict=True)
    for a, b in pairs:
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def _assert_same_attributions(model_name: str, methods) -> None:
    with jax.enable_x64(True):
        model, params, graph = build(model_name, seed=3)
        dense, sparse = _sparsified(graph)
        for path in ("general", "fast"):
            chosen = [m for m in methods if path in _paths(m, model)]
            if not chosen:
                continue
            expected = explain(model, params, dense, methods=chosen, targets=TARGETS, path=path)
            got = explain(model, params, sparse, methods=chosen, targets=TARGETS, path=path)
            for name, result in expected.items():
                np.testing.assert_array_equal(got[name].sources, result.sources)
                np.testing.assert_allclose(got[name].values, result.values, rtol=1e-10, atol=1e-12)


QUICK = [m for m in TABLE_METHODS if m.name in ("nam", "integrated_gradients", "saliency")]


@pytest.mark.parametrize(
    "model_name",
    [pytest.param(m, marks=() if m in ("gcn-2", "gat") else pytest.mark.slow) for m in NODE_MODELS],
)
def test_nam_ig_and_saliency_on_sparse_features_equal_dense(model_name):
    _assert_same_attributions(model_name, QUICK)


@pytest.mark.slow
@pytest.mark.parametrize("model_name", NODE_MODELS)
def test_every_method_on_sparse_features_equals_dense(model_name):
    _assert_same_attributions(model_name, TABLE_METHODS)


def test_powerlaw_features_are_sparse_and_checked():
    dataset = load_dataset("powerlaw:300")
    x = dataset.graph.nodes
    assert isinstance(x, SparseFeatures) and x.nnz <= 8 * 300
    np.testing.assert_allclose(x.todense().sum(axis=1), 1.0, rtol=1e-6)
    unsorted = SparseFeatures(x.rows[::-1].copy(), x.cols, x.values, x.shape)
    with pytest.raises(DataError, match="rows must be sorted"):
        dataclasses.replace(dataset, graph=dataset.graph._replace(nodes=unsorted))


@pytest.mark.slow
def test_from_scipy_keeps_sparse_features_and_explains_as_dense():
    dataset = load_dataset("powerlaw:300")
    adjacency = scipy.sparse.coo_array(
        (np.ones(dataset.num_edges), (dataset.graph.senders, dataset.graph.receivers)),
        shape=(300, 300),
    )
    matrix = scipy.sparse.csr_array(dataset.graph.nodes.todense())
    masks = (dataset.train_mask, dataset.val_mask, dataset.test_mask)
    sparse = from_scipy(adjacency, matrix, dataset.labels, masks)
    dense = from_scipy(adjacency, matrix.toarray(), dataset.labels, masks)
    assert isinstance(sparse.graph.nodes, SparseFeatures) and sparse.graph.nodes.nnz == matrix.nnz
    model = GCN(num_classes=4)
    params = train(model, dense, TrainConfig(epochs=2), key=jax.random.key(0)).params
    for name in ("nam", "saliency"):
        a = explain(model, params, sparse, methods=[name], targets="all")[name]
        b = explain(model, params, dense, methods=[name], targets="all")[name]
        np.testing.assert_array_equal(a.sources, b.sources)
        np.testing.assert_allclose(a.values, b.values, rtol=1e-5, atol=1e-7)
    bad = scipy.sparse.csr_array(np.where(np.eye(300) > 0, np.nan, 0.0))
    with pytest.raises(DataError, match="field 'x' has NaN or inf"):
        from_scipy(adjacency, bad, dataset.labels)
