"""One PyTorch / PyG layer → jgattr :class:`~jgattr.models.Step` s and their parameters.

Each reader checks every setting that changes the math and names the layer and the nearest
supported form when it cannot be run (:class:`UnsupportedModelError`), before any conversion.
Weights are copied as float32 numpy arrays in jgattr's ``[in, out]`` layout.
"""

from typing import Any, NamedTuple

import numpy as np

from jgattr.interop._torch import UnsupportedModelError, require, to_numpy
from jgattr.models import Step

torch = require("torch")
pyg_nn = require("torch_geometric.nn")
_basic = require("torch_geometric.nn.models.basic_gnn")

SUPPORTED = (
    "GCNConv, GATConv, GINConv, SAGEConv (mean / max / sum), Linear, ReLU, ELU, LeakyReLU, "
    "Tanh, Sigmoid, (Log)Softmax, Dropout, BatchNorm1d (eval), Identity; PyG's GCN / GAT / GIN "
    "/ GraphSAGE (jk=None or 'last') and MLP; global_mean_pool / global_add_pool / "
    "global_max_pool followed by one Linear"
)
# the nearest supported form of layers people try
NEAREST = {
    "ChebConv": "GCNConv (ChebConv with K=1 and normalization 'sym' is a GCN without self loops)",
    "GATv2Conv": "GATConv",
    "TransformerConv": "GATConv",
    "GINEConv": "GINConv (GINEConv adds edge features, which jgattr does not read)",
    "GraphConv": "SAGEConv(aggr='sum') (GraphConv is a sum of neighbours plus a root weight)",
    "SGConv": "a chain of K GCNConv without nonlinearity between them",
    "APPNP": "GCNConv layers (APPNP propagates K steps with a teleport term)",
    "LayerNorm": "BatchNorm1d in eval mode",
    "GraphNorm": "BatchNorm1d in eval mode",
    "InstanceNorm": "BatchNorm1d in eval mode",
    "PReLU": "LeakyReLU with a fixed slope",
    "GELU": "ReLU or ELU",
    "JumpingKnowledge": "jk=None or jk='last'",
}
POOLS = {"global_mean_pool": "mean", "global_add_pool": "sum", "global_max_pool": "max"}
_ACTIVATIONS = {
    torch.nn.ReLU: ("relu", ()),
    torch.nn.Tanh: ("tanh", ()),
    torch.nn.Sigmoid: ("sigmoid", ()),
    torch.nn.Identity: (None, ()),
    torch.nn.Dropout: (None, ()),
}


class Pool(NamedTuple):
    """A global pooling (``mean``, ``sum`` or ``max``) in a graph classifier's forward."""

    kind: str


Item = tuple[Step, dict[str, Any]] | Pool


def unsupported(
    what: str, where: str, extra: str = "", hint: str | None = None
) -> UnsupportedModelError:
    """The error for an unsupported layer ``what`` (a class name) found at ``where``."""
    hint = hint or NEAREST.get(what, "one of the supported layers")
    return UnsupportedModelError(
        f"{where}: {what}{extra} is not supported by jgattr.interop.from_pyg; "
        f"nearest supported form: {hint}. Supported: {SUPPORTED}"
    )


def _weight(parameter, where: str) -> np.ndarray:
    if isinstance(parameter, torch.nn.parameter.UninitializedParameter):
        raise UnsupportedModelError(
            f"{where}: its weights are not initialized yet (a lazy layer, in_channels=-1): run "
            "the model once on a graph, or pass data= to from_pyg"
        )
    return to_numpy(parameter)


def _linear(module, where: str) -> dict[str, np.ndarray]:
    """``{"kernel": Wᵀ, "bias": b}`` of a torch or PyG ``Linear`` (zeros without a bias)."""
    kernel = _weight(module.weight, where).T
    bias = module.bias
    out = kernel.shape[1]
    return {
        "kernel": kernel,
        "bias": np.zeros(out, np.float32) if bias is None else to_numpy(bias),
    }


