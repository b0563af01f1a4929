"""The sampled ReLU path average (IG's and the LID family's ``n_sample`` masks) found by
bisection equals the sum over the samples, one sample at a time, for every quadrature rule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jgattr.attribution._linearize import sampled_relu_average
from jgattr.attribution._quadrature import paper_samples, quadrature

RULES = [
    quadrature("gauss_legendre", 50),
    quadrature("gauss_legendre", 1),
    quadrature("riemann_trapezoid", 16),
    quadrature("riemann_middle", 7),
    paper_samples(50),
    (np.array([0.9, 0.1, 0.5]), np.array([0.2, 0.5, 0.3])),  # unsorted nodes
]


def _pre_activations(dtype) -> tuple[np.ndarray, np.ndarray]:
    """Random units, plus the awkward ones: zero at either end, constant, crossing at a node."""
    rng = np.random.default_rng(0)
    z, z_ref = rng.normal(size=(2, 4000)).astype(dtype)
    z[:10], z_ref[5:15], z[20:30] = 0, 0, z_ref[20:30]
    z_ref[40:50], z[40:50] = -0.5, 0.5  # crosses zero at t = 0.5 exactly
    z_ref[50:60], z[50:60] = 0.02, -0.98  # falls through zero at the paper's t = 0.02
    return z_ref, z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule", range(len(RULES)))
def test_bisected_sampled_relu_average_equals_the_sum_over_samples(rule, dtype):
    ts, weights = RULES[rule]
    with jax.enable_x64(dtype == np.float64):
        z_ref, z = map(jnp.asarray, _pre_activations(dtype))
        average = jax.jit(lambda a, b: sampled_relu_average(a, b, ts, weights))
        got = np.asarray(average(z_ref, z), np.float64)
        on = jax.jit(jax.vmap(lambda t: z_ref + t * (z - z_ref) > 0))(jnp.asarray(ts, z.dtype))
    expected = np.tensordot(weights, np.asarray(on, np.float64), axes=1)
    # the same samples are on (a wrong one would differ by a whole weight, >= 0.02 here)
    np.testing.assert_allclose(got, expected, rtol=0, atol=4 * np.finfo(dtype).eps)
