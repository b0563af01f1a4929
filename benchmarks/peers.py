"""jgattr against PyG + Captum on the same Cora GCN: agreement and time per target.

Usage (torch, PyG and Captum are the optional ``peers`` extra; a separate venv, docs/benchmarks.md):
  python benchmarks/peers.py --out benchmarks/results/peers.json   # trains configs/cora.toml
  python benchmarks/peers.py --run runs/cora                       # a `jgattr train` run
  python benchmarks/peers.py --pyg --targets 20 --out benchmarks/results/peers_pyg.json

Steps:

1. The GCN of ``configs/cora.toml`` (trained here, or loaded from a ``jgattr train`` run folder).
2. Its weights exported into PyG: one ``torch_geometric.nn.GCNConv`` per layer (self loops and
   symmetric normalization ``D̃^-1/2 (A + I) D̃^-1/2``, bias after aggregation: the same GCN), the
   kernel transposed into ``lin.weight``. The largest ``|logit difference|`` over all nodes is
   reported (``max_abs_logit_difference``).
3. On ``--targets`` Cora test nodes (evenly spaced over the test split), each explained for its
   predicted class, as PyG's and Captum's docs show, one target at a time: ``to_captum_model(model,
   mask_type="node", output_idx=node)`` with ``to_captum_input``, then Captum's ``Saliency``
   (``abs=True``), ``InputXGradient`` and ``IntegratedGradients`` (``method="gausslegendre"``,
   ``n_steps=50``, zero baseline, ``internal_batch_size=1`` as ``CaptumModel`` requires); each
   ``[1, N, F]`` result is summed over features into ``[N]``. And PyG's ``GNNExplainer``
   (``epochs=100``, ``node_mask_type="attributes"``, ``edge_mask_type="object"``) through
   ``torch_geometric.explain.Explainer``: time only, its masks are stochastic.
4. jgattr's ``explain`` on the same targets and classes in one call per method: ``saliency``
   (``Σ_i |∂Z/∂X[φ, i]|`` per node = Captum Saliency summed per node), ``nam`` (``Σ_i X ∂Z/∂X``
   = InputXGradient summed per node) and ``ig`` (Gauss-Legendre, 50 points = Captum IG summed
   per node). Cold (with compilation) and warm (best of ``--repeats``) seconds.

With ``--pyg``, the models come from PyTorch Geometric instead: PyG's ready-made ``GCN``,
``GAT``, ``GIN`` and ``GraphSAGE``, trained in PyG on Cora (``_pyg_models.py``), imported with
``jgattr.interop.from_pyg``; jgattr's NAM, saliency and IG-50 on the imported model against
Captum's on the PyG module itself, per model (``models`` in the JSON; no GNNExplainer).

Agreement: for each target, ``max_φ |jgattr[φ] - captum[φ]| / max_φ |captum[φ]|``; the JSON
gives the largest over targets (``max_relative_difference``) and the median. Times are seconds
per target (jgattr: the whole call divided by the number of targets) and the speed ratio
``captum / jgattr``. GNNExplainer: jgattr runs its
``gnn_explainer_nodes`` (:func:`_jgattr_gnnexplainer`), timed only (masks are stochastic).
Prints JSON.

torch runs on ``--torch-threads`` (default 1): on a shared 2-core machine two torch threads spin
against each other and every backward pass got 25x slower; jax keeps its defaults. The JSON
records the 1-minute load average before and after the run.
"""

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import captum
import jax
import numpy as np
import torch
import torch_geometric
from _report import emit
from _timing import cold_then_warm
from captum.attr import InputXGradient, IntegratedGradients, Saliency
from torch_geometric.explain import Explainer, GNNExplainer
from torch_geometric.nn import GCNConv, to_captum_input, to_captum_model

from jgattr import build_model, load_checkpoint, load_config, load_dataset, make_apply_fn, train
from jgattr.attribution import explain, get_method
from jgattr.models import prepare_graph

