"""Every config in ``configs/`` loads, builds its model and gives finite logits on a tiny graph.

No real data: a random undirected graph stands in for the dataset, so a typo in a config's
``[model]`` table or a model that cannot run its configured hyperparameters fails in seconds.
"""

import jax
import jax.numpy as jnp
import jraph
import numpy as np
import pytest

from jgattr import load_config
from jgattr.data import is_graph_dataset
from jgattr.jobs import configured_methods
from jgattr.models import ARCHITECTURES, build_model, init_params, make_apply_fn, prepare_graph
from tests.conftest import REPO

# the configs of models jgattr builds (`source = "torch"` ones: tests/test_interop_cli.py)
CONFIGS = sorted(
    path for path in (REPO / "configs").glob("*.toml") if load_config(path).model.source == "jgattr"
)
NON_GCN = [path for path in CONFIGS if load_config(path).model.architecture != "gcn"]
NUM_CLASSES = 3


def _random_graph(n: int = 7, features: int = 5, n_edges: int = 9, seed: int = 0):
    """A random undirected graph: both directions of each edge, no self loops or duplicates."""
    rng = np.random.default_rng(seed)
    pairs = {tuple(sorted(rng.choice(n, size=2, replace=False))) for _ in range(n_edges)}
    undirected = np.array(sorted(pairs), dtype=np.int32)
    directed = np.concatenate([undirected, undirected[:, ::-1]])
    return jraph.GraphsTuple(
        nodes=rng.random((n, features)).astype(np.float32),
        edges=None,
        senders=directed[:, 0],
        receivers=directed[:, 1],
        n_node=np.array([n], dtype=np.int32),
        n_edge=np.array([directed.shape[0]], dtype=np.int32),
        globals=None,
    )


def test_configs_found_and_every_architecture_has_one():
    assert CONFIGS, f"no configs in {REPO / 'configs'}"
    used = {load_config(path).model.architecture for path in CONFIGS}
    assert used == set(ARCHITECTURES)


@pytest.mark.parametrize("path", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_config_builds_a_model_with_finite_logits(path):
    config = load_config(path)
    graph = _random_graph()
    level = "graph" if is_graph_dataset(config.data.name) else "node"
    model = build_model(config.model, NUM_CLASSES, level)
    prepared = jax.tree.map(jnp.asarray, prepare_graph(model, graph))
    params = init_params(model, prepared, key=jax.random.key(0))

    logits = jax.jit(make_apply_fn(model))(params, prepared)  # compiled: op by op is slow cold
    training = jax.jit(
        lambda p, g: model.apply(
            {"params": p}, g, deterministic=False, rngs={"dropout": jax.random.key(1)}
        )
    )(params, prepared)

    n = graph.nodes.shape[0] if level == "node" else 1  # a graph classifier: one row per graph
    for out in (logits, training):
        assert out.shape == (n, NUM_CLASSES)
        assert bool(jnp.all(jnp.isfinite(out)))


@pytest.mark.parametrize("path", NON_GCN, ids=[path.stem for path in NON_GCN])
def test_non_gcn_configs_never_ask_for_exact_relu_averages(path):
    """Only the GCN has the exact walk-sum path that relu_average='exact' needs."""
    config = load_config(path)
    assert config.explain.relu_average != "exact", (
        f"{path.name}: relu_average='exact' needs the GCN walk-sum path; set "
        'relu_average = "n_sample" in [explain]'
    )
    assert not any(method.walks_only for method in configured_methods(config.explain))
