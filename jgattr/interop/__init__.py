"""Models trained elsewhere, run by jgattr: PyTorch Geometric models in, explained as they are.

``torch`` and ``torch_geometric`` are imported here only (the optional extra ``jgattr[torch]``);
``import jgattr`` never needs them.

- :func:`from_pyg`: a trained PyG model → ``(Explainable, params)``, accepted unchanged by
  ``jgattr.explain``, ``jgattr.metrics.evaluate`` and the figures.
- :func:`load_torch_model`: what the CLI's ``[model] source = "torch"`` runs: a builder
  function's module with a ``state_dict`` file read by ``torch.load(weights_only=True)``.
"""

from jgattr.interop._torch import INSTALL_HINT, UnsupportedModelError, require

require("torch")
require("torch_geometric")

from jgattr.interop._load import load_torch_model, read_state_dict  # noqa: E402
from jgattr.interop._pyg import CHECK_TOLERANCE, Imported, from_pyg, torch_logits  # noqa: E402

__all__ = [
    "CHECK_TOLERANCE",
    "INSTALL_HINT",
    "Imported",
    "UnsupportedModelError",
    "from_pyg",
    "load_torch_model",
    "read_state_dict",
    "torch_logits",
]