REPO = Path(__file__).resolve().parents[1]
N_STEPS = 50
GNN_EXPLAINER_EPOCHS = 100
# jgattr method -> (Captum class, attribute() keyword arguments)
PAIRS = {
    "saliency": (Saliency, {"abs": True}),
    "nam": (InputXGradient, {}),
    "ig": (
        IntegratedGradients,
        {"method": "gausslegendre", "n_steps": N_STEPS, "internal_batch_size": 1},
    ),
}
JGATTR_METHODS = {
    "saliency": get_method("saliency"),
    "nam": get_method("nam"),
    "ig": get_method("ig", n_steps=N_STEPS, quadrature_rule="gauss_legendre"),
}


class TorchGCN(torch.nn.Module):
    """jgattr's GCN in PyG: ``GCNConv`` layers, ReLU between them, no dropout (evaluation)."""

    def __init__(self, kernels: list[np.ndarray], biases: list[np.ndarray]):
        super().__init__()
        self.convs = torch.nn.ModuleList()
        for kernel, bias in zip(kernels, biases, strict=True):
            conv = GCNConv(kernel.shape[0], kernel.shape[1])
            with torch.no_grad():
                conv.lin.weight.copy_(torch.from_numpy(np.array(kernel.T)))
                conv.bias.copy_(torch.from_numpy(np.array(bias)))
            self.convs.append(conv)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for layer, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            if layer < len(self.convs) - 1:
                x = torch.relu(x)
        return x


def _model(args, dataset):
    """``(model, params)``: the GCN of configs/cora.toml, loaded from ``--run`` or trained."""
    if args.run is not None:
        checkpoint = load_checkpoint(args.run, dataset=dataset.name)
        return checkpoint.model, checkpoint.params
    config = load_config(REPO / "configs" / "cora.toml")
    model = build_model(config.model, dataset.num_classes)
    return model, train(model, dataset, config.train, key=jax.random.key(0)).params


def _export(model, params) -> TorchGCN:
    layers = range(model.num_layers)
    kernels = [np.asarray(params[f"conv_{i}"]["kernel"], np.float32) for i in layers]
    biases = [np.asarray(params[f"conv_{i}"]["bias"], np.float32) for i in layers]
    return TorchGCN(kernels, biases).eval()


def _captum(torch_model, x, edge_index, nodes, classes) -> tuple[dict, dict]:
    """Per-node sums ``{method: [T, N]}`` and seconds per target ``{method: s}``."""
    values, seconds = {}, {}
    inputs, extra = to_captum_input(x, edge_index, "node")
    for name, (cls, kwargs) in PAIRS.items():
        rows, start = [], time.perf_counter()
        for node, cls_id in zip(nodes, classes, strict=True):
            captum_model = to_captum_model(torch_model, mask_type="node", output_idx=int(node))
            attr = cls(captum_model).attribute(
                inputs, target=int(cls_id), additional_forward_args=extra, **kwargs
            )
            rows.append(attr[0].detach()[0].sum(dim=-1).numpy())  # a tuple, like inputs
        seconds[name] = (time.perf_counter() - start) / len(nodes)
        values[name] = np.stack(rows)
        print(f"captum {name}: {seconds[name]:.4f} s per target", file=sys.stderr)
    return values, seconds


def _gnnexplainer(torch_model, x, edge_index, nodes, epochs: int) -> float:
    """PyG GNNExplainer, seconds per target (masks not compared: they are stochastic)."""
    explainer = Explainer(
        torch_model,
        algorithm=GNNExplainer(epochs=epochs),
        explanation_type="model",
        node_mask_type="attributes",
        edge_mask_type="object",
        model_config={
            "mode": "multiclass_classification",
            "task_level": "node",
            "return_type": "raw",
        },
    )
    start = time.perf_counter()
    for node in nodes:
        explainer(x, edge_index, index=int(node))
    return (time.perf_counter() - start) / len(nodes)


