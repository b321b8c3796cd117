"""The errors of the training stack that a user can fix, shared by models, runs and the CLI.

They live in their own module, below everything that raises them (model factory, run
config, data checks, checkpoints, the training loop), so that none of those has to import
another to raise them. The CLI prints them as one line and exits with 2.
"""

from __future__ import annotations

__all__ = ["RunError", "TrainingDiverged"]


class RunError(ValueError):
    """A problem the user can fix: a missing run folder, a bad checkpoint, a bad option.

    A ``ValueError``, so code that catches bad values catches it too.
    """


class TrainingDiverged(RunError):
    """Training produced a non-finite loss or weights (usually: the learning rate is too high).

    Attributes:
        epoch: the epoch (from 1) in which it happened.
        step: the optimiser step within that epoch (from 1), or None when found at the end.
        loss: the loss of that step (nan or inf), or None.
    """

    def __init__(self, message: str, epoch: int, step: int | None, loss: float | None) -> None:
        super().__init__(message)
        self.epoch, self.step, self.loss = epoch, step, loss
