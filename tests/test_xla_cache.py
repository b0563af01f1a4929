"""JAX's persistent compilation cache: a second process compiles nothing the first compiled."""

import json
import os
import subprocess
import sys

import jax
import pytest

from jgattr._xla_cache import cache_folder, enable_persistent_cache
from tests.conftest import REPO

# One process: explain a tiny graph with two methods, print what the engine compiled.
EXPLAIN = """
import json, sys
import numpy as np
import jax
from jgattr import ModelConfig, TrainConfig, build_model, train
from jgattr._xla_cache import persistent_cache_hits
from jgattr.attribution import explain
from jgattr.data import load_dataset
data = load_dataset("ba-shapes")
model = build_model(ModelConfig(architecture=sys.argv[1], hidden_size=8, num_layers=2), 4)
params = train(model, data, TrainConfig(epochs=2), key=jax.random.key(0)).params
results = explain(model, params, data, methods=["nam", "ig"], targets=np.arange(6))
print(json.dumps({
    "compiled": {n: r.stats["programs_compiled"] for n, r in results.items()},
    "compile_seconds": {n: r.stats["compile_seconds"] for n, r in results.items()},
    "values": {n: float(np.abs(r.values).sum()) for n, r in results.items()},
    "hits": persistent_cache_hits(),
}))
"""


def _explain_in_a_new_process(folder, architecture: str) -> dict:
    env = {**os.environ, "JGATTR_XLA_CACHE": str(folder), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", EXPLAIN, architecture],
        env=env, capture_output=True, text=True, timeout=300, check=True, cwd=REPO,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # two processes each train and explain a GAT
def test_a_second_process_finds_every_program_in_the_persistent_cache(tmp_path):
    folder = tmp_path / "xla"
    first = _explain_in_a_new_process(folder, "gat")
    second = _explain_in_a_new_process(folder, "gat")
    assert all(n >= 1 for n in first["compiled"].values()), first
    assert any(folder.iterdir()), "the first process wrote no cache entry"
    assert second["compiled"] == {"nam": 0, "integrated_gradients": 0}, second
    assert set(second["compile_seconds"].values()) == {0.0}, second
    assert second["hits"] >= 2, second
    assert second["values"] == first["values"]


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JGATTR_XLA_CACHE", "off")
    assert cache_folder() is None
    monkeypatch.setenv("JGATTR_XLA_CACHE", str(tmp_path / "mine"))
    assert cache_folder() == tmp_path / "mine"
    monkeypatch.delenv("JGATTR_XLA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "jgattr" / "xla"


def test_a_folder_already_given_to_jax_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("JGATTR_XLA_CACHE", str(tmp_path / "ours"))
    assert enable_persistent_cache() == type(tmp_path)(jax.config.jax_compilation_cache_dir)
    assert not (tmp_path / "ours").exists()
