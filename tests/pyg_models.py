"""PyG models for the interop tests: every supported layer kind and option, ready-made models,
``Sequential`` s, fx-traced modules and graph classifiers; and unsupported ones.

Importing this module needs torch and torch_geometric (the tests import it through
``import_optional``).
"""

import numpy as np
import torch
import torch.nn.functional as F
import torch_geometric.nn as pyg

FEATURES, CLASSES = 6, 3


def _bn(width: int) -> torch.nn.BatchNorm1d:
    """A BatchNorm1d with non-trivial running statistics and affine weights."""
    norm = torch.nn.BatchNorm1d(width)
    with torch.no_grad():
        norm.running_mean.normal_()
        norm.running_var.uniform_(0.5, 2.0)
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.normal_()
    return norm


def _mlp(width: int, out: int, *, norm: bool = False, inputs: int = FEATURES):
    middle = [_bn(width)] if norm else []
    return torch.nn.Sequential(
        torch.nn.Linear(inputs, width),
        *middle,
        torch.nn.ReLU(),
        torch.nn.Linear(width, out),
    )


def _gin(eps: float = 0.0, train_eps: bool = False, norm: bool = False) -> pyg.GINConv:
    conv = pyg.GINConv(_mlp(16, CLASSES, norm=norm), eps=eps, train_eps=train_eps)
    if train_eps:
        with torch.no_grad():
            conv.eps.fill_(0.3)
    return conv


class TracedGCN(torch.nn.Module):
    """A user's module in the style of PyG's examples (dropout, .relu(), log_softmax)."""

    def __init__(self):
        super().__init__()
        self.conv1 = pyg.GCNConv(FEATURES, 16)
        self.conv2 = pyg.GCNConv(16, CLASSES)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.5, training=self.training)
        x = self.conv1(x, edge_index).relu()
        x = F.dropout(x, p=0.5, training=self.training)
        return F.log_softmax(self.conv2(x, edge_index), dim=1)


class TracedChain(torch.nn.Module):
    """Linear, ELU, LeakyReLU, tanh, sigmoid and BatchNorm around GAT layers."""

    def __init__(self):
        super().__init__()
        self.lin_in = torch.nn.Linear(FEATURES, 12)
        self.conv1 = pyg.GATConv(12, 4, heads=2)
        self.norm = _bn(8)
        self.conv2 = pyg.GATConv(8, 5, heads=2, concat=False, negative_slope=0.1)
        self.act = torch.nn.LeakyReLU(0.3)
        self.lin_out = pyg.Linear(5, CLASSES)

    def forward(self, x, edge_index):
        x = torch.tanh(self.lin_in(x))
        x = F.elu(self.conv1(x, edge_index), alpha=0.7)
        x = self.norm(x)
        x = self.act(self.conv2(x, edge_index))
        return torch.sigmoid(self.lin_out(x))


class GraphClassifier(torch.nn.Module):
    """Convolutions, a global pooling, dropout and a linear head (PyG's TU examples)."""

    def __init__(self, conv: str, pool):
        super().__init__()
        self.pool = pool
        if conv == "gin":
            self.conv1, self.conv2 = _gin(norm=True), pyg.GINConv(_mlp(8, 8, inputs=CLASSES))
        else:
            self.conv1, self.conv2 = pyg.GCNConv(FEATURES, 16), pyg.GCNConv(16, 8)
        self.lin = torch.nn.Linear(8, CLASSES)

    def forward(self, x, edge_index, batch):
        x = self.conv1(x, edge_index).relu()
        x = self.conv2(x, edge_index).relu()
        x = self.pool(x, batch)
        x = F.dropout(x, p=0.5, training=self.training)
        return self.lin(x)


class MeanPoolGCN(GraphClassifier):
    def __init__(self):
        super().__init__("gcn", None)

    def forward(self, x, edge_index, batch):
        x = self.conv1(x, edge_index).relu()
        x = self.conv2(x, edge_index).relu()
        return self.lin(pyg.global_mean_pool(x, batch))


class MaxPoolGIN(GraphClassifier):
    def __init__(self):
        super().__init__("gin", None)

    def forward(self, x, edge_index, batch):
        x = F.relu(self.conv1(x, edge_index))
        x = self.conv2(x, edge_index)
        return self.lin(pyg.global_max_pool(x, batch))


