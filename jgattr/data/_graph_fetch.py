"""Finding, downloading and verifying the files of the graph-classification and OGB datasets.

A file (``MUTAG.zip``, ``BBBP.csv``, ``arxiv.zip``, ...) of a source (``tu``, ``moleculenet`` or
``ogb``) is looked for in

1. the data directory (the ``data_dir`` argument, else ``$JGATTR_DATA_DIR``), when one is given;
2. the user cache ``<cache_root>/<source>`` (``~/.cache/jgattr/tu``, ...);
3. else it is downloaded into that cache (atomically, see :func:`download_file`) from the
   source's base URL, overridable with ``$JGATTR_TU_URL`` / ``$JGATTR_MOLECULENET_URL`` /
   ``$JGATTR_OGB_URL`` (e.g. a ``file://`` mirror), unless ``download=False``.

Checksums (trust on first use): neither the TU collection nor MoleculeNet publishes SHA-256 sums,
and no hash could be established from an independent second source, so none is pinned. Instead
the SHA-256 of a file is recorded the first time it is used (right after its download, or at its
first load from a data directory) and every later load compares the file with that record: a
file that changes after first use (truncated, corrupted, replaced) raises
:class:`ChecksumError` instead of silently giving other data. The record of a file in jgattr's
cache lies beside it (``<file>.sha256``); that of a file in the user's own data directory lies in
the cache too (``<cache_root>/checksums/``), so nothing is ever written beside the user's data.
Where the record cannot be written nothing is recorded and the file is used as is. The OGB
archives have pinned hashes instead (:mod:`jgattr.data._ogb`): :func:`locate_file` finds or
downloads them (a download is checked against the pin as it streams) and the loader hashes them
in streaming, never whole in memory.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from jgattr.data._dataset import ChecksumError, DataError
from jgattr.data._fetch import (
    DATA_DIR_ENV,
    DownloadFailed,
    base_url,
    cache_root,
    download_file,
    sha256_hex,
)

SOURCES: dict[str, tuple[str, str]] = {
    "tu": ("JGATTR_TU_URL", "https://www.chrsmrrs.com/graphkerneldatasets/"),
    "moleculenet": (
        "JGATTR_MOLECULENET_URL",
        "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/",
    ),
    "ogb": ("JGATTR_OGB_URL", "https://snap.stanford.edu/ogb/data/nodeproppred/"),
    # Released only inside zips (SNAP's twitch.zip, PGExplainer's dataset/datasets.zip): the
    # loaders download these from a mirror folder named by the variable, never from the default.
    "twitch": ("JGATTR_TWITCH_URL", "https://snap.stanford.edu/data/twitch.zip"),
    "gnnexplainer": (
        "JGATTR_GNNEXPLAINER_URL",
        "https://github.com/flyingdoog/PGExplainer/tree/master/dataset",
    ),
}
RECORD_SUFFIX = ".sha256"


def search_dirs(source: str, data_dir: str | os.PathLike | None) -> list[Path]:
    """The folders a ``source``'s files are looked for in: the data directory, then the cache."""
    cache = (cache_root() / source).expanduser().absolute()
    given = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    return [Path(given).expanduser().absolute(), cache] if given else [cache]


def _verified_bytes(path: Path) -> bytes:
    """The file's bytes, checked against (or, the first time, recorded in) ``<file>.sha256``."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    record = _record_path(path)
    actual = sha256_hex(data)
    if record.is_file():
        fields = record.read_text().split()
        expected = fields[0] if fields else ""
        if actual != expected:
            raise ChecksumError(
                f"{path}: SHA-256 {actual} differs from {expected!r}, recorded in {record} when "
                "the file was first used: it was truncated, corrupted or replaced since. Delete "
                "both files to download it again (or restore the original)."
            )
    else:
        # A read-only data directory: the file is used unrecorded (see the module docstring).
        with contextlib.suppress(OSError):
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(f"{actual}  {path}\n")
    return data


def _record_path(path: Path) -> Path:
    """Where ``path``'s SHA-256 is recorded: beside it in jgattr's cache, else in the cache's
    ``checksums`` folder under a name drawn from the file's absolute path."""
    path = path.expanduser().absolute()
    cache = cache_root().expanduser().absolute()
    if path.is_relative_to(cache):
        return path.with_name(path.name + RECORD_SUFFIX)
    key = sha256_hex(str(path).encode())[:16]
    return cache / "checksums" / f"{key}-{path.name}{RECORD_SUFFIX}"


def locate_file(
    dataset: str,
    source: str,
    filename: str,
    *,
    data_dir: str | os.PathLike | None,
    download: bool,
    expected: str | None = None,
) -> Path:
    """Find (or download) one file; its content is not read here.

    Args:
      dataset: the dataset name, for messages (``"tu:MUTAG"``).
      source: a key of :data:`SOURCES`: the cache sub-folder and the base URL.
      filename: the file's name in the data directory, the cache and at the base URL.
      data_dir: searched first (else ``$JGATTR_DATA_DIR`` when set).
      download: download the file into the cache when it is found nowhere.
      expected: the SHA-256 a download must have (``None``: any).

    Returns:
      The file's path.

    Raises:
      DataError: not found (and not downloadable), naming the folders searched and the fix.
      ChecksumError: the download does not have the ``expected`` hash; nothing is written.
    """
    dirs = search_dirs(source, data_dir)
    path = next((d / filename for d in dirs if (d / filename).is_file()), None)
    note = "Downloads are disabled (download=False)."
    if path is None and download:
        env, default = SOURCES[source]
        url = base_url(env, default, filename) + filename
        try:
            path = download_file(url, dirs[-1], filename, expected, f"check {env}")
        except DownloadFailed as err:
            note = f"Download failed: {err}."
    if path is None:
        raise DataError(
            f"{dataset}: {filename} not found. Searched: {', '.join(map(str, dirs))}. {note}\n"
            f"To fix: copy {filename} into {dirs[0]}, set {DATA_DIR_ENV} (CLI: --data-dir) to a "
            f"folder that holds it, or set {SOURCES[source][0]} to a mirror."
        )
    return path


def fetch_file(
    dataset: str,
    source: str,
    filename: str,
    *,
    data_dir: str | os.PathLike | None,
    download: bool,
) -> tuple[Path, bytes]:
    """Find (or download) one file and return its verified bytes.

    Args: as :func:`locate_file` (without ``expected``: the hash recorded at first use is
    checked instead).

    Returns:
      ``(path, data)``: where the file is and its bytes (hashed and parsed from the same read).

    Raises:
      DataError: not found (and not downloadable), naming the folders searched and the fix.
      ChecksumError: the file differs from the hash recorded at its first use.
    """
    path = locate_file(dataset, source, filename, data_dir=data_dir, download=download)
    return path, _verified_bytes(path)
