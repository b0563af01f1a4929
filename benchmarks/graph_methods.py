"""Every graph of BA-2Motifs explained by every method in one run, against a per-graph loop.

Usage:
  python benchmarks/graph_methods.py --out benchmarks/results/graph_methods_cpu_2core.json

Pope et al.'s molecule model (GCN 128-256-512, mean readout, linear head: the architecture
every one of their methods is defined on, EB included) is trained on BA-2Motifs (``--epochs``;
the timings do not depend on it), then each method explains all 1000 graphs for their
predicted class in one :func:`jgattr.attribution.explain` call: compile seconds apart, the best
of ``--repeats`` warm runs. The baseline is the loop users write with other libraries (a data
loader of batch size 1): one graph per call, given alone, explained by the same method through
the same compiled code (every graph pads to the same shape), timed on ``--loop-sample`` graphs
and extrapolated. Prints JSON.
"""

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import jax
import jraph
import numpy as np
from _report import emit
from _timing import cold_then_warm

from jgattr._training import TrainConfig, train
from jgattr.attribution import explain, get_method
from jgattr.data import load_graph_dataset
from jgattr.models import GraphClassifier

METHODS = (
    "contrastive_gradient",
    "cam",
    "grad_cam",
    "grad_cam_avg",
    "excitation_backprop",
    "contrastive_eb",
    "saliency",
    "nam",
    "integrated_gradients",
)


def _engine(model, params, dataset, method, repeats: int) -> tuple:
    call = lambda: explain(model, params, dataset, methods=[method], targets="all")[method.name]
    first, cold, result, warm = cold_then_warm(call, repeats)
    return result, {
        "warm_seconds": round(warm, 4),
        "cold_seconds": round(cold, 3),
        "compile_seconds": round(first.stats["compile_seconds"], 3),
        "chunks": result.stats["chunks"],
        "peak_rss_mb": result.stats["peak_rss_mb"],
    }


def _one_graph(dataset, g: int) -> jraph.GraphsTuple:
    """Graph ``g`` of the dataset alone (node ids from 0), as a batch of one."""
    first, last = dataset.node_offsets[g], dataset.node_offsets[g + 1]
    edges = slice(dataset.edge_offsets[g], dataset.edge_offsets[g + 1])
    return jraph.GraphsTuple(
        nodes=dataset.graph.nodes[first:last],
        edges=None,
        senders=dataset.graph.senders[edges] - first,
        receivers=dataset.graph.receivers[edges] - first,
        n_node=np.array([last - first], np.int32),
        n_edge=np.array([edges.stop - edges.start], np.int32),
        globals=None,
    )


def _loop(model, params, dataset, method, sample: int) -> dict:
    picked = np.linspace(0, dataset.num_graphs - 1, sample).astype(int)
    graphs = [_one_graph(dataset, int(g)) for g in picked]
    first = np.array([0])
    explain(model, params, graphs[0], methods=[method], targets=first)  # compile
    start = time.perf_counter()
    for graph in graphs:
        explain(model, params, graph, methods=[method], targets=first)
    measured = time.perf_counter() - start
    return {
        "seconds": round(measured * dataset.num_graphs / sample, 3),
        "seconds_per_graph": round(measured / sample, 5),
        "measured_graphs": sample,
        "extrapolated": sample < dataset.num_graphs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-sample", type=int, default=50)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    dataset = load_graph_dataset("ba-2motifs")
    model = GraphClassifier(2, "gcn", (128, 256, 512), "mean")
    trained = train(model, dataset, TrainConfig(0.001, 0.0, args.epochs, 0), key=jax.random.key(0))
    rows = {}
    for name in args.methods:
        method = get_method(name)
        result, engine = _engine(model, trained.params, dataset, method, args.repeats)
        loop = _loop(model, trained.params, dataset, method, args.loop_sample)
        rows[name] = {
            "graphs": result.num_targets,
            "engine": engine,
            "per_graph_loop": loop,
            "speedup": round(loop["seconds"] / engine["warm_seconds"], 1),
        }
        print(f"{name}: {engine['warm_seconds']} s (loop {loop['seconds']} s)", file=sys.stderr)
    report = {
        "benchmark": "graph_methods",
        "dataset": "ba-2motifs (1000 graphs, 25 nodes each)",
        "model": "GCN 128-256-512, mean readout, linear head (Pope et al.)",
        "accuracy": trained.accuracy,
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
        "machine": platform.machine(),
        "jax": jax.__version__,
        "methods": rows,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
