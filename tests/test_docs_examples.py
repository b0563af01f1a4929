"""The README's API example and docs/your-own-model.md's worked example, run as they are written,
so that the code a reader copies cannot rot (slow: each trains a model; docs/pyg.md has its own
test, tests/test_docs_pyg.py)."""

import re

import jax
import numpy as np
import pytest

from tests.conftest import REPO


def python_blocks(page: str) -> list[str]:
    """The fenced ```python blocks of a Markdown page of the repository, in order."""
    return re.findall(r"```python\n(.*?)```", (REPO / page).read_text(), re.S)


def _run(page: str, blocks: list[str]) -> dict:
    """The blocks run in one namespace, with JAX's default rank promotion (a reader's code
    broadcasts ``h + b``; the test suite otherwise raises on it)."""
    namespace: dict = {}
    with jax.numpy_rank_promotion("allow"):
        for block in blocks:
            exec(compile(block, page, "exec"), namespace)
    return namespace


@pytest.mark.slow  # trains Kipf & Welling's GCN on the real Cora, explains 1000 nodes (~25 s)
def test_the_readme_api_example_runs(tmp_path, real_planetoid_dir, monkeypatch):
    monkeypatch.setenv("JGATTR_DATA_DIR", str(real_planetoid_dir))
    monkeypatch.chdir(tmp_path)
    (block,) = python_blocks("README.md")
    ns = _run("README.md", [block])
    assert ns["results"]["nam"].num_targets == 1000
    assert list(ns["node"].targets) == [1708]
    assert ns["sources"].size == ns["values"].size > 1


@pytest.mark.slow  # 1000 Adam steps and IG with n_steps="auto" on BA-Shapes (~55 s)
def test_the_own_model_example_runs(tmp_path, monkeypatch):
    """A pure-function model and a Flax module through ``Explainable``, trained and explained
    on BA-Shapes (generated offline)."""
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks("docs/your-own-model.md")
    assert len(blocks) == 3 and "from_pyg" in blocks[2]  # the third needs torch (pyg.md's test)
    ns = _run("docs/your-own-model.md", blocks[:2])
    accuracy = (ns["predicted"] == ns["dataset"].labels)[ns["dataset"].test_mask].mean()
    assert accuracy > 0.9
    results = ns["results"]
    assert set(results) == {"saliency", "nam", "integrated_gradients", "edge_integrated_gradients"}
    assert results["edge_integrated_gradients"].level == "edge"
    # the node's relevance covers its 3-hop computation graph, the node itself among the sources
    assert ns["node"] in ns["sources"]
    assert np.all(np.isfinite(ns["values"]))
    assert ns["untrained"]["nam"].num_targets == 1
