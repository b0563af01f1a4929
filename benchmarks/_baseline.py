"""The per-target baseline the benchmarks compare against: one jitted whole-graph ``jax.grad``
per target, returning the target's ``[N, F]`` attributions to the host (what a Captum/PyG loop
does), with params and graph as arguments (nothing constant-folded)."""

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jgattr.attribution import quadrature
from jgattr.models import make_apply_fn


def gradient_step(name: str, model, params, graph, n_steps: int = 50) -> Callable:
    """``(target, class) -> [N, F]`` NAM (gradient x input) or IG (Gauss-Legendre) of a target."""
    apply = make_apply_fn(model)

    def logit(h, p, g, a, c):
        return apply(p, g._replace(nodes=h))[a, c]

    if name == "nam":
        step = jax.jit(lambda p, g, a, c: jax.grad(logit)(g.nodes, p, g, a, c) * g.nodes)
    else:
        alphas, weights = (
            jnp.asarray(v, graph.nodes.dtype) for v in quadrature("gauss_legendre", n_steps)
        )

        def ig(p, g, a, c):
            grads = jax.vmap(lambda al: jax.grad(logit)(al * g.nodes, p, g, a, c))(alphas)
            return jnp.tensordot(weights, grads, axes=1) * g.nodes

        step = jax.jit(ig)
    return lambda a, c: step(params, graph, a, c)


def time_loop(step: Callable, nodes, classes, sample: int) -> dict:
    """Seconds of the per-target loop over all targets, measured on ``sample`` of them."""
    jax.block_until_ready(step(int(nodes[0]), int(classes[0])))  # compile
    picked = np.linspace(0, len(nodes) - 1, min(sample, len(nodes))).astype(int)
    start = time.perf_counter()
    for i in picked:
        np.asarray(step(int(nodes[i]), int(classes[i]))).sum(axis=-1)
    measured = time.perf_counter() - start
    return {
        "seconds": round(measured * len(nodes) / len(picked), 3),
        "measured_targets": len(picked),
        "extrapolated": bool(len(picked) < len(nodes)),
        "seconds_per_target": round(measured / len(picked), 5),
    }
