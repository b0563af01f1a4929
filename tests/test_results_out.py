"""Results out: long tables (pandas, Arrow, Parquet; streamed from result folders) and PyG
``Explanation`` objects in the user's indexing, whose PyG ``groundtruth_metrics`` on BA-Shapes
equal jgattr's own explanation AUC.

Tests that need pandas / pyarrow / torch_geometric skip with a hint without them and fail under
``CI=true``.
"""

from __future__ import annotations

import dataclasses
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jgattr.attribution import ShardedAttributions, explain, explain_to_folder, open_shards
from jgattr.data import edge_map, from_pyg, load_dataset
from jgattr.metrics import explanation_accuracy
from jgattr.models import GCN, GraphClassifier, gcn_normalize, init_params, prepare_graph
from tests.attribution_helpers import NUM_NODES, random_gcn, random_graph
from tests.optional_helpers import require
from tests.test_graphs_in import _graphs

TARGETS = np.arange(NUM_NODES)


def _problem():
    graph = random_graph(seed=6, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=6, dtype=jnp.float32)
    return model, params, graph


def _assert_frame_is_result(frame, result) -> None:
    rows = result.rows
    assert list(frame.columns) == ["target", "class", "source", "value"]
    np.testing.assert_array_equal(frame["target"], result.targets[rows])
    np.testing.assert_array_equal(frame["class"], result.classes[rows])
    np.testing.assert_array_equal(frame["source"], result.sources)
    np.testing.assert_array_equal(frame["value"], result.values)
    assert frame.attrs == {"method": result.method, "level": "node", "target_level": "node"}


def test_frame_arrow_and_parquet_hold_the_sparse_arrays(tmp_path):
    pandas = require("pandas", "frames")
    require("pyarrow", "frames")
    model, params, graph = _problem()
    result = explain(model, params, graph, methods=["nam"], targets=TARGETS)["nam"]
    frame = result.to_frame()
    _assert_frame_is_result(frame, result)
    dense = np.zeros((NUM_NODES, NUM_NODES), np.float32)  # the table pivoted back
    dense[frame["target"], frame["source"]] = frame["value"]
    np.testing.assert_array_equal(dense, result.to_dense(NUM_NODES))

    table = result.to_arrow()
    assert table.schema.metadata[b"method"] == b"nam"
    pandas.testing.assert_frame_equal(table.to_pandas(), frame, check_like=False)
    path = result.to_parquet(tmp_path / "nam.parquet")
    pandas.testing.assert_frame_equal(pandas.read_parquet(path), frame)

    features = explain(
        model, params, graph, methods=["saliency"], targets=[3, 5], feature_level=True
    )["saliency"]
    wide = features.to_frame()
    assert list(wide.columns) == ["target", "class", "source", "feature", "value"]
    width = features.values.shape[1]
    assert len(wide) == features.values.size and wide["feature"].max() == width - 1
    np.testing.assert_array_equal(wide["value"], features.values.reshape(-1))
    np.testing.assert_array_equal(wide["source"], np.repeat(features.sources, width))


def test_result_folder_streams_shard_by_shard_and_equals_in_memory(tmp_path, monkeypatch):
    pandas = require("pandas", "frames")
    parquet = require("pyarrow.parquet", "frames")
    model, params, graph = _problem()
    kwargs = dict(methods=["ig"], targets=TARGETS, host_memory_mb=0.01)
    in_memory = explain(model, params, graph, **kwargs)["integrated_gradients"]
    folder = explain_to_folder(model, params, graph, tmp_path, **kwargs)["integrated_gradients"]
    opened = open_shards(folder)
    assert len(opened.shards) > 3

    def refuse(self):
        raise AssertionError("streamed exports must not materialize the whole result")

    monkeypatch.setattr(ShardedAttributions, "materialize", refuse)
    expected = in_memory.to_frame()
    pandas.testing.assert_frame_equal(opened.to_frame(), expected)
    assert opened.to_arrow().column("value").num_chunks == len(opened.shards)
    path = opened.to_parquet(tmp_path / "ig.parquet")
    assert parquet.ParquetFile(path).num_row_groups == len(opened.shards)
    back = pandas.read_parquet(path)
    pandas.testing.assert_frame_equal(back, expected)
    assert parquet.read_schema(path).metadata[b"method"] == b"integrated_gradients"


