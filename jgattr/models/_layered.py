"""Built-in models written once: each defines one pure layer function, and both its Flax module
and the engine's ``layers`` hook are drawn from it.

A layer function is ``layer(model, params, graph, at, h)``: layer ``at.index`` of ``model`` (a
module instance, read only for its hyperparameters) on node values ``h``, activation included
(the last layer gives the logits). With ``at.projected`` (layer 0 only) ``h`` is already
``P = X W¹`` and the layer skips its first matmul. ``at.dropout`` is the training dropout of
that layer (the Flax module passes it; the engine's hooks never do).

A module's ``__call__`` declares its parameters (:class:`Parameters`, under the names its
checkpoints use) and returns :func:`flax_forward`; nothing else computes. Its ``Explainable``
comes from :func:`layered_explainable`.
"""

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax.numpy as jnp
import jraph

from jgattr._types import Array, Params
from jgattr.models._protocol import Explainable, through_layers

Dropout = Callable[[Array, str], Array]
"""``(values, site) -> values``: one layer's dropout while training; ``site`` is ``"input"``
(the layer's input) or ``"attention"`` (GAT's attention coefficients)."""


class LayerAt(NamedTuple):
    """Which layer a layer function computes, and how.

    Attributes:
      index: the layer, from 0.
      projected: its input is already ``P = X W¹`` (layer 0 of the engine's P-space).
      dropout: its training dropout (the Flax module's; the engine's hooks never have one).
    """

    index: int
    projected: bool = False
    dropout: Dropout | None = None


LayerFn = Callable[[Any, Params, jraph.GraphsTuple, LayerAt, Array], Array]
"""``(model, params, graph, at, h) -> h'``: layer ``at.index`` of ``model`` (see the module
docstring)."""


class ParamSpec(NamedTuple):
    """One parameter: name, initializer, shape and dtype (``None``: the initializer's own, as
    ``Module.param`` without a dtype; ``nn.Dense`` passes ``float32``)."""

    name: str
    init: Callable
    shape: tuple[int, ...]
    dtype: Any = None


def glorot_linear(in_width: int, out_width: int, kernel_width: int | None = None) -> tuple:
    """``kernel [in, kernel_width or out]`` (Glorot uniform) and ``bias [out]`` (zeros)."""
    kernel = (in_width, out_width if kernel_width is None else kernel_width)
    return (
        ParamSpec("kernel", nn.initializers.glorot_uniform(), kernel),
        ParamSpec("bias", nn.initializers.zeros_init(), (out_width,)),
    )


def dense(in_width: int, out_width: int) -> tuple:
    """The parameters ``nn.Dense(out_width)`` declares on ``in_width`` inputs."""
    return (
        ParamSpec("kernel", nn.initializers.lecun_normal(), (in_width, out_width), jnp.float32),
        ParamSpec("bias", nn.initializers.zeros_init(), (out_width,), jnp.float32),
    )


def declare(module: nn.Module, specs: tuple[ParamSpec, ...]) -> dict[str, Array]:
    """Declare ``specs`` in ``module``'s scope (from its compact method) and return them."""
    return {
        spec.name: module.param(
            spec.name, spec.init, spec.shape, *(() if spec.dtype is None else (spec.dtype,))
        )
        for spec in specs
    }


class Parameters(nn.Module):
    """A named group of parameters (``conv_0``, ``layer_1``, ``head``): declares them, no math.

    Attributes:
      specs: the parameters, in declaration order (each draws the scope's next ``params`` key).
    """

    specs: tuple[ParamSpec, ...]

    @nn.compact
    def __call__(self) -> dict[str, Array]:
        """The group's parameters ``{name: array}``."""
        return declare(self, self.specs)


def dropped(dropout: Dropout | None, values: Array, site: str = "input") -> Array:
    """``values`` through ``dropout`` at ``site`` (unchanged without dropout)."""
    return values if dropout is None else dropout(values, site)


def run_layers(
    layer: LayerFn,
    model: Any,
    params: Params,
    graph: jraph.GraphsTuple,
    *,
    projected: bool = False,
    dropout: Callable[[int, Array, str], Array] | None = None,
) -> Array:
    """``graph.nodes`` through the model's ``num_layers`` layers: the logits ``[N, C]``.

    ``projected``: ``graph.nodes`` holds ``P = X W¹``. ``dropout(index, values, site)``: the
    training dropout of layer ``index``.
    """
    h = graph.nodes
    for index in range(model.num_layers):
        drop = None if dropout is None else functools.partial(dropout, index)
        h = layer(model, params, graph, LayerAt(index, projected and index == 0, drop), h)
    return h


def layer_hooks(
    layer: LayerFn, model: Any, projected: bool = True
) -> Callable[[Params, jraph.GraphsTuple], tuple[Callable[[Array], Array], ...]]:
    """The engine's ``layers`` hook: ``(params, graph) -> (layer_1, ..., layer_K)``, the first
    taking ``P = X W¹`` when ``projected``."""

    def layers(params: Params, graph: jraph.GraphsTuple) -> tuple:
        return tuple(
            functools.partial(layer, model, params, graph, LayerAt(index, projected and index == 0))
            for index in range(model.num_layers)
        )

    return layers


def flax_forward(
    module: nn.Module,
    layer: LayerFn,
    graph: jraph.GraphsTuple,
    deterministic: bool,
    attention: tuple[nn.Module, ...] = (),
) -> Array:
    """The logits of a module whose parameters are declared, from its compact ``__call__``.

    Dropout (``module.dropout_rate``) hits every layer's input while training (layer 0's only
    with ``module.input_dropout``), one ``nn.Dropout`` per layer in the module's scope;
    ``attention[index]`` is layer ``index``'s dropout of its attention coefficients.
    """

    def dropout(index: int, values: Array, site: str) -> Array:
        if site == "attention":
            return attention[index](values, deterministic=deterministic)
        skip = index == 0 and not module.input_dropout
        return nn.Dropout(module.dropout_rate)(values, deterministic=deterministic or skip)

    return run_layers(layer, module, module.variables["params"], graph, dropout=dropout)


def layered_explainable(model: nn.Module, layer: LayerFn, **fields: Any) -> Explainable:
    """The ``Explainable`` of a built-in model: ``apply`` (the module with dropout off), and
    ``layers`` and ``apply_projected`` drawn from its ``layer`` function; ``fields``: the rest
    (``name``, ``input_kernel``, ``edge_weights``, ``self_loops``, optional hooks)."""
    layers = layer_hooks(layer, model)
    return Explainable(
        apply=lambda params, graph: model.apply({"params": params}, graph, deterministic=True),
        num_layers=model.num_layers,
        apply_projected=through_layers(layers),
        layers=layers,
        **fields,
    )
