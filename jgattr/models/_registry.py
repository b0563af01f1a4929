"""The built-in node models by architecture name (the ``[model] architecture`` of a config): each
entry says everything the package knows of an architecture beyond its module."""

import dataclasses

import flax.linen as nn

from jgattr.models._gat import GAT
from jgattr.models._gcn import GCN
from jgattr.models._gcn_concat import ConcatGCN
from jgattr.models._gin import GIN
from jgattr.models._sage import GraphSAGE


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One built-in architecture.

    Attributes:
      module: the Flax module, built as ``module(num_classes=, hidden_size=, num_layers=,
        dropout_rate=, **settings)``.
      display_name: how the report and figures name it (``"GraphSAGE"``).
      settings: the ``[model]`` keys the module takes beyond the shared ones (GAT: ``heads``).
      undirected_only: the model assumes an undirected graph (the GCN's symmetric
        normalization), so a config refuses ``[data] directed = true`` for it.
    """

    module: type[nn.Module]
    display_name: str
    settings: tuple[str, ...] = ()
    undirected_only: bool = False


MODELS: dict[str, ModelEntry] = {
    "gcn": ModelEntry(GCN, "GCN", undirected_only=True),
    "gat": ModelEntry(GAT, "GAT", ("heads",)),
    "gin": ModelEntry(GIN, "GIN"),
    "sage": ModelEntry(GraphSAGE, "GraphSAGE"),
    "gcn_concat": ModelEntry(ConcatGCN, "concat-GCN (Ying et al.)"),
}
ARCHITECTURES = tuple(MODELS)  # the same as jgattr._names.ARCHITECTURES (a test checks)


def node_model(architecture: str, settings: dict, **shared) -> nn.Module:
    """The module of ``architecture`` with the ``shared`` arguments and those of ``settings``
    (``[model]`` key -> value) that this architecture takes."""
    entry = MODELS[architecture]
    return entry.module(**shared, **{key: settings[key] for key in entry.settings})
