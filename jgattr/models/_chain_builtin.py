"""A :class:`~jgattr.models.LayerChain` that is one of jgattr's built-in models, run as that model.

A chain ``gcn → relu → gcn → … → gcn`` of normalizing GCN steps with self loops is exactly
:class:`~jgattr.models.GCN` (and ``(gcn → relu)ᴷ`` + pooling + a linear head exactly a
:class:`~jgattr.models.GraphClassifier` over a GCN encoder): run as the built-in, it gets the
exact walk-sum fast path and excitation backprop. Only the parameter layout changes.
"""

import dataclasses
import functools

from jgattr._types import Params
from jgattr.models._chain import GraphReading, LayerChain, graph_reading
from jgattr.models._gcn import GCN
from jgattr.models._graph_classifier import GraphClassifier
from jgattr.models._protocol import Explainable


def _gcn_pattern(chain: LayerChain) -> bool:
    """``gcn (relu gcn)*`` (node classifier) or ``(gcn relu)+`` (graph classifier)."""
    kinds = [step.kind for step in chain.steps]
    pair = ["gcn", "relu"]
    expected = (pair * chain.num_layers)[:-1] if chain.readout is None else pair * chain.num_layers
    gcn_steps = [step for step in chain.steps if step.kind == "gcn"]
    plain = all(
        graph_reading(step) == GraphReading(True, "gcn") and not step.inner for step in gcn_steps
    ) and all(not step.options for step in chain.steps if step.kind == "relu")
    return kinds == expected and plain


@functools.lru_cache(maxsize=64)
def _builtin(chain: LayerChain, widths: tuple[int, ...], num_classes: int) -> Explainable:
    if chain.readout is None:
        module = GCN(num_classes=num_classes, hidden_size=widths[:-1], num_layers=len(widths))
    else:
        module = GraphClassifier(num_classes, "gcn", widths, chain.readout, 0.0)
    return dataclasses.replace(
        module.explainable(),
        name=f"{chain.name} (as jgattr's {type(module).__name__})",
        edge_mask_self_loops=False,
    )


def builtin_equivalent(chain: LayerChain, params: Params) -> tuple[Explainable, Params] | None:
    """``(explainable, params)`` of the built-in model that computes exactly what ``chain``
    does, or ``None`` when there is none (a GCN or a GCN graph classifier, for now).

    ``params`` are the chain's (``{"steps": ..., "head": ...}``); the result's are the built-in
    model's. The explainable never masks the self loops the GCN adds (PyG's convention).
    """
    if not _gcn_pattern(chain):
        return None
    convs = [params["steps"][i] for i in chain.convolutions]
    conv_params = {f"conv_{i}": dict(conv) for i, conv in enumerate(convs)}
    widths = tuple(int(conv["bias"].shape[0]) for conv in convs)
    if chain.readout is None:
        return _builtin(chain, widths, widths[-1]), conv_params
    head = params["head"]
    explainable = _builtin(chain, widths, int(head["bias"].shape[0]))
    return explainable, {"encoder": conv_params, "head": dict(head)}
