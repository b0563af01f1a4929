"""Strict test setup: warnings are errors (pyproject), rank promotion raises, shared data dir."""

import os
from pathlib import Path

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")

REPO = Path(__file__).resolve().parents[1]


def shared_planetoid_dir() -> Path:
    """``$JGATTR_DATA_DIR`` (CI sets it), else ``../shared/data/planetoid`` beside the checkout."""
    env = os.environ.get("JGATTR_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data" / "planetoid"


@pytest.fixture(scope="session")
def planetoid_dir() -> Path:
    path = shared_planetoid_dir()
    if not (path / "ind.cora.x").is_file():
        pytest.fail(f"Planetoid files not found in {path}: set JGATTR_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def cora(planetoid_dir):
    from jgattr.data import load_dataset

    return load_dataset("cora", data_dir=planetoid_dir, download=False)
