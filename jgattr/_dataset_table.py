"""Every built-in dataset as plain data: name (or prefix), loader, level, class names, what it is.

The one place a dataset name is written outside its own loader. JAX-free, so that the config
check (:mod:`jgattr._names`) reads it before JAX is imported; ``jgattr.data`` dispatches on it
(``load_dataset`` calls the loader an entry names) and the jobs take class names from it.
Adding a dataset of an existing kind is one line here; a new kind adds its loader to
``jgattr.data._registry.LOADERS``.
"""

import dataclasses

LEVELS = ("node", "graph")  # what a dataset's targets are: nodes of one graph, or graphs


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    """One dataset, or a family of them under a prefix.

    Attributes:
      name: the name as written in a config (``"cora"``, ``"tu:MUTAG"``), or a family: a prefix
        and a placeholder for any non-empty suffix (``"powerlaw:<N>"``).
      loader: the kind of loader that reads it (a key of ``jgattr.data._registry.LOADERS``,
        or ``"graph"``: ``jgattr.data.load_graph_dataset``).
      level: ``"node"`` (node classification) or ``"graph"`` (graph classification).
      description: what it is, in a few words.
      class_names: a name per class, for datasets whose loader gives none (synthetic benchmarks).
    """

    name: str
    loader: str
    level: str
    description: str
    class_names: tuple[str, ...] | None = None

    @property
    def is_prefix(self) -> bool:
        """Whether the entry is a family (``"tu:<NAME>"``), not one dataset."""
        return "<" in self.name

    @property
    def prefix(self) -> str:
        """What a family's names start with (``"tu:"``); a dataset's whole name otherwise."""
        return self.name.split("<", 1)[0]


_HOUSE = ("base", "house roof", "house middle", "house bottom")
_BA_COMMUNITY = tuple(f"{c} (A)" for c in _HOUSE) + tuple(f"{c} (B)" for c in _HOUSE)
_SYNTHETIC = "GNNExplainer synthetic benchmark, generated offline with its motifs"
_RELEASED = "the released GNNExplainer benchmark file"
_E = DatasetEntry
DATASET_TABLE: tuple[DatasetEntry, ...] = (
    _E("cora", "planetoid", "node", "citations (Planetoid, Kipf & Welling's split)"),
    _E("citeseer", "planetoid", "node", "citations (Planetoid)"),
    _E("pubmed", "planetoid", "node", "citations (Planetoid)"),
    _E("pubmed-structure", "planetoid", "node", "Pubmed's graph with stand-in features"),
    _E("ogbn-arxiv", "ogb", "node", "OGB citations, from the released zip"),
    _E("ogbn-products", "ogb", "node", "OGB co-purchases, from the released zip"),
    _E("ba-shapes", "synthetic", "node", _SYNTHETIC, _HOUSE),
    _E("ba-community", "synthetic", "node", _SYNTHETIC, _BA_COMMUNITY),
    _E("tree-cycles", "synthetic", "node", _SYNTHETIC, ("tree", "cycle")),
    _E("tree-grid", "synthetic", "node", _SYNTHETIC, ("tree", "grid")),
    _E("powerlaw:<N>", "powerlaw", "node", "seeded power-law scale benchmark of N nodes"),
    _E("twitch:EN", "twitch", "node", "Twitch EN users (MUSAE)", ("not mature", "mature")),
    *(_E(f"gnnexplainer:syn{i}", "gnnexplainer", "node", _RELEASED) for i in range(1, 5)),
    _E("ba-2motifs", "graph", "graph", "BA graphs with a house or a cycle, generated offline"),
    _E("tu:MUTAG", "graph", "graph", "mutagenic molecules (TU collection)"),
    _E("tu:<NAME>", "graph", "graph", "a dataset of the TU collection"),
    _E("moleculenet:bbbp", "graph", "graph", "blood-brain barrier permeability (SMILES)"),
    _E("moleculenet:bace", "graph", "graph", "BACE-1 inhibitors (SMILES)"),
    _E("moleculenet:tox21", "graph", "graph", "Tox21 NR-ER activity (SMILES)"),
    _E("moleculenet:<task>", "graph", "graph", "a MoleculeNet task"),
)


def dataset_names(*, loader: str | None = None, level: str | None = None) -> tuple[str, ...]:
    """The named datasets (not prefixes) of ``loader`` and ``level`` (``None``: any), in order."""
    return tuple(
        e.name
        for e in DATASET_TABLE
        if not e.is_prefix and loader in (None, e.loader) and level in (None, e.level)
    )


def dataset_families(*, level: str | None = None) -> tuple[str, ...]:
    """The families (``"powerlaw:<N>"``, ``"tu:<NAME>"``, ...) of ``level`` (``None``: any)."""
    return tuple(e.name for e in DATASET_TABLE if e.is_prefix and level in (None, e.level))


def find_dataset(name: str) -> DatasetEntry | None:
    """The entry of ``name`` (case-insensitive): its own, else its prefix's (with a non-empty
    suffix); ``None`` when the table has neither."""
    key = name.strip().lower()
    for entry in DATASET_TABLE:
        if not entry.is_prefix and entry.name.lower() == key:
            return entry
    for entry in DATASET_TABLE:
        if entry.is_prefix and key.startswith(entry.prefix) and len(key) > len(entry.prefix):
            return entry
    return None