def _jgattr_gnnexplainer(model, params, dataset, nodes, classes, epochs: int) -> dict:
    """jgattr's GNNExplainer (object node mask, the same epochs) on the same targets: seconds
    per target of the first call (compilation included) and of a second one."""
    method = get_method("gnn_explainer_nodes", epochs=epochs)
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        explain(model, params, dataset, methods=[method], targets=nodes, classes=classes)
        seconds.append(time.perf_counter() - start)
    return {
        "cold_seconds_per_target": round(seconds[0] / len(nodes), 5),
        "warm_seconds_per_target": round(seconds[1] / len(nodes), 5),
    }


def _jgattr(model, params, dataset, nodes, classes, repeats: int) -> tuple[dict, dict]:
    """Dense per-node attributions ``{method: [T, N]}`` and timings ``{method: {...}}``."""
    values, timings = {}, {}
    for name, method in JGATTR_METHODS.items():
        call = lambda method=method: explain(
            model,
            params,
            dataset,
            methods=[method],
            targets=nodes,
            classes=classes,
            progress=False,
        )[method.name]
        _, cold, result, warm = cold_then_warm(call, repeats)
        if not (np.array_equal(result.targets, nodes) and np.array_equal(result.classes, classes)):
            raise RuntimeError(f"jgattr {name}: targets or classes came back in another order")
        values[name] = result.to_dense(dataset.num_nodes)
        timings[name] = {
            "cold_seconds_per_target": cold / len(nodes),
            "warm_seconds_per_target": warm / len(nodes),
            "path": result.stats.get("path"),
        }
        print(f"jgattr {name}: {timings[name]}", file=sys.stderr)
    return values, timings


