"""Models trained elsewhere, run by jgattr, and jgattr's results handed back to PyG.

``torch`` and ``torch_geometric`` are imported here only (the optional extra ``jgattr[torch]``);
``import jgattr`` never needs them.

- :func:`from_pyg`: a trained PyG model → ``(Explainable, params)``, accepted unchanged by
  ``jgattr.explain``, ``jgattr.metrics.evaluate`` and the figures.
- :func:`load_torch_model`: what the CLI's ``[model] source = "torch"`` runs: a builder
  function's module with a ``state_dict`` file read by ``torch.load(weights_only=True)``.
- :func:`pyg_explanation`, :func:`pyg_explanations`: results as PyG ``Explanation`` objects in
  the user's node ids and ``edge_index`` (``Attributions.to_pyg_explanation``).
"""

from jgattr.interop._torch import INSTALL_HINT, UnsupportedModelError, require

require("torch")
require("torch_geometric")

from jgattr.interop._explanation import pyg_explanation, pyg_explanations  # noqa: E402
from jgattr.interop._load import load_torch_model, read_state_dict  # noqa: E402
from jgattr.interop._pyg import CHECK_TOLERANCE, Imported, from_pyg, torch_logits  # noqa: E402

__all__ = [
    "CHECK_TOLERANCE",
    "INSTALL_HINT",
    "Imported",
    "UnsupportedModelError",
    "from_pyg",
    "load_torch_model",
    "pyg_explanation",
    "pyg_explanations",
    "read_state_dict",
    "torch_logits",
]
