"""Strict test setup (warnings are errors via pyproject, rank promotion raises) and the data.

Two kinds of Planetoid data:

* **tiny** (``tiny_planetoid_dir``, ``tiny_planetoid``, ``tiny_cora``): ``ind.<name>.<part>``
  files the tests write once per session (see :mod:`tests.planetoid_helpers`). Every test that
  needs no published number uses these, so the suite passes on a fresh machine, offline.
* **real** (``real_planetoid_dir``, ``real_cora``): the published files, found in
  ``$JGATTR_DATA_DIR`` when it is set, else in the user cache
  (``$XDG_CACHE_HOME/jgattr/planetoid`` or ``~/.cache/jgattr/planetoid``) or in
  ``../shared/data/planetoid`` beside the checkout. Without them those tests skip with one line
  saying how to enable them; but when ``CI=true`` and ``JGATTR_DATA_DIR`` is set, missing files
  fail the test (CI must keep running them).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import warnings
from pathlib import Path
from types import ModuleType

import jax
import pytest

from jgattr._xla_cache import enable_persistent_cache
from jgattr.data import Dataset, cache_dir, load_dataset
from jgattr.data._fetch import SHA256
from tests.planetoid_helpers import TINY_SPECS, TinyPlanetoid, write_tiny_planetoid

jax.config.update("jax_numpy_rank_promotion", "raise")

# JAX's persistent compilation cache (jgattr/_xla_cache.py) in one folder per machine, apart from
# the user's: a rerun of the suite, and every subprocess it starts, reuses the programs compiled
# before. JGATTR_XLA_CACHE=off runs the suite without it.
os.environ.setdefault("JGATTR_XLA_CACHE", str(cache_dir().parent / "xla-tests"))
enable_persistent_cache()

REPO = Path(__file__).resolve().parents[1]

TORCH_HINT = (
    "pip install torch --index-url https://download.pytorch.org/whl/cpu && "
    'pip install -e ".[torch]"'
)


def import_optional(*names: str, install: str = TORCH_HINT) -> list[ModuleType]:
    """Import optional packages for a test module (torch, torch_geometric, captum).

    Missing ones skip the whole module with a one-line hint; under ``CI=true`` they fail it
    instead, like the real-data tests: CI must keep running these tests.
    """
    try:
        with warnings.catch_warnings():  # their import-time warnings are not ours to fail on
            warnings.simplefilter("ignore")
            return [importlib.import_module(name) for name in names]
    except ImportError as err:
        message = f"{err.name} is not installed: {install} to run these tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: CI installs it, see .ci/run)", pytrace=False)
        pytest.skip(message, allow_module_level=True)


# The published files the real-data tests read (Pubmed's allx is optional, as in the shared folder).
REAL_FILES = tuple(name for name in sorted(SHA256) if name != "ind.pubmed.allx")


def real_planetoid_candidates() -> list[Path]:
    """Where the real files are looked for: ``$JGATTR_DATA_DIR`` alone when set, else the user
    cache, then ``../shared/data/planetoid`` beside the checkout."""
    env = os.environ.get("JGATTR_DATA_DIR")
    if env:
        return [Path(env).expanduser()]
    return [cache_dir(), REPO.parent / "shared" / "data" / "planetoid"]


def _missing(folder: Path) -> list[str]:
    return [name for name in REAL_FILES if not (folder / name).is_file()]


@pytest.fixture(scope="session")
def real_planetoid_dir() -> Path:
    """The first candidate folder that holds every published Cora, Citeseer and Pubmed file."""
    candidates = real_planetoid_candidates()
    for folder in candidates:
        if not _missing(folder):
            return folder
    message = (
        f"real Planetoid files not found in {', '.join(map(str, candidates))}: set "
        "JGATTR_DATA_DIR=<folder with ind.cora.*, ind.citeseer.*, ind.pubmed.*> to run"
    )
    if os.environ.get("CI", "").lower() == "true" and os.environ.get("JGATTR_DATA_DIR"):
        missing = _missing(candidates[0])
        pytest.fail(f"{message} (CI=true; missing {len(missing)} files, e.g. {missing[0]})")
    pytest.skip(message)


@pytest.fixture(scope="session")
def real_cora(real_planetoid_dir: Path) -> Dataset:
    """The real Cora (``N=2708, F=1433, C=7``), checksums verified."""
    return load_dataset("cora", data_dir=real_planetoid_dir, download=False)


@pytest.fixture(scope="session")
def _tiny_planetoid_files(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, TinyPlanetoid], dict[str, str]]:
    """(folder, truth per name, SHA-256 per file) of the tiny files, written once."""
    folder = tmp_path_factory.mktemp("tiny-planetoid")
    truths = {name: write_tiny_planetoid(folder, spec) for name, spec in TINY_SPECS.items()}
    hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    return folder, truths, hashes


@pytest.fixture
def tiny_planetoid_dir(_tiny_planetoid_files, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of tiny ``ind.{cora,citeseer}.*`` and ``ind.pubmed.*`` (no ``allx``) files.

    For the test's duration their SHA-256s stand in for the published ones
    (``jgattr.data._fetch.SHA256``), so they load, download from a ``file://`` mirror and fail
    on corruption exactly as the published files do. Do not write into it: copy it first.
    """
    folder, _, hashes = _tiny_planetoid_files
    for name, digest in hashes.items():
        monkeypatch.setitem(SHA256, name, digest)
    return folder


