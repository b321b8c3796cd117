"""Special functions with a closed-form derivative: erf (exact GELU) and softplus.

Both are primitives because NumPy has no erf (nor SciPy among the dependencies) and
``log(1 + e**x)`` is not stable on its own; each backward is built from engine ops, so
second derivatives work.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.ops.elementwise import exp, mul, neg, sigmoid
from autograd_mnist.tensor import Tensor

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# erf(a) = a g(a) for a = |x| < 6, with g = erf(a) / a (smooth and even; g(0) = 2/sqrt(pi))
# interpolated at Chebyshev points on 12 intervals of width 0.5, degree 18 each, from the C
# library's erf (``math.erf``) when this module loads (about 1 ms). Measured against
# math.erf on a dense grid: max error 5.3e-15 (tests/test_functional_more.py). Beyond 6,
# erf is 1 to float64 precision (1 - erf(6) = 2e-17).
_ERF_SPLIT, _ERF_WIDTH, _ERF_DEGREE = 6.0, 0.5, 18
_ERF_PIECES = int(_ERF_SPLIT / _ERF_WIDTH)


def _erf_over_x(a: np.ndarray) -> np.ndarray:
    return np.array([math.erf(v) / v if v else TWO_OVER_SQRT_PI for v in a.tolist()])


def _erf_table() -> np.ndarray:
    """Chebyshev coefficients of g on each interval, (degree + 1, pieces): interpolation at
    the n = degree + 1 Chebyshev points t_j = cos(pi (j + 1/2) / n) of [-1, 1],
    c_k = (2 / n) sum_j g(t_j) cos(k pi (j + 1/2) / n), c_0 halved."""
    n = _ERF_DEGREE + 1
    angles = np.pi * (np.arange(n) + 0.5) / n
    t = np.cos(angles)
    basis = np.cos(np.outer(np.arange(n), angles)) * (2 / n)  # (k, j)
    basis[0] /= 2
    table = np.empty((n, _ERF_PIECES))
    for k in range(_ERF_PIECES):
        table[:, k] = basis @ _erf_over_x(k * _ERF_WIDTH + (t + 1) * (_ERF_WIDTH / 2))
    return table


_ERF_TABLE = _erf_table()


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf elementwise, in ``x``'s dtype (computed in float64), within 6e-15 of the C
    library's ``erf``: a piecewise Chebyshev interpolant evaluated by Clenshaw's recurrence
    (about 40 ns per element; NaN stays NaN, +-inf gives +-1).
    """
    a64 = np.asarray(x, dtype=np.float64)
    a = np.minimum(np.abs(a64), _ERF_SPLIT)  # NaN stays NaN
    piece = np.minimum((np.nan_to_num(a) * (1 / _ERF_WIDTH)).astype(np.intp), _ERF_PIECES - 1)
    t = (a - piece * _ERF_WIDTH) * (2 / _ERF_WIDTH) - 1  # in [-1, 1] on its piece
    two_t = 2 * t
    b1, b2 = np.zeros_like(t), np.zeros_like(t)
    for k in range(_ERF_DEGREE, 0, -1):
        b1, b2 = two_t * b1 - b2 + np.take(_ERF_TABLE[k], piece), b1  # take: faster than []
    g = t * b1 - b2 + np.take(_ERF_TABLE[0], piece)
    y = np.where(a >= _ERF_SPLIT, 1.0, a * g)
    out: np.ndarray = np.asarray(np.copysign(y, a64), dtype=np.asarray(x).dtype)  # 0-d too
    return out


class Erf(Function):
    """y = erf(x);  dy/dx = 2 / sqrt(pi) * e**(-x**2)."""

    @staticmethod
    def forward(ctx: Erf, x: np.ndarray) -> np.ndarray:
        return erf_array(x)

    @staticmethod
    def backward(ctx: Erf, g: Tensor) -> Tensor:
        x = ctx.inputs[0]
        return mul(g, mul(exp(neg(mul(x, x))), TWO_OVER_SQRT_PI))


class Softplus(Function):
    """y = log(1 + e**x);  dy/dx = sigmoid(x).

    Forward is ``np.logaddexp(0, x)``: exact and finite on both tails (no overflow for
    x = 1e4, no underflow to 0 before e**x does).
    """

    @staticmethod
    def forward(ctx: Softplus, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = np.logaddexp(x.dtype.type(0), x)
        return y

    @staticmethod
    def backward(ctx: Softplus, g: Tensor) -> Tensor:
        return mul(g, sigmoid(ctx.inputs[0]))


def erf(x: Any) -> Tensor:
    """Elementwise error function (see :func:`erf_array` for its cost)."""
    return Erf.apply(x)


def softplus(x: Any) -> Tensor:
    """Elementwise log(1 + e**x), stable on both tails."""
    return Softplus.apply(x)
