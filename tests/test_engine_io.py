"""Sharding over devices, result files, and resuming an interrupted run."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jgattr.attribution import (
    Attributions,
    _engine,
    cache_info,
    clear_caches,
    compilation_count,
    explain,
    explain_to_folder,
    open_shards,
)
from jgattr.models import GCN, init_params, prepare_graph
from tests.attribution_helpers import NUM_NODES, random_gcn, random_graph
from tests.conftest import REPO

TARGETS = np.arange(NUM_NODES)

SHARDED_SCRIPT = textwrap.dedent(
    """
    import sys
    import jax, numpy as np
    assert jax.device_count() == 8, jax.devices()
    from jgattr.attribution import explain, get_method
    from tests.attribution_helpers import TARGETS, build
    common = ["nam", "ig", get_method("sig_lid_ig", relu_average="n_sample"), "edge_saliency"]
    pope = ["cg", "cam", "grad_cam", "grad_cam_avg", "eb", "c_eb"]  # Pope et al., GCN graphs
    common += [get_method("gnn_explainer", epochs=10), get_method("node_and_edge_ig_edges")]
    for model_name in sys.argv[1:]:
        methods = common + (pope if model_name == "graph-gcn-mean" else [])
        model, params, graph = build(model_name, seed=2, dtype=np.float32)
        paths = ["general", "auto"] if model_name.startswith("gcn") else ["general"]
        for path in paths:
            kwargs = dict(methods=methods, targets=TARGETS, path=path)
            sharded = explain(model, params, graph, **kwargs)
            single = explain(model, params, graph, devices=jax.devices()[:1], **kwargs)
            for name in sharded:
                assert sharded[name].stats["devices"] == 8, sharded[name].stats
                assert single[name].stats["devices"] == 1
                assert sharded[name].stats["chunks"] >= 8, sharded[name].stats
                np.testing.assert_array_equal(sharded[name].sources, single[name].sources)
                np.testing.assert_allclose(
                    sharded[name].values, single[name].values, rtol=1e-5, atol=1e-6
                )
    print("SHARDED-OK")
    """
)


@pytest.mark.parametrize(
    "models",
    [
        # CI (a subprocess on 8 fake devices compiles everything again: 93 s on a cold cache)
        pytest.param(["gcn-2"], marks=pytest.mark.slow),
        # CI: attention, and a graph classifier with Pope's methods (about 100 s)
        pytest.param(["gat", "graph-gcn-mean"], marks=pytest.mark.slow),
        # the rest of the table (about 300 s on 2 cores)
        pytest.param(
            [
                *("gcn-1", "gcn-3", "gin", "sage", "plain"),
                *("graph-gin-sum", "graph-sage-max"),
            ],
            marks=pytest.mark.nightly,
        ),
    ],
    ids=["gcn", "attention-and-graph", "other-models"],
)
def test_sharded_equals_unsharded_on_8_fake_cpu_devices(models):
    env = dict(os.environ)
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run(
        [sys.executable, "-c", SHARDED_SCRIPT, *models],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SHARDED-OK" in result.stdout


def _problem():
    graph = random_graph(seed=6, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=6, dtype=jnp.float32)
    return model, params, graph


def test_attributions_save_and_load(tmp_path):
    model, params, graph = _problem()
    result = explain(model, params, graph, methods=["ig"], targets=TARGETS)["integrated_gradients"]
    path = result.save(tmp_path / "ig.npz")
    loaded = Attributions.load(path)
    for name in (
        "targets",
        "classes",
        "logits",
        "offsets",
        "sources",
        "values",
        "expected",
        "layer_totals",
    ):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(result, name))
    assert loaded.method == "integrated_gradients" and loaded.stats == result.stats
    assert not list(tmp_path.glob(".*tmp"))


def test_loading_a_bad_result_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable jgattr attribution file"):
        Attributions.load(bad)


def test_interrupted_run_resumes_from_finished_rounds(tmp_path, monkeypatch):
    model, params, graph = _problem()
    kwargs = dict(methods=["ig"], targets=TARGETS, path="general", memory_budget_mb=0.002)
    complete = explain(model, params, graph, **kwargs)["integrated_gradients"]
    rounds = complete.stats["rounds"]
    assert rounds >= 6

    calls = []
    original = _engine.run_sharded

    def interrupted(*args, **kw):
        if len(calls) == rounds // 2:
            raise KeyboardInterrupt
        calls.append(1)
        return original(*args, **kw)

    monkeypatch.setattr(_engine, "run_sharded", interrupted)
    with pytest.raises(KeyboardInterrupt):
        explain(model, params, graph, out_dir=tmp_path, **kwargs)
    assert len(list((tmp_path / "parts").rglob("round_*.npz"))) == rounds // 2

    calls.clear()
    monkeypatch.setattr(
        _engine, "run_sharded", lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    )
    resumed = explain(model, params, graph, out_dir=tmp_path, **kwargs)["integrated_gradients"]
    assert len(calls) == rounds - rounds // 2  # only the unfinished rounds ran
    np.testing.assert_array_equal(resumed.values, complete.values)
    assert not (tmp_path / "parts").exists()


def test_an_interrupted_run_of_several_blocks_keeps_and_resumes_every_finished_round(
    tmp_path, monkeypatch, capsys
):
    """Finished blocks keep their rounds until the method is done; the Ctrl-C count, progress
    and the resumed count all count rounds over the whole method, the same way."""
    from jgattr.cli._messages import interrupted_message

    model, params, graph = _problem()
    kwargs = dict(methods=["ig"], targets=TARGETS, path="general", memory_budget_mb=0.002)
    kwargs |= dict(host_memory_mb=0.01)  # several blocks of targets
    complete = explain(model, params, graph, progress=True, **kwargs)["integrated_gradients"]
    rounds, blocks = complete.stats["rounds"], complete.stats["blocks"]
    lines = capsys.readouterr().err.strip().splitlines()
    last = f"integrated_gradients (block {blocks} of {blocks}): {rounds}/{rounds} rounds"
    assert blocks >= 3 and lines[-1] == last
    before = [line for line in lines if f"(block {blocks - 1} of" in line][-1]
    stop = int(before.split()[-2].split("/")[0])  # every block but the last finished
    stop += rounds - stop > 1  # and a round of the last one, if it has more than one
    original, calls = _engine.run_sharded, []

    def interrupted(*args, **kw):
        if len(calls) == stop:
            raise KeyboardInterrupt
        calls.append(1)
        return original(*args, **kw)

    monkeypatch.setattr(_engine, "run_sharded", interrupted)
    with pytest.raises(KeyboardInterrupt):
        explain(model, params, graph, out_dir=tmp_path, progress=True, **kwargs)
    assert len(list((tmp_path / "parts").rglob("round_*.npz"))) == stop
    assert interrupted_message(tmp_path).startswith(f"interrupted: {stop} of {rounds} rounds kept")

    calls.clear()
    monkeypatch.setattr(
        _engine, "run_sharded", lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    )
    resumed = explain(model, params, graph, out_dir=tmp_path, **kwargs)["integrated_gradients"]
    assert resumed.stats["resumed_rounds"] == stop and resumed.stats["rounds"] == rounds
    assert len(calls) == rounds - stop
    np.testing.assert_array_equal(resumed.values, complete.values)
    assert not (tmp_path / "parts").exists()


def test_changed_inputs_do_not_reuse_stale_rounds(tmp_path):
    model, params, graph = _problem()
    kwargs = dict(methods=["nam"], targets=TARGETS, memory_budget_mb=0.002, out_dir=tmp_path)
    explain(model, params, graph, **kwargs)
    other = explain(
        model, {k: v for k, v in params.items()}, graph._replace(nodes=graph.nodes * 2), **kwargs
    )
    fresh = explain(
        model, params, graph._replace(nodes=graph.nodes * 2), methods=["nam"], targets=TARGETS
    )
    np.testing.assert_allclose(other["nam"].values, fresh["nam"].values, rtol=1e-6)


def test_blocks_of_targets_give_bit_identical_results():
    """Targets prepared block by block (a tiny host budget) equal one block bit for bit."""
    model, params, graph = _problem()
    kwargs = dict(methods=["nam", "ig"], targets=TARGETS)
    one = explain(model, params, graph, **kwargs)
    blocked = explain(model, params, graph, host_memory_mb=0.01, **kwargs)
    for name, result in one.items():
        assert result.stats["blocks"] == 1 and blocked[name].stats["blocks"] > 3
        for field in ("targets", "offsets", "sources", "values", "expected", "layer_totals"):
            np.testing.assert_array_equal(getattr(blocked[name], field), getattr(result, field))


def test_result_folder_streams_blocks_loads_lazily_and_resumes(tmp_path, monkeypatch):
    """explain_to_folder writes one shard per block; loading it (whole, a selection, CSR, top-k)
    equals explain, and a rerun skips every finished shard."""
    model, params, graph = _problem()
    kwargs = dict(methods=["nam", "ig"], targets=TARGETS, host_memory_mb=0.01)
    expected = explain(model, params, graph, **kwargs)
    folders = explain_to_folder(model, params, graph, tmp_path, **kwargs)
    for name, folder in folders.items():
        opened = open_shards(folder)
        assert len(opened.shards) > 3 and opened.stats[0]["pairs"] == expected[name].sources.size
        whole = Attributions.load(folder)
        for field in ("targets", "offsets", "sources", "values", "layer_totals"):
            np.testing.assert_array_equal(getattr(whole, field), getattr(expected[name], field))
        some = Attributions.load(folder, targets=[3, 9, 14])
        np.testing.assert_array_equal(some.targets, [3, 9, 14])
        for position, node in enumerate(some.targets):
            for got, want in zip(
                some.for_target(position), expected[name].for_target(node), strict=True
            ):
                np.testing.assert_array_equal(got, want)
        dense = expected[name].to_dense(NUM_NODES)
        np.testing.assert_array_equal(opened.to_csr(NUM_NODES).toarray(), dense)
    calls = []
    monkeypatch.setattr(_engine, "run_sharded", lambda *a, **k: calls.append(1))
    explain_to_folder(model, params, graph, tmp_path, **kwargs)
    assert not calls  # every shard was finished
    monkeypatch.undo()

    top = explain_to_folder(model, params, graph, tmp_path / "top", top_k_sources=2, **kwargs)
    kept = Attributions.load(top["nam"])
    assert np.all(np.diff(kept.offsets) <= 2)
    full = expected["nam"]
    for node in (0, 9):
        sources, values = full.for_target(node)
        strongest = np.sort(sources[np.argsort(-np.abs(values), kind="stable")[:2]])
        np.testing.assert_array_equal(kept.for_target(node)[0], strongest)


def test_clearing_the_target_unions_rebuilds_them_without_recompiling(tiny_cora):
    model = GCN(num_classes=tiny_cora.num_classes, hidden_size=8, num_layers=2)
    params = init_params(model, prepare_graph(model, tiny_cora.graph), key=jax.random.key(0))
    call = lambda: explain(model, params, tiny_cora, methods=["nam"], targets="all")["nam"]
    first = call()
    assert cache_info()["target_unions"]["entries"] >= 1
    compiled = compilation_count()
    clear_caches("target_unions", "device_structure")
    for name in ("target_unions", "device_structure"):  # gone with the unions, or empty
        assert cache_info().get(name, {"entries": 0})["entries"] == 0
    rebuilt = call()
    assert compilation_count() == compiled  # the compiled programs were kept
    np.testing.assert_array_equal(rebuilt.sources, first.sources)
    np.testing.assert_array_equal(rebuilt.values, first.values)
    with pytest.raises(ValueError, match=r"unknown cache name\(s\) \['unions'\]"):
        clear_caches("programs", "unions")
