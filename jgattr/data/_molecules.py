"""Molecules from SMILES: RDKit graphs with DeepChem ``ConvMol`` atom features, scaffold splits.

A CSV with a SMILES column and a label column becomes one graph per row: atoms are nodes, bonds
undirected edges (hydrogens implicit). Reading SMILES needs RDKit, an optional extra
(``pip install "jgattr[molecules]"``), imported only here and only when a CSV is read.

Atom features (75, DeepChem's ``ConvMolFeaturizer`` / ``atom_features`` with its defaults, the
input of Pope et al.'s models), in this order:

* element, one-hot over 44: C, N, O, S, F, Si, P, Cl, Br, Mg, Na, Ca, Fe, As, Al, I, B, V, K,
  Tl, Yb, Sb, Sn, Ag, Pd, Co, Se, Ti, Zn, H, Li, Ge, Cu, Au, Ni, Cd, In, Mn, Zr, Cr, Pt, Hg, Pb,
  other;
* degree (heavy-atom neighbours), one-hot over 0..10 (11);
* implicit valence, one-hot over 0..6 (7; more counts as 6);
* formal charge and number of radical electrons, as numbers (2);
* hybridization, one-hot over SP, SP2, SP3, SP3D, SP3D2 (5; others count as SP3D2);
* aromatic (1);
* total hydrogen count, one-hot over 0..4 (5; more counts as 4).

Out-of-range values fall into the last slot, as DeepChem's ``one_of_k_encoding_unk`` does.
``node_names`` are the atom symbols. Rows whose label is empty are dropped (Tox21 has untested
compounds); rows whose SMILES RDKit cannot parse (or that have no atoms) are skipped, counted and
reported in one warning naming the file, the count and the first rows (BBBP has about a dozen).
Labels are remapped to ``0..C-1`` in sorted order (numeric when every label is a number).

Splits: ``"scaffold"`` is DeepChem's deterministic ``ScaffoldSplitter`` (Bemis–Murcko scaffolds
without chirality, whole scaffold sets largest first into train up to 80%, then val up to 90%,
the rest test), used by Pope et al. for BBBP and BACE; ``"random"`` a seeded permutation
(80 / 10 / 10, their Tox21 split); ``"stratified"`` a seeded per-class permutation.

References: Pope et al., "Explainability Methods for Graph Convolutional Neural Networks", CVPR
2019; Wu et al., "MoleculeNet", Chem. Sci. 2018; Bemis & Murcko, J. Med. Chem. 39(15), 1996.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import warnings
from types import ModuleType

import numpy as np

from jgattr.data._dataset import DataError
from jgattr.data._graph_dataset import GraphDataset, make_graph_dataset
from jgattr.data._graph_union import (
    check_seed,
    random_split,
    scaffold_split,
    stratified_split,
    union_edges,
)

# fmt: off
SYMBOLS = (
    "C", "N", "O", "S", "F", "Si", "P", "Cl", "Br", "Mg", "Na", "Ca", "Fe", "As", "Al", "I", "B",
    "V", "K", "Tl", "Yb", "Sb", "Sn", "Ag", "Pd", "Co", "Se", "Ti", "Zn", "H", "Li", "Ge", "Cu",
    "Au", "Ni", "Cd", "In", "Mn", "Zr", "Cr", "Pt", "Hg", "Pb", "other",
)
# fmt: on
HYBRIDIZATIONS = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
MAX_DEGREE, MAX_IMPLICIT_VALENCE, MAX_HYDROGENS = 10, 6, 4
NUM_ATOM_FEATURES = sum(  # 75
    (len(SYMBOLS), MAX_DEGREE + 1, MAX_IMPLICIT_VALENCE + 1, 2, len(HYBRIDIZATIONS), 1),
    MAX_HYDROGENS + 1,
)
SPLITS = ("scaffold", "random", "stratified")
EXTRA_HINT = 'pip install "jgattr[molecules]"'
_SHOWN_ROWS = 5


def import_rdkit() -> ModuleType:
    """``rdkit.Chem``, or a :class:`DataError` saying how to install the ``molecules`` extra."""
    try:
        from rdkit import Chem
    except ImportError as err:
        raise DataError(
            f"reading SMILES needs RDKit, which is not installed ({err}): {EXTRA_HINT}"
        ) from None
    return Chem


def _one_hot(index: int, size: int) -> list[float]:
    row = [0.0] * size
    row[min(max(index, 0), size - 1)] = 1.0
    return row


def _implicit_valence(chem: ModuleType, atom: object) -> int:
    if hasattr(chem, "ValenceType"):  # RDKit >= 2024.09; GetImplicitValence is deprecated there
        return atom.GetValence(chem.ValenceType.IMPLICIT)
    return atom.GetImplicitValence()


def atom_features(chem: ModuleType, mol: object) -> np.ndarray:
    """float32 ``[n_atoms, 75]`` DeepChem ``ConvMol`` features of an RDKit molecule."""
    rows = []
    for atom in mol.GetAtoms():
        symbol = atom.GetSymbol()
        hybrid = str(atom.GetHybridization())
        rows.append(
            _one_hot(SYMBOLS.index(symbol) if symbol in SYMBOLS else len(SYMBOLS), len(SYMBOLS))
            + _one_hot(atom.GetDegree(), MAX_DEGREE + 1)
            + _one_hot(_implicit_valence(chem, atom), MAX_IMPLICIT_VALENCE + 1)
            + [float(atom.GetFormalCharge()), float(atom.GetNumRadicalElectrons())]
            + _one_hot(
                HYBRIDIZATIONS.index(hybrid) if hybrid in HYBRIDIZATIONS else len(HYBRIDIZATIONS),
                len(HYBRIDIZATIONS),
            )
            + [float(atom.GetIsAromatic())]
            + _one_hot(atom.GetTotalNumHs(), MAX_HYDROGENS + 1)
        )
    return np.asarray(rows, dtype=np.float32).reshape(-1, NUM_ATOM_FEATURES)


def _bonds(mol: object) -> np.ndarray:
    """int64 ``[B, 2]`` the atoms of each bond."""
    pairs = [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _read_rows(
    data: bytes, source: str, smiles_column: str, label_column: str
) -> list[tuple[int, str, str]]:
    """``(line, smiles, label)`` for every row with a non-empty label."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise DataError(f"{source}: broken gzip file ({err}); delete it and retry") from None
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        header = reader.fieldnames or []
        missing = [c for c in (smiles_column, label_column) if c not in header]
        if missing:
            raise DataError(
                f"{source}: no column {missing[0]!r}; the columns are {header}: pass "
                "smiles_column= and label_column= naming two of them"
            )
        rows = [(reader.line_num, r[smiles_column] or "", r[label_column] or "") for r in reader]
    except (UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{source}: not a readable CSV file ({err})") from None
    return [(line, smiles.strip(), label.strip()) for line, smiles, label in rows if label.strip()]


def _labels(raw: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """int ``[G]`` classes (sorted unique values; numeric when all are numbers) and their names."""
    try:
        numbers = np.array(raw, dtype=np.float64)
    except ValueError:
        values, labels = np.unique(np.array(raw), return_inverse=True)
        return labels, tuple(str(v) for v in values)
    values, labels = np.unique(numbers, return_inverse=True)
    return labels, tuple(f"{v:g}" for v in values)


def _warn_skipped(source: str, skipped: list[int], total: int) -> None:
    shown = ", ".join(map(str, skipped[:_SHOWN_ROWS])) + (
        ", ..." if len(skipped) > _SHOWN_ROWS else ""
    )
    warnings.warn(
        f"{source}: skipped {len(skipped)} of {total} rows whose SMILES RDKit cannot parse "
        f"(CSV lines {shown})",
        UserWarning,
        stacklevel=3,
    )


def _check_split(name: str, split: str) -> None:
    if split not in SPLITS:
        raise DataError(f"{name}: split must be one of {', '.join(SPLITS)}, got {split!r}")


@dataclasses.dataclass
class _Molecules:
    """The parsed rows: per molecule its features ``[n, 75]``, bonds ``[B, 2]`` (global atom ids),
    label text and scaffold; all atom symbols; the CSV lines of the skipped rows."""

    features: list[np.ndarray] = dataclasses.field(default_factory=list)
    edges: list[np.ndarray] = dataclasses.field(default_factory=list)
    labels: list[str] = dataclasses.field(default_factory=list)
    scaffolds: list[str] = dataclasses.field(default_factory=list)
    symbols: list[str] = dataclasses.field(default_factory=list)
    skipped: list[int] = dataclasses.field(default_factory=list)


def _parse(chem: ModuleType, rows: list[tuple[int, str, str]], with_scaffolds: bool) -> _Molecules:
    """Parse every row's SMILES (RDKit's own error log silenced); unparseable rows are skipped."""
    from rdkit import rdBase
    from rdkit.Chem.Scaffolds import MurckoScaffold

    out = _Molecules()
    offset = 0
    for line, smiles, label in rows:
        with rdBase.BlockLogs():
            mol = chem.MolFromSmiles(smiles)
        if mol is None or mol.GetNumAtoms() == 0:
            out.skipped.append(line)
            continue
        out.features.append(atom_features(chem, mol))
        out.edges.append(_bonds(mol) + offset)
        out.symbols += [atom.GetSymbol() for atom in mol.GetAtoms()]
        out.labels.append(label)
        if with_scaffolds:
            scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)
            out.scaffolds.append(scaffold)
        offset += mol.GetNumAtoms()
    return out


def molecules_from_csv(
    data: bytes,
    *,
    name: str,
    source: str,
    smiles_column: str,
    label_column: str,
    split: str = "scaffold",
    seed: int = 0,
    class_names: tuple[str, ...] | None = None,
) -> GraphDataset:
    """Build a :class:`GraphDataset` of molecules from the bytes of a (gzipped) CSV file.

    Args:
      data: the file's bytes.
      name: the dataset name.
      source: where the bytes came from, for messages.
      smiles_column: the column holding SMILES.
      label_column: the column holding the class; rows where it is empty are dropped.
      split: ``"scaffold"``, ``"random"`` or ``"stratified"`` (see the module docstring).
      seed: seed of the random splits (the scaffold split needs none).
      class_names: names for the sorted label values, used when their count matches.

    Raises:
      DataError: RDKit missing, a missing column, an unreadable file or no parseable molecule.
    """
    _check_split(name, split)
    seed = check_seed(name, seed)
    chem = import_rdkit()
    rows = _read_rows(data, source, smiles_column, label_column)
    mols = _parse(chem, rows, with_scaffolds=split == "scaffold")
    if mols.skipped:
        _warn_skipped(source, mols.skipped, len(rows))
    if not mols.features:
        raise DataError(
            f"{source}: no row has both a label in {label_column!r} and a SMILES in "
            f"{smiles_column!r} that RDKit can parse ({len(rows)} labelled rows)"
        )
    labels, names = _labels(mols.labels)
    n_node = np.array([len(f) for f in mols.features], dtype=np.int32)
    senders, receivers, n_edge = union_edges(np.concatenate(mols.edges), n_node)
    rng = np.random.default_rng(seed)
    if split == "scaffold":
        masks = scaffold_split(mols.scaffolds)
    elif split == "random":
        masks = random_split(rng, len(labels))
    else:
        masks = stratified_split(rng, labels)
    return make_graph_dataset(
        name,
        features=np.concatenate(mols.features),
        senders=senders,
        receivers=receivers,
        n_node=n_node,
        n_edge=n_edge,
        labels=labels,
        masks=masks,
        num_classes=len(names),
        node_names=np.array(mols.symbols),
        class_names=class_names if class_names and len(class_names) == len(names) else names,
    )
