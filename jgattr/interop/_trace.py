"""A whole PyTorch module → a chain of items (steps and at most one pooling), in forward order.

Three ways in, tried in this order:

- PyG's ready-made models (``GCN``, ``GAT``, ``GIN``, ``GraphSAGE``, any ``BasicGNN``), read
  from their attributes, and ``torch_geometric.nn.Sequential``, read from its children's
  declared inputs and outputs;
- a single layer (a message-passing layer, or a feature module such as ``torch.nn.Sequential``);
- any other ``torch.nn.Module``: its ``forward(x, edge_index[, batch])`` traced with
  ``torch.fx`` (PyG layers, ready-made models and ``Sequential`` s stay whole, the pooling
  functions are recorded as calls when called by name: ``global_mean_pool(x, batch)``).

The forward must be a chain: every step reads the previous step's output (plus ``edge_index``
or ``batch``). Skip connections, concatenations, edge weights or edge features are refused with
the name of the node that uses them.
"""

import contextlib
import functools
import inspect
import operator
import sys

from jgattr.interop._layers import (
    POOLS,
    Item,
    Pool,
    basic_gnn_items,
    convolution_items,
    feature_items,
    is_basic_gnn,
    is_convolution,
    unsupported,
)
from jgattr.interop._torch import UnsupportedModelError, require
from jgattr.models import Step

torch = require("torch")
pyg_nn = require("torch_geometric.nn")

_POOL_FUNCTIONS = (pyg_nn.global_mean_pool, pyg_nn.global_add_pool, pyg_nn.global_max_pool)
_POOL_HOMES = ("torch_geometric.nn.pool", "torch_geometric.nn.glob", "torch_geometric.nn.pool.glob")
_SIMPLE = {  # function or method name -> step kind
    "relu": "relu",
    "relu_": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "elu": "elu",
    "leaky_relu": "leaky_relu",
    "log_softmax": "log_softmax",
    "softmax": "softmax",
}
_OPTION = {"elu": ("alpha", 1.0), "leaky_relu": ("negative_slope", 0.01)}
_IDENTITY = ("dropout", "contiguous", "clone")


def model_items(module, where: str = "model") -> list[Item]:
    """The items of ``module`` in forward order (raises :class:`UnsupportedModelError`)."""
    if is_basic_gnn(module):
        return basic_gnn_items(module, where)
    if isinstance(module, pyg_nn.Sequential):
        return _sequential_items(module, where)
    if is_convolution(module):
        return convolution_items(module, where)
    if type(module) in (torch.nn.Sequential, pyg_nn.MLP):
        return feature_items(module, where)
    return _traced_items(module, where)


def _call_items(module, where: str, graph_call: bool) -> list[Item]:
    """The items of a submodule called with the features (and, if ``graph_call``, the graph)."""
    if graph_call and not (
        is_convolution(module) or is_basic_gnn(module) or isinstance(module, pyg_nn.Sequential)
    ):
        raise unsupported(type(module).__name__, where, " (called with the graph)")
    return model_items(module, where) if graph_call else feature_items(module, where)


def _function_step(name: str, args: tuple, kwargs: dict, where: str) -> list[Item]:
    """The step of a function or method call on the features (``F.relu``, ``x.relu()``...)."""
    if name in _IDENTITY:
        return []
    kind = _SIMPLE.get(name)
    if kind is None:
        raise unsupported(f"{name}()", where)
    if kind in _OPTION:
        key, default = _OPTION[kind]
        value = kwargs.get(key, args[1] if len(args) > 1 else default)
        return [(Step(kind, ((key, float(value)),)), {})]
    if kind in ("log_softmax", "softmax"):
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if dim not in (-1, 1):
            raise unsupported(f"{name}()", where, f" over dim={dim}")
    return [(Step(kind), {})]


# ------------------------------------------------------------------------ PyG Sequential


def _sequential_items(model, where: str) -> list[Item]:
    names = list(model.signature.param_dict)
    if len(names) < 2:
        raise UnsupportedModelError(
            f"{where}: torch_geometric.nn.Sequential must take 'x, edge_index' first, got "
            f"{', '.join(names)!r}"
        )
    features, edges = names[0], names[1]
    items: list[Item] = []
    for child in model._children:
        module = getattr(model, child.name)
        here = f"{where}.{child.name}"
        if len(child.return_names) != 1:
            raise unsupported(type(module).__name__, here, " returning several values")
        inputs = list(child.param_names)
        if not inputs or inputs[0] != features:
            raise UnsupportedModelError(
                f"{here} reads {inputs[:1]}, not the output of the layer before it "
                f"({features!r}): jgattr runs a chain of layers, without skip connections"
            )
        extra = inputs[1:]
        if isinstance(module, torch.nn.Module):
            if extra and extra != [edges]:
                raise unsupported(type(module).__name__, here, f" with inputs {inputs}")
            items += _call_items(module, here, graph_call=bool(extra))
        elif getattr(module, "__name__", "") in POOLS:
            items.append(Pool(POOLS[module.__name__]))
        else:
            items += _function_step(getattr(module, "__name__", repr(module)), (), {}, here)
        features = child.return_names[0]
    return items


