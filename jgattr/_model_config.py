"""The ``[model]`` table of a config (no JAX: configs are checked before JAX is imported)."""

import dataclasses

from jgattr._names import ARCHITECTURES, POOLS, did_you_mean, shown


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Model hyperparameters, as in the ``[model]`` table of a config file.

    Attributes:
      architecture: one of ``ARCHITECTURES``: ``gcn``, ``gat``, ``gin``, ``sage``.
      num_layers: number of message-passing layers K (>= 1).
      hidden_size: hidden width (>= 1; per head for GAT), or one width per layer: K - 1 widths
        for a node classifier, K for a graph classifier (its last layer gives the node
        embeddings, e.g. ``[128, 256, 512]`` for Pope et al.'s model).
      dropout_rate: in [0, 1).
      heads: GAT only: heads of the hidden layers (the last layer has one).
      readout: graph classifiers only: ``mean``, ``sum`` or ``max`` pooling of each graph's nodes.
    """

    architecture: str = "gcn"
    num_layers: int = 2
    hidden_size: int | tuple[int, ...] = 16
    dropout_rate: float = 0.5
    heads: int = 8
    readout: str = "mean"

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"model.architecture must be one of {list(ARCHITECTURES)}, "
                f"got {shown(self.architecture)}" + did_you_mean(self.architecture, ARCHITECTURES)
            )
        if self.num_layers < 1:
            raise ValueError(f"model.num_layers must be >= 1, got {self.num_layers}")
        widths = self.hidden_size if isinstance(self.hidden_size, tuple) else (self.hidden_size,)
        if not widths or min(widths) < 1:
            raise ValueError(
                f"model.hidden_size must be >= 1 (or a list of widths >= 1), got {self.hidden_size}"
            )
        if not 0.0 <= self.dropout_rate < 1.0:
            raise ValueError(f"model.dropout_rate must be in [0, 1), got {self.dropout_rate}")
        if self.heads < 1:
            raise ValueError(f"model.heads must be >= 1, got {self.heads}")
        if self.readout not in POOLS:
            raise ValueError(
                f"model.readout must be one of {list(POOLS)}, got {shown(self.readout)}"
                + did_you_mean(self.readout, POOLS)
            )

    def layer_widths(self, level: str) -> int | tuple[int, ...]:
        """``hidden_size`` checked against ``num_layers`` for a node or graph classifier."""
        if not isinstance(self.hidden_size, tuple):
            return self.hidden_size if level == "node" else (self.hidden_size,) * self.num_layers
        needed = self.num_layers - 1 if level == "node" else self.num_layers
        if len(self.hidden_size) != needed:
            raise ValueError(
                f"model.hidden_size lists {len(self.hidden_size)} widths, but a {level} "
                f"classifier with num_layers = {self.num_layers} needs {needed} "
                + ("(one per hidden layer)" if level == "node" else "(one per layer)")
            )
        return self.hidden_size
