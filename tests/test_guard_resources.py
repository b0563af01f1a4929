"""Work is estimated before it starts (pairs, peak host and device memory); beyond the limit it
stops with a message naming the settings that help, before anything is built or written."""

import time

import jax
import pytest

from jgattr import load_dataset
from jgattr.attribution import (
    ResourceError,
    estimate_explain,
    explain,
    explain_to_folder,
    integrated_gradients,
)
from jgattr.attribution._estimate import available_host_mb, current_rss_mb
from jgattr.cli import main
from jgattr.models import ModelConfig, build_model, init_params, prepare_graph
from tests.test_bad_input_cli import _config, _one_error_line, _snapshot

DATA = load_dataset("ba-shapes")
MODEL = build_model(ModelConfig(num_layers=2, hidden_size=8), DATA.num_classes)
PARAMS = init_params(MODEL, prepare_graph(MODEL, DATA.graph), key=jax.random.key(0))


def test_the_pair_estimate_bounds_the_pairs_written():
    methods = ["nam", "edge_saliency"]
    estimate = estimate_explain(MODEL, DATA, methods=methods, targets="all")
    results = explain(MODEL, PARAMS, DATA, methods=methods, targets="all")
    for name, result in results.items():
        written = result.stats["pairs"]
        print(f"{name}: estimated {estimate.pairs[name]:,} pairs, wrote {written:,}")
        assert written <= estimate.pairs[name] <= 3 * written
    assert estimate.targets == DATA.num_nodes
    assert 0 < estimate.host_mb <= estimate.limit_mb
    capped = estimate_explain(MODEL, DATA, methods=methods, targets="all", top_k_sources=5)
    assert max(capped.pairs.values()) <= 5 * DATA.num_nodes
    assert 0 < current_rss_mb() < available_host_mb()


def test_beyond_the_limit_explain_stops_before_any_work(tmp_path):
    with pytest.raises(ResourceError) as err:
        explain(MODEL, PARAMS, DATA, methods=["nam"], targets="all", max_host_mb=50,
                out_dir=tmp_path)  # fmt: skip
    message = str(err.value)
    print(message)
    for needle in ("more than the 50 MB allowed (max_host_mb", "explain_to_folder",
                   "top_k_sources=", "700 targets"):  # fmt: skip
        assert needle in message
    assert not list(tmp_path.iterdir())  # no round kept, nothing written
    with pytest.raises(ResourceError, match=r"top_k_sources=\), lower host_memory_mb"):
        explain_to_folder(MODEL, PARAMS, DATA, tmp_path / "f", methods=["nam"], max_host_mb=50)
    assert not (tmp_path / "f").exists()


def test_a_step_count_beyond_the_limit_is_refused_before_it_allocates():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"n_steps = 1,000,000 is more than the 10,000 points"):
        integrated_gradients(n_steps=1_000_000, quadrature_rule="riemann_middle")
    with pytest.raises(ValueError, match=r"gauss_legendre needs about 92 MB .* n_steps <= 1,024"):
        integrated_gradients(n_steps=2000)
    assert time.perf_counter() - start < 1.0
    assert integrated_gradients(n_steps=64).name == "integrated_gradients"


def test_the_cli_stops_with_one_line_and_keeps_everything(tmp_path, capsys):
    config, out = _config(tmp_path), tmp_path / "run"
    common = ["--config", str(config), "--out", str(out)]
    assert main(["run", *common, "--max-host-mb", "40"]) == 2  # stops before training
    err = capsys.readouterr().err
    _one_error_line(err, "more than the 40 MB allowed (max_host_mb", "top_k_sources")
    assert not (out / "checkpoint.msgpack").exists()
    assert main(["train", *common]) == 0
    assert main(["explain", *common, "--methods", "nam"]) == 0
    assert "nam: estimate: 3 targets, up to" in capsys.readouterr().err
    before = _snapshot(out)
    assert main(["explain", *common, "--targets", "all", "--max-host-mb", "40", "--overwrite"]) == 2
    _one_error_line(capsys.readouterr().err, "700 targets", "max_host_mb")
    bad = _config(tmp_path, "n_steps = 1000000\n", name="steps.toml")
    assert main(["explain", "--config", str(bad), "--out", str(out), "--methods", "ig"]) == 2
    _one_error_line(capsys.readouterr().err, "n_steps = 1,000,000 is more than")
    assert _snapshot(out) == before