def _batch_norm(module, where: str) -> Item:
    if isinstance(module, pyg_nn.BatchNorm):
        module = module.module
    if not module.track_running_stats or module.running_mean is None:
        raise UnsupportedModelError(
            f"{where}: BatchNorm without running statistics normalizes with each batch's own "
            "statistics even in eval mode; nearest supported form: BatchNorm1d with "
            "track_running_stats=True"
        )
    size = module.running_mean.shape[0]
    ones = np.ones(size, np.float32)
    params = {
        "mean": to_numpy(module.running_mean),
        "var": to_numpy(module.running_var),
        "scale": ones if module.weight is None else to_numpy(module.weight),
        "offset": np.zeros_like(ones) if module.bias is None else to_numpy(module.bias),
    }
    return Step("batch_norm", (("eps", float(module.eps)),)), params


def _softmax(module, where: str) -> Item:
    if module.dim not in (-1, 1):
        raise unsupported(type(module).__name__, where, f" over dim={module.dim}")
    kind = "log_softmax" if isinstance(module, torch.nn.LogSoftmax) else "softmax"
    return Step(kind), {}


def feature_items(module, where: str) -> list[Item]:
    """The steps of a module that acts on node features alone (no graph)."""
    kind = type(module)
    if kind in _ACTIVATIONS:
        name, options = _ACTIVATIONS[kind]
        return [] if name is None else [(Step(name, options), {})]
    if kind is torch.nn.ELU:
        return [(Step("elu", (("alpha", float(module.alpha)),)), {})]
    if kind is torch.nn.LeakyReLU:
        return [(Step("leaky_relu", (("negative_slope", float(module.negative_slope)),)), {})]
    if kind in (torch.nn.LogSoftmax, torch.nn.Softmax):
        return [_softmax(module, where)]
    if kind in (torch.nn.Linear, pyg_nn.Linear):
        return [(Step("linear"), _linear(module, where))]
    if kind in (torch.nn.BatchNorm1d, pyg_nn.BatchNorm):
        return [_batch_norm(module, where)]
    if kind is torch.nn.Sequential:
        return [
            item
            for name, child in module.named_children()
            for item in feature_items(child, f"{where}.{name}")
        ]
    if kind is pyg_nn.MLP:
        return _mlp(module, where)
    raise unsupported(kind.__name__, where)


def _mlp(module, where: str) -> list[Item]:
    """PyG's ``MLP``: per hidden layer Linear, (act,) norm, (act,) dropout; then the plain last."""
    items: list[Item] = []
    act = [] if module.act is None else feature_items(module.act, f"{where}.act")
    for i, norm in enumerate(module.norms):
        items += feature_items(module.lins[i], f"{where}.lins.{i}")
        items += act if module.act_first else []
        items += feature_items(norm, f"{where}.norms.{i}")
        items += [] if module.act_first else act
    if module.plain_last:
        last = len(module.lins) - 1
        items += feature_items(module.lins[last], f"{where}.lins.{last}")
    return items


def _gcn(conv, where: str) -> Item:
    if conv.improved:
        raise unsupported("GCNConv", where, "(improved=True)")
    options = (("normalize", bool(conv.normalize)), ("self_loops", bool(conv.add_self_loops)))
    kernel = _weight(conv.lin.weight, where).T
    bias = np.zeros(kernel.shape[1], np.float32) if conv.bias is None else to_numpy(conv.bias)
    return Step("gcn", options), {"kernel": kernel, "bias": bias}


def _gat(conv, where: str) -> Item:
    if conv.edge_dim is not None or conv.lin is None:
        what = "edge features (edge_dim)" if conv.edge_dim is not None else "bipartite inputs"
        raise unsupported("GATConv", where, f" with {what}")
    if getattr(conv, "res", None) is not None:
        raise unsupported("GATConv", where, " with residual=True")
    heads, width = conv.heads, conv.out_channels
    params = {
        "kernel": _weight(conv.lin.weight, where).T,
        "att_src": to_numpy(conv.att_src).reshape(heads, width),
        "att_dst": to_numpy(conv.att_dst).reshape(heads, width),
    }
    out = heads * width if conv.concat else width
    params["bias"] = np.zeros(out, np.float32) if conv.bias is None else to_numpy(conv.bias)
    options = (
        ("heads", int(heads)),
        ("concat", bool(conv.concat)),
        ("negative_slope", float(conv.negative_slope)),
        ("self_loops", bool(conv.add_self_loops)),
    )
    return Step("gat", options), params


