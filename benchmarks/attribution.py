"""The engine against a per-target ``jax.grad`` loop, side by side in one process.

Usage:
  python benchmarks/attribution.py                      # cora, citeseer, pubmed-structure
  python benchmarks/attribution.py --datasets cora --out runs/bench_attribution.json

For each dataset: train the configured GCN, then time NAM, IG (50 Gauss–Legendre steps) and
SIG-LID-IG for the targets (1000 test nodes for Cora and Citeseer, all nodes for
pubmed-structure):
- the engine: compile seconds apart; ``seconds`` is the best of ``--repeats`` warm calls that
  rebuild the targets' K-hop computation graphs and their padded chunks from scratch (the
  compiled programs and the dataset's CSR structure and sparse features stay cached);
  ``cached_union_seconds`` the best warm call that finds those computation graphs cached (a
  second call on the same targets); ``prep_seconds`` the extraction alone;
- the baseline: a per-target loop of jitted whole-graph ``jax.grad`` calls that returns each
  target's ``[N, F]`` attributions to the host, where they are summed per node (what a
  Captum/PyG loop does), on all targets or on a sample, extrapolated and labelled so.
Prints JSON: seconds, targets per second, speedup, peak RSS.
"""

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _baseline import gradient_step, time_loop
from _report import emit

from jgattr import build_model, load_config, load_dataset, train
from jgattr.attribution import (
    InEdges,
    clear_caches,
    computation_graphs,
    exact_relu_average,
    explain,
    get_method,
)
from jgattr.models import prepare_graph

REPO = Path(__file__).resolve().parents[1]
METHODS = {
    "nam": get_method("nam"),
    "ig": get_method("ig", n_steps=50, quadrature_rule="gauss_legendre"),
    "sig_lid_ig": get_method("sig_lid_ig"),
}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ------------------------------------------------------------------------ per-target baseline


def _gcn_convolutions(params, graph, num_layers: int):
    """The GCN's convolutions ``h ↦ Â h Wˡ + bˡ`` written out for the SIG-LID-IG baseline."""

    def conv(layer, h):
        weights = params[f"conv_{layer}"]
        messages = graph.edges[:, None] * (h @ weights["kernel"])[graph.senders]
        total = jax.ops.segment_sum(messages, graph.receivers, num_segments=h.shape[0])
        return total + weights["bias"][None, :]

    return [lambda h, layer=layer: conv(layer, h) for layer in range(num_layers)]


def _sig_lid_ig_target(model, params, graph):
    """SIG-LID-IG of one target on the whole graph: exact masks, averaged softmax top, VJP."""
    convs = _gcn_convolutions(params, graph, model.num_layers)
    x = graph.nodes
    samples = jnp.arange(1, 51, dtype=x.dtype) / 50

    def run(a, c):
        pre, pre_ref, h, h_ref = [], [], x, jnp.zeros_like(x)
        for i, conv in enumerate(convs):
            pre.append(conv(h))
            pre_ref.append(conv(h_ref))
            if i < len(convs) - 1:
                h, h_ref = jax.nn.relu(pre[-1]), jax.nn.relu(pre_ref[-1])
        masks = [exact_relu_average(r, z) for r, z in zip(pre_ref[:-1], pre[:-1], strict=True)]
        z, z_ref = pre[-1][a], pre_ref[-1][a]

        def softmax_row(v):
            p = jax.nn.softmax(v)
            return p[c] * (jax.nn.one_hot(c, v.shape[0], dtype=v.dtype) - p)

        top = jax.vmap(lambda t: softmax_row(z_ref + t * (z - z_ref)))(samples).mean(0)

        def linearized(h0):
            h = h0
            for i, conv in enumerate(convs):
                h = conv(h) - conv(jnp.zeros_like(h))  # the linear part: Â h W
                if i < len(convs) - 1:
                    h = h * masks[i]
            return jnp.sum(h[a] * top)

        return jax.grad(linearized)(x) * x

    return run


def _baseline_step(name: str, model, params, graph):
    if name in ("nam", "ig"):
        return gradient_step(name, model, params, graph)
    step = jax.jit(lambda p, g, a, c: _sig_lid_ig_target(model, p, g)(a, c))
    return lambda a, c: step(params, graph, a, c)


