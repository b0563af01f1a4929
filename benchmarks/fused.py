"""Methods fused against methods run apart, side by side in one process.

Usage:
  JGATTR_XLA_CACHE=off python benchmarks/fused.py --data-dir /work/shared/data/planetoid \\
      --out benchmarks/results/fused_cpu_2core.json

For each dataset (1000 Cora test nodes, all 19,717 pubmed-structure nodes) it trains the configured
GCN, then runs NAM, IG (50 Gauss–Legendre steps) and SIG-LID-IG on the same targets three ways:
``fused`` (one ``explain`` call, one program per chunk for the three methods), ``one_call`` (one
call, ``fuse_methods=False``: a program per method, as before the fusion) and ``separate`` (one
call per method). Each variant's first call reports its compile seconds (the persistent XLA cache
should be off, ``JGATTR_XLA_CACHE=off``, so that they are real); then, over ``--repeats`` rounds
that interleave the variants, ``seconds`` is the best warm call that rebuilds the targets'
computation graphs and chunk structures, and ``cached_union_seconds`` the best that finds them
cached. ``same_bits`` says whether every fused result equals its separate one bit for bit.
``--plain``: only one call with the engine's defaults, for any jgattr on ``PYTHONPATH`` (to
time another branch, e.g. main, the same way).
``load`` is ``os.getloadavg()`` before and after the dataset (2 cores shared with others).
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import jax
import numpy as np
from _report import emit

import jgattr
from jgattr import build_model, load_config, load_dataset, train
from jgattr.attribution import clear_caches, explain, get_method

REPO = Path(__file__).resolve().parents[1]
METHODS = [
    get_method("nam"),
    get_method("ig", n_steps=50, quadrature_rule="gauss_legendre"),
    get_method("sig_lid_ig"),
]
FIELDS = ("offsets", "sources", "values", "expected", "layer_totals")


def _variants(model, params, dataset, targets, plain: bool) -> dict:
    """Each way of running the three methods, as a call returning ``{name: Attributions}``;
    ``plain``: one call with the engine's defaults only (any jgattr version, e.g. main)."""
    if plain:
        default = lambda: explain(model, params, dataset, methods=METHODS, targets=targets)
        return {"default": default}
    call = lambda methods, fuse: explain(
        model, params, dataset, methods=methods, targets=targets, fuse_methods=fuse
    )

    def separate():
        return {m.name: call([m], True)[m.name] for m in METHODS}

    return {
        "fused": lambda: call(METHODS, True),
        "one_call": lambda: call(METHODS, False),
        "separate": separate,
    }


def _timed(fn) -> tuple[float, dict]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _first_calls(variants: dict) -> tuple[dict, dict]:
    """Each variant's first call (compiling what it has not compiled yet): seconds, compile."""
    report, results = {}, {}
    for name, fn in variants.items():
        seconds, results[name] = _timed(fn)
        stats = [r.stats for r in results[name].values()]
        # one shared program: every member reports its compile seconds (not summed)
        shared = any(s.get("fused_with") for s in stats)
        compile_seconds = (
            max(s["compile_seconds"] for s in stats)
            if shared
            else sum(s["compile_seconds"] for s in stats)
        )
        report[name] = {
            "first_call_seconds": round(seconds, 4),
            "compile_seconds": round(compile_seconds, 3),
            "programs_compiled": max(s["programs_compiled"] for s in stats)
            if shared
            else sum(s["programs_compiled"] for s in stats),
        }
    return report, results


def _same_bits(fused: dict, separate: dict) -> bool:
    return all(
        np.array_equal(
            np.asarray(getattr(fused[m], f)), np.asarray(getattr(separate[m], f)), equal_nan=True
        )
        for m in fused
        for f in FIELDS
    )


def _benchmark(name: str, args) -> dict:
    config = load_config(REPO / "configs" / f"{name}.toml")
    dataset = load_dataset(config.data.name, data_dir=args.data_dir)
    model = build_model(config.model, dataset.num_classes)
    params = train(model, dataset, config.train, key=jax.random.key(config.train.seed)).params
    targets = "all" if name == "pubmed-structure" else "test"
    load_before = os.getloadavg()
    variants = _variants(model, params, dataset, targets, args.plain)
    report, results = _first_calls(variants)
    rebuilt, cached = {v: [] for v in variants}, {v: [] for v in variants}
    for _ in range(args.repeats):
        for variant, fn in variants.items():
            clear_caches("target_unions", "device_structure")
            rebuilt[variant].append(_timed(fn)[0])
            cached[variant].append(_timed(fn)[0])
    for variant in variants:
        report[variant]["seconds"] = round(min(rebuilt[variant]), 4)
        report[variant]["cached_union_seconds"] = round(min(cached[variant]), 4)
        report[variant]["median_seconds"] = round(float(np.median(rebuilt[variant])), 4)
    first = next(iter(next(iter(results.values())).values()))
    line = ", ".join(f"{v} {report[v]['seconds']} s" for v in variants)
    print(f"{name}: {line}", file=sys.stderr)
    return {
        "dataset": dataset.name,
        "targets": first.num_targets,
        "methods": [m.name for m in METHODS],
        "variants": report,
        "same_bits": None if args.plain else _same_bits(results["fused"], results["separate"]),
        "load": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "pubmed-structure"])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--plain", action="store_true", help="one call, defaults only (main)")
    args = parser.parse_args()
    report = {
        "benchmark": "fused",
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "jax": jax.__version__,
        "xla_cache": os.environ.get("JGATTR_XLA_CACHE", "default"),
        "jgattr": str(Path(jgattr.__file__).parent),
        "results": [_benchmark(name, args) for name in args.datasets],
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