def _relative_differences(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """``[T]``: ``max |ours - theirs| / max |theirs|`` per target (row)."""
    scale = np.abs(theirs).max(axis=1)
    return np.abs(ours - theirs).max(axis=1) / np.where(scale > 0, scale, 1.0)


def _compare(args) -> dict:
    dataset = load_dataset("cora", data_dir=args.data_dir)
    model, params = _model(args, dataset)
    torch_model = _export(model, params)
    x = torch.from_numpy(np.array(dataset.graph.nodes))
    edge_index = torch.from_numpy(
        np.stack([dataset.graph.senders, dataset.graph.receivers]).astype(np.int64)
    )
    ours = np.asarray(make_apply_fn(model)(params, prepare_graph(model, dataset.graph)))
    with torch.no_grad():
        theirs = torch_model(x, edge_index).numpy()
    test = np.flatnonzero(dataset.test_mask)
    nodes = test[np.linspace(0, len(test) - 1, args.targets).astype(int)]
    classes = ours[nodes].argmax(axis=1)
    captum_values, captum_seconds = _captum(torch_model, x, edge_index, nodes, classes)
    jg_values, jg_timings = _jgattr(model, params, dataset, nodes, classes, args.repeats)
    methods = {}
    for name in PAIRS:
        rel = _relative_differences(jg_values[name], captum_values[name])
        warm = jg_timings[name]["warm_seconds_per_target"]
        methods[name] = {
            "captum": PAIRS[name][0].__name__,
            "max_relative_difference": float(rel.max()),
            "median_relative_difference": float(np.median(rel)),
            "captum_seconds_per_target": round(captum_seconds[name], 5),
            "jgattr": jg_timings[name],
            "speed_ratio_warm": round(captum_seconds[name] / warm, 1),
            "speed_ratio_cold": round(
                captum_seconds[name] / jg_timings[name]["cold_seconds_per_target"], 1
            ),
        }
    gnn_nodes = nodes[: args.gnnexplainer_targets]
    pyg_seconds = _gnnexplainer(torch_model, x, edge_index, gnn_nodes, GNN_EXPLAINER_EPOCHS)
    print(f"pyg gnnexplainer: {pyg_seconds:.4f} s per target", file=sys.stderr)
    methods["gnnexplainer"] = {
        "targets": len(gnn_nodes),
        "epochs": GNN_EXPLAINER_EPOCHS,
        "pyg_seconds_per_target": round(pyg_seconds, 5),
        "jgattr": _jgattr_gnnexplainer(
            model, params, dataset, gnn_nodes, classes[: len(gnn_nodes)], GNN_EXPLAINER_EPOCHS
        ),
    }
    return {
        "targets": len(nodes),
        "max_abs_logit_difference": float(np.abs(ours - theirs).max()),
        "methods": methods,
    }


def _compare_pyg(args) -> dict:
    """PyG-trained GCN, GAT, GIN and GraphSAGE: jgattr (through from_pyg) against Captum."""
    from _pyg_models import ARCHITECTURES, torch_graph, train_pyg

    from jgattr.interop import from_pyg

    dataset = load_dataset("cora", data_dir=args.data_dir)
    x, edge_index = torch_graph(dataset)
    test = np.flatnonzero(dataset.test_mask)
    nodes = test[np.linspace(0, len(test) - 1, args.targets).astype(int)]
    models = {}
    for name in ARCHITECTURES:
        start = time.perf_counter()
        torch_model = train_pyg(name, dataset, epochs=args.pyg_epochs)
        trained_seconds = time.perf_counter() - start
        model, params = from_pyg(torch_model, dataset)
        ours = np.asarray(make_apply_fn(model)(params, prepare_graph(model, dataset.graph)))
        with torch.no_grad():
            theirs = torch_model(x, edge_index).numpy()
        classes = theirs[nodes].argmax(axis=1)
        accuracy = float(np.mean(theirs.argmax(1)[test] == np.asarray(dataset.labels)[test]))
        print(
            f"{name}: trained in {trained_seconds:.1f} s, accuracy {accuracy:.4f}", file=sys.stderr
        )
        captum_values, captum_seconds = _captum(torch_model, x, edge_index, nodes, classes)
        jg_values, jg_timings = _jgattr(model, params, dataset, nodes, classes, args.repeats)
        methods = {}
        for method in PAIRS:
            rel = _relative_differences(jg_values[method], captum_values[method])
            methods[method] = {
                "captum": PAIRS[method][0].__name__,
                "max_relative_difference": float(rel.max()),
                "median_relative_difference": float(np.median(rel)),
                "captum_seconds_per_target": round(captum_seconds[method], 5),
                "jgattr": jg_timings[method],
                "speed_ratio_warm": round(
                    captum_seconds[method] / jg_timings[method]["warm_seconds_per_target"], 1
                ),
                "speed_ratio_cold": round(
                    captum_seconds[method] / jg_timings[method]["cold_seconds_per_target"], 1
                ),
            }
        models[name] = {
            "pyg_model": repr(torch_model).splitlines()[0],
            "jgattr_model": model.name,
            "test_accuracy": accuracy,
            "max_relative_logit_difference": float(
                np.abs(ours - theirs).max() / np.abs(theirs).max()
            ),
            "methods": methods,
        }
    return {"targets": len(nodes), "pyg_epochs": args.pyg_epochs, "models": models}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=None, help="a `jgattr train` run folder")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--gnnexplainer-targets", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads (on a loaded 2-core machine 2 threads spin: 25x slower)",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--pyg", action="store_true", help="PyG-trained GCN, GAT, GIN, GraphSAGE via from_pyg"
    )
    parser.add_argument("--pyg-epochs", type=int, default=200)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.torch_threads)
    load_before = os.getloadavg()[0]
    report = {
        "benchmark": "peers",
        "dataset": "cora",
        "model": "PyG-trained (--pyg)"
        if args.pyg
        else "configs/cora.toml"
        if args.run is None
        else str(args.run),
        "backend": jax.default_backend(),
        "machine": platform.machine(),
        "jax": jax.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_geometric": torch_geometric.__version__,
        "captum": captum.__version__,
        **(_compare_pyg(args) if args.pyg else _compare(args)),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