# ---------------------------------------------------------------------------------- engine


def _host_prep_seconds(model, dataset, targets, repeats: int) -> float:
    """K-hop computation graphs of all targets, extracted from scratch (best of ``repeats``)."""
    graph = prepare_graph(model, dataset.graph)
    nodes = np.arange(dataset.num_nodes) if targets == "all" else np.flatnonzero(dataset.test_mask)
    return min(
        _timed(computation_graphs, InEdges.of(graph), nodes.astype(np.int32), model.num_layers)
        for _ in range(repeats)
    )


def _warm_seconds(methods, model, params, dataset, targets, repeats: int) -> tuple[float, float]:
    """(best warm call with the targets' computation graphs rebuilt, best with them cached)."""
    call = lambda: explain(model, params, dataset, methods=methods, targets=targets)
    rebuilt, cached = [], []
    for _ in range(repeats):
        clear_caches("target_unions", "device_structure")
        rebuilt.append(_timed(call))
        cached.append(_timed(call))
    return min(rebuilt), min(cached)


def _time_engine(name, model, params, dataset, targets, repeats: int, prep: float):
    method = METHODS[name]
    first = explain(model, params, dataset, methods=[method], targets=targets)
    compile_seconds = first[method.name].stats["compile_seconds"]
    seconds, cached = _warm_seconds([method], model, params, dataset, targets, repeats)
    result = first[method.name]
    return result, {
        "seconds": round(seconds, 4),
        "cached_union_seconds": round(cached, 4),
        "prep_seconds": round(prep, 4),
        "compile_seconds": round(compile_seconds, 3),
        "targets_per_second": round(result.num_targets / seconds, 1),
        "pairs": int(result.sources.shape[0]),
        "max_abs_delta": result.stats["max_abs_delta"],
    }


def _all_methods_seconds(model, params, dataset, targets, repeats: int, prep: float) -> dict:
    methods = list(METHODS.values())
    explain(model, params, dataset, methods=methods, targets=targets)
    seconds, cached = _warm_seconds(methods, model, params, dataset, targets, repeats)
    return {
        "seconds": round(seconds, 4),
        "cached_union_seconds": round(cached, 4),
        "prep_seconds": round(prep, 4),
    }


def _timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def _benchmark_dataset(name: str, args) -> dict:
    config = load_config(REPO / "configs" / f"{name}.toml")
    dataset = load_dataset(config.data.name, data_dir=args.data_dir)
    model = build_model(config.model, dataset.num_classes)
    trained = train(model, dataset, config.train, key=jax.random.key(config.train.seed))
    params = trained.params
    targets = "all" if name == "pubmed-structure" else "test"
    graph = jax.tree.map(jnp.asarray, prepare_graph(model, dataset.graph))
    report = {"dataset": dataset.name, "test_accuracy": round(trained.accuracy["test"], 4)}
    prep = _host_prep_seconds(model, dataset, targets, args.repeats)
    methods = {}
    for method in METHODS:
        result, engine = _time_engine(method, model, params, dataset, targets, args.repeats, prep)
        sample = (
            args.loop_sample[method] if name != "pubmed-structure" else args.pubmed_sample[method]
        )
        step = _baseline_step(method, model, params, graph)
        baseline = time_loop(step, result.targets, result.classes, sample)
        methods[method] = {
            "targets": result.num_targets,
            "engine": engine,
            "per_target_loop": baseline,
            "speedup": round(baseline["seconds"] / engine["seconds"], 1),
        }
        print(
            f"{name} {method}: engine {engine['seconds']} s, loop {baseline['seconds']} s",
            file=sys.stderr,
        )
    report["methods"] = methods
    report["all_three_methods"] = _all_methods_seconds(
        model, params, dataset, targets, args.repeats, prep
    )
    report["peak_rss_mb"] = _peak_rss_mb()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer", "pubmed-structure"])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.loop_sample = {"nam": 1000, "ig": 20, "sig_lid_ig": 1000}
    args.pubmed_sample = {"nam": 200, "ig": 5, "sig_lid_ig": 200}
    report = {
        "benchmark": "attribution",
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
        "machine": platform.machine(),
        "jax": jax.__version__,
        "results": [_benchmark_dataset(name, args) for name in args.datasets],
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
