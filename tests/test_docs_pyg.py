"""docs/pyg.md's code, run block after block in one namespace, so the tutorial cannot rot.

Slow (it trains a GCN and a GAT in PyG on the real Cora and explains all 1000 test nodes);
skipped with a one-line hint without torch, torch_geometric or captum (failed under CI=true),
or without the real Cora files.
"""

import re

import pytest

from tests.conftest import REPO, TORCH_HINT, import_optional

import_optional("torch", "torch_geometric", "captum", install=f"{TORCH_HINT} captum")


def python_blocks(text: str) -> list[str]:
    """The fenced ```python blocks of a Markdown text, in order."""
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.slow  # docs/pyg.md: two PyG models on Cora, Captum on 6 nodes
def test_the_pyg_tutorial_runs(tmp_path, real_planetoid_dir, monkeypatch):
    monkeypatch.setenv("JGATTR_DATA_DIR", str(real_planetoid_dir))
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks((REPO / "docs" / "pyg.md").read_text())
    assert len(blocks) == 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/pyg.md", "exec"), namespace)
    assert namespace["explained"]["gcn"]["nam"].num_targets == 1000
    assert (tmp_path / "pyg-subgraph.png").is_file()
