"""Graphs from anywhere: ``from_scipy``, ``from_networkx``, ``from_pyg`` (node and graph
classification) and ``edge_map`` between your edge ids and jgattr's.

The PyG and networkx tests skip with a hint without those packages, and fail under ``CI=true``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse

from jgattr.data import DataError, edge_map, from_networkx, from_pyg, from_scipy, load_npz
from tests.optional_helpers import require
from tests.test_data import _save, _tiny_fields

# the tiny graph of tests/test_data.py: 0-1 twice, 1-0 (reverse duplicate), self loop 2-2,
# 2-3 one direction; node 2 unlabeled
TINY = _tiny_fields()
SENDERS, RECEIVERS = [1, 0, 3, 2], [0, 1, 2, 3]  # jgattr's edges, sorted by (receiver, sender)


def _masks() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return TINY["train_mask"], np.zeros(4, bool), TINY["test_mask"].astype(bool)


def _assert_tiny(ds) -> None:
    assert ds.graph.senders.tolist() == SENDERS and ds.graph.receivers.tolist() == RECEIVERS
    np.testing.assert_array_equal(ds.graph.nodes, TINY["features"])
    assert ds.labels.tolist() == [0, 2, -1, 1] and ds.num_classes == 3
    assert ds.train_mask.tolist() == [True, True, False, False]
    assert ds.test_mask.tolist() == [False, False, False, True] and not ds.val_mask.any()


def test_from_scipy_equals_load_npz_and_maps_edges_both_ways(tmp_path):
    s, r = TINY["edge_index"]
    adj = scipy.sparse.coo_array((np.ones(5), (s, r)), shape=(4, 4))  # keeps the duplicate
    ds = from_scipy(adj, TINY["features"], TINY["labels"], _masks())
    _assert_tiny(ds)
    npz = load_npz(_save(tmp_path, **TINY))
    np.testing.assert_array_equal(ds.graph.senders, npz.graph.senders)

    ids = edge_map(ds, adj)
    # your edges 0->1, 0->1, 1->0, 2->2 (self loop: E + 2), 2->3
    assert ids.to_jgattr.tolist() == [1, 1, 0, 4 + 2, 3]
    assert ids.reverse.tolist() == [0, 0, 1, -1, 2]
    # back: jgattr 1->0 is your 2, 0->1 your first 0, 3->2 none (added), 2->3 your 4
    assert ids.to_user.tolist() == [2, 0, -1, 4, -1, -1, 3, -1]
    values = np.array([10.0, 20.0, 30.0, 40.0])  # per jgattr edge, no self loops
    assert ids.user_values(values).tolist() == [20, 20, 10, 0, 40]
    assert ids.user_values(values, undirected=True).tolist() == [30, 30, 30, 0, 70]
    with_loops = np.concatenate([values, [1.0, 2.0, 3.0, 4.0]])  # E + N: GCN's self loops
    assert ids.user_values(with_loops)[3] == 3.0

    explicit_zero = scipy.sparse.csr_array(np.array([[0, 1], [0, 0]]))
    explicit_zero.data[:] = 0  # stored but zero: not an edge
    assert from_scipy(explicit_zero, np.eye(2), np.array([0, 1])).num_edges == 0
    dense = from_scipy(adj.toarray(), scipy.sparse.csr_array(TINY["features"]), TINY["labels"])
    np.testing.assert_array_equal(dense.graph.receivers, RECEIVERS)


def test_edge_map_refuses_an_edge_list_the_dataset_lacks():
    ds = from_scipy(np.eye(4, k=1), np.eye(4), np.array([0, 1, 0, 1]))
    with pytest.raises(DataError, match=r"edges\[:, 1\] = \(0 -> 2\) is not an edge"):
        edge_map(ds, np.array([[0, 0], [1, 2]]))
    with pytest.raises(DataError, match=r"'edges' has 1 node ids outside \[0, 4\)"):
        edge_map(ds, np.array([[0], [9]]))


def test_from_scipy_errors_name_the_field():
    adj, x, y = np.eye(3, k=1), np.ones((3, 2)), np.array([0, 1, 1])
    with pytest.raises(DataError, match=r"from_scipy: field 'x' has NaN or inf"):
        from_scipy(adj, np.array([[1.0], [np.nan], [0.0]]), y)
    with pytest.raises(DataError, match=r"from_scipy: adj is \(4, 4\) but x has 3 rows"):
        from_scipy(np.eye(4), x, y)
    with pytest.raises(DataError, match=r"adj must be square \[N, N\], got \(3, 2\)"):
        from_scipy(np.ones((3, 2)), x, y)
    with pytest.raises(DataError, match=r"field 'y' must be \[N\] = \[3\], got \(2,\)"):
        from_scipy(adj, x, y[:2])
    with pytest.raises(DataError, match=r"'y' has y\[1\] = 7.*pass num_classes=8"):
        from_scipy(adj, x, np.array([0, 7, 0]))
    assert from_scipy(adj, x, np.array([0, 7, 0]), num_classes=8).num_classes == 8
    with pytest.raises(DataError, match=r"field 'val_mask' selects 1 unlabeled nodes"):
        from_scipy(adj, x, np.array([0, -1, 1]), (None, np.array([0, 1, 0]), None))
    with pytest.raises(DataError, match=r"masks must be \(train, val, test\).* of length 2"):
        from_scipy(adj, x, y, (None, None))


def test_from_networkx_reads_node_attributes_in_node_order():
    nx = require("networkx", "networkx")
    g = nx.Graph()
    for name, feature, label in [("a", 1.0, 0), ("b", 0.0, 2), ("c", 2.0, 1), ("d", 5.0, 1)]:
        g.add_node(name, x=feature, y=label, train=name in "ab")
    g.add_edges_from([("a", "b"), ("c", "c"), ("c", "d")])
    ds = from_networkx(g, masks=("train", None, None))
    np.testing.assert_array_equal(ds.graph.nodes[:, 0], [1, 0, 2, 5])
    assert ds.labels.tolist() == [0, 2, 1, 1] and ds.train_mask.tolist() == [1, 1, 0, 0]
    assert ds.graph.senders.tolist() == SENDERS and ds.graph.receivers.tolist() == RECEIVERS
    ids = edge_map(ds, g)  # your edges in g.edges() order: a-b, c-c, c-d
    assert ids.to_jgattr.tolist() == [1, 4 + 2, 3]
    assert ids.user_values(np.array([1.0, 2.0, 3.0, 4.0]), undirected=True).tolist() == [3, 0, 7]

    multi = nx.MultiDiGraph([(0, 1), (0, 1), (1, 2)])
    arrays = from_networkx(multi, features=np.ones((3, 2)), label=np.array([0, 1, 0]))
    assert arrays.num_edges == 4 and edge_map(arrays, multi).to_jgattr.tolist() == [1, 1, 3]
    del g.nodes["c"]["y"]
    with pytest.raises(DataError, match=r"node 'c' has no attribute 'y' \(label\)"):
        from_networkx(g)
    with pytest.raises(DataError, match="graph must be a networkx graph, got ndarray"):
        from_networkx(np.eye(3))


def _tiny_data(torch, pyg_data):
    return pyg_data.Data(
        x=torch.tensor(TINY["features"]),
        edge_index=torch.tensor(TINY["edge_index"]),
        y=torch.tensor(TINY["labels"])[:, None],  # [N, 1], as ogbn-arxiv stores it
        train_mask=torch.tensor(TINY["train_mask"]),
        test_mask=torch.tensor(TINY["test_mask"].astype(bool)),
        edge_attr=torch.ones(5, 3),  # not read
    )


def test_from_pyg_node_data_keeps_masks_labels_and_edge_order():
    torch = require("torch", "torch")
    pyg_data = require("torch_geometric.data", "torch")
    data = _tiny_data(torch, pyg_data)
    ds = from_pyg(data)
    _assert_tiny(ds)
    assert ds.name == "pyg:Data" and from_pyg(data, name="mine").name == "mine"
    assert edge_map(ds, data.edge_index).to_jgattr.tolist() == [1, 1, 0, 4 + 2, 3]

    split = data.clone()
    split.train_mask = torch.stack([data.train_mask, torch.zeros(4, dtype=torch.bool)], 1)
    with pytest.raises(DataError, match=r"'train_mask' holds 2 splits .*split=i"):
        from_pyg(split)
    assert from_pyg(split, split=1).train_mask.sum() == 0
    bad = data.clone()
    bad.y = torch.nn.functional.one_hot(torch.tensor([0, 2, 1, 1]))
    with pytest.raises(DataError, match=r"field 'y' is \[4, 3\].*y.argmax\(-1\)"):
        from_pyg(bad)
    bad = data.clone()
    bad.edge_index = data.edge_index.T
    with pytest.raises(DataError, match=r"'edge_index' must be \[2, E\], got \(5, 2\).*transpose"):
        from_pyg(bad)
    bad = data.clone()
    bad.x = None
    with pytest.raises(DataError, match=r"from_pyg: field 'x' is missing"):
        from_pyg(bad)
    with pytest.raises(DataError, match="must be a PyG Data, Batch, dataset or list"):
        from_pyg(3)


def test_the_same_graph_from_pyg_networkx_and_scipy_is_the_same_dataset():
    """PyG's own converters (to_networkx, to_scipy_sparse_matrix) hand jgattr the same graph."""
    torch = require("torch", "torch")
    require("networkx", "networkx")
    pyg_data = require("torch_geometric.data", "torch")
    utils = require("torch_geometric.utils", "torch")
    data = _tiny_data(torch, pyg_data)
    data.y = data.y[:, 0]
    data.val_mask = torch.zeros(4, dtype=torch.bool)
    direct = from_pyg(data)
    g = utils.to_networkx(data, node_attrs=["x", "y", "train_mask", "val_mask", "test_mask"])
    via_networkx = from_networkx(g, masks=("train_mask", "val_mask", "test_mask"))
    adj = utils.to_scipy_sparse_matrix(data.edge_index, num_nodes=4)
    masks = (data.train_mask, data.val_mask, data.test_mask)
    via_scipy = from_scipy(adj, data.x, data.y, masks)
    for ds in (via_networkx, via_scipy):
        _assert_tiny(ds)
        for field in ("senders", "receivers", "nodes"):
            np.testing.assert_array_equal(getattr(ds.graph, field), getattr(direct.graph, field))
    # g.edges(): 0->1 (the DiGraph merged PyG's two copies), 1->0, 2->2 (self loop), 2->3
    assert edge_map(via_networkx, g).to_jgattr.tolist() == [1, 0, 4 + 2, 3]
    assert edge_map(via_scipy, adj).to_jgattr.tolist() == [1, 1, 0, 4 + 2, 3]  # coo keeps both


