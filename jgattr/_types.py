"""Type aliases shared across jgattr (shapes in brackets in each docstring that uses them)."""

from collections.abc import Callable
from typing import Any, TypeAlias

import jax
import jraph

Array: TypeAlias = jax.Array
Params: TypeAlias = Any
"""A pytree of model parameters (Flax ``params`` collection)."""

ApplyFn: TypeAlias = Callable[[Params, jraph.GraphsTuple], Array]
"""Pure model function ``(params, graph) -> logits [n_nodes, n_classes]``.

``graph`` is a normalized graph (see :func:`jgattr.models.gcn_normalize`): self loops included and
``graph.edges`` holding one weight per directed edge. Dropout is off."""
