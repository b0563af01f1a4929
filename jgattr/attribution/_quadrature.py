"""Quadrature rules on [0, 1] for path integrals: the alpha axis of IG and of LID's averages."""

import numpy as np

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
      ValueError: unknown ``name`` or ``n_steps`` < 1 (< 2 for the trapezoid rule).
    """
    if name not in QUADRATURES:
        raise ValueError(f"quadrature must be one of {list(QUADRATURES)}, got {name!r}")
    minimum = 2 if name == "riemann_trapezoid" else 1
    if not isinstance(n_steps, int) or n_steps < minimum:
        raise ValueError(f"n_steps must be an integer >= {minimum} for {name}, got {n_steps!r}")
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


def paper_samples(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """SIG-LID-IG's n-sample rule: ``t = k / n`` for ``k = 1..n``, equal weights ``1 / n``."""
    if not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    return np.arange(1, n_samples + 1) / n_samples, np.full(n_samples, 1.0 / n_samples)
