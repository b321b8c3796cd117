"""Log-softmax, the one stable primitive behind softmax and NLL (and inside the fused
cross-entropy's backward)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.ops.elementwise import exp, mul, sub
from autograd_mnist.ops.reduction import normalize_dims, sum
from autograd_mnist.ops.shape import reshape
from autograd_mnist.tensor import Tensor


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``;  dx = g - softmax(x) * sum(g) (softmax = e**y).

    The maximum is subtracted before exponentiating, so logits of magnitude 1e4 stay finite.
    """

    @staticmethod
    def forward(ctx: LogSoftmax, x: np.ndarray, axis: int) -> np.ndarray:
        if x.size == 0:  # nothing to normalise (NumPy's max refuses an empty axis)
            return np.empty_like(x)
        shifted = x - np.max(x, axis=axis, keepdims=True)
        y: np.ndarray = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return y

    @staticmethod
    def backward(ctx: LogSoftmax, g: Tensor) -> Tensor:
        axis = ctx.params["axis"]
        return sub(g, mul(exp(ctx.output), sum(g, axis, keepdim=True)))


def softmax_dim(op: str, x: Tensor, dim: Any) -> int:
    """The one axis of a (log-)softmax over ``x``: a tuple (or None) is refused, as PyTorch
    refuses it, never reduced to its first element.

    Raises:
        TypeError: if ``dim`` is not an int. ValueError: if it is out of range.
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(
            f"{op}: dim must be an int; got {dim!r} for input {x.shape}, expected one "
            "dimension (softmax normalises along one dim, as in PyTorch)"
        )
    axes = normalize_dims(op, int(dim), x.ndim)
    return axes[0] if axes else 0


def log_softmax(x: Tensor, axis: int) -> Tensor:
    """Log of the softmax along ``axis`` (validated by the caller, e.g. :func:`softmax_dim`);
    a 0-d ``x`` is one group of one element (the result is 0)."""
    if x.ndim == 0:
        return reshape(LogSoftmax.apply(reshape(x, (1,)), axis=0), ())
    return LogSoftmax.apply(x, axis=axis)
