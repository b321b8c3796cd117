"""Matrix multiplication with NumPy's ``matmul`` semantics."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist import threads
from autograd_mnist.function import Function
from autograd_mnist.ops.shape import reshape, transpose
from autograd_mnist.tensor import Tensor, as_operands


class MatMul(Function):
    """Y = A @ B on (..., n, k) @ (..., k, m);  dA = G @ B^T, dB = A^T @ G.

    Batch dimensions broadcast; the engine sums the gradients back to each input's shape.
    """

    @staticmethod
    def forward(ctx: MatMul, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1:
            # An outer product (a weight's gradient at batch 1): each element is the one
            # product matmul makes, without the BLAS's packing (~10x faster at 128 x 5408).
            y: np.ndarray = np.multiply(a, b, order="C")
        elif _wide_nt(a, b):
            # A @ B^T-view with more output columns than rows and a small output (a conv's
            # weight gradient, g @ cols^T, when C*KH*KW > OC): OpenBLAS is faster on the
            # transposed product, (B @ A^T)^T (64x25088 @ 25088x288: 6.3 ms instead of
            # 8.2), and copying the small result back to C order costs next to nothing.
            y = np.ascontiguousarray(product(b.T, a.T).T)
        else:
            y = product(a, b)
        return y

    @staticmethod
    def backward(ctx: MatMul, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        da, db = ctx.needs_input_grad
        ga = MatMul.apply(g, transpose(b, -1, -2)) if da else None
        gb = MatMul.apply(transpose(a, -1, -2), g) if db else None
        return ga, gb


def product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b)``; on one BLAS thread when it is a 2-D product of fewer than
    :data:`~autograd_mnist.threads.SMALL_MATMUL` multiply-adds."""
    if a.ndim == b.ndim == 2 and a.shape[0] * a.shape[1] * b.shape[1] < threads.SMALL_MATMUL:
        y: np.ndarray = threads.on_one_blas_thread(np.matmul, a, b)
    else:
        y = np.matmul(a, b)
    return y


#: Output elements up to which :func:`_wide_nt` products are computed transposed.
SMALL_OUTPUT = 1 << 16


def _wide_nt(a: np.ndarray, b: np.ndarray) -> bool:
    """2-D ``a`` in C order times a transposed view ``b`` (column-major), with more
    output columns than rows, and at most ``SMALL_OUTPUT`` of them in all."""
    return (
        a.ndim == b.ndim == 2
        and a.shape[0] < b.shape[1]
        and a.shape[0] * b.shape[1] <= SMALL_OUTPUT
        and a.flags.c_contiguous
        and b.flags.f_contiguous
        and not b.flags.c_contiguous
    )


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
