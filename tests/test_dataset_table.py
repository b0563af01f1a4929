"""One table of datasets (jgattr/_dataset_table.py): the loaders, the config check and the jobs
read it, and it agrees with what the loaders produce."""

import json
import subprocess
import sys

import pytest

from jgattr._dataset_table import DATASET_TABLE, dataset_families, dataset_names, find_dataset
from jgattr.data import GRAPH_DATASETS, load_dataset, load_graph_dataset
from jgattr.data._gnnexplainer_release import GNNEXPLAINER_DATASETS
from jgattr.data._graph_loaders import MOLECULENET
from jgattr.data._ogb import OGB_DATASETS
from jgattr.data._registry import LOADERS
from jgattr.data._twitch import TWITCH_DATASETS
from tests.conftest import REPO


def test_every_entry_has_a_loader_a_level_and_a_description():
    names = [e.name.lower() for e in DATASET_TABLE]
    assert len(set(names)) == len(names)
    for entry in DATASET_TABLE:
        assert entry.level in ("node", "graph") and entry.description
        assert entry.loader in (LOADERS if entry.level == "node" else ("graph",)), entry.name
    assert dataset_families() == ("powerlaw:<N>", "tu:<NAME>", "moleculenet:<task>")
    assert {n.split(":")[1] for n in GRAPH_DATASETS if n.startswith("moleculenet:")} == set(
        MOLECULENET
    )
    # the loaders that keep their own per-name file specs agree with the table
    assert dataset_names(loader="ogb") == OGB_DATASETS
    assert dataset_names(loader="twitch") == TWITCH_DATASETS
    assert dataset_names(loader="gnnexplainer") == GNNEXPLAINER_DATASETS


def test_names_and_families_are_found_case_insensitively():
    assert find_dataset("Cora").loader == "planetoid"
    assert find_dataset("TU:PROTEINS").name == "tu:<NAME>"
    assert find_dataset("tu:MUTAG").name == "tu:MUTAG"  # its own entry before the family's
    assert find_dataset("powerlaw:1e6").loader == "powerlaw"
    assert find_dataset("powerlaw:") is None and find_dataset("karate") is None


@pytest.mark.parametrize("entry", [e for e in DATASET_TABLE if e.loader == "synthetic"])
def test_class_names_name_every_class_of_the_generated_dataset(entry):
    dataset = load_dataset(entry.name)
    assert entry.level == dataset.level == "node"
    assert len(entry.class_names) == dataset.num_classes


def test_a_graph_dataset_is_named_to_the_node_loader_and_back():
    with pytest.raises(ValueError, match="'ba-2motifs' is a graph-classification dataset"):
        load_dataset("ba-2motifs")
    assert load_graph_dataset("ba-2motifs").level == find_dataset("ba-2motifs").level == "graph"


def test_the_name_check_imports_no_jax():
    code = "import json, sys, jgattr._names; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    modules = json.loads(result.stdout)
    assert "jgattr._dataset_table" in modules
    assert not [m for m in modules if m.split(".")[0] in ("jax", "jraph", "flax", "numpy")]
