"""The ``powerlaw:N`` scale dataset: seeded, power-law degrees, classes a GCN can read."""

import numpy as np
import pytest

from jgattr.data import DataError, load_dataset


def test_powerlaw_is_seeded_sized_and_homophilous():
    first, again = load_dataset("powerlaw:5000"), load_dataset("powerlaw:5_000")
    np.testing.assert_array_equal(first.graph.senders, again.graph.senders)
    np.testing.assert_array_equal(first.graph.nodes.todense(), again.graph.nodes.todense())
    assert first.name == "powerlaw:5000" and first.num_nodes == 5000
    assert first.num_features == 500 and first.num_classes == 4
    assert 4.5 < first.num_edges / first.num_nodes < 6.0
    degree = np.bincount(first.graph.receivers, minlength=first.num_nodes)
    assert degree.max() > 10 * np.median(degree)  # heavy tail
    labels, graph = first.labels, first.graph
    assert np.mean(labels[graph.senders] == labels[graph.receivers]) > 0.6
    np.testing.assert_allclose(graph.nodes.todense().sum(axis=1), 1.0, rtol=1e-6)
    assert graph.nodes.nnz <= 8 * first.num_nodes
    masks = first.train_mask.astype(int) + first.val_mask + first.test_mask
    assert np.all(masks == 1) and first.train_mask.sum() == 500


@pytest.mark.parametrize("name", ["powerlaw:", "powerlaw:abc", "powerlaw:10.5", "powerlaw:50"])
def test_bad_powerlaw_names_are_clear_errors(name):
    with pytest.raises(DataError, match="powerlaw"):
        load_dataset(name)
