"""Elementwise ops with NumPy broadcasting.

Backwards return gradients in the output's broadcast shape; the engine sums each back to its
input's shape (``sum_to``). Every backward is built from these same ops, so it is
differentiable again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist._parallel import elementwise
from autograd_mnist.function import Function
from autograd_mnist.grad_mode import is_grad_enabled
from autograd_mnist.tensor import Tensor, constant


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    @staticmethod
    def forward(ctx: Add, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        y: np.ndarray = a + b
        return y

    @staticmethod
    def backward(ctx: Add, g: Tensor) -> tuple[Tensor, Tensor]:
        return g, g


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""

    @staticmethod
    def forward(ctx: Sub, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        y: np.ndarray = a - b
        return y

    @staticmethod
    def backward(ctx: Sub, g: Tensor) -> tuple[Tensor, Tensor | None]:
        return g, (neg(g) if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""

    @staticmethod
    def forward(ctx: Mul, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        y: np.ndarray = a * b
        return y

    @staticmethod
    def backward(ctx: Mul, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        da, db = ctx.needs_input_grad
        return (mul(g, b) if da else None), (mul(g, a) if db else None)


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b**2."""

    @staticmethod
    def forward(ctx: Div, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        y: np.ndarray = a / b
        return y

    @staticmethod
    def backward(ctx: Div, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.inputs
        da, db = ctx.needs_input_grad
        ga = div(g, b) if da else None
        gb = neg(div(mul(g, a), mul(b, b))) if db else None
        return ga, gb


class Neg(Function):
    """y = -x;  dy/dx = -1."""

    @staticmethod
    def forward(ctx: Neg, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = -x
        return y

    @staticmethod
    def backward(ctx: Neg, g: Tensor) -> Tensor:
        return neg(g)


class Pow(Function):
    """y = x**p for a constant scalar p;  dy/dx = p * x**(p-1)."""

    @staticmethod
    def forward(ctx: Pow, x: np.ndarray, exponent: float) -> np.ndarray:
        y: np.ndarray = np.power(x, x.dtype.type(exponent))
        return y

    @staticmethod
    def backward(ctx: Pow, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        p = ctx.params["exponent"]
        if p == 0:
            return mul(g, 0.0)
        if p == 1:
            return g
        return mul(g, mul(pow(x, p - 1), p))


class Exp(Function):
    """y = e**x;  dy/dx = y."""

    @staticmethod
    def forward(ctx: Exp, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = np.exp(x)
        return y

    @staticmethod
    def backward(ctx: Exp, g: Tensor) -> Tensor:
        return mul(g, ctx.output)


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    @staticmethod
    def forward(ctx: Log, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = np.log(x)
        return y

    @staticmethod
    def backward(ctx: Log, g: Tensor) -> Tensor:
        return div(g, ctx.inputs[0])


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""

    @staticmethod
    def forward(ctx: Sqrt, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = np.sqrt(x)
        return y

    @staticmethod
    def backward(ctx: Sqrt, g: Tensor) -> Tensor:
        return div(mul(g, 0.5), ctx.output)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Abs, x: np.ndarray) -> np.ndarray:
        ctx.save(np.sign(x))
        y: np.ndarray = np.abs(x)
        return y

    @staticmethod
    def backward(ctx: Abs, g: Tensor) -> Tensor:
        return mul(g, constant(ctx.saved[0]))


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0 (0 at the kink, as in PyTorch)."""

    @staticmethod
    def forward(ctx: ReLU, x: np.ndarray) -> np.ndarray:
        y = np.empty_like(x)  # x's layout; large arrays are shared out to threads
        if not elementwise(lambda a, out: np.maximum(a, 0, out=out), x, y):
            np.maximum(x, 0, out=y)
        return y

    @staticmethod
    def backward(ctx: ReLU, g: Tensor) -> Tensor:
        # y > 0 exactly where x > 0; a bool mask multiplies without a float copy.
        y = ctx.output.data
        if not is_grad_enabled() and g.dtype == y.dtype:  # the same product, threaded
            dx = np.empty_like(y)
            if elementwise(lambda a, b, out: np.multiply(a, b > 0, out=out), g.data, y, dx):
                return constant(dx)
        return mul(g, constant(y > 0))


class Sigmoid(Function):
    """y = 1 / (1 + e**-x);  dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx: Sigmoid, x: np.ndarray) -> np.ndarray:
        # Stable on both tails: e**-|x| never overflows.
        z = np.exp(-np.abs(x))
        y: np.ndarray = np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)
        return y

    @staticmethod
    def backward(ctx: Sigmoid, g: Tensor) -> Tensor:
        y = ctx.output
        return mul(g, mul(y, sub(1.0, y)))


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y**2."""

    @staticmethod
    def forward(ctx: Tanh, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = np.tanh(x)
        return y

    @staticmethod
    def backward(ctx: Tanh, g: Tensor) -> Tensor:
        y = ctx.output
        return mul(g, sub(1.0, mul(y, y)))


class Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    @staticmethod
    def forward(ctx: Sin, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = np.sin(x)
        return y

    @staticmethod
    def backward(ctx: Sin, g: Tensor) -> Tensor:
        return mul(g, cos(ctx.inputs[0]))


class Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    @staticmethod
    def forward(ctx: Cos, x: np.ndarray) -> np.ndarray:
        y: np.ndarray = np.cos(x)
        return y

    @staticmethod
    def backward(ctx: Cos, g: Tensor) -> Tensor:
        return neg(mul(g, sin(ctx.inputs[0])))


def add(a: Any, b: Any) -> Tensor:
    """a + b with broadcasting."""
    return Add.apply(a, b)


def sub(a: Any, b: Any) -> Tensor:
    """a - b with broadcasting."""
    return Sub.apply(a, b)


def mul(a: Any, b: Any) -> Tensor:
    """a * b with broadcasting."""
    return Mul.apply(a, b)


def div(a: Any, b: Any) -> Tensor:
    """a / b with broadcasting."""
    return Div.apply(a, b)


def neg(x: Any) -> Tensor:
    """-x."""
    return Neg.apply(x)


def pow(x: Any, exponent: float) -> Tensor:  # noqa: A001 - PyTorch's name
    """x ** exponent for a Python scalar exponent.

    Raises:
        TypeError: if ``exponent`` is a Tensor or array (only scalar exponents are supported).
    """
    if isinstance(exponent, (Tensor, np.ndarray)):
        raise TypeError(
            f"pow: exponent must be a Python number; got {type(exponent).__name__}, "
            "expected int or float (use exp(b * log(a)) for tensor exponents)"
        )
    return Pow.apply(x, exponent=float(exponent))


def exp(x: Any) -> Tensor:
    """Elementwise e**x."""
    return Exp.apply(x)


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm."""
    return Log.apply(x)


def sqrt(x: Any) -> Tensor:
    """Elementwise square root."""
    return Sqrt.apply(x)


def abs(x: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """Elementwise absolute value."""
    return Abs.apply(x)


def relu(x: Any) -> Tensor:
    """Elementwise max(x, 0)."""
    return ReLU.apply(x)


def sigmoid(x: Any) -> Tensor:
    """Elementwise logistic function, stable for large |x|."""
    return Sigmoid.apply(x)


def tanh(x: Any) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return Tanh.apply(x)


def sin(x: Any) -> Tensor:
    """Elementwise sine (radians)."""
    return Sin.apply(x)


def cos(x: Any) -> Tensor:
    """Elementwise cosine (radians)."""
    return Cos.apply(x)