@pytest.fixture(scope="session")
def tiny_planetoid(_tiny_planetoid_files) -> dict[str, TinyPlanetoid]:
    """What the loader must assemble from each tiny dataset, by name (``cora``, ...)."""
    return _tiny_planetoid_files[1]


@pytest.fixture(scope="session")
def tiny_cora(_tiny_planetoid_files) -> Dataset:
    """The tiny ``cora``: ``N=560, F=32, C=4``, split 20/500/30, loaded by ``load_dataset``."""
    folder = _tiny_planetoid_files[0]
    return load_dataset("cora", data_dir=folder, verify_checksums=False, download=False)


# The other real files in ../shared/data (MUTAG, BBBP, Twitch EN, the released GNNExplainer
# benchmarks): each found in its own variable's folder when set (CI sets them, .ci/run), else in
# ../shared/data/<sub> beside the checkout; missing, the tests skip with one line, or fail when
# CI=true and the variable is set.
REAL_SHARED = {
    "tu": ("JGATTR_REAL_TU_DIR", ("MUTAG.zip",)),
    "moleculenet": ("JGATTR_REAL_MOLECULENET_DIR", ("BBBP.csv",)),
    "twitch": (
        "JGATTR_REAL_TWITCH_DIR",
        ("musae_ENGB_edges.csv", "musae_ENGB_features.json", "musae_ENGB_target.csv"),
    ),
    "gnnexplainer": ("JGATTR_REAL_GNNEXPLAINER_DIR", ("syn1.pkl", "syn2.pkl")),
}


def real_shared_dir(sub: str) -> Path:
    """The folder holding the real files of ``sub`` (a key of :data:`REAL_SHARED`), else skip
    (or fail under CI=true with the variable set)."""
    env, files = REAL_SHARED[sub]
    given = os.environ.get(env)
    folder = Path(given).expanduser() if given else REPO.parent / "shared" / "data" / sub
    missing = [name for name in files if not (folder / name).is_file()]
    if not missing:
        return folder
    message = f"real {sub} files not found in {folder}: set {env}=<folder with {', '.join(files)}>"
    if os.environ.get("CI", "").lower() == "true" and given:
        pytest.fail(f"{message} (CI=true; missing {', '.join(missing)})")
    pytest.skip(message)


@pytest.fixture(scope="session")
def real_twitch_dir() -> Path:
    """The raw MUSAE ENGB files (Twitch EN)."""
    return real_shared_dir("twitch")


@pytest.fixture(scope="session")
def real_gnnexplainer_dir() -> Path:
    """The released GNNExplainer benchmarks syn1.pkl (BA-Shapes) and syn2.pkl (BA-Community)."""
    return real_shared_dir("gnnexplainer")


@pytest.fixture(scope="session")
def real_mutag_dir() -> Path:
    """The folder holding the TU collection's MUTAG.zip."""
    return real_shared_dir("tu")


@pytest.fixture(scope="session")
def real_bbbp_dir() -> Path:
    """The folder holding MoleculeNet's BBBP.csv."""
    return real_shared_dir("moleculenet")
