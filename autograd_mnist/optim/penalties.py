"""Weight penalties added to the loss (R4's L1 and L2 regularisation; see
docs/reference_experiments.md)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autograd_mnist import ops
from autograd_mnist.tensor import Tensor

__all__ = ["penalty"]


def penalty(params: Sequence[Tensor], l1: float = 0.0, l2: float = 0.0) -> Tensor:
    """R4's weight penalties, to add to the loss: l1 * sum|w| + l2 / 2 * sum w**2.

    Args:
        params: the tensors to penalise (usually the weights, not the biases).
        l1: L1 coefficient (lasso).
        l2: L2 coefficient (``weight_decay_lambda`` in R4: 0.5 * lambda * ||W||^2).

    Returns:
        A scalar Tensor (0 when both coefficients are 0).
    """
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalty: coefficients must be >= 0; got l1={l1}, l2={l2}")
    dtype = params[0].dtype if params else np.float32
    total = Tensor(np.zeros((), dtype=dtype))
    for p in params:
        if l1:
            total = total + ops.sum(ops.abs(p)) * l1
        if l2:
            total = total + ops.sum(p * p) * (0.5 * l2)
    return total
