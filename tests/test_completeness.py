"""IG's completeness warning and ``n_steps="auto"`` on a case built to miss it: a deep ReLU GIN
whose path integrand has many kinks, integrated with a few quadrature points."""

import warnings

import jax
import numpy as np
import pytest

from jgattr.attribution import CompletenessWarning, explain, explain_to_folder, get_method
from jgattr.models import GIN, init_params, prepare_graph
from tests.attribution_helpers import raw_graph

TARGETS = np.arange(16)


@pytest.fixture(scope="module")
def deep_gin():
    graph = raw_graph(seed=3, dtype=np.float32)
    model = GIN(3, hidden_size=16, num_layers=5)
    params = init_params(model, prepare_graph(model, graph), key=jax.random.key(3))
    rng = np.random.default_rng(0)  # non-zero biases: else the net is homogeneous, IG exact
    params = jax.tree.map(
        lambda p: (np.asarray(p) + 0.3 * rng.normal(size=p.shape)).astype(np.float32), params
    )
    return model, params, graph


def _relative_gaps(result) -> np.ndarray:
    return np.abs(result.delta) / np.abs(result.expected)


def test_few_steps_on_a_deep_relu_gin_warn_and_auto_closes_the_gap(deep_gin):
    model, params, graph = deep_gin
    few = get_method("ig", n_steps=4, quadrature_rule="riemann_right")
    with pytest.warns(CompletenessWarning, match=r"exceeds 1\.00% .*n_steps='auto'") as caught:
        coarse = explain(model, params, graph, methods=[few], targets=TARGETS)
    coarse = coarse["integrated_gradients"]
    assert len(caught) == 1
    misses = coarse.stats["completeness_misses"]
    assert misses >= 4 and coarse.stats["max_relative_delta"] > 0.05, coarse.stats
    assert f"for {misses} of 16 targets" in str(caught[0].message)
    auto = get_method("ig", n_steps="auto", tolerance=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompletenessWarning)  # "auto" meets it: no warning
        refined = explain(model, params, graph, methods=[auto], targets=TARGETS)
    refined = refined["integrated_gradients"]
    assert refined.stats["completeness_misses"] == 0
    gaps = _relative_gaps(refined)
    assert np.all(np.abs(refined.delta) <= 0.01 * np.abs(refined.expected) + 1e-5), gaps
    np.testing.assert_allclose(refined.expected, coarse.expected, rtol=1e-5, atol=1e-6)
    # the same targets with a fine fixed rule agree with the refined ones within the tolerance
    fine = get_method("ig", n_steps=1024, quadrature_rule="riemann_trapezoid")
    reference = explain(model, params, graph, methods=[fine], targets=TARGETS)
    scale = np.abs(refined.expected)[np.repeat(np.arange(16), np.diff(refined.offsets))]
    close = np.abs(refined.values - reference["integrated_gradients"].values) <= 0.05 * scale + 1e-4
    assert np.mean(close) > 0.95


def test_auto_arguments_are_checked():
    with pytest.raises(ValueError, match="nested trapezoid"):
        get_method("ig", n_steps="auto", quadrature_rule="gauss_legendre")
    with pytest.raises(ValueError, match="tolerance must be a share"):
        get_method("ig", n_steps="auto", tolerance=0.0)
    with pytest.raises(ValueError, match="max_steps must be an int >= 32"):
        get_method("ig", n_steps="auto", max_steps=8)
    method = get_method("ig", n_steps="auto", max_steps=1000)
    assert dict(method.hyperparameters)["max_steps"] == 512


@pytest.mark.slow  # streamed runs compile each chunk shape: 31 s cold beside CI
def test_streamed_runs_warn_too_and_auto_is_independent_of_chunking(deep_gin, tmp_path):
    model, params, graph = deep_gin
    few = get_method("ig", n_steps=4, quadrature_rule="riemann_right")
    with pytest.warns(CompletenessWarning, match="of 16 targets"):
        explain_to_folder(model, params, graph, tmp_path, methods=[few], targets=TARGETS)
    auto = get_method("ig", n_steps="auto")
    whole = explain(model, params, graph, methods=[auto], targets=TARGETS)
    small = explain(
        model, params, graph, methods=[auto], targets=TARGETS, memory_budget_mb=0.02
    )  # many chunks: each target still keeps the first level within the tolerance
    whole, small = whole["integrated_gradients"], small["integrated_gradients"]
    assert small.stats["chunks"] > whole.stats["chunks"]
    np.testing.assert_allclose(small.values, whole.values, rtol=1e-5, atol=1e-6)
