"""The general (autodiff) path for every built-in model against a per-target ``jax.grad`` loop.

Usage:
  python benchmarks/general_path.py                       # cora: gcn, gat, gin, sage
  python benchmarks/general_path.py --out benchmarks/results/general_path_cpu_2core.json

For each architecture: train it on Cora (its ``configs/cora-<arch>.toml``, else ``cora.toml``
with the architecture swapped; ``--epochs`` caps training, the timings do not depend on it),
then time NAM and IG (50 Gauss-Legendre steps) on the 1000 test nodes through the general path
(``path="general"``): compile seconds apart, the best of ``--repeats`` warm runs plus the
host preparation (computation graphs extracted from scratch in the first call). The GCN's
exact walk-sum fast path runs beside it. The baseline is a per-target loop of jitted
whole-graph ``jax.grad`` calls (on a sample, extrapolated).
Prints JSON.
"""

import argparse
import dataclasses
import platform
import resource
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
from _baseline import gradient_step, time_loop
from _report import emit
from _timing import cold_then_warm

from jgattr import build_model, load_config, load_dataset, train
from jgattr.attribution import explain, get_method
from jgattr.models import prepare_graph

REPO = Path(__file__).resolve().parents[1]
METHODS = {"nam": get_method("nam"), "ig": get_method("ig", n_steps=50)}
LOOP_SAMPLE = {"nam": 100, "ig": 10}


def _config(architecture: str, epochs: int):
    path = REPO / "configs" / f"cora-{architecture}.toml"
    config = load_config(path if path.is_file() else REPO / "configs" / "cora.toml")
    if config.model.architecture != architecture:
        config = dataclasses.replace(
            config, model=dataclasses.replace(config.model, architecture=architecture)
        )
    train_config = dataclasses.replace(config.train, epochs=min(epochs, config.train.epochs))
    return dataclasses.replace(config, train=train_config)


def _time_engine(model, params, dataset, method, path: str, repeats: int) -> tuple:
    call = lambda: explain(model, params, dataset, methods=[method], path=path)[method.name]
    first, cold, result, warm = cold_then_warm(call, repeats)
    prep = first.stats["prep_seconds"]  # computation graphs extracted from scratch
    return result, {
        "seconds": round(warm + prep, 4),
        "warm_seconds": round(warm, 4),
        "prep_seconds": prep,
        "cold_seconds": round(cold, 3),
        "compile_seconds": round(first.stats["compile_seconds"], 3),
        "chunks": result.stats["chunks"],
        "pairs": result.stats["pairs"],
        "max_abs_delta": result.stats["max_abs_delta"],
    }


def trained(architecture: str, args) -> tuple:
    """(config, Cora, the model, its trained parameters, the prepared graph on the device)."""
    config = _config(architecture, args.epochs)
    dataset = load_dataset(config.data.name, data_dir=args.data_dir)
    model = build_model(config.model, dataset.num_classes)
    params = train(model, dataset, config.train, key=jax.random.key(0)).params
    graph = jax.tree.map(jnp.asarray, prepare_graph(model, dataset.graph))
    return config, dataset, model, params, graph


def _benchmark(architecture: str, args) -> dict:
    config, dataset, model, params, graph = trained(architecture, args)
    rows = {}
    for name, method in METHODS.items():
        paths = ["general"] + (["fast"] if architecture == "gcn" else [])
        for path in paths:
            result, engine = _time_engine(model, params, dataset, method, path, args.repeats)
            loop = time_loop(
                gradient_step(name, model, params, graph),
                result.targets,
                result.classes,
                LOOP_SAMPLE[name],
            )
            rows[f"{name}/{path}"] = {
                "targets": result.num_targets,
                "engine": engine,
                "per_target_loop": loop,
                "speedup": round(loop["seconds"] / engine["seconds"], 1),
            }
            print(
                f"{architecture} {name} {path}: {engine['seconds']} s (loop {loop['seconds']} s)",
                file=sys.stderr,
            )
    return {"architecture": architecture, "config": config.model.__dict__, "methods": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architectures", nargs="+", default=["gcn", "gat", "gin", "sage"])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report = {
        "benchmark": "general_path",
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
        "machine": platform.machine(),
        "jax": jax.__version__,
        "results": [_benchmark(arch, args) for arch in args.architectures],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
