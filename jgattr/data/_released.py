"""Files released only inside zips (Twitch, the GNNExplainer benchmarks): found like the TU files,
downloaded only from a mirror folder, and checked against a pinned SHA-256 when one is known."""

from __future__ import annotations

import os

from jgattr.data._dataset import ChecksumError, DataError
from jgattr.data._fetch import sha256_hex
from jgattr.data._graph_fetch import SOURCES, fetch_file, locate_file


def read_released(
    dataset: str,
    source: str,
    filename: str,
    *,
    expected: str | None,
    data_dir: str | os.PathLike | None,
    download: bool,
    verify: bool,
) -> bytes:
    """The bytes of ``filename``, from ``data_dir`` / ``$JGATTR_DATA_DIR`` / the user cache, or
    downloaded from the mirror ``$<SOURCES[source][0]>`` when that variable is set.

    Args:
      dataset: the dataset name, for messages.
      source: a key of :data:`~jgattr.data._graph_fetch.SOURCES` (``"twitch"``, ``"gnnexplainer"``).
      filename: the file's name.
      expected: its pinned SHA-256, or ``None``: then the hash recorded at first use is checked
        (trust on first use, :func:`~jgattr.data._graph_fetch.fetch_file`).
      data_dir: searched first.
      download: allow a download from the mirror.
      verify: compare the file with ``expected``.

    Raises:
      DataError: not found, naming the folders, the mirror variable and where the file is released.
      ChecksumError: the file differs from the pinned (or recorded) hash.
    """
    env, published = SOURCES[source]
    download = download and bool(os.environ.get(env))
    try:
        if expected is None:
            return fetch_file(dataset, source, filename, data_dir=data_dir, download=download)[1]
        path = locate_file(
            dataset, source, filename, data_dir=data_dir, download=download, expected=expected
        )
    except DataError as err:
        if isinstance(err, ChecksumError):
            raise
        raise DataError(f"{err} The file is released inside {published}.") from None
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    if verify and (actual := sha256_hex(data)) != expected:
        raise ChecksumError(
            f"{path}: SHA-256 {actual} differs from the released file's {expected}; replace it "
            f"with the file from {published}, or pass verify_checksums=False to load it anyway"
        )
    return data
