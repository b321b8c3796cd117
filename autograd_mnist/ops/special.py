"""Special functions with a closed-form derivative: erf (exact GELU) and softplus.

Both are primitives because NumPy has no erf and ``log(1 + e**x)`` is not stable on its own;
each backward is built from engine ops, so second derivatives work.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.ops.elementwise import exp, mul, neg, sigmoid
from autograd_mnist.tensor import Tensor

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf elementwise, in ``x``'s dtype: the C library's ``erf`` (``math.erf``), so within
    an ulp or so of the true value in float64.

    One C call per element through ``np.frompyfunc`` (about 0.15 us each): fine for tests
    and small layers, much slower than a NumPy ufunc on large arrays (``gelu(approximate=
    'tanh')`` is the fast alternative).
    """
    a = np.asarray(x)
    # frompyfunc gives an object array (a Python float for a 0-d input).
    return np.asarray(_erf_ufunc(a.astype(np.float64, copy=False)), dtype=a.dtype)


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
