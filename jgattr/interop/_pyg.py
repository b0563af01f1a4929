"""``from_pyg``: a trained PyG model as a jgattr model (an ``Explainable`` and its parameters)."""

import inspect
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import jraph
import numpy as np

from jgattr._types import Params
from jgattr.interop._layers import Pool
from jgattr.interop._torch import UnsupportedModelError, require
from jgattr.interop._trace import model_items
from jgattr.models import Explainable, LayerChain, builtin_equivalent

torch = require("torch")

CHECK_TOLERANCE = 1e-4
"""Largest ``max |jgattr − PyG| / max |PyG|`` logits gap ``from_pyg(..., data)`` accepts."""


class Imported(NamedTuple):
    """A PyG model as jgattr runs it: ``model, params = from_pyg(module)``.

    Attributes:
      model: the :class:`~jgattr.models.Explainable` (pass it wherever jgattr takes a model:
        ``explain``, ``metrics.evaluate``, the figures).
      params: its parameters (a pytree of jax arrays).
    """

    model: Explainable
    params: Params


def _assemble(items: list, name: str) -> tuple[LayerChain, dict[str, Any]]:
    pools = [i for i, item in enumerate(items) if isinstance(item, Pool)]
    if len(pools) > 1:
        raise UnsupportedModelError(f"{name}: pools {len(pools)} times; jgattr pools once")
    node_items, readout, head = items, None, None
    if pools:
        node_items, after = items[: pools[0]], items[pools[0] + 1 :]
        readout = items[pools[0]].kind
        if len(after) > 1 or (after and after[0][0].kind != "linear"):
            kinds = [item[0].kind for item in after]
            raise UnsupportedModelError(
                f"{name}: after the pooling comes {kinds}; jgattr supports one Linear there "
                "(the graph classifier's head); nearest supported form: move the other layers "
                "before the pooling, or keep a single Linear after it"
            )
        if after:
            head = after[0][1]
        else:  # the pooled embeddings are the logits
            width = _width(node_items)
            head = {"kernel": np.eye(width, dtype=np.float32), "bias": np.zeros(width, np.float32)}
    steps = tuple(step for step, _ in node_items)
    if not any(step.kind in ("gcn", "gat", "sage", "gin") for step in steps):
        raise UnsupportedModelError(
            f"{name}: no message-passing layer (GCNConv, GATConv, GINConv, SAGEConv) found"
        )
    params: dict[str, Any] = {"steps": tuple(p for _, p in node_items)}
    if head is not None:
        params["head"] = head
    try:
        chain = LayerChain(steps, readout, name)
    except ValueError as err:
        raise UnsupportedModelError(str(err)) from err
    return chain, params


def _width(items: list) -> int:
    for _, params in reversed(items):
        for key in ("bias", "offset"):
            if key in params:
                return int(np.shape(params[key])[0])
    raise UnsupportedModelError("cannot tell the width of the pooled embeddings")


def _materialize(module, data) -> None:
    """Run a module with lazy layers once, so that their weights get their shapes."""
    lazy = torch.nn.parameter.UninitializedParameter
    if data is not None and any(isinstance(p, lazy) for p in module.parameters()):
        torch_logits(module, as_graph(data))


def as_graph(data) -> jraph.GraphsTuple:
    """A ``jraph.GraphsTuple`` of a jgattr ``Dataset`` / ``GraphDataset``, a graph, or a PyG
    ``Data`` / ``Batch`` (``x``, ``edge_index`` and, for a batch, ``batch``)."""
    if isinstance(data, jraph.GraphsTuple):
        return data
    if hasattr(data, "graph") and isinstance(data.graph, jraph.GraphsTuple):
        return data.graph
    if hasattr(data, "edge_index") and hasattr(data, "x"):
        x = np.asarray(data.x.detach().cpu().numpy(), np.float32)
        edges = np.asarray(data.edge_index.detach().cpu().numpy(), np.int32)
        batch = getattr(data, "batch", None)
        n_node = (
            np.array([x.shape[0]], np.int32)
            if batch is None
            else np.bincount(batch.cpu().numpy()).astype(np.int32)
        )
        return jraph.GraphsTuple(
            nodes=x,
            edges=None,
            senders=edges[0],
            receivers=edges[1],
            n_node=n_node,
            n_edge=np.array([edges.shape[1]], np.int32),
            globals=None,
        )
    raise TypeError(
        "data must be a jgattr Dataset or GraphDataset, a jraph.GraphsTuple or a PyG Data, "
        f"got {type(data).__name__}"
    )


def _takes_batch(module) -> bool:
    names = getattr(getattr(module, "signature", None), "param_dict", None)
    if names is None:
        names = inspect.signature(module.forward).parameters
    return "batch" in names