def _graphs(torch, pyg_data):
    """Three small graphs with one label each (the last with a self loop and a duplicate)."""
    rows = [
        ([[0, 1], [1, 2]], 3, 0),
        ([[0], [1]], 2, 1),
        ([[0, 0, 1, 2], [1, 1, 2, 2]], 3, 1),
    ]
    return [
        pyg_data.Data(
            x=torch.arange(n * 2, dtype=torch.float32).reshape(n, 2) + i,
            edge_index=torch.tensor(edges),
            y=torch.tensor([label]),
        )
        for i, (edges, n, label) in enumerate(rows)
    ]


def test_from_pyg_graph_classification_from_a_list_a_batch_and_a_dataset():
    torch = require("torch", "torch")
    pyg_data = require("torch_geometric.data", "torch")
    graphs = _graphs(torch, pyg_data)
    batch = pyg_data.Batch.from_data_list(graphs)
    ds = from_pyg(graphs)
    assert ds.level == "graph" and ds.num_graphs == 3 and ds.num_classes == 2
    assert ds.graph.n_node.tolist() == [3, 2, 3] and ds.graph.n_edge.tolist() == [4, 2, 4]
    assert ds.labels.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(ds.graph.nodes, batch.x.numpy())
    assert (ds.train_mask | ds.val_mask | ds.test_mask).all()
    from_batch = from_pyg(batch)
    np.testing.assert_array_equal(from_batch.graph.senders, ds.graph.senders)
    ids = edge_map(from_batch, batch.edge_index)  # global ids, graphs one after the other
    pairs = np.stack([ds.graph.senders, ds.graph.receivers])[:, ids.to_jgattr[:6]]
    np.testing.assert_array_equal(pairs, batch.edge_index.numpy()[:, :6])
    assert ids.to_jgattr[6] == ds.num_edges + 7  # graph 2's self loop (7, 7)

    dataset = require("torch_geometric.datasets", "torch").FakeDataset(
        num_graphs=4, avg_num_nodes=6, num_channels=3, num_classes=2, task="graph"
    )
    fake = from_pyg(dataset)
    assert fake.name == "pyg:FakeDataset" and fake.num_graphs == 4
    node_task = require("torch_geometric.datasets", "torch").FakeDataset(
        num_graphs=1, avg_num_nodes=12, num_channels=3, num_classes=3, task="node"
    )
    assert from_pyg(node_task).level == "node"  # one graph whose y labels its nodes

    graphs[1].y = torch.tensor([0, 1])
    with pytest.raises(DataError, match=r"graph 1: field 'y' must hold one graph label, got 2"):
        from_pyg(graphs)
    graphs[1].y, graphs[2].edge_index = torch.tensor([1]), torch.tensor([[0], [5]])
    with pytest.raises(DataError, match=r"graph 2: field 'edge_index' has 1 node ids outside"):
        from_pyg(graphs)


def test_jgattr_data_and_attribution_never_import_torch_and_interop_says_what_to_install():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['torch_geometric'] = None\n"
        "import jgattr.data, jgattr.attribution\n"
        "print(sorted(m for m in sys.modules if m.startswith(('torch', 'pandas', 'pyarrow'))"
        " and sys.modules[m] is not None))\n"
        "try:\n    import jgattr.interop\nexcept ImportError as err:\n    print(err)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines[0] == "[]", result.stderr
    assert "jgattr.interop needs torch and torch_geometric" in lines[1]
    assert 'pip install -e ".[torch]"' in lines[1]
