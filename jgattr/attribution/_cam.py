"""Pope et al.'s gradient and activation maps: contrastive gradient (CG), CAM, Grad-CAM and
Grad-CAM-avg, for graph targets (CG also for node targets).

Each is a node map ``L^c[n] ≥ 0`` over the copies of a target. CG spreads its node value over the
input features (``relu(g)² / ‖relu(g)‖``, which sums to the node's norm); the others return one
column per copy. Everything is computed for the whole chunk at once: the targets are disjoint
graphs, so one gradient gives every target's, and per-target means and maxima are segment
reductions over ``UnionModel.copy_target``.

References:
  Pope, Kolouri, Rostami, Martin & Hoffmann, Explainability Methods for Graph Convolutional
  Neural Networks, CVPR 2019 (code: github.com/ppope/explain_graphs, methods.py).
"""

import jax
import jax.numpy as jnp

from jgattr._types import Array
from jgattr.attribution._gradients import gradient_of, nan_expected, target_scores
from jgattr.attribution._method_types import Contribution, Method, UnionModel

VARIANTS = ("paper", "code")


def _contrastive_gradient_attribute(model, x, x_ref, classes) -> Contribution:
    del x_ref
    grads = jax.nn.relu(model.to_input(gradient_of(target_scores(model, classes, "logit"), x)))
    norm = jnp.sqrt(jnp.sum(grads * grads, axis=-1, keepdims=True))
    share = grads * grads / jnp.where(norm > 0, norm, 1.0)
    return Contribution(share, nan_expected(classes, x.dtype), ())


def _graph_only(model: UnionModel, name: str) -> None:
    if model.head is None:
        raise ValueError(
            f"{name} explains graph targets: it needs a graph classifier (GraphClassifier on a "
            "GraphDataset), got a node model; for node targets use contrastive_gradient or "
            "excitation_backprop"
        )


def _activations(model: UnionModel, x: Array, name: str) -> list[Array]:
    """``[F⁰ = x, F¹, ..., Fᴷ]``: every layer's node matrix on the union."""
    if model.layers is None:
        raise ValueError(
            f"{name} needs the model's 'layers' hook: give Explainable(layers=...) "
            "(its K layers h -> next h)"
        )
    hs = [x]
    for layer in model.layers:
        hs.append(layer(hs[-1]))
    return hs


def _layer_gradients(model: UnionModel, hs: list[Array], weights: Array) -> list[Array]:
    """``∂ Σ_t weights[t] · y[t] / ∂Fˡ`` for every layer l (zero offsets added at each layer)."""

    def total(offsets):
        h = hs[0] + offsets[0]
        for layer, offset in zip(model.layers, offsets[1:], strict=True):
            h = layer(h) + offset
        return jnp.sum(model.readout(h) * weights)

    return jax.grad(total)([jnp.zeros_like(h) for h in hs])


def _per_target_mean(values: Array, copy_target: Array, num_targets: int) -> Array:
    """``[T, ·]`` mean of the copies' rows per target."""
    total = jax.ops.segment_sum(values, copy_target, num_segments=num_targets)
    count = jax.ops.segment_sum(jnp.ones_like(copy_target, values.dtype), copy_target, num_targets)
    return total / jnp.maximum(count, 1.0)[:, None]


def _grad_cam_map(h: Array, grad: Array, copy_target: Array, num_targets: int) -> Array:
    """``[S]`` ``ReLU(Σ_k α_k F[n, k])`` with ``α = mean over the target's nodes of ∂y/∂F``."""
    alpha = _per_target_mean(grad, copy_target, num_targets)
    return jax.nn.relu(jnp.sum(alpha[copy_target] * h, axis=-1))


def _check_layer(layer: int | None, num_layers: int) -> int:
    if layer is None:
        return num_layers
    if not 0 <= layer <= num_layers:
        raise ValueError(
            f"layer must be in [0, {num_layers}] (0: the input features, {num_layers}: the last "
            f"node layer) for this model, got {layer}"
        )
    return layer


def _make_cam_attribute(bias: bool):
    def attribute(model, x, x_ref, classes) -> Contribution:
        del x_ref
        _graph_only(model, "cam")
        if model.head.pool == "max":
            raise ValueError(
                "cam needs a mean (or sum) readout before a linear head, got readout 'max'; "
                "use grad_cam, which only needs gradients"
            )
        embedding = _activations(model, x, "cam")[-1]
        copy_class = classes[model.copy_target]
        scores = embedding @ model.head.kernel
        scores = jnp.take_along_axis(scores, copy_class[:, None], axis=-1)
        if bias:
            scores = scores + model.head.bias[copy_class][:, None]
        return Contribution(jax.nn.relu(scores), nan_expected(classes, x.dtype), ())

    return attribute


def _make_grad_cam_attribute(layer: int | None):
    def attribute(model, x, x_ref, classes) -> Contribution:
        del x_ref
        _graph_only(model, "grad_cam")
        hs = _activations(model, x, "grad_cam")
        index = _check_layer(layer, len(hs) - 1)
        num_targets = classes.shape[0]
        weights = jax.nn.one_hot(classes, model.head.kernel.shape[1], dtype=x.dtype)
        grad = _layer_gradients(model, hs, weights)[index]
        heat = _grad_cam_map(hs[index], grad, model.copy_target, num_targets)
        return Contribution(heat[:, None], nan_expected(classes, x.dtype), ())

    return attribute


