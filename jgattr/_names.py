"""Every name a config or a flag may hold, and how a wrong one is echoed, without importing JAX.

The method and model registries (``jgattr.attribution.METHODS``, ``jgattr.models.MODELS``)
import JAX; a config is checked against the lists of their names here before that
(tests/test_guard_config.py checks they agree), so a typo fails in a fraction of a second.
Dataset names come from the JAX-free table that ``jgattr.data`` dispatches on
(:mod:`jgattr._dataset_table`). Messages echo a name with :func:`shown` (``ascii()`` when it
holds a non-ASCII letter: a Cyrillic "nаm" prints as ``'n\\u0430m'``) and end with
:func:`did_you_mean`.
"""

import difflib
import os
from collections.abc import Iterable

from jgattr._dataset_table import dataset_families, dataset_names, find_dataset

METHOD_NAMES: tuple[str, ...] = (
    "saliency", "nam", "integrated_gradients", "lid_taylor", "st_lid_taylor", "lid_ig",
    "sig_lid_taylor", "sig_lid_ig", "edge_saliency", "edge_integrated_gradients",
    "contrastive_gradient", "cam", "grad_cam", "grad_cam_avg", "excitation_backprop",
    "contrastive_eb", "node_and_edge_integrated_gradients_nodes",
    "node_and_edge_integrated_gradients_edges", "gnn_explainer", "gnn_explainer_nodes",
)  # fmt: skip
METHOD_ALIASES: dict[str, str] = {
    "ig": "integrated_gradients",
    "edge_ig": "edge_integrated_gradients",
    "cg": "contrastive_gradient",
    "eb": "excitation_backprop",
    "c_eb": "contrastive_eb",
    "ceb": "contrastive_eb",
    "node_and_edge_ig_nodes": "node_and_edge_integrated_gradients_nodes",
    "node_and_edge_ig_edges": "node_and_edge_integrated_gradients_edges",
}
# The choices of [explain], the flags and jgattr.attribution.explain (defined here only).
SPLITS: tuple[str, ...] = ("test", "val", "train")  # a dataset's split masks
TARGET_SETS: tuple[str, ...] = (*SPLITS, "all")
CLASS_CHOICES: tuple[str, ...] = ("predicted", "true", "all")
PATHS: tuple[str, ...] = ("auto", "fast", "general")
# [evaluate] mode, --mode and jgattr.metrics: how a deleted node goes.
MODES: tuple[str, ...] = ("remove", "zero")
ARCHITECTURES: tuple[str, ...] = ("gcn", "gat", "gin", "sage", "gcn_concat")
NODE_ONLY_ARCHITECTURES: tuple[str, ...] = ("gcn_concat",)  # no graph-classifier encoder
# Those whose normalization assumes an undirected graph (ModelEntry.undirected_only; a test checks).
UNDIRECTED_ONLY: tuple[str, ...] = ("gcn",)
POOLS: tuple[str, ...] = ("mean", "sum", "max")
GNN_EXPLAINER_PRESETS: tuple[str, ...] = ("pyg", "ying")  # the factory's `preset` (a test checks)
PRESET_METHODS: tuple[str, ...] = ("gnn_explainer", "gnn_explainer_nodes")  # take a `preset`
DATASET_NAMES: tuple[str, ...] = dataset_names()
_PATH_SUFFIXES = (".npz", ".zip", ".csv", ".csv.gz", ".pkl")


def shown(name: object) -> str:
    """``repr(name)``, or ``ascii(name)`` when it holds non-ASCII characters (look-alikes)."""
    return ascii(name) if isinstance(name, str) and not name.isascii() else repr(name)


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` (difflib), else ``""``; a name
    with non-ASCII characters also says so."""
    text = str(name)
    close = difflib.get_close_matches(text.lower(), [str(c) for c in choices], n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else ""
    if not text.isascii():
        hint = "it holds non-ASCII characters" + (f"; {hint}" if hint else "")
    return f" ({hint})" if hint else ""


def method_key(name: str) -> str:
    """A method name as the registry spells it (``-`` and ``_`` alike, short names resolved)."""
    key = str(name).strip().lower().replace("-", "_")
    return METHOD_ALIASES.get(key, key)


def unknown_method(name: str) -> str | None:
    """Why ``name`` is not a method, with a did-you-mean; ``None`` when it is one."""
    if method_key(name) in METHOD_NAMES:
        return None
    choices = [*METHOD_NAMES, *METHOD_ALIASES]
    return (
        f"method must be one of {sorted(METHOD_NAMES)} (or a short name: "
        f"{sorted(METHOD_ALIASES)}), got {shown(name)}"
        + did_you_mean(str(name).strip().lower().replace("-", "_"), choices)
    )


def unknown_dataset(name: str) -> str | None:
    """Why ``name`` names no dataset (with a did-you-mean), ``None`` when it may: a name or a
    prefixed name of ``jgattr._dataset_table`` (``powerlaw:<N>``, ``tu:<NAME>``, ...), or a path
    (the loaders check the rest)."""
    key = name.strip().lower()
    if find_dataset(key) is not None:
        return None
    if key.endswith(_PATH_SUFFIXES) or os.sep in name or os.path.isdir(name):
        return None
    families = dataset_families()
    return (
        f"unknown dataset {shown(name)}: choose one of {', '.join(DATASET_NAMES)}, "
        f"{', '.join(families)}, or the path of a .npz graph (or a TU .zip, a SMILES .csv)"
        + did_you_mean(key, [*DATASET_NAMES, *families])
    )
