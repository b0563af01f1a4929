"""The ``[train]`` table of a config (no JAX: configs are checked before JAX is imported)."""

import dataclasses

BALANCING = ("weights", "undersample")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimization hyperparameters, as in the ``[train]`` table of a config file.

    Defaults are Kipf & Welling's: Adam with lr 0.01, L2 weight decay 5e-4 on the first layer's
    kernel (``weight_decay * ||W¹||² / 2`` added to the loss), at most 200 epochs, and early
    stopping when the validation loss exceeds the mean of the previous ``early_stopping`` epochs.
    The parameters returned are those of the epoch with the lowest validation loss.

    Attributes:
      learning_rate: Adam step size (> 0).
      weight_decay: L2 coefficient on the first layer's kernel (>= 0).
      epochs: maximum number of epochs (>= 1).
      early_stopping: window of the early-stopping rule; 0 turns it off.
      restore_best: return the parameters of the epoch with the lowest validation loss
        instead of the last epoch's (a dataset without validation targets keeps the last
        epoch's, and never stops early).
      seed: seed of the parameter initialization and dropout.
      balance_classes: ``false``: no balancing; ``true`` or ``"weights"``: weight the loss so
        every class of the training targets counts equally; ``"undersample"`` (graph
        mini-batches only), Pope et al.'s: every epoch trains on a seeded random subset of the
        training graphs holding as many of each class as the rarest class has.
      batch_size: graph classification only: graphs per Adam step, shuffled every epoch with
        ``seed`` (``0``: full batch, one step per epoch; node classification always trains
        full batch).
    """

    learning_rate: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 200
    early_stopping: int = 10
    restore_best: bool = True
    seed: int = 0
    balance_classes: bool | str = False
    batch_size: int = 0

    def __post_init__(self) -> None:
        if self.learning_rate <= 0:
            raise ValueError(f"train.learning_rate must be > 0, got {self.learning_rate}")
        if self.weight_decay < 0:
            raise ValueError(f"train.weight_decay must be >= 0, got {self.weight_decay}")
        if self.epochs < 1:
            raise ValueError(f"train.epochs must be >= 1, got {self.epochs}")
        if self.early_stopping < 0:
            raise ValueError(f"train.early_stopping must be >= 0, got {self.early_stopping}")
        if self.batch_size < 0:
            raise ValueError(
                f"train.batch_size must be >= 0 (0: full batch), got {self.batch_size}"
            )
        if isinstance(self.balance_classes, str) and self.balance_classes not in BALANCING:
            raise ValueError(
                f"train.balance_classes must be true, false or one of {list(BALANCING)}, got "
                f"{self.balance_classes!r}"
            )
        if self.balance_classes == "undersample" and not self.batch_size:
            raise ValueError(
                'train.balance_classes = "undersample" draws a class-balanced subset of the '
                "training graphs every epoch, which needs mini-batches of graphs: set "
                'train.batch_size > 0, or use balance_classes = "weights"'
            )

    @property
    def class_weighted(self) -> bool:
        """Whether the loss weights each class by its inverse training frequency."""
        return self.balance_classes in (True, "weights")

    @property
    def undersampled(self) -> bool:
        """Whether every epoch draws a class-balanced subset of the training graphs."""
        return self.balance_classes == "undersample"