def _sage(conv, where: str) -> Item:
    aggr = conv.aggr if isinstance(conv.aggr, str) else type(conv.aggr).__name__
    aggr = "sum" if aggr == "add" else aggr
    if aggr not in ("mean", "sum", "max"):
        raise unsupported("SAGEConv", where, f" with aggr={aggr!r}")
    if conv.project:
        raise unsupported("SAGEConv", where, " with project=True")
    kernel = _weight(conv.lin_l.weight, where).T
    bias = conv.lin_l.bias
    bias = np.zeros(kernel.shape[1], np.float32) if bias is None else to_numpy(bias)
    if conv.root_weight:
        kernel = np.concatenate([kernel, _weight(conv.lin_r.weight, where).T], axis=1)
    options = (
        ("aggr", aggr),
        ("root_weight", bool(conv.root_weight)),
        ("normalize", bool(conv.normalize)),
    )
    return Step("sage", options), {"kernel": kernel, "bias": bias}


def _gin(conv, where: str) -> Item:
    inner = feature_items(conv.nn, f"{where}.nn")
    if not inner or any(isinstance(item, Pool) for item in inner):
        raise unsupported("GINConv", where, " with an empty MLP")
    steps = tuple(step for step, _ in inner)
    params = {
        "eps": np.asarray(float(conv.eps.detach().reshape(-1)[0]), np.float32),
        "mlp": tuple(p for _, p in inner),
    }
    return Step("gin", inner=steps), params


_CONVS = {
    pyg_nn.GCNConv: _gcn,
    pyg_nn.GATConv: _gat,
    pyg_nn.SAGEConv: _sage,
    pyg_nn.GINConv: _gin,
}


def is_convolution(module) -> bool:
    """Whether ``module`` is a PyG message-passing layer (supported or not)."""
    return isinstance(module, pyg_nn.MessagePassing)


def convolution_items(conv, where: str) -> list[Item]:
    """The step of a supported PyG message-passing layer."""
    reader = _CONVS.get(type(conv))
    if reader is None:
        raise unsupported(type(conv).__name__, where)
    if conv.flow != "source_to_target" or getattr(conv, "node_dim", -2) not in (-2, 0):
        raise unsupported(type(conv).__name__, where, f" with flow={conv.flow!r}")
    return [reader(conv, where)]


def is_basic_gnn(module) -> bool:
    """Whether ``module`` is one of PyG's ready-made models (``GCN``, ``GAT``, ``GIN``, ...)."""
    return isinstance(module, _basic.BasicGNN)


def basic_gnn_items(model, where: str) -> list[Item]:
    """PyG's ``BasicGNN`` forward: each conv, then (but after the last unless ``jk``) act,
    norm and dropout; with ``jk='last'`` a final Linear."""
    if model.jk_mode not in (None, "last"):
        raise unsupported(
            type(model).__name__, where, f" with jk={model.jk_mode!r}", NEAREST["JumpingKnowledge"]
        )
    items: list[Item] = []
    act = [] if model.act is None else feature_items(model.act, f"{where}.act")
    for i, conv in enumerate(model.convs):
        items += convolution_items(conv, f"{where}.convs.{i}")
        if i < model.num_layers - 1 or model.jk_mode is not None:
            items += act if model.act_first else []
            items += feature_items(model.norms[i], f"{where}.norms.{i}")
            items += [] if model.act_first else act
    if hasattr(model, "lin"):
        items += feature_items(model.lin, f"{where}.lin")
    return items
