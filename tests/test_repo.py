"""Repository promises: CI runs the README's test command; the public API is as documented."""

import importlib.util
import re
import subprocess
import sys
import types

import jgattr
import jgattr.attribution
from tests.conftest import REPO


def _readme_test_command() -> str:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert match, "README.md must mark its test command with <!-- test-command -->"
    return match.group(1).strip()


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert _readme_test_command() in ci


def test_readme_stays_short():
    """The README is a front page (what jgattr is, the quick start, an API example, one results
    table, links); the rest lives in the docs/ pages of the site (mkdocs.yml)."""
    lines = (REPO / "README.md").read_text().count("\n")
    assert lines <= 250, f"README.md has {lines} lines; move detail into a docs/ page"


def test_readme_links_point_at_files_that_exist():
    """The README is not part of the docs site (whose build checks its own links)."""
    readme = (REPO / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    assert len(links) >= 15
    missing = [link for link in links if "://" not in link and not (REPO / link).exists()]
    assert not missing, missing


def test_docs_hook_checks_repository_links_and_reads_lists_as_github(caplog):
    """mkdocs_hooks.py (CI's `mkdocs build --strict`): a link from a page to a repository file
    becomes its path, a missing one is a warning (so the build fails), lists read as on GitHub."""
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", REPO / "mkdocs_hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = types.SimpleNamespace(file=types.SimpleNamespace(src_path="page.md"))
    links = "[`configs/cora.toml`](../configs/cora.toml), [x](../configs/gone.toml)"
    text = f"{links}\nOne:\n- a\n  - b\n"
    out = hooks.on_page_markdown(text, page, {"docs_dir": str(REPO / "docs")}, None)
    assert out.startswith("`configs/cora.toml`, x (`configs/gone.toml`)\nOne:\n\n- a\n    - b")
    assert "configs/gone.toml, which does not exist" in caplog.text
    assert "configs/cora.toml" not in caplog.text


def test_public_api_surface():
    assert sorted(jgattr.__all__) == sorted(
        [
            "DATASETS",
            "GAT",
            "GCN",
            "GIN",
            "Explainable",
            "GraphSAGE",
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
            "explain",
            "gcn_normalize",
            "load_checkpoint",
            "load_config",
            "load_dataset",
            "load_npz",
            "make_apply_fn",
            "prepare_graph",
            "save_checkpoint",
            "train",
        ]
    )
    for name in jgattr.__all__:
        assert getattr(jgattr, name).__doc__, f"{name} needs a docstring"
    assert jgattr.explain is jgattr.attribution.explain
    assert set(dir(jgattr)) >= set(jgattr.__all__)


def test_import_jgattr_is_lazy():
    """``import jgattr`` (and the CLI module) must not import JAX: ``--help`` stays instant."""
    code = "import sys, jgattr, jgattr.cli; print(sorted({'jax', 'flax'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr


def test_subpackage_surfaces_are_documented():
    import jgattr.analysis
    import jgattr.attribution
    import jgattr.metrics
    import jgattr.models
    import jgattr.viz

    expected = {
        jgattr.analysis: {
            "class_locality",
            "gini",
            "influence",
            "iter_blocks",
            "label_relevance",
            "mask_share",
            "method_agreement",
            "nitro_mask",
            "open_result",
            "pair_agreement",
            "top_share",
        },
        jgattr.attribution: {
            "CLASS_CHOICES",
            "METHODS",
            "CompletenessWarning",
            "PATHS",
            "QUADRATURES",
            "TARGET_SETS",
            "Attributions",
            "Explainable",
            "InEdges",
            "Method",
            "PreparedGraph",
            "ResourceError",
            "ResourceEstimate",
            "ShardedAttributions",
            "Union",
            "as_explainable",
            "cache_info",
            "cam",
            "clear_caches",
            "compilation_count",
            "computation_graphs",
            "contrastive_eb",
            "contrastive_gradient",
            "edge_integrated_gradients",
            "edge_saliency",
            "exact_relu_average",
            "excitation_backprop",
            "explain",
            "estimate_explain",
            "explain_to_folder",
            "get_method",
            "graph_unions",
            "grad_cam",
            "grad_cam_avg",
            "gnn_explainer",
            "integrated_gradients",
            "lid_ig",
            "lid_taylor",
            "nam",
            "node_and_edge_integrated_gradients",
            "open_shards",
            "prepare_data",
            "quadrature",
            "result_complete",
            "saliency",
            "sig_lid_ig",
            "sig_lid_taylor",
            "st_lid_taylor",
            "target_walks",
        },
        jgattr.metrics: {
            "LEVELS",
            "MAX_COPIES",
            "MAX_GRAPH_NODES",
            "MODES",
            "EdgeCandidates",
            "Neighbourhoods",
            "candidate_scores",
            "contrastivity",
            "deletion_masks",
            "edge_candidate_scores",
            "edge_candidates",
            "evaluate",
            "evaluate_keep_masks",
            "explanation_accuracy",
            "neighbourhoods",
            "pope_metrics",
            "roc_auc",
            "target_blocks",
        },
        jgattr.viz: {
            "agreement_figure",
            "curves_figure",
            "grouped_bars_figure",
            "influence_figure",
            "graph_layout",
            "graph_panels",
            "niv_figure",
            "niv_panel",
            "niv_scores",
            "save_figure",
            "subgraph_figure",
        },
    }
    for module, names in expected.items():
        assert set(module.__all__) == names, module.__name__
        for name in names:
            value = getattr(module, name)
            if callable(value):
                assert value.__doc__, f"{module.__name__}.{name} needs a docstring"
    for name in jgattr.models.__all__:
        assert getattr(jgattr.models, name).__doc__


def _package_modules():
    return sorted((REPO / "jgattr").rglob("*.py"))


def test_no_private_imports_across_packages():
    """A module imports another package's public names only (``jgattr.attribution``, not
    ``jgattr.attribution._engine``): packages can reorganize their insides freely."""
    import ast

    offending = []
    for file in _package_modules():
        parts = file.relative_to(REPO / "jgattr").parts
        package = parts[0] if len(parts) > 1 else ""
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = node.module.split(".")
                if (
                    names[0] == "jgattr"
                    and len(names) >= 3
                    and names[1] != package
                    and not names[1].startswith("_")
                    and any(name.startswith("_") for name in names[2:])
                ):
                    offending.append(f"{file.relative_to(REPO)}:{node.lineno} {node.module}")
    assert not offending, offending


def test_modules_stay_small_and_model_details_stay_in_models():
    """One concern per file (<= 400 lines), and only jgattr/models knows parameter names or
    the GCN normalization."""
    too_long = {
        str(f.relative_to(REPO)): n
        for f in _package_modules()
        if (n := len(f.read_text().splitlines())) > 400
    }
    assert not too_long, too_long
    leaks = [
        str(f.relative_to(REPO))
        for f in _package_modules()
        if "models" not in f.parts
        and any(word in f.read_text() for word in ('"conv_0"', "gcn_normalize(", '"kernel"]'))
    ]
    assert not leaks, leaks