def torch_logits(module, graph: jraph.GraphsTuple) -> np.ndarray:
    """The PyG module's output on ``graph`` (eval mode, no gradients), as numpy."""
    x = torch.from_numpy(np.asarray(graph.nodes, np.float32))
    edge_index = torch.from_numpy(
        np.stack([np.asarray(graph.senders), np.asarray(graph.receivers)]).astype(np.int64)
    )
    n_node = np.asarray(graph.n_node)
    kwargs = {}
    if _takes_batch(module):
        kwargs["batch"] = torch.from_numpy(np.repeat(np.arange(n_node.shape[0]), n_node))
    with torch.no_grad():
        return module(x, edge_index, **kwargs).detach().cpu().numpy()


def relative_gap(ours: np.ndarray, theirs: np.ndarray) -> float:
    """``max |ours − theirs| / max |theirs|`` (the absolute gap when ``theirs`` is all 0)."""
    scale = float(np.abs(theirs).max()) if theirs.size else 0.0
    return float(np.abs(ours - theirs).max() / (scale if scale > 0 else 1.0))


def _check(module, imported: Imported, data) -> None:
    graph = as_graph(data)
    try:
        theirs = torch_logits(module, graph)
    except Exception as err:  # a shape mismatch, a missing input: the module's own errors
        raise ValueError(
            f"{imported.model.name}: the PyG module fails on this graph: {err}"
        ) from err
    prepared = imported.model.prepare_graph(graph)
    ours = np.asarray(jax.jit(imported.model.apply)(imported.params, prepared))
    if ours.shape != theirs.shape or relative_gap(ours, theirs) > CHECK_TOLERANCE:
        gap = "shapes differ" if ours.shape != theirs.shape else relative_gap(ours, theirs)
        raise ValueError(
            f"{imported.model.name}: the imported model's logits differ from the PyG module's "
            f"on this graph ({gap}; shapes {ours.shape} and {theirs.shape}): a layer setting "
            "jgattr does not read changes the math; please report it with the model's repr"
        )


def from_pyg(module, data=None, *, check: bool = True, name: str | None = None) -> Imported:
    """A trained PyTorch Geometric model as a jgattr model: ``model, params = from_pyg(m)``.

    The module is read as in eval mode (dropout off, BatchNorm's running statistics), its mode
    left as it was. A GCN (``GCNConv`` layers with ReLU between them, normalization and self
    loops on: PyG's ``GCN``) runs as jgattr's own :class:`~jgattr.models.GCN`, exact walk-sum
    fast path included; every other supported model as a :class:`~jgattr.models.LayerChain`.

    Supported (a named :class:`UnsupportedModelError` otherwise, before anything is compiled
    or run):
    ``GCNConv`` (normalize, add_self_loops, bias, cached), ``GATConv`` (heads, concat,
    negative_slope, add_self_loops, bias), ``GINConv`` (an MLP of Linear / activations /
    BatchNorm, eps, train_eps), ``SAGEConv`` (mean / max / sum, root_weight, normalize),
    ``Linear``, ReLU / ELU / LeakyReLU / Tanh / Sigmoid / (log-)softmax, Dropout, BatchNorm;
    PyG's ``GCN`` / ``GAT`` / ``GIN`` / ``GraphSAGE`` (``jk=None`` or ``"last"``) and ``MLP``;
    ``torch_geometric.nn.Sequential``; a module whose ``forward(x, edge_index[, batch])`` is a
    chain of those (traced with ``torch.fx``); graph classifiers: ``global_mean_pool`` /
    ``global_add_pool`` / ``global_max_pool`` then one ``Linear``.

    Self loops and edge masks follow the PyG module: ``GCNConv`` and ``GATConv`` with
    ``add_self_loops`` add one self loop per node, which an edge mask (edge saliency, edge IG,
    GNNExplainer) never scales; their relevance is 0. ``GINConv`` and ``SAGEConv`` read a node's
    own features through their root term, never through an edge. Every message along an edge
    of the graph is scaled by that edge's mask, after normalization (GCN), after the softmax
    (GAT) and inside the mean (GraphSAGE), as PyG's explain mode does. ``cached`` is ignored:
    jgattr normalizes each graph itself.

    Args:
      module: the trained ``torch.nn.Module``.
      data: optional graph (a jgattr ``Dataset`` / ``GraphDataset``, a ``jraph.GraphsTuple`` or
        a PyG ``Data``): lazy layers are initialized on it, and with ``check`` the imported
        model's logits are compared with the module's on it.
      check: with ``data``, raise ``ValueError`` when the logits differ by more than
        :data:`CHECK_TOLERANCE` relative.
      name: the model's name in messages (default ``"PyG <class name>"``).

    Returns:
      :class:`Imported` ``(model, params)``.

    Example:
      >>> model, params = from_pyg(pyg_gcn, dataset)
      >>> results = jgattr.explain(model, params, dataset, methods=["nam", "ig"])
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    name = name or f"PyG {type(module).__name__}"
    training = module.training
    module.eval()
    try:
        _materialize(module, data)
        chain, chain_params = _assemble(model_items(module, name), name)
        builtin = builtin_equivalent(chain, chain_params)
        explainable, params = builtin or (chain.explainable(), chain_params)
        imported = Imported(explainable, jax.tree.map(jnp.asarray, params))
        if data is not None and check:
            _check(module, imported, data)
        return imported
    finally:
        module.train(training)
