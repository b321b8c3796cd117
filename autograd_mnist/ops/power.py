"""Powers with a tensor exponent (``torch.pow(a, b)``, ``a ** b``, ``2 ** x``).

``pow`` here is the package's ``ops.pow``: a Python-number exponent goes to the scalar
``Pow`` of :mod:`~autograd_mnist.ops.elementwise` (cheaper, and the exponent is exact), a
tensor or array exponent to :class:`PowT`, differentiable in both base and exponent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.ops import elementwise
from autograd_mnist.ops.elementwise import add, log, mul, sub
from autograd_mnist.ops.select import Where
from autograd_mnist.tensor import Tensor, constant


class PowT(Function):
    """y = a ** b elementwise, broadcast;  dy/da = b a**(b-1) (0 at 0 ** 0), dy/db =
    y ln a (0 where a == 0 and b >= 0): torch's conventions where the formulas give NaN."""

    @staticmethod
    def forward(ctx: PowT, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1, (-1) ** 0.5
            y: np.ndarray = np.power(a, b)
        return y

    @staticmethod
    def backward(ctx: PowT, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        da, db = ctx.needs_input_grad
        ga = None
        if da:
            ga = mul(g, mul(b, PowT.apply(a, sub(b, 1.0))))
            flat = (b.data == 0) & (a.data == 0)  # 0 there, as torch (not 0 * 0 ** -1 = NaN)
            if flat.any():
                ga = Where.apply(0.0, ga, cond=flat)
        gb = None
        if db:
            zero = (a.data == 0) & (b.data >= 0)
            if zero.any():  # ln(a + 1) = 0 there, and the mask zeroes its derivative too
                ln = mul(log(add(a, constant(zero.astype(a.dtype)))), constant(~zero))
            else:
                ln = log(a)
            gb = mul(g, mul(ctx.output, ln))
        return ga, gb


def pow(x: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """``x ** exponent`` elementwise (``torch.pow``).

    Args:
        x: the base: a tensor, array or Python number.
        exponent: a Python number (the scalar ``Pow``: ``x`` must then be a tensor or
            array) or a tensor or array broadcastable with ``x`` (differentiable in both;
            the exponent's gradient is ``y ln x``, NaN for a negative base, as in torch).

    Returns:
        A tensor of the broadcast shape.
    """
    if isinstance(exponent, (Tensor, np.ndarray)):
        with np.errstate(divide="ignore", invalid="ignore"):
            return PowT.apply(x, exponent)
    return elementwise.pow(x, exponent)
