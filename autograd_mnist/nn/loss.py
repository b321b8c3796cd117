"""Loss layers, each calling its ``F`` function; ``reduction`` is checked when built."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist import functional as F
from autograd_mnist.losses import REDUCTIONS
from autograd_mnist.nn.module import Module
from autograd_mnist.tensor import Tensor

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
]


class _Loss(Module):
    """Shared by the losses: the ``reduction`` ('mean', 'sum' or 'none')."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {REDUCTIONS}; got "
                f"{type(reduction).__name__} {reduction!r}"
                + ("" if isinstance(reduction, str) else " (it is the first argument here)")
            )
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    """A loss with an optional per-element ``weight``, kept as a buffer (``to`` casts it)."""

    weight: np.ndarray | None

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._keep("weight", weight)

    def _keep(self, name: str, value: Any) -> None:
        """``value`` (None, or an array or Tensor kept as a buffer) as attribute ``name``."""
        if value is None:
            setattr(self, name, None)
        else:
            self.register_buffer(
                name, np.asarray(value.data if isinstance(value, Tensor) else value)
            )


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy between logits (N, K) and class indices (N,) or probabilities
    (:func:`~autograd_mnist.functional.cross_entropy`, which takes the other shapes too).

    Unlike PyTorch, the first positional argument is ``reduction``: the (K,) class
    ``weight`` is keyword-only (a buffer, as PyTorch's); ``ignore_index`` and
    ``label_smoothing`` are PyTorch's.
    """

    def __init__(
        self,
        reduction: str = "mean",
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        *,
        weight: Any = None,
    ) -> None:
        super().__init__(weight, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1]; got {label_smoothing!r}"
            )
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            self.reduction,
            self.ignore_index,
            self.label_smoothing,
            weight=self.weight,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood between log-probabilities (N, K) and class indices (N,);
    the (K,) class ``weight`` is keyword-only, as in :class:`CrossEntropyLoss`."""

    def __init__(
        self, reduction: str = "mean", ignore_index: int = -100, *, weight: Any = None
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.reduction, self.ignore_index, weight=self.weight)


class MSELoss(_Loss):
    """Mean (or summed) squared error (:func:`~autograd_mnist.functional.mse_loss`)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean (or summed) absolute error (:func:`~autograd_mnist.functional.l1_loss`)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities, logs clamped at -100
    (:func:`~autograd_mnist.functional.binary_cross_entropy`)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of ``sigmoid(input)`` from the logits, stably
    (:func:`~autograd_mnist.functional.binary_cross_entropy_with_logits`)."""

    pos_weight: np.ndarray | None

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(weight, reduction)
        self._keep("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )
