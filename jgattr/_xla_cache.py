"""JAX's persistent compilation cache, so that a new process compiles nothing compiled before.

jgattr turns the cache on in a user cache folder the first time a command or :func:`explain` runs
in a process: ``$JGATTR_XLA_CACHE`` when set to a folder, else ``$XDG_CACHE_HOME/jgattr/xla``
(``~/.cache/jgattr/xla``). ``JGATTR_XLA_CACHE=off`` turns it off. A cache folder the user already
gave JAX (``jax_compilation_cache_dir``, ``JAX_COMPILATION_CACHE_DIR``) is left as it is. The folder
is bounded (least recently used entries go first) and safe to delete at any time.

Every program is cached, however short its compilation: jgattr's chunk programs compile in well
under JAX's default one-second threshold on a GPU, yet a run compiles dozens of them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

ENV = "JGATTR_XLA_CACHE"
OFF = frozenset({"0", "off", "false", "no"})
MAX_BYTES = 2 * 1024**3
_HITS_EVENT = "/jax/compilation_cache/cache_hits"
_lock = threading.Lock()
_state = {"listening": False, "hits": 0}


def cache_folder() -> Path | None:
    """The folder jgattr gives JAX's persistent cache, or ``None`` when ``JGATTR_XLA_CACHE=off``."""
    setting = os.environ.get(ENV, "").strip()
    if setting.lower() in OFF:
        return None
    if setting:
        return Path(setting).expanduser().absolute()
    from jgattr.data import cache_dir  # the user cache's planetoid folder: its parent is ours

    return cache_dir().parent / "xla"


def enable_persistent_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache (idempotent; cheap after the first call).

    Returns:
      The folder in use (the user's own when JAX already had one), or ``None`` when off.
    """
    import jax

    _listen_for_hits()
    current = jax.config.jax_compilation_cache_dir
    if current:
        return Path(current)
    folder = cache_folder()
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if jax.config.jax_compilation_cache_max_size == -1:
        jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    return folder


def persistent_cache_hits() -> int:
    """How many programs this process has read from the persistent cache so far."""
    return _state["hits"]


def _listen_for_hits() -> None:
    with _lock:
        if _state["listening"]:
            return
        import jax

        jax.monitoring.register_event_listener(_count_hit)
        _state["listening"] = True


def _count_hit(event: str, **_: object) -> None:
    if event == _HITS_EVENT:
        with _lock:
            _state["hits"] += 1
