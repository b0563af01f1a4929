"""The registry of methods: every factory by name, and :func:`get_method`."""

import functools
from collections.abc import Callable, Sequence
from typing import Any

from jgattr._names import METHOD_ALIASES, method_key, unknown_method
from jgattr.attribution._cam import cam, contrastive_gradient, grad_cam, grad_cam_avg
from jgattr.attribution._excitation import contrastive_eb, excitation_backprop
from jgattr.attribution._gnn_explainer import gnn_explainer
from jgattr.attribution._gradients import (
    edge_integrated_gradients,
    edge_saliency,
    integrated_gradients,
    nam,
    saliency,
)
from jgattr.attribution._joint_ig import node_and_edge_integrated_gradients
from jgattr.attribution._lid import lid_ig, lid_taylor, sig_lid_ig, sig_lid_taylor, st_lid_taylor
from jgattr.attribution._method_types import Method

METHODS: dict[str, Callable[..., Method]] = {
    "saliency": saliency,
    "nam": nam,
    "integrated_gradients": integrated_gradients,
    "lid_taylor": lid_taylor,
    "st_lid_taylor": st_lid_taylor,
    "lid_ig": lid_ig,
    "sig_lid_taylor": sig_lid_taylor,
    "sig_lid_ig": sig_lid_ig,
    "edge_saliency": edge_saliency,
    "edge_integrated_gradients": edge_integrated_gradients,
    "contrastive_gradient": contrastive_gradient,
    "cam": cam,
    "grad_cam": grad_cam,
    "grad_cam_avg": grad_cam_avg,
    "excitation_backprop": excitation_backprop,
    "contrastive_eb": contrastive_eb,
    "node_and_edge_integrated_gradients_nodes": functools.partial(
        node_and_edge_integrated_gradients, level="node"
    ),
    "node_and_edge_integrated_gradients_edges": functools.partial(
        node_and_edge_integrated_gradients, level="edge"
    ),
    # one optimization, two results: the edge mask (level "edge") and the node mask ("node")
    "gnn_explainer": gnn_explainer,
    "gnn_explainer_nodes": functools.partial(gnn_explainer, level="node"),
}
ALIASES = METHOD_ALIASES


def get_method(name: str | Method, **hyperparameters: Any) -> Method:
    """A method by registry name (``-`` and ``_`` alike; short names: ``ig``, ``edge_ig``,
    ``cg``, ``eb``, ``c_eb``)."""
    if isinstance(name, Method):
        return name
    problem = unknown_method(name)
    if problem is not None:
        raise ValueError(problem)
    return METHODS[method_key(name)](**hyperparameters)


def resolve_methods(methods: Sequence[str | Method]) -> list[Method]:
    """Methods from names or :class:`Method` objects; at least one, all distinct."""
    if isinstance(methods, str | Method):
        methods = [methods]
    resolved = [get_method(m) for m in methods]
    if not resolved:
        raise ValueError("methods is empty: name at least one method, e.g. ['nam', 'ig']")
    names = [m.name for m in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"methods must be distinct, got {names}")
    return resolved
