"""The sign of each method's relevance on MUTAG's nitro groups (docs/reproduce.md).

Usage:
  python benchmarks/nitro_signs.py --out benchmarks/results/nitro_signs_mutag_cpu_2core.json

``configs/mutag.toml``'s GIN, trained as ``reproduce_pope.py`` trains it. Over the nitro-group
atoms of the graphs predicted mutagenic (class 1): how many there are; the largest component of
the input gradient ``∂y¹/∂X`` there (negative everywhere means ``ReLU(∂y¹/∂X)``, hence CG, is 0)
and the share of other atoms with a positive component; and per method the signed sum, the sum
of absolute values and the share of negative values of the class-1 relevance. The shares in
``reproduce_pope``'s table count |relevance|; this says whether that relevance is for or against.
"""

import argparse
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _report import emit
from _setup import methods_of, trained_run

from jgattr import analysis, make_apply_fn, prepare_graph
from jgattr.attribution import explain

METHODS = ["cg", "cam", "grad_cam", "grad_cam_avg", "eb", "c_eb", "integrated_gradients"]


def _class_one_values(result, num_nodes: int) -> np.ndarray:
    """``[N]`` each node's class-1 relevance (0 where its graph is not explained for class 1)."""
    values = np.zeros(num_nodes)
    rows = result.classes[result.rows] == 1
    values[result.sources[rows]] = result.values[rows]
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    config, dataset, model, trained = trained_run("mutag")
    graph, apply = prepare_graph(model, dataset.graph), make_apply_fn(model)
    predicted = np.asarray(apply(trained.params, graph)).argmax(-1)[dataset.graph_of_node] == 1
    nitro = analysis.nitro_mask(dataset.graph.senders, dataset.graph.receivers, dataset.node_names)
    on, other = nitro & predicted, ~nitro & predicted
    logit = lambda x: apply(trained.params, graph._replace(nodes=x))[:, 1].sum()
    gradient = np.asarray(jax.grad(logit)(jnp.asarray(graph.nodes)))
    results = explain(
        model, trained.params, dataset, methods=methods_of(config, METHODS), targets="all",
        classes="predicted",
    )  # fmt: skip
    per_method = {}
    for name, result in results.items():
        values = _class_one_values(result, dataset.graph.nodes.shape[0])[on]
        per_method[name] = {
            "signed_sum": round(float(values.sum()), 3),
            "abs_sum": round(float(np.abs(values).sum()), 3),
            "share_negative": round(float(np.mean(values < 0)), 4),
        }
    report = {
        "benchmark": "nitro_signs",
        "dataset": dataset.name,
        "accuracy": {k: round(v, 4) for k, v in trained.accuracy.items()},
        "nitro_atoms_predicted_mutagenic": int(on.sum()),
        "max_gradient_component_on_nitro": round(float(gradient[on].max()), 4),
        "share_other_atoms_with_a_positive_component": round(
            float(np.mean((gradient[other] > 0).any(axis=1))), 4
        ),
        "methods": per_method,
    }
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
