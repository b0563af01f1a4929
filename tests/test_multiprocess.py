"""Two processes on 127.0.0.1 under ``jax.distributed`` give the one-process result bit for bit."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from jgattr.attribution import Attributions, explain
from tests.attribution_helpers import NUM_NODES, random_gcn, random_graph
from tests.conftest import REPO

WORKER = textwrap.dedent(
    """
    import sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=sys.argv[1], num_processes=2, process_id=int(sys.argv[2])
    )
    import jax.numpy as jnp
    import numpy as np
    from jgattr.attribution import explain, explain_to_folder
    from tests.attribution_helpers import NUM_NODES, random_gcn, random_graph
    graph = random_graph(seed=6, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=6, dtype=jnp.float32)
    targets = np.arange(NUM_NODES)
    # blocks split across the processes, each writing its own shards into one folder
    explain_to_folder(model, params, graph, sys.argv[3], methods=["nam", "ig"],
                      targets=targets, host_memory_mb=0.01)
    # one explain over a mesh of both processes' devices (NaN padding in "expected")
    both = explain(model, params, graph, methods=["nam"], targets=targets, path="general")
    assert both["nam"].stats["devices"] == 2, both["nam"].stats
    np.save(f"{sys.argv[3]}/global_{sys.argv[2]}.npy", both["nam"].values)
    print("WORKER-OK", jax.process_index(), jax.process_count())
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # two jax.distributed processes
def test_two_processes_equal_one_bit_for_bit(tmp_path):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    address = f"127.0.0.1:{_free_port()}"
    start = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, address, str(i), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        for i in range(2)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0 and "WORKER-OK" in out, err[-3000:]
    print(f"two processes: {time.perf_counter() - start:.1f} s")

    graph = random_graph(seed=6, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=6, dtype=np.float32)
    targets = np.arange(NUM_NODES)
    single = explain(model, params, graph, methods=["nam", "ig"], targets=targets)
    for name, result in single.items():
        folder = tmp_path / f"attributions_{name}"
        assert len(list(folder.glob("index-*-of-00002.json"))) == 2
        owners = {json.loads(p.read_text())["process"] for p in folder.glob("shard-*.json")}
        assert owners == {0, 1}  # both processes wrote shards
        loaded = Attributions.load(folder)
        for field in ("targets", "offsets", "sources", "values", "expected", "layer_totals"):
            np.testing.assert_array_equal(getattr(loaded, field), getattr(result, field))
    general = explain(model, params, graph, methods=["nam"], targets=targets, path="general")
    for i in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"global_{i}.npy"), general["nam"].values)
