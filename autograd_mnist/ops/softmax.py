"""Log-softmax, the one stable primitive behind softmax, cross-entropy and NLL."""

from __future__ import annotations

import numpy as np

from autograd_mnist.autograd import Function
from autograd_mnist.ops.elementwise import exp, mul, sub
from autograd_mnist.ops.reduction import sum
from autograd_mnist.ops.shape import reshape
from autograd_mnist.tensor import Tensor


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``;  dx = g - softmax(x) * sum(g) (softmax = e**y).

    The maximum is subtracted before exponentiating, so logits of magnitude 1e4 stay finite.
    """

    @staticmethod
    def forward(ctx: LogSoftmax, x: np.ndarray, axis: int) -> np.ndarray:
        shifted = x - np.max(x, axis=axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx: LogSoftmax, g: Tensor) -> Tensor:
        axis = ctx.params["axis"]
        return sub(g, mul(exp(ctx.output), sum(g, axis, keepdim=True)))


def log_softmax(x: Tensor, axis: int) -> Tensor:
    """Log of the softmax along ``axis`` (already validated by the caller)."""
    return LogSoftmax.apply(x, axis=axis)


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x (N, K) with class indices ``target`` (N,);
    dx = (softmax(x) - onehot(target)) * g, scaled by 1/N for the mean reduction.

    Fused: the forward never materialises a graph of log_softmax + indexing + mean, and the
    backward is one subtraction, built from engine ops so it is differentiable again.
    """

    @staticmethod
    def forward(ctx: CrossEntropy, x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
        shifted = x - np.max(x, axis=1, keepdims=True)
        logz = np.log(np.sum(np.exp(shifted), axis=1))
        losses = logz - shifted[np.arange(x.shape[0]), target]  # (N,)
        if reduction == "none":
            return losses
        total = losses.sum(dtype=x.dtype)
        return np.asarray(total / x.shape[0] if reduction == "mean" else total, dtype=x.dtype)

    @staticmethod
    def backward(ctx: CrossEntropy, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        N, K = x.shape
        target, reduction = ctx.params["target"], ctx.params["reduction"]
        onehot = np.zeros((N, K), dtype=x.dtype)
        onehot[np.arange(N), target] = 1
        d = sub(exp(LogSoftmax.apply(x, axis=1)), Tensor._wrap(onehot, False))  # (N, K)
        if reduction == "none":
            return mul(d, reshape(g, (N, 1)))
        return mul(d, mul(g, 1.0 / N) if reduction == "mean" else g)


def cross_entropy(x: Tensor, target: np.ndarray, reduction: str) -> Tensor:
    """Fused softmax cross-entropy (arguments already checked by the caller)."""
    return CrossEntropy.apply(x, target=target, reduction=reduction)
