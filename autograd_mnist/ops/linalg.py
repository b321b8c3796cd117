"""Matrix multiplication with NumPy's ``matmul`` semantics."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist.autograd import Function
from autograd_mnist.ops.reduction import sum as reduce_sum
from autograd_mnist.ops.shape import reshape, transpose
from autograd_mnist.tensor import Tensor, as_operands


class MatMul(Function):
    """Y = A @ B on (..., n, k) @ (..., k, m);  dA = G @ B^T, dB = A^T @ G.

    Batch dimensions broadcast; the engine sums the gradients back to each input's shape.
    """

    @staticmethod
    def forward(ctx: MatMul, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx: MatMul, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        da, db = ctx.needs_input_grad
        ga = MatMul.apply(g, transpose(b, -1, -2)) if da else None
        gb = MatMul.apply(transpose(a, -1, -2), g) if db else None
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with ``np.matmul`` semantics.

    1-D operands are promoted (a row vector on the left, a column vector on the right) and
    the added dimension removed afterwards; leading batch dimensions broadcast.

    Raises:
        ValueError: for 0-d operands, mismatched inner dimensions or batch dimensions that
            do not broadcast, naming both shapes.
    """
    a, b = as_operands("matmul", (a, b))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension; got {a.shape} @ {b.shape}"
        )
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(
            f"matmul: inner dimensions differ; got {a.shape} @ {b.shape}, expected "
            f"a.shape[-1] == b.shape[{-2 if b.ndim > 1 else 0}]"
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions do not broadcast; got {a.shape} @ {b.shape}"
        ) from None
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMul.apply(a, b)
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    out = MatMul.apply(a2, b2)
    shape = out.shape
    if b.ndim == 1:
        shape = shape[:-1]
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:] if b.ndim > 1 else shape[:-1]
    return reshape(out, shape)


class Linear(Function):
    """y = x @ W^T + b on x (..., in), W (out, in), b (out,) or absent;
    dx = g @ W,  dW = g^T @ x,  db = sum of g over the leading dimensions.

    One primitive (rather than matmul with a transposed view) so that dW comes out
    C-contiguous in W's own (out, in) layout, with no copy before the optimizer.
    """

    @staticmethod
    def forward(ctx: Linear, x: np.ndarray, w: np.ndarray, *b: np.ndarray) -> np.ndarray:
        y = np.matmul(x, w.T)
        if b:
            y += b[0]
        return y

    @staticmethod
    def backward(ctx: Linear, g: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.inputs[:2]
        needs = ctx.needs_input_grad
        g2 = reshape(g, (-1, g.shape[-1]))  # (M, out), M = product of leading dims
        gx = None
        if needs[0] and _column_major(x.data):
            # x is a transposed view (a flattened batch-last conv output): give its gradient
            # the same layout, (W^T @ g^T)^T, so that reshaping it back stays a view.
            gx = transpose(MatMul.apply(transpose(w, 0, 1), transpose(g, 0, 1)), 0, 1)
        elif needs[0]:
            gx = matmul(g, w)
        gw = MatMul.apply(transpose(g2, 0, 1), reshape(x, (-1, x.shape[-1]))) if needs[1] else None
        if len(ctx.inputs) == 2:
            return gx, gw
        gb = reduce_sum(g2, 0) if needs[2] else None
        return gx, gw, gb


def _column_major(a: np.ndarray) -> bool:
    """A 2-D array stored column by column (and not also row by row)."""
    return a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias (shapes already checked by ``functional.linear``)."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)
