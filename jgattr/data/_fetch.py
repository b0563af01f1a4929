"""Finding, downloading and verifying the raw Planetoid files, and the atomic download
(:func:`download_file`, :func:`base_url`, :func:`cache_root`) that the graph-classification files
(:mod:`jgattr.data._graph_fetch`) reuse.

Lookup order for each file ``ind.<name>.<part>``:

1. the data directory (:func:`resolve_data_dir`: the ``data_dir`` argument, else
   ``$JGATTR_DATA_DIR``, else the cache);
2. the user cache (:func:`cache_dir`);
3. a download into the cache from the planetoid project's ``data/`` folder (base URL overridable
   with ``$JGATTR_DATA_URL``, e.g. a ``file://`` mirror), unless ``download=False``.

Downloads are atomic (temporary file in the cache, SHA-256 check, ``os.replace``) and always
verified, so the cache only ever holds the published files. Files found locally are verified
against :data:`SHA256` unless ``verify_checksums=False``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from jgattr.data._dataset import ChecksumError, DataError

DATA_DIR_ENV = "JGATTR_DATA_DIR"
DATA_URL_ENV = "JGATTR_DATA_URL"
DEFAULT_DATA_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/"
PUBLISHED_AT = "https://github.com/kimiyoung/planetoid/tree/master/data"
DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK_BYTES = 1 << 16

# SHA-256 of every file the planetoid project publishes (``data/SHA256SUMS`` of this project).
SHA256: dict[str, str] = {
    "ind.citeseer.allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
    "ind.citeseer.ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
    "ind.citeseer.graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
    "ind.citeseer.test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    "ind.citeseer.tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
    "ind.citeseer.ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
    "ind.citeseer.x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
    "ind.citeseer.y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    "ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    "ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    "ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    "ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    "ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    "ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    "ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    "ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    "ind.pubmed.ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
    "ind.pubmed.graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
    "ind.pubmed.test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    "ind.pubmed.tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
    "ind.pubmed.ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
    "ind.pubmed.x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
    "ind.pubmed.y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
    "ind.pubmed.allx": "508e538e2abdccdd54c4d3e9f49d638b4af7107d85845f66ddea5a5152658b7e",
}


class DownloadFailed(Exception):
    """A download could not be completed (network, HTTP status, disk); nothing was written."""


def cache_root() -> Path:
    """The user cache of jgattr: ``$XDG_CACHE_HOME/jgattr`` when ``XDG_CACHE_HOME`` is an
    absolute path, else ``~/.cache/jgattr``; one folder per source below it (not created here)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "jgattr"


def cache_dir() -> Path:
    """The user cache for Planetoid files.

    Returns:
      ``$XDG_CACHE_HOME/jgattr/planetoid`` when ``XDG_CACHE_HOME`` is an absolute path, else
      ``~/.cache/jgattr/planetoid``. The directory is not created here.
    """
    return cache_root() / "planetoid"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The directory searched first for Planetoid files.

    Args:
      data_dir: an explicit directory; wins over everything else.

    Returns:
      ``data_dir``, else ``$JGATTR_DATA_DIR`` (when set and non-empty), else :func:`cache_dir`;
      ``~`` is expanded and the path made absolute.
    """
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or cache_dir()
    return Path(data_dir).expanduser().absolute()


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path, *, verify_checksums: bool) -> bytes:
    """Read a Planetoid file, checking its SHA-256 against :data:`SHA256`.

    Args:
      path: the file; its name must be a key of :data:`SHA256` when verifying.
      verify_checksums: compare the hash (``False`` skips the check).

    Returns:
      The file's bytes (hashed and parsed from the same read, so no swap in between).

    Raises:
      ChecksumError: the hash differs from the published one.
      DataError: the file cannot be read.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    if verify_checksums:
        expected, actual = SHA256[path.name], sha256_hex(data)
        if actual != expected:
            raise ChecksumError(
                f"{path}: SHA-256 mismatch (expected {expected}, got {actual}). The file is "
                "corrupt, truncated or not the published version: delete it so it is downloaded "
                "again, or replace it with the file from "
                f"{PUBLISHED_AT}. To load it anyway pass verify_checksums=False "
                "(CLI: --no-verify-checksums)."
            )
    return data


