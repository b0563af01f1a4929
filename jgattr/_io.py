"""Atomic file writes and run-folder locks: readers never see half-written files, an interrupted
write loses nothing and two jobs never write into one run folder at once."""

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class DiskFullError(OSError):
    """No space left on the device (``ENOSPC``) while writing a named file."""

    def __str__(self) -> str:
        return str(self.strerror)


def _megabytes(count: float) -> str:
    return f"{count / 2**20:,.1f} MB"


@contextlib.contextmanager
def naming_disk_full(path: Path, needed: int) -> Iterator[None]:
    """Turn a bare ``ENOSPC`` while writing ``path`` (``needed`` bytes) into a
    :class:`DiskFullError` that names the file, the space it needs, the space free and the fix."""
    try:
        yield
    except OSError as err:
        if err.errno != errno.ENOSPC or isinstance(err, DiskFullError):
            raise
        try:
            free = _megabytes(shutil.disk_usage(path.parent).free)
        except OSError:
            free = "unknown"
        raise DiskFullError(
            errno.ENOSPC,
            f"no space left on the device writing {path}: it needs {_megabytes(needed)}, "
            f"{free} free in {path.parent}; free at least that much (or write to another "
            "--out) and rerun the same command: the files already written are complete",
        ) from err


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, needed: int = 0) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write to; once the block ends without error it
    replaces ``path`` (an ordinary file mode, not mkstemp's 0600), else it is removed.

    Raises:
      DiskFullError: the device filled up; the message names ``path`` and the ``needed`` bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with naming_disk_full(path, needed):
            yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    Raises:
      DiskFullError: the device is full; the message names ``path`` and the space needed.
    """
    with atomic_file(path, len(data)) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"
    return atomic_write_bytes(path, text.encode())


LOCK_FILE = ".jgattr.lock"
_HELD: dict[Path, int] = {}  # run folders this process holds, with a re-entry count


class RunFolderBusy(RuntimeError):
    """Another jgattr job is writing into the same run folder."""


def _holder(lock_file: Path) -> str:
    try:
        pid, _, job = lock_file.read_text().strip().partition(" ")
    except OSError:
        pid, job = "", ""
    return f"pid {pid}, `{job}`" if pid else "pid not yet written"


@contextlib.contextmanager
def run_folder_lock(folder: str | os.PathLike, job: str = "jgattr") -> Iterator[Path]:
    """Hold ``folder/.jgattr.lock`` (``fcntl.flock``) while a job writes into ``folder``.

    Re-entrant within one process (``jgattr run`` holds it while its jobs take it again). The lock
    file holds the holder's pid and job; the kernel releases the lock when the holder exits, even
    if it is killed, so a stale lock file never blocks anyone.

    Raises:
      RunFolderBusy: another process holds the lock; the message names the folder and its pid.
      NotADirectoryError: ``folder`` exists and is not a folder.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"run folder {folder} exists and is not a folder: pick another")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield folder
        finally:
            _HELD[key] -= 1
        return
    lock_file = folder / LOCK_FILE
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunFolderBusy(
                f"run folder {folder} is in use by another jgattr job ({_holder(lock_file)}): "
                "wait for it to finish, or write to another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {job}\n".encode())
        _HELD[key] = 1
        try:
            yield folder
        finally:
            del _HELD[key]
            if created and [p.name for p in folder.iterdir()] == [LOCK_FILE]:
                lock_file.unlink()  # a job that wrote nothing leaves no empty folder behind
                folder.rmdir()
    finally:
        os.close(fd)  # closing the descriptor releases the flock