def _make_grad_cam_avg_attribute(variant: str):
    def attribute(model, x, x_ref, classes) -> Contribution:
        del x_ref
        _graph_only(model, "grad_cam_avg")
        hs = _activations(model, x, "grad_cam_avg")
        num_targets, num_classes = classes.shape[0], model.head.kernel.shape[1]
        copy_target = model.copy_target
        maps = []  # [C] lists over layers of [S]
        for c in range(num_classes):
            weights = jnp.zeros((num_targets, num_classes), x.dtype).at[:, c].set(1.0)
            grads = _layer_gradients(model, hs, weights)
            maps.append(
                [
                    _grad_cam_map(h, g, copy_target, num_targets)
                    for h, g in zip(hs, grads, strict=True)
                ]
            )
        total = jnp.zeros(x.shape[0], x.dtype)
        copy_class = classes[copy_target]
        for index in range(len(hs)):
            layer_maps = jnp.stack([per_class[index] for per_class in maps])  # [C, S]
            peak = jax.ops.segment_max(layer_maps.max(axis=0), copy_target, num_targets)
            peak = jnp.maximum(peak, 0.0)[copy_target]
            own = jnp.take_along_axis(layer_maps, copy_class[None, :], axis=0)[0]
            total = total + jnp.where(peak > 0, own / jnp.where(peak > 0, peak, 1.0), 0.0)
        if variant == "paper":
            total = total / len(hs)
        return Contribution(total[:, None], nan_expected(classes, x.dtype), ())

    return attribute


def contrastive_gradient() -> Method:
    """Contrastive gradient (CG): ``L^c[n] = ‖ReLU(∂y^c / ∂X[n, :])‖₂``, y^c the logit.

    Only the positive part of the input gradient counts. The node value is the L2 norm over the
    input features; with ``feature_level=True`` feature i gets ``ReLU(g_i)² / ‖ReLU(g)‖``, which
    sums to it. Graph targets (the gradient of the graph's logit) and node targets.

    References:
      Pope et al., Explainability Methods for Graph Convolutional Neural Networks, CVPR 2019.
    """
    return Method(
        "contrastive_gradient",
        (),
        _contrastive_gradient_attribute,
        None,
        needs_input_gradient=True,
        unit="‖ReLU(∂logit/∂x)‖",
        signed=False,
    )


def cam(*, bias: bool = True) -> Method:
    """Class activation map: ``L^c[n] = ReLU(Σ_k w^c_k Fᴷ[n, k] + b^c)``.

    ``Fᴷ`` are the node embeddings the readout pools, ``w^c``, ``b^c`` the head's column for class
    c. Graph targets of a classifier with a mean (or sum) readout and a linear head; the mean
    readout makes ``y^c = mean_n (Σ_k w^c_k Fᴷ[n, k]) + b^c``.

    Args:
      bias: add ``b^c`` inside the ReLU, as the authors' code does (``True``); the paper's
        formula has no bias (``False``, then CAM/N equals last-layer Grad-CAM).

    References:
      Zhou et al., Learning Deep Features for Discriminative Localization, CVPR 2016;
      Pope et al., CVPR 2019.
    """
    return Method(
        "cam",
        (("bias", bool(bias)),),
        _make_cam_attribute(bool(bias)),
        None,
        unit="class activation",
        signed=False,
    )


def grad_cam(*, layer: int | None = None) -> Method:
    """Grad-CAM on node layer l: ``α_k = mean_{n ∈ graph} ∂y^c / ∂Fˡ[n, k]``,
    ``L^c[n] = ReLU(Σ_k α_k Fˡ[n, k])``.

    With a mean readout and a linear head, Grad-CAM on the last layer is CAM without bias
    divided by the graph's node count. Graph targets.

    Args:
      layer: ``0`` (the input features) to ``K`` (the node embeddings the readout pools);
        ``None``: ``K``, as the paper.

    References:
      Selvaraju et al., Grad-CAM, ICCV 2017; Pope et al., CVPR 2019.
    """
    if layer is not None and (not isinstance(layer, int) or layer < 0):
        raise ValueError(f"layer must be None or an int >= 0 (0: input features), got {layer!r}")
    return Method(
        "grad_cam",
        (("layer", layer),),
        _make_grad_cam_attribute(layer),
        None,
        unit="gradient-weighted activation",
        signed=False,
    )


def grad_cam_avg(*, variant: str = "paper") -> Method:
    """Grad-CAM-avg: Grad-CAM maps of every layer ``l = 0..K`` (input features included), each
    divided by its maximum over the graph's nodes and all classes, then averaged over layers.

    The maps of every class are computed inside the method (C is small), so the per-layer
    normalization of the authors' code (the max over both classes' maps) holds for any target.

    Args:
      variant: ``"paper"``: the mean over the K + 1 layers; ``"code"``: their sum, as the
        authors' code (``GradCAMAvg``) computes it (K + 1 times the paper's value).

    References:
      Pope et al., CVPR 2019.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}, got {variant!r}")
    return Method(
        "grad_cam_avg",
        (("variant", variant),),
        _make_grad_cam_avg_attribute(variant),
        None,
        unit="share of the layer's largest Grad-CAM",
        signed=False,
    )
