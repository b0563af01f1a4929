"""Quadrature rules on [0, 1] for path integrals: the alpha axis of IG and of LID's averages."""

import numpy as np

# Gauss-Legendre nodes come from numpy's leggauss: a dense n x n eigenproblem (8 n^2 bytes, about
# three copies alive, O(n^3) time: n = 3000 took 26 s); beyond this (n = 1024) it is refused
# before it allocates.
LEGGAUSS_MEMORY_MB = 24.0
# every point of a path integral is one forward and backward pass per chunk: 10,000 points cost
# 200 times the default 50's time, and the completeness deltas in the stats show whether more
# points change anything
MAX_STEPS = 10_000

QUADRATURES = (
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
    "gauss_legendre",
)


def quadrature(name: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``α [n_steps]`` in [0, 1] and weights ``w [n_steps]`` with ``Σ w f(α) ≈ ∫₀¹ f``.

    Riemann rules use ``n_steps`` equal intervals (the trapezoid rule uses ``n_steps`` points,
    ``n_steps - 1`` intervals); Gauss–Legendre is exact for polynomials of degree ``2 n_steps - 1``.

    Raises:
      ValueError: unknown ``name``, ``n_steps`` < 1 (< 2 for the trapezoid rule), above
        :data:`MAX_STEPS`, or a Gauss-Legendre rule whose nodes would need more than
        :data:`LEGGAUSS_MEMORY_MB` to compute; raised before anything is allocated.
    """
    if name not in QUADRATURES:
        raise ValueError(f"quadrature must be one of {list(QUADRATURES)}, got {name!r}")
    minimum = 2 if name == "riemann_trapezoid" else 1
    if not isinstance(n_steps, int) or n_steps < minimum:
        raise ValueError(f"n_steps must be an integer >= {minimum} for {name}, got {n_steps!r}")
    _check_cost(name, n_steps)
    if name == "gauss_legendre":
        nodes, weights = np.polynomial.legendre.leggauss(n_steps)
        return (nodes + 1.0) / 2.0, weights / 2.0
    if name == "riemann_trapezoid":
        alphas = np.linspace(0.0, 1.0, n_steps)
        weights = np.full(n_steps, 1.0 / (n_steps - 1))
        weights[[0, -1]] /= 2.0
        return alphas, weights
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[name]
    return (np.arange(n_steps) + offset) / n_steps, np.full(n_steps, 1.0 / n_steps)


def _check_cost(name: str, n_steps: int) -> None:
    if n_steps > MAX_STEPS:
        raise ValueError(
            f"n_steps = {n_steps:,} is more than the {MAX_STEPS:,} points allowed: each point is "
            "one forward and backward pass per chunk of targets (the default is 50): use a "
            "smaller n_steps and check the completeness deltas (stats max_abs_delta)"
        )
    needed = 3 * 8 * n_steps**2 / 2**20
    if name == "gauss_legendre" and needed > LEGGAUSS_MEMORY_MB:
        most = int((LEGGAUSS_MEMORY_MB * 2**20 / 24) ** 0.5)
        raise ValueError(
            f"n_steps = {n_steps:,} with quadrature gauss_legendre needs about {needed:,.0f} MB "
            f"of host memory and O(n^3) time for its nodes (an n x n eigenproblem), more than "
            f"{LEGGAUSS_MEMORY_MB:.0f} MB: use n_steps <= {most:,}, or a Riemann rule "
            "(quadrature riemann_middle)"
        )


def paper_samples(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """SIG-LID-IG's n-sample rule: ``t = k / n`` for ``k = 1..n``, equal weights ``1 / n``."""
    if not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    return np.arange(1, n_samples + 1) / n_samples, np.full(n_samples, 1.0 / n_samples)
