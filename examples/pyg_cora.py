"""A GCN trained in PyTorch Geometric on Cora, for ``configs/cora-pyg.toml``.

Train it (PyG's ready-made ``GCN``, Kipf & Welling's settings, about 10 s on a CPU) and let
jgattr train nothing, only import, explain, evaluate and draw:

    python examples/pyg_cora.py --out runs/cora-pyg-model.pt
    jgattr run --config configs/cora-pyg.toml --out runs/cora-pyg

``build_model`` is what the config's ``[model] module`` names: called without arguments, it
returns the untrained module, into which jgattr loads ``runs/cora-pyg-model.pt`` with
``torch.load(weights_only=True)``.
"""

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCN

CORA_FEATURES, CORA_CLASSES = 1433, 7


def build_model() -> torch.nn.Module:
    """The untrained model: 2 GCNConv layers, hidden 16, ReLU, dropout 0.5."""
    return GCN(CORA_FEATURES, 16, num_layers=2, out_channels=CORA_CLASSES, dropout=0.5)


def train(dataset, *, epochs: int = 200, seed: int = 0) -> torch.nn.Module:
    """Train :func:`build_model` on a jgattr ``Dataset`` (full batch, Adam 0.01, weight decay
    5e-4), the parameters of the epoch with the lowest validation loss kept."""
    torch.manual_seed(seed)
    model = build_model()
    x = torch.from_numpy(np.asarray(dataset.graph.nodes))
    edge_index = torch.from_numpy(
        np.stack([dataset.graph.senders, dataset.graph.receivers]).astype(np.int64)
    )
    y = torch.from_numpy(np.asarray(dataset.labels, np.int64))
    train_mask, val_mask = (
        torch.from_numpy(np.asarray(m)) for m in (dataset.train_mask, dataset.val_mask)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    best, best_loss = None, float("inf")
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        out = model(x, edge_index)
        F.cross_entropy(out[train_mask], y[train_mask]).backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = float(F.cross_entropy(model(x, edge_index)[val_mask], y[val_mask]))
        if val_loss < best_loss:
            best_loss, best = val_loss, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best)
    return model.eval()


def main() -> None:
    from jgattr import load_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/cora-pyg-model.pt"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    dataset = load_dataset("cora", data_dir=args.data_dir)
    model = train(dataset, epochs=args.epochs)
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(dataset.graph.nodes))
        edges = np.stack([dataset.graph.senders, dataset.graph.receivers]).astype(np.int64)
        predicted = model(x, torch.from_numpy(edges)).argmax(-1).numpy()
    accuracy = np.mean(predicted[dataset.test_mask] == dataset.labels[dataset.test_mask])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    print(f"test accuracy {accuracy:.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
