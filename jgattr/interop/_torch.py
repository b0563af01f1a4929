"""torch and torch_geometric, imported once with a clear error when the extra is missing."""

import importlib
import warnings
from types import ModuleType

INSTALL_HINT = (
    "jgattr.interop needs torch and torch_geometric (the optional extra): install torch's CPU "
    "wheel first, so that pip does not pull the multi-GB CUDA build "
    "(pip install torch --index-url https://download.pytorch.org/whl/cpu), "
    'then pip install -e ".[torch]"'
)


class UnsupportedModelError(ValueError):
    """A PyTorch module holds a layer or a connection that jgattr cannot run; the message names
    it and the nearest supported form. Raised while the module is read, before anything is
    compiled or run."""


def require(name: str) -> ModuleType:
    """Import ``name`` (``torch``, ``torch_geometric``, ...), or raise ``ImportError`` saying
    how to install the extra. Import-time warnings of those packages are not ours to raise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(f"{INSTALL_HINT} ({err})") from err


def to_numpy(tensor) -> "object":
    """A float32 numpy copy of a torch tensor (on the host, detached)."""
    import numpy as np

    return np.array(tensor.detach().cpu().numpy(), dtype=np.float32)
