"""``[model] source = "torch"``: a builder function's module and a ``state_dict`` file.

The weights file is read first, by ``torch.load(weights_only=True)`` and nothing else: a file
that holds anything but tensors and plain containers (a pickled object, whose unpickling could
run code) is refused before the user's builder is even imported.
"""

import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

from jgattr.interop._pyg import Imported, from_pyg
from jgattr.interop._torch import require

torch = require("torch")


def read_state_dict(path: str | os.PathLike) -> dict:
    """The tensors of a ``state_dict`` file, read with ``torch.load(weights_only=True)``.

    Raises:
      ValueError: the file is missing, is not a torch file, holds anything other than tensors
        and plain containers (refused by the restricted unpickler; nothing in it runs), or is
        not a flat ``{name: tensor}`` mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"[model] state_dict {path} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError, RuntimeError, EOFError...: all are refusals
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"[model] state_dict {path} was refused: torch.load(weights_only=True) reads only "
            f"tensors and plain containers, and this file is not such a file ({reason}). jgattr "
            "never unpickles other objects; save the weights with "
            "torch.save(model.state_dict(), path)"
        ) from err
    if not isinstance(loaded, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in loaded.items()
    ):
        raise ValueError(
            f"[model] state_dict {path} is not a state_dict (a mapping of parameter names to "
            f"tensors; got {type(loaded).__name__}): save it with "
            "torch.save(model.state_dict(), path)"
        )
    return dict(loaded)


def _import_builder(spec: str):
    """The function named by ``"package.module:function"`` or ``"path/to/file.py:function"``
    (a module name is looked up on ``sys.path`` and in the working directory)."""
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise ValueError(
            f'[model] module must be "package.module:function" or "file.py:function", got {spec!r}'
        )
    try:
        if where.endswith(".py"):
            file = Path(where)
            if not file.is_file():
                raise ValueError(f"[model] module file {file} does not exist")
            loader = importlib.util.spec_from_file_location(f"_jgattr_model_{file.stem}", file)
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            cwd = os.getcwd()
            added = cwd not in sys.path
            if added:
                sys.path.insert(0, cwd)
            try:
                module = importlib.import_module(where)
            finally:
                if added:
                    sys.path.remove(cwd)
    except ImportError as err:
        raise ValueError(f"[model] module {where!r} cannot be imported: {err}") from err
    builder = getattr(module, attribute, None)
    if not callable(builder):
        raise ValueError(f"[model] module {where!r} has no function {attribute!r}")
    return builder


def load_torch_model(spec: str, state_dict: str | os.PathLike, data=None) -> Imported:
    """The PyG model of ``spec`` (a function returning the module, called without arguments)
    with the weights of ``state_dict``, imported by :func:`from_pyg` (checked on ``data``).

    Raises:
      ValueError: a refused weights file (see :func:`read_state_dict`), a builder that cannot
        be imported or returns no module, weights that do not fit it, or an unsupported layer.
    """
    weights = read_state_dict(state_dict)  # before any user code is imported
    builder = _import_builder(spec)
    module = builder()
    if not isinstance(module, torch.nn.Module):
        raise ValueError(
            f"[model] module {spec!r} returned {type(module).__name__}, not a torch.nn.Module"
        )
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"[model] state_dict {state_dict} does not fit the module of {spec!r}: {err}"
        ) from err
    return from_pyg(module, data)