def test_missing_packages_name_the_extra(tmp_path, monkeypatch):
    model, params, graph = _problem()
    result = explain(model, params, graph, methods=["nam"], targets=[0])["nam"]
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"to_frame needs pandas .*jgattr\[frames\]"):
        result.to_frame()
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"to_parquet needs pyarrow .*jgattr\[frames\]"):
        result.to_parquet(tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()
    for name in ("torch_geometric", "torch_geometric.explain"):
        monkeypatch.setitem(sys.modules, name, None)
    needs = r"(explanations need|jgattr.interop needs torch and) torch_geometric .*\[torch\]"
    with pytest.raises(ImportError, match=needs):  # the package's message, or the converter's
        result.to_pyg_explanation(0, graph)


def _pyg():
    """(torch, torch_geometric.data, torch_geometric.utils, groundtruth_metrics)."""
    torch = require("torch", "torch")
    require("torchmetrics", "torch")  # groundtruth_metrics computes its AUROC with it
    metric = require("torch_geometric.explain.metric", "torch")
    return (
        torch,
        require("torch_geometric.data", "torch"),
        require("torch_geometric.utils", "torch"),
        metric.groundtruth_metrics,
    )


def _ba_shapes_from_pyg(torch, pyg_data):
    """jgattr's BA-Shapes handed over as a PyG ``Data`` whose ``edge_index`` is shuffled, then
    read back with from_pyg (same canonical edges, so the ground truth still aligns)."""
    ours = load_dataset("ba-shapes")
    order = np.random.default_rng(0).permutation(ours.num_edges)
    edge_index = np.stack([ours.graph.senders, ours.graph.receivers]).astype(np.int64)[:, order]
    data = pyg_data.Data(
        x=torch.from_numpy(ours.graph.nodes),
        edge_index=torch.from_numpy(edge_index),
        y=torch.from_numpy(ours.labels.astype(np.int64)),
        train_mask=torch.from_numpy(ours.train_mask),
        test_mask=torch.from_numpy(ours.test_mask),
    )
    dataset = from_pyg(data)
    np.testing.assert_array_equal(dataset.graph.senders, ours.graph.senders)
    return data, dataclasses.replace(dataset, ground_truth=ours.ground_truth)


def _pyg_aucs(by_nodes, by_edges, data, motif, utils, groundtruth_metrics, torch):
    """Mean PyG groundtruth_metrics AUROC of node masks (|score|, signed) and edge masks, each
    target scored on its own motif over its computation graph: the K = 3-hop nodes
    (k_hop_subgraph) and the edges into the 2-hop nodes."""

    def auroc(scores, truth):
        if truth.all() or not truth.any():
            return None  # one class only: jgattr leaves the target out too
        return groundtruth_metrics(scores, torch.from_numpy(truth).float(), "auroc")

    sender, receiver = data.edge_index.numpy()
    node, signed, edge = [], [], []
    for by_node, by_edge in zip(by_nodes, by_edges, strict=True):
        v = int(by_node.index)
        own = motif == motif[v]
        subset = utils.k_hop_subgraph(v, 3, data.edge_index, num_nodes=motif.shape[0])[0]
        node.append(auroc(by_node.node_mask[subset, 0].abs(), own[subset.numpy()]))
        signed.append(auroc(by_node.node_mask[subset, 0], own[subset.numpy()]))
        inner = utils.k_hop_subgraph(v, 2, data.edge_index, num_nodes=motif.shape[0])[0]
        scored = np.isin(receiver, inner.numpy())
        truth = (own[sender] & own[receiver])[scored]
        edge.append(auroc(by_edge.edge_mask[torch.from_numpy(scored)].abs(), truth))
    mean = lambda values: float(np.mean([x for x in values if x is not None]))
    return mean(node), mean(signed), mean(edge), sum(x is not None for x in node)


def test_pyg_groundtruth_metrics_equal_jgattr_explanation_auc_on_ba_shapes():
    """PyG's groundtruth_metrics on the Explanation objects, per target and averaged, equal
    explanation_accuracy: node AUC (|score| and signed) of saliency, edge AUC of edge saliency;
    also for random values in the same places (AUCs near 0.5, the signed one apart)."""
    torch, pyg_data, utils, groundtruth_metrics = _pyg()
    data, dataset = _ba_shapes_from_pyg(torch, pyg_data)
    model = GCN(num_classes=4, hidden_size=4, num_layers=3)
    params = init_params(model, gcn_normalize(dataset.graph), key=jax.random.key(0))
    motif = dataset.ground_truth.motif_id
    targets = np.flatnonzero(dataset.test_mask & (motif >= 0))
    methods = ["saliency", "edge_saliency"]
    results = explain(model, params, dataset, methods=methods, targets=targets)
    rng = np.random.default_rng(0)
    noisy = {
        name: dataclasses.replace(r, values=rng.standard_normal(r.values.shape).astype(np.float32))
        for name, r in results.items()
    }
    print(f"\nBA-Shapes, {len(targets)} motif test targets: PyG groundtruth_metrics / jgattr")
    for label, pair in (("GCN", results), ("random", noisy)):
        ours = {name: explanation_accuracy(r, dataset) for name, r in pair.items()}
        node, signed, edge, scored = _pyg_aucs(
            pair["saliency"].to_pyg_explanations(dataset, edge_index=data.edge_index),
            pair["edge_saliency"].to_pyg_explanations(dataset, edge_index=data.edge_index),
            data, motif, utils, groundtruth_metrics, torch,
        )  # fmt: skip
        assert ours["saliency"]["targets_scored"] == scored > 20
        assert node == pytest.approx(ours["saliency"]["node_auc"], abs=1e-6)
        assert signed == pytest.approx(ours["saliency"]["node_auc_signed"], abs=1e-6)
        assert edge == pytest.approx(ours["edge_saliency"]["edge_auc"], abs=1e-6)
        print(
            f"  {label}: saliency node AUC {node:.6f} / {ours['saliency']['node_auc']:.6f}, "
            f"signed {signed:.6f} / {ours['saliency']['node_auc_signed']:.6f}; edge saliency "
            f"edge AUC {edge:.6f} / {ours['edge_saliency']['edge_auc']:.6f}"
        )


def test_pyg_explanation_masks_follow_the_users_node_and_edge_ids(tmp_path):
    """node_mask / edge_mask hold the result's values at the user's node ids and edge_index
    columns (a user self loop gets GCN's self loop); PyG's validate, visualize_graph and fidelity
    take them."""
    torch, pyg_data, _, _ = _pyg()
    fidelity = require("torch_geometric.explain.metric", "torch").fidelity
    data, dataset = _ba_shapes_from_pyg(torch, pyg_data)
    model = GCN(num_classes=4, hidden_size=4, num_layers=2)
    params = init_params(model, gcn_normalize(dataset.graph), key=jax.random.key(1))
    with_loops = torch.cat([data.edge_index, torch.tensor([[400], [400]])], dim=1)
    results = explain(model, params, dataset, methods=["nam", "edge_ig"], targets=[400, 401])
    ids = edge_map(dataset, with_loops)
    e, n = dataset.num_edges, dataset.num_nodes
    for row, target in enumerate((400, 401)):
        node = results["nam"].to_pyg_explanation(target, dataset)
        node.validate(raise_on_error=True)
        np.testing.assert_array_equal(node.node_mask[:, 0], results["nam"].to_dense(n)[row])
        assert int(node.index) == target and node.target[target] == results["nam"].classes[row]
        assert node.get("edge_mask") is None and node.x.shape == (n, dataset.num_features)
        by_edge = results["edge_integrated_gradients"].to_pyg_explanation(
            target, dataset, edge_index=with_loops
        )
        by_edge.validate(raise_on_error=True)
        dense = results["edge_integrated_gradients"].to_dense(e + n)[row]
        np.testing.assert_array_equal(by_edge.edge_mask, dense[ids.to_jgattr])
        assert torch.equal(by_edge.edge_index, with_loops)
        assert float(by_edge.edge_mask[-1]) == dense[e + 400] != 0  # GCN's self loop of 400
    plain = results["edge_integrated_gradients"].to_pyg_explanation(400, dataset)
    first = results["edge_integrated_gradients"].to_dense(e + n)[0]
    np.testing.assert_array_equal(plain.edge_mask, first[:e])  # jgattr's edges, no self loops
    plain.visualize_graph(str(tmp_path / "edges.png"), backend="networkx")
    explainer = _model_explainer(dataset.num_features)
    for explanation in (plain, results["nam"].to_pyg_explanation(401, dataset)):
        assert all(0.0 <= score <= 1.0 for score in fidelity(explainer, explanation))
    assert (tmp_path / "edges.png").stat().st_size > 0
    with pytest.raises(ValueError, match="target 7 is not among the result's 2 targets"):
        results["nam"].to_pyg_explanation(7, dataset)


def _model_explainer(num_features: int):
    """A PyG ``Explainer`` (explanation_type "model") around a PyG GCN, for ``fidelity``."""
    nn = require("torch_geometric.nn", "torch")
    explain_module = require("torch_geometric.explain", "torch")
    return explain_module.Explainer(
        nn.GCN(num_features, 8, 2, out_channels=4),
        algorithm=explain_module.DummyExplainer(),
        explanation_type="model",
        node_mask_type="object",
        edge_mask_type="object",
        model_config=dict(mode="multiclass_classification", task_level="node", return_type="raw"),
    )


def test_pyg_explanation_of_a_graph_target_is_its_own_graph():
    torch, pyg_data, _, _ = _pyg()
    graphs = _graphs(torch, pyg_data)
    batch = pyg_data.Batch.from_data_list(graphs)
    dataset = from_pyg(batch)
    model = GraphClassifier(2, "gcn", (5, 4), "mean")
    params = init_params(model, prepare_graph(model, dataset.graph), key=jax.random.key(0))
    results = explain(model, params, dataset, methods=["nam", "edge_saliency"], targets=[0, 1, 2])
    node = results["nam"].to_pyg_explanation(2, dataset, edge_index=batch.edge_index)
    node.validate(raise_on_error=True)
    assert torch.equal(node.x, graphs[2].x) and torch.equal(node.edge_index, graphs[2].edge_index)
    np.testing.assert_array_equal(node.node_mask[:, 0], results["nam"].to_dense(8)[2, 5:])
    assert node.target.tolist() == [int(results["nam"].classes[2])] and "index" not in node
    by_edge = results["edge_saliency"].to_pyg_explanation(2, dataset, edge_index=batch.edge_index)
    e, n = dataset.num_edges, dataset.num_nodes
    dense = results["edge_saliency"].to_dense(e + n)[2]
    ids = edge_map(dataset, batch.edge_index).to_jgattr[3:]  # graph 2's edges: columns 3..6
    np.testing.assert_array_equal(by_edge.edge_mask, dense[ids])
    assert by_edge.edge_mask[-1] != 0  # its self loop (7, 7) is GCN's self loop of node 7
    many = results["nam"].to_pyg_explanations(dataset, targets=[0, 2], edge_index=batch.edge_index)
    assert [m.x.shape[0] for m in many] == [3, 3]
