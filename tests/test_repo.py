"""Repository promises: CI runs the README's test command; the public API is as documented."""

import re

import jgattr
from tests.conftest import REPO


def _readme_test_command() -> str:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert match, "README.md must mark its test command with <!-- test-command -->"
    return match.group(1).strip()


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert _readme_test_command() in ci


def test_public_api_surface():
    assert sorted(jgattr.__all__) == sorted(
        [
            "DATASETS",
            "GCN",
            "Checkpoint",
            "CheckpointError",
            "Config",
            "ConfigError",
            "DataConfig",
            "DataError",
            "Dataset",
            "ModelConfig",
            "TrainConfig",
            "TrainResult",
            "build_model",
            "gcn_normalize",
            "load_checkpoint",
            "load_config",
            "load_dataset",
            "load_npz",
            "make_apply_fn",
            "save_checkpoint",
            "train",
        ]
    )
    for name in jgattr.__all__:
        assert getattr(jgattr, name).__doc__, f"{name} needs a docstring"
