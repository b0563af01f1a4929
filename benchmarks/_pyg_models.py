"""PyG's ready-made GCN, GAT, GIN and GraphSAGE, trained in PyTorch Geometric on a jgattr
``Dataset`` (full batch, Adam, the epoch with the lowest validation loss kept)."""

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.nn import GAT, GCN, GIN, GraphSAGE

# name -> (builder(features, classes), learning rate)
ARCHITECTURES = {
    "gcn": (lambda f, c: GCN(f, 16, 2, c, dropout=0.5), 0.01),
    "gat": (lambda f, c: GAT(f, 64, 2, c, heads=8, dropout=0.6, act="elu"), 0.005),
    "gin": (lambda f, c: GIN(f, 64, 2, c, dropout=0.5), 0.01),
    "sage": (lambda f, c: GraphSAGE(f, 64, 2, c, dropout=0.5), 0.01),
}


def torch_graph(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, edge_index)`` of a jgattr dataset's graph."""
    graph = dataset.graph
    x = torch.from_numpy(np.asarray(graph.nodes))
    edges = np.stack([graph.senders, graph.receivers]).astype(np.int64)
    return x, torch.from_numpy(edges)


def train_pyg(name: str, dataset, *, epochs: int = 200, seed: int = 0) -> torch.nn.Module:
    """The PyG model ``name`` trained on ``dataset``'s training nodes, in eval mode."""
    build, learning_rate = ARCHITECTURES[name]
    torch.manual_seed(seed)
    model = build(dataset.num_features, dataset.num_classes)
    x, edge_index = torch_graph(dataset)
    y = torch.from_numpy(np.asarray(dataset.labels, np.int64))
    train, val = (torch.from_numpy(np.asarray(m)) for m in (dataset.train_mask, dataset.val_mask))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, weight_decay=5e-4)
    best, best_loss = None, float("inf")
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        F.cross_entropy(model(x, edge_index)[train], y[train]).backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            loss = float(F.cross_entropy(model(x, edge_index)[val], y[val]))
        if loss < best_loss:
            best_loss, best = loss, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best)
    return model.eval()
