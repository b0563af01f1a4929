"""The ``[model]`` table of a config (no JAX: configs are checked before JAX is imported)."""

import dataclasses

from jgattr._names import ARCHITECTURES, NODE_ONLY_ARCHITECTURES, POOLS, did_you_mean, shown

SOURCES = ("jgattr", "torch")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Model hyperparameters, as in the ``[model]`` table of a config file.

    Attributes:
      architecture: one of ``ARCHITECTURES``: ``gcn``, ``gat``, ``gin``, ``sage``, or
        ``gcn_concat`` (Ying et al.'s GNNExplainer node classifier: every layer's output
        concatenated before a linear head; node classification only).
      num_layers: number of message-passing layers K (>= 1).
      hidden_size: hidden width (>= 1; per head for GAT), or one width per layer: K - 1 widths
        for a node classifier, K for a graph classifier (its last layer gives the node
        embeddings, e.g. ``[128, 256, 512]`` for Pope et al.'s model) and for ``gcn_concat``
        (every layer feeds the head).
      dropout_rate: in [0, 1).
      heads: GAT only: heads of the hidden layers (the last layer has one).
      readout: graph classifiers only: ``mean``, ``sum`` or ``max`` pooling of each graph's nodes.
      source: ``jgattr`` (the model above, trained by ``jgattr train``) or ``torch``: a trained
        PyTorch Geometric model, imported by :func:`jgattr.interop.load_torch_model` (the keys
        above are then unused, and nothing is trained).
      module: ``source = "torch"``: ``"package.module:function"`` or ``"file.py:function"``, a
        function called without arguments that returns the (untrained) ``torch.nn.Module``.
      state_dict: ``source = "torch"``: the weights file (``torch.save(model.state_dict(),
        path)``), read with ``torch.load(weights_only=True)`` only. Paths are relative to the
        working directory.
    """

    architecture: str = "gcn"
    num_layers: int = 2
    hidden_size: int | tuple[int, ...] = 16
    dropout_rate: float = 0.5
    heads: int = 8
    readout: str = "mean"
    source: str = "jgattr"
    module: str = ""
    state_dict: str = ""

    def __post_init__(self) -> None:
        self._check_source()
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

    def _check_source(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(
                f"model.source must be one of {list(SOURCES)}, got {shown(self.source)}"
                + did_you_mean(self.source, SOURCES)
            )
        if self.source == "torch" and (":" not in self.module or not self.state_dict):
            raise ValueError(
                'model.source = "torch" needs model.module = "package.module:function" (a '
                'function returning the torch module) and model.state_dict = "model.pt", got '
                f"module = {self.module!r}, state_dict = {self.state_dict!r}"
            )
        if self.source == "jgattr" and (self.module or self.state_dict):
            raise ValueError(
                'model.module and model.state_dict are for model.source = "torch"; '
                'set source = "torch" or remove them'
            )

    def layer_widths(self, level: str) -> int | tuple[int, ...]:
        """``hidden_size`` checked against ``num_layers`` for a node or graph classifier."""
        if level == "graph" and self.architecture in NODE_ONLY_ARCHITECTURES:
            usable = [a for a in ARCHITECTURES if a not in NODE_ONLY_ARCHITECTURES]
            raise ValueError(
                f"model.architecture = {self.architecture!r} classifies nodes, but this dataset "
                f"has graph targets: set architecture to one of {usable}"
            )
        if not isinstance(self.hidden_size, tuple):
            return self.hidden_size if level == "node" else (self.hidden_size,) * self.num_layers
        every_layer = level == "graph" or self.architecture in NODE_ONLY_ARCHITECTURES
        needed = self.num_layers if every_layer else self.num_layers - 1
        if len(self.hidden_size) != needed:
            raise ValueError(
                f"model.hidden_size lists {len(self.hidden_size)} widths, but a {level} "
                f"classifier with num_layers = {self.num_layers} needs {needed} "
                + ("(one per layer)" if every_layer else "(one per hidden layer)")
            )
        return self.hidden_size