class AddPoolSAGE(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gnn = pyg.GraphSAGE(FEATURES, 16, 2, 8, aggr="sum")
        self.lin = torch.nn.Linear(8, CLASSES)

    def forward(self, x, edge_index, batch):
        x = self.gnn(x, edge_index)
        return self.lin(pyg.global_add_pool(x, batch))


def _sequential_node():
    return pyg.Sequential(
        "x, edge_index",
        [
            (pyg.SAGEConv(FEATURES, 16, aggr="max"), "x, edge_index -> x"),
            torch.nn.ReLU(inplace=True),
            torch.nn.Dropout(0.5),
            (pyg.SAGEConv(16, 16, aggr="max", root_weight=False), "x, edge_index -> x"),
            torch.nn.ELU(),
            torch.nn.Linear(16, CLASSES),
        ],
    )


def _sequential_graph():
    return pyg.Sequential(
        "x, edge_index, batch",
        [
            (pyg.GCNConv(FEATURES, 16), "x, edge_index -> x"),
            torch.nn.ReLU(),
            (pyg.GCNConv(16, 16), "x, edge_index -> x"),
            torch.nn.ReLU(),
            (pyg.global_mean_pool, "x, batch -> x"),
            torch.nn.Linear(16, CLASSES),
        ],
    )


# name -> builder of a node classifier
NODE_MODELS = {
    "gcn": lambda: pyg.GCNConv(FEATURES, CLASSES),
    "gcn-no-normalize": lambda: pyg.GCNConv(FEATURES, CLASSES, normalize=False),
    "gcn-no-self-loops": lambda: pyg.GCNConv(FEATURES, CLASSES, add_self_loops=False),
    "gcn-no-bias": lambda: pyg.GCNConv(FEATURES, CLASSES, bias=False),
    "gcn-cached": lambda: pyg.GCNConv(FEATURES, CLASSES, cached=True),
    "gat-heads-concat": lambda: pyg.GATConv(FEATURES, 4, heads=3),
    "gat-mean-heads": lambda: pyg.GATConv(FEATURES, CLASSES, heads=3, concat=False),
    "gat-negative-slope": lambda: pyg.GATConv(FEATURES, CLASSES, heads=2, negative_slope=0.05),
    "gat-no-self-loops": lambda: pyg.GATConv(FEATURES, CLASSES, add_self_loops=False),
    "gat-no-bias": lambda: pyg.GATConv(FEATURES, CLASSES, heads=2, bias=False),
    "gin": lambda: _gin(),
    "gin-eps": lambda: _gin(eps=0.5),
    "gin-train-eps": lambda: _gin(train_eps=True),
    "gin-batch-norm": lambda: _gin(norm=True),
    "gin-mlp-starts-with-norm": lambda: pyg.GINConv(
        torch.nn.Sequential(_bn(FEATURES), torch.nn.Linear(FEATURES, CLASSES))
    ),
    "gin-pyg-mlp": lambda: pyg.GINConv(pyg.MLP([FEATURES, 16, CLASSES], norm="batch_norm")),
    "sage-mean": lambda: pyg.SAGEConv(FEATURES, CLASSES),
    "sage-max": lambda: pyg.SAGEConv(FEATURES, CLASSES, aggr="max"),
    "sage-sum": lambda: pyg.SAGEConv(FEATURES, CLASSES, aggr="sum"),
    "sage-no-root": lambda: pyg.SAGEConv(FEATURES, CLASSES, root_weight=False),
    "sage-normalize": lambda: pyg.SAGEConv(FEATURES, CLASSES, normalize=True),
    "ready-gcn": lambda: pyg.GCN(FEATURES, 16, 2, CLASSES, dropout=0.5),
    "ready-gcn-3-layers-batch-norm": lambda: pyg.GCN(FEATURES, 16, 3, CLASSES, norm="batch_norm"),
    "ready-gcn-jk-last": lambda: pyg.GCN(FEATURES, 16, 2, CLASSES, jk="last"),
    "ready-gat": lambda: pyg.GAT(FEATURES, 16, 2, CLASSES, heads=4, dropout=0.6),
    "ready-gat-elu": lambda: pyg.GAT(FEATURES, 16, 3, CLASSES, heads=2, act="elu"),
    "ready-gin": lambda: pyg.GIN(FEATURES, 16, 2, CLASSES),
    "ready-gin-act-first": lambda: pyg.GIN(FEATURES, 16, 2, CLASSES, act="tanh", act_first=True),
    "ready-sage": lambda: pyg.GraphSAGE(FEATURES, 16, 2, CLASSES),
    "ready-sage-max-1-layer": lambda: pyg.GraphSAGE(FEATURES, 16, 1, CLASSES, aggr="max"),
    "sequential": _sequential_node,
    "traced-gcn": TracedGCN,
    "traced-gat-chain": TracedChain,
}
GRAPH_MODELS = {
    "mean-pool-gcn": MeanPoolGCN,
    "max-pool-gin": MaxPoolGIN,
    "add-pool-sage": AddPoolSAGE,
    "sequential-mean-pool": _sequential_graph,
}
TRAINED = ("ready-gcn", "ready-gat", "ready-gin", "ready-sage", "traced-gat-chain")


class Residual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = pyg.GCNConv(FEATURES, FEATURES)

    def forward(self, x, edge_index):
        return x + self.conv(x, edge_index)


class MLPHead(GraphClassifier):
    def __init__(self):
        super().__init__("gcn", pyg.global_mean_pool)
        self.lin2 = torch.nn.Linear(CLASSES, CLASSES)

    def forward(self, x, edge_index, batch):
        x = self.conv2(self.conv1(x, edge_index).relu(), edge_index)
        return self.lin2(self.lin(pyg.global_mean_pool(x, batch)).relu())


# name -> (builder, words the error must contain)
UNSUPPORTED = {
    "cheb": (lambda: pyg.ChebConv(FEATURES, CLASSES, K=2), ("ChebConv", "GCNConv")),
    "jk-cat": (lambda: pyg.GCN(FEATURES, 16, 2, CLASSES, jk="cat"), ("jk='cat'", "jk=None")),
    "gatv2": (lambda: pyg.GAT(FEATURES, 16, 2, CLASSES, v2=True), ("GATv2Conv", "GATConv")),
    "gcn-improved": (lambda: pyg.GCNConv(FEATURES, CLASSES, improved=True), ("improved",)),
    "sage-lstm": (lambda: pyg.SAGEConv(FEATURES, CLASSES, aggr="lstm"), ("SAGEConv", "lstm")),
    "layer-norm": (
        lambda: pyg.GCN(FEATURES, 16, 2, CLASSES, norm="layer_norm"),
        ("LayerNorm", "BatchNorm1d"),
    ),
    "residual": (Residual, ("skip connections",)),
    "mlp-head": (MLPHead, ("one Linear",)),
    "mixed-aggregation": (
        lambda: pyg.Sequential(
            "x, edge_index",
            [
                (pyg.GINConv(_mlp(16, 16)), "x, edge_index -> x"),
                (pyg.SAGEConv(16, CLASSES), "x, edge_index -> x"),
            ],
        ),
        ("read the graph in different ways", "aggregate alike"),
    ),
}


def train_briefly(module, x, edge_index, labels, *, batch=None, steps: int = 30) -> None:
    """A few Adam steps on ``labels`` (so the weights are no longer the initial ones)."""
    optimizer = torch.optim.Adam(module.parameters(), lr=0.02)
    module.train()
    extra = {} if batch is None else {"batch": batch}
    for _ in range(steps):
        optimizer.zero_grad()
        out = module(x, edge_index, **extra)
        loss = F.cross_entropy(out, labels)
        loss.backward()
        optimizer.step()
    module.eval()


def random_graph(rng: np.random.Generator, sizes=(40,), edges_per_node: int = 2):
    """A disjoint union of random undirected graphs (no self loops, some isolated nodes)."""
    senders, receivers, offset = [], [], 0
    for size in sizes:
        count = edges_per_node * size
        a = rng.integers(0, size - 3, count)  # the last 3 nodes of each graph stay isolated
        b = rng.integers(0, size - 3, count)
        keep = a != b
        pairs = np.unique(np.stack([np.r_[a[keep], b[keep]], np.r_[b[keep], a[keep]]]), axis=1)
        senders.append(pairs[0] + offset)
        receivers.append(pairs[1] + offset)
        offset += size
    return np.concatenate(senders), np.concatenate(receivers)