def base_url(env: str, default: str, holds: str) -> str:
    """The folder URL files are downloaded from: ``$env`` when set, else ``default``.

    Raises:
      DataError: the URL's scheme is not https, http or file (``holds`` says what the folder holds).
    """
    base = os.environ.get(env) or default
    scheme = urllib.parse.urlsplit(base).scheme
    if scheme not in ("https", "http", "file"):
        raise DataError(
            f"{env}={base!r}: unsupported URL scheme {scheme!r}; use an https://, "
            f"http:// or file:// URL of a folder holding {holds}"
        )
    return base if base.endswith("/") else base + "/"


def _stream_to(url: str, out: BinaryIO) -> str:
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        while chunk := response.read(_CHUNK_BYTES):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _describe(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        return str(err.reason)
    return str(err)


def download_file(url: str, cache: Path, filename: str, expected: str | None, fix: str) -> Path:
    """Download ``url`` into ``cache / filename`` atomically (temporary file, ``os.replace``).

    Args:
      url: where the file is.
      cache: the folder to put it in (created if needed).
      filename: its name there.
      expected: the SHA-256 it must have, or ``None`` to accept any content.
      fix: what to do when the hash differs (appended to the error).

    Returns:
      The downloaded file's path.

    Raises:
      DownloadFailed: network, HTTP or disk trouble; no partial file is left behind.
      ChecksumError: the download does not have the ``expected`` hash; nothing is written.
    """
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=f".{filename}.", suffix=".part")
    except OSError as err:
        raise DownloadFailed(f"cannot write to {cache} ({err.strerror or err})") from None
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _stream_to(url, out)
        if expected is not None and actual != expected:
            raise ChecksumError(
                f"{url}: downloaded file has SHA-256 {actual}, expected {expected}; {fix}"
            )
        target = cache / filename
        os.replace(tmp, target)
        return target
    except (OSError, http.client.HTTPException) as err:
        raise DownloadFailed(f"{url}: {_describe(err)}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _download(filename: str, cache: Path) -> Path:
    """Download the Planetoid file ``filename`` into ``cache``, verified against :data:`SHA256`."""
    url = base_url(DATA_URL_ENV, DEFAULT_DATA_URL, "the ind.* files") + filename
    fix = f"check {DATA_URL_ENV} or copy the published file into {cache}"
    return download_file(url, cache, filename, SHA256[filename], fix)


def _missing_message(
    dataset: str,
    missing: Sequence[str],
    searched: Sequence[Path],
    download_note: str,
    hints: Mapping[str, str],
) -> str:
    lines = [
        f"{dataset}: {len(missing)} Planetoid file(s) not found: {', '.join(missing)}.",
        f"Searched: {', '.join(str(d) for d in searched)}.",
        download_note,
        f"To fix: copy the files (published at {PUBLISHED_AT}) into {searched[0]}, or set "
        f"{DATA_DIR_ENV} (CLI: --data-dir) to a directory that holds them.",
    ]
    lines += [hints[f] for f in missing if f in hints]
    return "\n".join(line for line in lines if line)


def _search_dirs(data_dir: str | os.PathLike | None, cache: Path) -> list[Path]:
    primary = resolve_data_dir(data_dir)
    return [primary] if primary.resolve() == cache.resolve() else [primary, cache]


def _find_local(filenames: Sequence[str], dirs: Sequence[Path]) -> dict[str, Path]:
    found = {}
    for name in filenames:
        path = next((d / name for d in dirs if (d / name).is_file()), None)
        if path is not None:
            found[name] = path
    return found


def locate_files(
    dataset: str,
    filenames: Sequence[str],
    *,
    data_dir: str | os.PathLike | None,
    download: bool,
    hints: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Find (or download) every file of a dataset.

    Args:
      dataset: the dataset name, for messages.
      filenames: the ``ind.<name>.<part>`` files needed.
      data_dir: see :func:`resolve_data_dir`.
      download: download files found nowhere into :func:`cache_dir`.
      hints: extra advice printed when a given file is missing.

    Returns:
      ``{filename: path}`` for every requested file.

    Raises:
      DataError: one error naming the directories searched and every missing file.
      ChecksumError: a downloaded file is not the published one.
    """
    cache = cache_dir().expanduser().absolute()
    dirs = _search_dirs(data_dir, cache)
    found = _find_local(filenames, dirs)
    missing = [f for f in filenames if f not in found]
    note = "Downloads are disabled (download=False)."
    if missing and download:
        note = ""
        for name in missing:
            try:
                found[name] = _download(name, cache)
            except DownloadFailed as err:
                note = f"Download failed: {err}."
                break
    missing = [f for f in filenames if f not in found]
    if missing:
        raise DataError(_missing_message(dataset, missing, dirs, note, hints or {}))
    return found
