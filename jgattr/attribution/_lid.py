"""The layer-wise increment decomposition (LID) family, SIG-LID-IG among them.

Relevance flows from a top vector back through each layer's Jacobian (local, or averaged on the
layer's own line from the reference to the input) and is read off as ``g ⊙ ΔHˡ`` at every
layer, so it is conserved layer by layer (docs/math.md).
"""

from typing import Any

import jax
import jax.numpy as jnp

from jgattr._types import Array
from jgattr.attribution._linearize import make_linearize, make_relu_average, make_top
from jgattr.attribution._method_types import (
    RELU_AVERAGES,
    Contribution,
    Method,
    baseline_key,
    check_baseline,
    check_choice,
)
from jgattr.attribution._quadrature import paper_samples


def _layer_vjp(layer, h: Array, h_ref: Array, g: Array, jacobian, relu_average, n_samples):
    """``g ↦ g · D̄`` for one layer: its local Jacobian, or its average on its own line."""
    if jacobian == "local":
        return jax.vjp(layer, h)[1](g)[0]
    if relu_average == "exact":
        raise ValueError(
            "relu_average='exact' needs the GCN fast path; for other models pass "
            "relu_average='n_sample' (the paper's rule)"
        )
    ts, weights = paper_samples(n_samples)

    def step(total, point):  # one point at a time: unbatched gathers, memory flat in n
        t, weight = point
        return total + weight * jax.vjp(layer, h_ref + t * (h - h_ref))[1](g)[0], None

    points = (jnp.asarray(ts, h.dtype), jnp.asarray(weights, h.dtype))
    return jax.lax.scan(step, jnp.zeros_like(h), points)[0]


def _make_lid_attribute(top_kind: str, jacobian: str, relu_average: str, n_samples: int):
    top_fn = make_top(top_kind, n_samples)

    def attribute(model, x, x_ref, classes) -> Contribution:
        if model.layers is None:
            raise ValueError(
                "layer-wise methods need a model with layers on the general path; "
                "use the built-in GCN or pass an Explainable with layers"
            )
        hs, hs_ref = [x], [x_ref]
        for layer in model.layers:
            hs.append(layer(hs[-1]))
            hs_ref.append(layer(hs_ref[-1]))
        out, readout_vjp = jax.vjp(model.readout, hs[-1])
        top, expected = top_fn(out, model.readout(hs_ref[-1]), classes)
        g = readout_vjp(top)[0]
        hidden = []
        for index in range(len(model.layers) - 1, -1, -1):
            layer = model.layers[index]
            g = _layer_vjp(layer, hs[index], hs_ref[index], g, jacobian, relu_average, n_samples)
            if index > 0:
                hidden.append(jnp.sum(g * (hs[index] - hs_ref[index]), axis=-1))
        return Contribution(g * (x - x_ref), expected, tuple(reversed(hidden)))

    return attribute


_LID_FAMILY = {
    # name: (top vector, ReLU Jacobian, what the rest of Δlogit or Δp is)  -- docs/math.md
    "lid_taylor": ("logit", "local", "baseline f(X̂)"),
    "st_lid_taylor": ("softmax_local", "local", "baseline p(X̂) + Taylor error"),
    "lid_ig": ("logit", "path", "baseline f(X̂)"),
    "sig_lid_taylor": ("softmax_integrated", "local", "baseline p(X̂)"),
    "sig_lid_ig": ("softmax_integrated", "path", "baseline p(X̂)"),
}


def _lid(name: str, baseline: Any, relu_average: str, n_samples: int) -> Method:
    top_kind, jacobian, rest = _LID_FAMILY[name]
    check_choice("relu_average", relu_average, RELU_AVERAGES)
    paper_samples(n_samples)  # validates n_samples
    baseline = check_baseline(baseline)
    mask_fn = make_relu_average(jacobian, relu_average, n_samples)
    return Method(
        name,
        (
            ("baseline", baseline_key(baseline)),
            ("n_samples", n_samples),
            ("relu_average", relu_average),
        ),
        _make_lid_attribute(top_kind, jacobian, relu_average, n_samples),
        make_linearize(top_kind, mask_fn, "delta", n_samples),
        baseline=baseline,
        needs_layers=True,
        walks_only=jacobian == "path" and relu_average == "exact",
        unit="logit" if top_kind == "logit" else "probability",
        signed=True,
        rest_is=rest,
    )


def _lid_factory(name: str, summary: str):
    def factory(
        *, baseline: Any = "zeros", relu_average: str = "exact", n_samples: int = 50
    ) -> Method:
        return _lid(name, baseline, relu_average, n_samples)

    top_kind, jacobian, _ = _LID_FAMILY[name]
    factory.__name__ = name
    factory.__doc__ = f"""{summary}

    Layer-wise increment decomposition (docs/math.md): relevance at layer l is
    ``R(Hˡ) = top · D̄ᴷ ⋯ D̄ˡ⁺¹ ⊙ ΔHˡ`` with increments ``ΔHˡ = Hˡ − Ĥˡ`` from a reference pass at
    X̂. Here the top vector is ``{top_kind}`` and the ReLU Jacobian is ``{jacobian}``
    (``path``: averaged on each layer's own line from Ẑˡ to Zˡ). Node relevance sums over features.
    The result's ``delta`` is the conservation gap ``Σ_φ R[a, φ] − expected``, where expected is
    ``ΔZ[a, c]`` for a logit top and ``Δsoftmax(Z[a])_c`` for a softmax top.

    Args:
      baseline: ``"zeros"``, ``"mean"`` or an array ``[N, F]`` / ``[F]`` (the reference X̂).
      relu_average: ``"exact"`` closed-form path averages (GCN fast path) or ``"n_sample"``,
        the paper's rule ``t = k/n, k = 1..n``.
      n_samples: n of the paper's rule, used by ``n_sample`` ReLU averages and the SIG top.

    References:
      Chen, Li, Shao & Sun, Layer-wise Increment Decomposition-based Neuron Relevance
      Explanation for Deep Networks, Acta Automatica Sinica 50(10), 2024.
    """
    return factory


lid_taylor = _lid_factory("lid_taylor", "LID-Taylor: logit top, local ReLU Jacobians.")
st_lid_taylor = _lid_factory(
    "st_lid_taylor", "ST-LID-Taylor: softmax-gradient top at Z, local ReLU Jacobians."
)
lid_ig = _lid_factory("lid_ig", "LID-IG: logit top, path-averaged ReLU Jacobians.")
sig_lid_taylor = _lid_factory(
    "sig_lid_taylor", "SIG-LID-Taylor: path-averaged softmax top, local ReLU Jacobians."
)
sig_lid_ig = _lid_factory(
    "sig_lid_ig", "SIG-LID-IG: path-averaged softmax top, path-averaged ReLU Jacobians."
)
