"""Parameters checked against the model they are given to: which leaf, which shape, which model.

Flax's own errors for parameters of another model are a ``KeyError: 'conv_0'`` or a shape error
from deep inside ``apply``. :func:`check_params` compares the tree with the shapes the model's
``init`` would make (``jax.eval_shape``: nothing is allocated) and names the first difference, what
the given parameters look like (architecture, layers, width) and the fix.
"""

import functools
import re

import flax.linen as nn
import jax
import jraph
import numpy as np

from jgattr._types import Params
from jgattr.models._protocol import as_explainable


class ParamsError(ValueError):
    """Parameters that do not fit the model they are given to (another architecture, depth or
    width, or the ``{"params": ...}`` wrapper that ``model.init()`` returns)."""


def _one_node_graph(num_features: int) -> jraph.GraphsTuple:
    return jraph.GraphsTuple(
        nodes=np.zeros((1, num_features), np.float32),
        edges=None,
        senders=np.zeros((0,), np.int32),
        receivers=np.zeros((0,), np.int32),
        n_node=np.array([1]),
        n_edge=np.array([0]),
        globals=None,
    )


@functools.lru_cache(maxsize=64)
def param_template(model: nn.Module, num_features: int) -> Params:
    """The parameter tree ``model.init`` makes for ``num_features`` inputs, as shapes only."""
    graph = as_explainable(model).prepare_graph(_one_node_graph(num_features))
    graph = jax.tree.map(np.asarray, graph)
    return jax.eval_shape(lambda: model.init({"params": jax.random.key(0)}, graph)["params"])


def _leaves(tree) -> dict[str, tuple[int, ...]]:
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {
        "/".join(str(getattr(k, "key", k)) for k in path): tuple(np.shape(leaf))
        for path, leaf in flat
    }


def describe_params(params) -> str:
    """What a parameter tree looks like: its architecture (by leaf names), layers and width."""
    leaves = _leaves(params)
    names = " ".join(leaves)
    architecture = (
        "GAT" if "att_src" in names
        else "GIN" if "_in_bias" in names
        else "GCN" if "conv_" in names
        else "GraphSAGE" if "layer_" in names
        else "an unknown model"
    )  # fmt: skip
    layers = len(set(re.findall(r"(?:conv|layer)_(\d+)", names)))
    kernels = [shape for path, shape in leaves.items() if path.endswith("kernel")]
    width = f", first kernel {kernels[0]}" if kernels else ""
    return f"{architecture} parameters ({layers} layers{width})"


def params_mismatch(template, params) -> str | None:
    """The first difference between ``params`` and ``template`` (a leaf missing, extra or of
    another shape) in words, or ``None`` when they fit."""
    want, got = _leaves(template), _leaves(params)
    for path, shape in want.items():
        if path not in got:
            return f"leaf {path!r} {shape} is missing"
        if got[path] != shape:
            return f"leaf {path!r} has shape {got[path]}, the model needs {shape}"
    extra = sorted(set(got) - set(want))
    return f"leaf {extra[0]!r} {got[extra[0]]} is not a parameter of this model" if extra else None


def check_params(model: nn.Module, params: Params, num_features: int) -> None:
    """Raise :class:`ParamsError` unless ``params`` fit ``model`` on ``num_features`` inputs.

    Raises:
      ParamsError: ``params`` is ``model.init()``'s ``{"params": ...}`` wrapper, or a leaf is
        missing, extra or of another shape; the message names the leaf, both shapes, what the
        parameters look like and the fix.
    """
    template = param_template(model, num_features)
    if isinstance(params, dict) and set(params) == {"params"} and "params" not in template:
        raise ParamsError(
            "params is the {'params': ...} dict that model.init() returns: pass its inner "
            "tree, variables['params']"
        )
    problem = params_mismatch(template, params)
    if problem is not None:
        raise ParamsError(
            f"params do not fit {type(model).__name__}({_fields(model)}) with {num_features} "
            f"input features: {problem}; the params given are {describe_params(params)}. Pass "
            "the params this model was trained with, or build the model they belong to"
        )


def _fields(model: nn.Module) -> str:
    keys = ("architecture", "num_layers", "hidden_size", "hidden_sizes", "heads")
    return ", ".join(f"{k}={getattr(model, k)!r}" for k in keys if hasattr(model, k))
