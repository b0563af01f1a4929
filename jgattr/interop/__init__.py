"""PyTorch Geometric interop: jgattr results as PyG ``Explanation`` objects (torch is imported
only when a conversion runs; install ``jgattr[torch]``)."""

from jgattr.interop._explanation import pyg_explanation, pyg_explanations

__all__ = ["pyg_explanation", "pyg_explanations"]
