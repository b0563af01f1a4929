"""Tests of optional integrations (PyG, networkx, pandas, pyarrow): skip with a one-line hint on
a machine without the package, but fail under ``CI=true`` (CI installs every extra), as the
real-data tests do (tests/conftest.py)."""

from __future__ import annotations

import importlib
import os
import warnings
from types import ModuleType

import pytest


def require(module: str, extra: str) -> ModuleType:
    """``module`` imported (its import-time deprecation warnings silenced: torch_geometric's
    ``torch.jit.script``), else skip, or fail under ``CI=true``, naming the extra."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module(module)
    except ImportError as err:
        message = f"{module} is not installed ({err}); to run: pip install -e '.[{extra}]'"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: CI must install the {extra!r} extra)")
        pytest.skip(message)
