"""The engine's caches: bounded, least-recently-used, listed and clearable in one place.

What is cached and why (the names :func:`cache_info` reports):
- ``programs``: compiled chunk programs, keyed by (method, model, path, shapes); a second call
  with the same shapes runs without compiling.
- ``jitted_forward``, ``jitted_walk_prep``: jitted whole-graph programs (the input forward per
  model; the walk-sum preparation per method and model).
- ``prepared_graphs``: a dataset's graph as a model prepares it, with its CSR in-edges (per
  dataset object, dropped with the dataset); ``target_unions``: its last few target unions.
- ``device_structure``: padded chunk structures already on the devices, reused by the next
  method of the same call.

The built-in models' ``Explainable`` records are small and cached per hyperparameters in
:mod:`jgattr.models`; they hold no arrays.

:func:`cache_info` reports their sizes; :func:`clear_caches` empties them all.
"""

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

Value = TypeVar("Value")
CACHE_NAMES = (
    "programs",
    "jitted_forward",
    "jitted_walk_prep",
    "prepared_graphs",
    "target_unions",
    "device_structure",
)


class BoundedCache(Generic[Value]):
    """A least-recently-used mapping with at most ``maxsize`` entries."""

    def __init__(self, name: str, maxsize: int):
        if name not in CACHE_NAMES:
            raise ValueError(f"cache name {name!r} is not one of {CACHE_NAMES}")
        self.name, self.maxsize = name, maxsize
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        _REGISTRY.add(self)

    def get_or_make(self, key: Hashable, make: Callable[[], Value]) -> tuple[Value, bool]:
        """(the cached value of ``key``, made by ``make()`` if missing; whether it was made)."""
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key], False
        value = make()
        self._entries[key] = value
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return value, True

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


_REGISTRY: "weakref.WeakSet[BoundedCache[Any]]" = weakref.WeakSet()


def cache_info() -> dict[str, dict[str, int]]:
    """``{cache name: {"entries": n, "maxsize": m}}`` summed over the engine's caches."""
    info: dict[str, dict[str, int]] = {}
    for cache in sorted(_REGISTRY, key=lambda c: c.name):
        entry = info.setdefault(cache.name, {"entries": 0, "maxsize": cache.maxsize})
        entry["entries"] += len(cache)
    return info


def clear_caches(*names: str) -> None:
    """Drop every compiled program, prepared graph and device structure the engine holds, or
    only the caches ``names`` (as :func:`cache_info` lists them), e.g.
    ``clear_caches("target_unions", "device_structure")`` to time a call that rebuilds its
    targets' computation graphs but keeps the compiled programs."""
    unknown = sorted(set(names) - set(CACHE_NAMES))
    if unknown:
        raise ValueError(f"unknown cache name(s) {unknown}; the caches are {list(CACHE_NAMES)}")
    for cache in list(_REGISTRY):
        if not names or cache.name in names:
            cache.clear()
