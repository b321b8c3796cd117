"""Log-softmax, the one stable primitive behind softmax and NLL (and inside the fused
cross-entropy's backward)."""

from __future__ import annotations

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.ops.elementwise import exp, mul, sub
from autograd_mnist.ops.reduction import sum
from autograd_mnist.tensor import Tensor


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``;  dx = g - softmax(x) * sum(g) (softmax = e**y).

    The maximum is subtracted before exponentiating, so logits of magnitude 1e4 stay finite.
    """

    @staticmethod
    def forward(ctx: LogSoftmax, x: np.ndarray, axis: int) -> np.ndarray:
        shifted = x - np.max(x, axis=axis, keepdims=True)
        y: np.ndarray = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return y

    @staticmethod
    def backward(ctx: LogSoftmax, g: Tensor) -> Tensor:
        axis = ctx.params["axis"]
        return sub(g, mul(exp(ctx.output), sum(g, axis, keepdim=True)))


def log_softmax(x: Tensor, axis: int) -> Tensor:
    """Log of the softmax along ``axis`` (already validated by the caller)."""
    return LogSoftmax.apply(x, axis=axis)
