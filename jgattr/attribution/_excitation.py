"""Excitation backprop (EB) and contrastive EB (c-EB) of Pope et al., for graph and node targets.

Winner probabilities flow top-down from a one-hot class vector through the head, the readout and
every layer's linear steps (the model's ``excitation_layers`` hook: GCN ``h ↦ Â h`` then
``a ↦ a W⁺``; GIN and GraphSAGE in :mod:`jgattr.models`), each by the z⁺ rule
``P(in) = in ⊙ J⁺ᵀ (P(out) / z⁺(in))`` where ``z⁺`` is the step with positive weights and no
bias (a VJP of the positive map). The readout's step is Pope et al.'s
``P(F[n, k]) = P_k F[n, k] / (ε + Σ_{m ∈ graph} F[m, k])``, ε = 1e-5. The rule conserves the
total probability wherever ``z⁺ > 0``, so every layer's probabilities sum to 1 per target
(``layer_totals``).

References:
  Zhang, Bargal, Lin, Brandt, Shen & Sclaroff, Top-down Neural Attention by Excitation
  Backprop, ECCV 2016; Pope et al., Explainability Methods for Graph Convolutional Neural
  Networks, CVPR 2019 (code: github.com/ppope/explain_graphs, methods.py ``EB``, ``cEB``).
"""

import jax
import jax.numpy as jnp

from jgattr._types import Array
from jgattr.attribution._gradients import nan_expected
from jgattr.attribution._method_types import Contribution, Method, UnionModel
from jgattr.models import ExcitationStep

GAP_EPSILON = 1e-5
CONTRAST_VARIANTS = ("paper", "code")


def _safe_divide(numerator: Array, denominator: Array) -> Array:
    positive = denominator > 0
    return jnp.where(positive, numerator / jnp.where(positive, denominator, 1.0), 0.0)


def z_plus(step, inputs: Array, probability: Array) -> Array:
    """``inputs ⊙ J⁺ᵀ (P / z⁺(inputs))`` of one positive linear ``step`` (0 where ``z⁺ = 0``)."""
    z, vjp = jax.vjp(step, inputs)
    return inputs * vjp(_safe_divide(probability, z))[0]


def _split(step) -> tuple:
    """``(positive, forward)`` of a step: a plain callable is the model's own map, both."""
    if isinstance(step, ExcitationStep):
        return step.positive, step.forward
    return step, step


def _renormalize(p: Array, owner: Array | None, num_targets: int) -> Array:
    """``p`` divided by its total per target (rows of ``p`` per target, or per copy's owner)."""
    totals = jnp.sum(p, axis=-1)
    if owner is not None:
        totals = jax.ops.segment_sum(totals, owner, num_segments=num_targets)[owner]
    return _safe_divide(p, totals[:, None])


def _check_model(model: UnionModel, name: str) -> None:
    if model.excitation is None or model.layers is None:
        raise ValueError(
            f"{name} needs the model's 'excitation_layers' hook (each layer's positive linear "
            "steps) and its 'layers': the built-in GCN, GIN and GraphSAGE (and graph "
            "classifiers over them) have them; GAT has none, since its attention coefficients "
            "depend on the input and its ELU activations can be negative, so the z⁺ rule "
            "(non-negative activations, fixed weights) does not apply. Use contrastive_gradient "
            "or grad_cam there, or give Explainable(excitation_layers=..., layers=...)"
        )
    if model.head is not None and model.head.pool == "max":
        raise ValueError(
            f"{name} passes probabilities through a mean or sum readout, got readout 'max'"
        )


def _top(model: UnionModel, hs: list[Array], start: Array, renormalize: bool) -> Array:
    """``[S, D]`` winner probabilities of the last node layer from ``start [T, C]``."""
    num_targets, top = start.shape[0], hs[-1]
    copy_target = model.copy_target
    if model.head is None:  # node targets: the logits are the last layer, the target's row
        return jnp.zeros_like(top).at[model.target_copy].add(start)
    count = jax.ops.segment_sum(jnp.ones_like(copy_target, top.dtype), copy_target, num_targets)
    column_sums = jax.ops.segment_sum(top, copy_target, num_segments=num_targets)
    pooled = column_sums / jnp.maximum(count, 1.0)[:, None]
    positive = jax.nn.relu(model.head.kernel)
    p = z_plus(lambda u: u @ positive, pooled, start)  # [T, D]
    if renormalize:
        p = _renormalize(p, None, num_targets)
    p = top * p[copy_target] / (GAP_EPSILON + column_sums[copy_target])
    if renormalize:
        p = _renormalize(p, copy_target, num_targets)
    return p


def _forward(model: UnionModel, x: Array) -> tuple[list[Array], int]:
    """Every layer's node matrix ``[X, H¹, ..., Hᴷ]`` and the number of classes C."""
    hs = [x]
    for layer in model.layers:
        hs.append(layer(hs[-1]))
    return hs, hs[-1].shape[1] if model.head is None else model.head.kernel.shape[1]