# ------------------------------------------------------------------------ torch.fx


class _Tracer(torch.fx.Tracer):
    """Keeps PyG layers, ready-made models, ``Sequential`` s and MLPs whole."""

    def __init__(self):
        super().__init__(autowrap_functions=_POOL_FUNCTIONS)

    def is_leaf_module(self, module, qualified_name: str) -> bool:
        whole = (pyg_nn.Sequential, pyg_nn.MLP, pyg_nn.Linear, pyg_nn.BatchNorm)
        if is_convolution(module) or is_basic_gnn(module) or isinstance(module, whole):
            return True
        return super().is_leaf_module(module, qualified_name)


@contextlib.contextmanager
def _pools_recorded():
    """While tracing, ``torch_geometric.nn.global_*_pool`` called through a module attribute
    (``pyg_nn.global_mean_pool(x, batch)``) records a call instead of running on proxies."""

    def recorder(function):
        @functools.wraps(function)
        def record(x, *args, **kwargs):
            if isinstance(x, torch.fx.Proxy):
                return x.tracer.create_proxy("call_function", function, (x, *args), kwargs)
            return function(x, *args, **kwargs)

        return record

    homes = [pyg_nn, *(sys.modules[n] for n in _POOL_HOMES if n in sys.modules)]
    saved = [
        (home, f.__name__, f)
        for home in homes
        for f in _POOL_FUNCTIONS
        if hasattr(home, f.__name__)
    ]
    try:
        for home, name, function in saved:
            setattr(home, name, recorder(function))
        yield
    finally:
        for home, name, function in saved:
            setattr(home, name, function)


def _trace(module, where: str):
    parameters = list(inspect.signature(module.forward).parameters.values())
    concrete = {
        p.name: p.default
        for p in parameters[2:]
        if p.default is not inspect.Parameter.empty and p.name != "batch"
    }
    try:
        with _pools_recorded():
            return _Tracer().trace(module, concrete_args=concrete or None)
    except Exception as err:  # fx raises many kinds; all mean "not a traceable chain"
        raise UnsupportedModelError(
            f"{where}: torch.fx could not trace {type(module).__name__}.forward ({err}). jgattr "
            "reads a model whose forward(x, edge_index[, batch]) is a chain of supported layers; "
            "write it as torch_geometric.nn.Sequential"
        ) from err


def _roles(graph) -> dict:
    """The role of each placeholder: ``x`` (first), ``edge_index`` (second), ``batch``."""
    placeholders = [node for node in graph.nodes if node.op == "placeholder"]
    roles = {}
    for index, node in enumerate(placeholders):
        roles[node] = {0: "x", 1: "edge_index"}.get(index, node.target.lstrip("*"))
    return roles


def _traced_items(module, where: str) -> list[Item]:
    graph = _trace(module, where)
    roles = _roles(graph)
    head = next((node for node, role in roles.items() if role == "x"), None)
    items: list[Item] = []
    for node in graph.nodes:
        if node.op in ("placeholder", "get_attr"):
            continue
        here = f"{where} ({node.op} {node.target!s})"
        if node.op == "output":
            if node.args[0] is not head:
                raise UnsupportedModelError(
                    f"{where}: forward must return the last layer's output alone"
                )
            break
        if node.op == "call_function" and getattr(node.target, "__name__", "") in (
            "_assert_is_none",
            "_assert_is_not_none",
        ):
            continue
        inputs = [a for a in (*node.args, *node.kwargs.values()) if isinstance(a, torch.fx.Node)]
        features = [a for a in inputs if a not in roles or roles[a] == "x"]
        graph_inputs = [roles[a] for a in inputs if a in roles and roles[a] != "x"]
        if features != [head] or (node.op == "call_function" and node.target is operator.getitem):
            raise UnsupportedModelError(
                f"{here} does not read the previous layer's output alone: jgattr runs a chain "
                "of layers (no skip connections, concatenations or multiple outputs)"
            )
        if any(role not in ("edge_index", "batch") for role in graph_inputs):
            raise UnsupportedModelError(
                f"{here} reads {sorted(set(graph_inputs))}: jgattr passes x, edge_index and "
                "batch only (no edge weights or edge features)"
            )
        if node.op == "call_module":
            submodule = module.get_submodule(node.target)
            items += _call_items(submodule, f"{where}.{node.target}", "edge_index" in graph_inputs)
        elif node.target in _POOL_FUNCTIONS:
            items.append(Pool(POOLS[node.target.__name__]))
        else:
            name = node.target if node.op == "call_method" else node.target.__name__
            items += _function_step(str(name), node.args, node.kwargs, here)
        head = node
    return items
