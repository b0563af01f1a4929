"""Resumable runs: each finished round of a method is kept on disk until the method finishes.

``out_dir/parts/<method>-<hyperparameter hash>-block<NNNNNN>/`` holds ``manifest.json`` (the
fingerprint of the exact computation, the block's number of rounds, its index and the number of
blocks) and one ``round_NNNNNN.npz`` per finished round, each written atomically. A rerun with
the same fingerprint loads them instead of computing them; a different computation starts
afresh. A finished block's rounds stay until every block of the method is done
(:func:`discard_parts`), so an interrupted run keeps all the rounds it finished.
"""

import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from jgattr._io import atomic_write_bytes, atomic_write_json
from jgattr.data import SparseFeatures


def fingerprint(*parts: Any) -> str:
    """SHA-256 over arrays (bytes, shape, dtype) and the ``repr`` of everything else."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, SparseFeatures):
            arrays = map(np.asarray, (part.rows, part.cols, part.values))
            digest.update(fingerprint(*arrays, part.shape).encode())
        elif isinstance(part, np.ndarray):
            digest.update(memoryview(np.ascontiguousarray(part)).cast("B"))  # no copy
            digest.update(str((part.shape, part.dtype)).encode())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()


class Resume:
    """Finished rounds of one method on disk, so an interrupted run resumes where it stopped.

    Args:
      folder: where the rounds go; ``None`` keeps nothing.
      fingerprint: identity of the computation; rounds of another one are discarded.
      rounds: how many rounds the computation has (recorded for interruption messages).
      block: (index, number of blocks) of the method's block this computation is.
    """

    def __init__(
        self,
        folder: Path | None,
        fingerprint: str,
        rounds: int = 0,
        *,
        block: tuple[int, int] = (0, 1),
    ):
        self.folder = folder
        self.resumed = 0
        if folder is None:
            return
        manifest = folder / "manifest.json"
        if (
            manifest.is_file()
            and json.loads(manifest.read_text()).get("fingerprint") != fingerprint
        ):
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        record = {"fingerprint": fingerprint, "rounds": rounds, "block": block[0]}
        atomic_write_json(manifest, record | {"blocks": block[1]})

    def _file(self, index: int) -> Path:
        assert self.folder is not None
        return self.folder / f"round_{index:06d}.npz"

    def load(self, index: int) -> dict[str, np.ndarray] | None:
        """The outputs of round ``index`` if a previous run finished it, else ``None``."""
        if self.folder is None or not self._file(index).is_file():
            return None
        try:
            with np.load(self._file(index), allow_pickle=False) as data:
                outputs = {name: data[name] for name in data.files}
        except (OSError, ValueError):
            return None
        self.resumed += 1
        return outputs

    def store(self, index: int, outputs: dict[str, np.ndarray]) -> None:
        if self.folder is None:
            return
        buffer = io.BytesIO()
        np.savez(buffer, **outputs)
        atomic_write_bytes(self._file(index), buffer.getvalue())


def parts_prefix(method: Any) -> str:
    """The start of every ``parts/`` folder name of ``method`` (one folder per block)."""
    return f"{method.name}-{fingerprint(method.hyperparameters)[:12]}-block"


def discard_parts(parts: Path, prefix: str) -> None:
    """Drop the rounds of every folder in ``parts`` whose name starts with ``prefix`` (a method
    whose every block is done), and ``parts`` itself once no other method has any left."""
    if not parts.is_dir():
        return
    for folder in parts.iterdir():
        if folder.name.startswith(prefix):
            shutil.rmtree(folder, ignore_errors=True)
    if not any(parts.iterdir()):
        parts.rmdir()