def _excite(model: UnionModel, hs: list[Array], start: Array, renormalize: bool):
    """Winner probabilities ``P(X) [S, F]`` and ``Σ_k P(Hˡ)`` per copy for ``l = 1..K-1``."""
    num_targets = start.shape[0]
    p = _top(model, hs, start, renormalize)
    hidden = []
    for index in range(len(model.layers) - 1, -1, -1):
        steps = [_split(step) for step in model.excitation[index]]
        inputs = [hs[index]]
        for _, forward in steps[:-1]:
            inputs.append(forward(inputs[-1]))
        for (positive, _), a in zip(reversed(steps), reversed(inputs), strict=True):
            p = z_plus(positive, a, p)
            if renormalize:
                p = _renormalize(p, model.copy_target, num_targets)
        if index > 0:
            hidden.append(jnp.sum(p, axis=-1))
    return p, tuple(reversed(hidden))


def _excitation_attribute(model, x, x_ref, classes) -> Contribution:
    del x_ref
    _check_model(model, "excitation_backprop")
    hs, num_classes = _forward(model, x)
    start = jax.nn.one_hot(classes, num_classes, dtype=x.dtype)
    relevance, hidden = _excite(model, hs, start, False)
    return Contribution(relevance, jnp.ones(classes.shape, x.dtype), hidden)


def _make_contrastive_attribute(variant: str):
    def attribute(model, x, x_ref, classes) -> Contribution:
        del x_ref
        _check_model(model, "contrastive_eb")
        hs, num_classes = _forward(model, x)
        if variant == "code" and num_classes != 2:
            raise ValueError(
                f"contrastive_eb variant='code' is defined for 2 classes, got {num_classes}; "
                "use variant='paper'"
            )
        own = jax.nn.one_hot(classes, num_classes, dtype=x.dtype)
        other = (1.0 - own) / max(num_classes - 1, 1)
        mine = _excite(model, hs, own, True)[0].sum(axis=-1)
        theirs = _excite(model, hs, other, True)[0].sum(axis=-1)
        heat = jax.nn.relu(mine - theirs)
        if variant == "code":  # class 1's map subtracts class 0's already-contrasted map
            second = classes[model.copy_target] == 1
            heat = jnp.where(second, jax.nn.relu(mine - jax.nn.relu(theirs - mine)), heat)
        return Contribution(heat[:, None], nan_expected(classes, x.dtype), ())

    return attribute


def excitation_backprop() -> Method:
    """Excitation backprop (EB): the marginal winner probability of every input feature.

    From a one-hot vector on class c, probabilities pass top-down by the z⁺ rule
    ``P(in) = in ⊙ J⁺ᵀ (P(out) / z⁺(in))`` through the head (``W⁺``), the readout (Pope et al.'s
    step ``P_k F[n, k] / (ε + Σ_{m ∈ graph} F[m, k])``, ε = 1e-5) and each layer's steps from the
    model's ``excitation_layers`` hook (GCN: ``W⁺`` then ``Â``, backwards). Node targets start at
    their own logit row. The node map is ``L^c[n] = Σ_k P(X[n, k])``; with ``feature_level=True``
    each feature's probability. Probabilities sum to 1 per target at every layer (``expected`` =
    1, ``layer_totals`` ≈ 1), up to ε and to units whose ``z⁺`` is 0. Meaningful for
    non-negative input features (one-hot atom features); signed features give signed values.

    References:
      Zhang et al., Top-down Neural Attention by Excitation Backprop, ECCV 2016;
      Pope et al., CVPR 2019.
    """
    return Method(
        "excitation_backprop",
        (),
        _excitation_attribute,
        None,
        needs_layers=True,
        needs_features=True,
        unit="winning probability",
        signed=True,  # negative where an input feature is
    )


def contrastive_eb(*, variant: str = "paper") -> Method:
    """Contrastive EB (c-EB): ``L^c = ReLU(EB^c − EB^¬c)`` on node maps, every step of both
    EB passes renormalized to sum 1 per target (the authors' ``cEB``).

    ``EB^¬c`` starts from the other classes (uniformly when C > 2; the other class when C = 2).

    Args:
      variant: ``"paper"``: ``ReLU(EB^c − EB^¬c)`` for every class; ``"code"`` (C = 2): the
        authors' code computes ``m0 = ReLU(EB0 − EB1)`` then ``m1 = ReLU(EB1 − m0)``, so the
        class-1 map subtracts the already-contrasted class-0 map.

    References:
      Zhang et al., ECCV 2016 (contrastive MWP); Pope et al., CVPR 2019.
    """
    if variant not in CONTRAST_VARIANTS:
        raise ValueError(f"variant must be one of {list(CONTRAST_VARIANTS)}, got {variant!r}")
    return Method(
        "contrastive_eb",
        (("variant", variant),),
        _make_contrastive_attribute(variant),
        None,
        needs_layers=True,
        needs_features=True,
        unit="winning probability difference",
        signed=False,
    )
