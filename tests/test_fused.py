"""Methods fused (one program per chunk for several methods, ``jgattr.attribution._fused``):
every method of the shared table gives the very same bits fused as run alone, in float32 and
float64, on the fast and the general path; resumed and streamed runs keep working."""

import jax
import numpy as np
import pytest

from jgattr.attribution import Attributions, explain, explain_to_folder, get_method
from jgattr.attribution._fused import fuse
from jgattr.attribution._programs import ChunkProgram
from tests.attribution_helpers import MODEL_NAMES, TARGETS, build
from tests.test_attribution import TABLE_METHODS

FIELDS = ("offsets", "sources", "values", "expected", "layer_totals", "delta", "targets")
QUICK = ("nam", "integrated_gradients", "sig_lid_ig")
pytestmark = pytest.mark.filterwarnings("ignore::jgattr.attribution.CompletenessWarning")


def _methods(model, path: str, names) -> list:
    walks = model.explainable().walk_sum is not None if hasattr(model, "explainable") else False
    if path == "fast":
        if not walks:
            return []
        return [m for m in TABLE_METHODS if m.name in names and m.has_fast_path(model.num_layers)]
    return [m for m in TABLE_METHODS if m.name in names]


def _assert_same_bits(fused: Attributions, alone: Attributions, name: str) -> None:
    for field in FIELDS:
        a, b = np.asarray(getattr(fused, field)), np.asarray(getattr(alone, field))
        assert a.dtype == b.dtype and a.shape == b.shape, (name, field)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (name, field)


def _check_fused_equals_alone(model_name: str, dtype, names, paths=("general", "fast")) -> None:
    model, params, graph = build(model_name, seed=7, dtype=dtype)
    for path in paths:
        methods = _methods(model, path, names)
        if len(methods) < 2:
            continue
        fused = explain(model, params, graph, methods=methods, targets=TARGETS, path=path)
        for method in methods:
            result = fused[method.name]
            assert sorted(result.stats["fused_with"]) == sorted(
                m.name for m in methods if m.name != method.name
            )
            alone = explain(model, params, graph, methods=[method], targets=TARGETS, path=path)
            assert alone[method.name].stats["fused_with"] == []
            _assert_same_bits(result, alone[method.name], f"{method.name} {path}")


QUICK_CASES = [
    pytest.param(model_name, dtype, path, marks=() if quick else pytest.mark.slow)
    for model_name, dtype, path, quick in (
        ("gcn-2", np.float64, "fast", True),
        ("gcn-2", np.float32, "fast", False),
        ("gcn-2", np.float64, "general", False),
        ("gcn-2", np.float32, "general", False),
        ("gat", np.float32, "general", False),
        ("gat", np.float64, "general", False),
    )
]


@pytest.mark.parametrize(("model_name", "dtype", "path"), QUICK_CASES)
def test_fused_methods_give_the_bits_of_separate_runs(model_name, dtype, path):
    with jax.enable_x64(dtype == np.float64):
        _check_fused_equals_alone(model_name, dtype, QUICK, (path,))


EVERY = tuple(m.name for m in TABLE_METHODS)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_every_table_method_fused_gives_the_bits_of_separate_runs(model_name, dtype):
    with jax.enable_x64(dtype == np.float64):
        _check_fused_equals_alone(model_name, dtype, EVERY)


def test_a_fused_program_sums_its_members_memory_and_splits_their_inputs():
    """The fused chunk holds every member's activations and outputs: planning sees the sum;
    replicated arrays common to the members are passed once; per-target inputs are each
    member's own."""
    shared, own = np.ones(3), np.zeros(2)
    run = lambda a, b, chunk: {"sum": a + b.sum() + chunk["classes"] + chunk["n_node"]}
    programs = [
        ChunkProgram(("a",), run, (shared, own), {"classes": np.arange(4)}, 10.0, 3.0, 2),
        ChunkProgram(("b",), run, (shared, shared), {"classes": np.arange(4) * 2}, 5.0, 1.0, 2),
    ]
    fused = fuse(programs)
    assert (fused.bytes_per_copy, fused.bytes_per_edge, fused.hops) == (15.0, 4.0, 2)
    assert len(fused.replicated) == 2  # ``shared`` once
    assert sorted(fused.per_target) == ["0/classes", "1/classes"]
    chunk = {"n_node": 1.0, **{k: v[:3] for k, v in fused.per_target.items()}}
    first, second = fused.run(*fused.replicated, chunk)
    np.testing.assert_array_equal(first["sum"], 1 + 0 + np.arange(3) + 1)
    np.testing.assert_array_equal(second["sum"], 1 + 3 + np.arange(3) * 2 + 1)
    with pytest.raises(ValueError, match="same structure"):
        fuse([programs[0], programs[1]._replace(hops=0)])


@pytest.mark.slow
def test_fused_chunks_plan_every_members_memory():
    """A fused chunk holds every member's activations: under a small budget it plans more
    chunks than any member alone, and the values still agree (chunking independence)."""
    model, params, graph = build("gcn-2", seed=7, dtype=np.float32)
    methods = [get_method(n) for n in ("nam", "ig", "sig_lid_ig")]
    budget = 0.004
    fused = explain(model, params, graph, methods=methods, targets=TARGETS, memory_budget_mb=budget)
    for method in methods:
        alone = explain(
            model, params, graph, methods=[method], targets=TARGETS, memory_budget_mb=budget
        )[method.name]
        assert fused[method.name].stats["chunks"] > alone.stats["chunks"]
        np.testing.assert_array_equal(fused[method.name].sources, alone.sources)
        np.testing.assert_allclose(fused[method.name].values, alone.values, rtol=1e-5, atol=1e-6)


def test_fused_runs_resume_and_stream_per_method(tmp_path):
    """Kept rounds are per method: a fused rerun resumes every member; a streamed folder holds
    each method's own result, equal to ``explain``'s."""
    model, params, graph = build("gcn-2", seed=7, dtype=np.float32)
    methods = [get_method(n) for n in ("nam", "ig", "edge_saliency")]
    first = explain(model, params, graph, methods=methods, targets=TARGETS, out_dir=tmp_path / "a")
    assert not (tmp_path / "a" / "parts").exists()  # every method finished: nothing kept
    folders = explain_to_folder(
        model, params, graph, tmp_path / "b", methods=methods, targets=TARGETS
    )
    for method in methods:
        loaded = Attributions.load(folders[method.name])
        np.testing.assert_array_equal(loaded.values, first[method.name].values)
        np.testing.assert_array_equal(loaded.sources, first[method.name].sources)
