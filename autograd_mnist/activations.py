"""Activation functions beyond relu/sigmoid/tanh, as in ``torch.nn.functional``.

Public through :mod:`autograd_mnist.functional` (``F.gelu`` & co.). Each is a composite of
differentiable engine ops (erf and softplus are primitives with engine-op backwards, in
:mod:`autograd_mnist.ops.special`), so gradients of any order work. Masks are constants:
at a kink the gradient is PyTorch's one-sided choice, stated in each docstring.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist._args import is_number
from autograd_mnist.ops import special
from autograd_mnist.tensor import Tensor, as_operands, constant

__all__ = [
    "elu",
    "gelu",
    "layer_inplace",
    "leaky_relu",
    "no_inplace",
    "relu",
    "silu",
    "softplus",
]

_GELU_APPROXIMATIONS = ("none", "tanh")


def no_inplace(op: str, inplace: object) -> None:
    """Refuse PyTorch's ``inplace=True`` in a function (ops here always return a new
    tensor, and a caller of ``F.relu(x, inplace=True)`` may rely on ``x`` changing)."""
    if inplace:
        raise ValueError(f"{op}: inplace=True is not supported; use the returned tensor")


def layer_inplace(op: str, inplace: object) -> bool:
    """A layer's ``inplace`` (PyTorch's ``nn.ReLU(inplace=True)``), checked to be a bool.
    True is accepted: the layer returns the same values, computed out of place (its input
    keeps its values, where PyTorch's is overwritten; a model only uses the output).

    Raises:
        TypeError: if ``inplace`` is not a bool.
    """
    if not isinstance(inplace, bool | np.bool_):
        raise TypeError(f"{op}: inplace must be a bool; got {inplace!r}")
    return bool(inplace)


def _float(op: str, x: Any) -> Tensor:
    """``x`` as a float Tensor (an integer array becomes float32, as in every op)."""
    return as_operands(op, (x,))[0]


def _number(op: str, name: str, value: Any) -> float:
    if not is_number(value):
        raise TypeError(f"{op}: {name} must be a number; got {value!r}")
    return float(value)


def relu(x: Any, inplace: bool = False) -> Tensor:
    """Elementwise ``max(x, 0)``, as ``F.relu``; ``inplace`` as :func:`leaky_relu`'s (the
    layer ``nn.ReLU(inplace=True)`` is accepted)."""
    no_inplace("relu", inplace)
    return ops.relu(x)


def leaky_relu(x: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``negative_slope * x``.

    Args:
        x: any shape.
        negative_slope: the slope for x <= 0.
        inplace: PyTorch's; only False (True raises ValueError: use the returned tensor).

    Returns:
        Same shape. The gradient at x = 0 is ``negative_slope`` (PyTorch's choice).
    """
    s = _number("leaky_relu", "negative_slope", negative_slope)
    no_inplace("leaky_relu", inplace)
    t = _float("leaky_relu", x)
    slope = np.where(t.data > 0, t.dtype.type(1), t.dtype.type(s))
    return ops.mul(t, constant(slope))


def elu(x: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``alpha * (exp(x) - 1)``.

    Computed as ``where(m, x, alpha * (exp(where(m, 0, x)) - 1))`` with the constant mask
    m = x > 0: the exponent is never positive, so nothing overflows, and x = -inf gives
    ``-alpha``, x = inf gives inf.

    Args:
        x: any shape.
        alpha: the value approached as x -> -inf is ``-alpha``.
        inplace: as :func:`leaky_relu`'s.

    Returns:
        Same shape. The gradient at x = 0 is ``alpha`` (PyTorch's choice).
    """
    a = _number("elu", "alpha", alpha)
    no_inplace("elu", inplace)
    t = _float("elu", x)
    pos = t.data > 0
    neg_part = ops.sub(ops.exp(ops.where(constant(pos), 0.0, t)), 1.0)
    return ops.where(constant(pos), t, ops.mul(neg_part, a))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit, ``x * Phi(x)``.

    Args:
        x: any shape.
        approximate: ``'none'``: ``0.5 x (1 + erf(x / sqrt 2))`` (exact: erf within 6e-15,
            see :func:`autograd_mnist.ops.special.erf_array`; about 10x the time of a tanh);
            ``'tanh'``: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``.

    Returns:
        Same shape.

    Raises:
        ValueError: for another ``approximate``.
    """
    if approximate not in _GELU_APPROXIMATIONS:
        raise ValueError(
            f"gelu: approximate must be one of {_GELU_APPROXIMATIONS}; got {approximate!r}"
        )
    t = _float("gelu", x)
    if approximate == "tanh":
        cube = ops.mul(ops.mul(t, t), t)  # (Pow runs np.power: far slower)
        inner = ops.mul(ops.add(t, ops.mul(cube, 0.044715)), math.sqrt(2 / math.pi))
        cdf = ops.mul(ops.add(ops.tanh(inner), 1.0), 0.5)
    else:
        cdf = ops.mul(ops.add(special.erf(ops.mul(t, 1 / math.sqrt(2))), 1.0), 0.5)
    return ops.mul(t, cdf)


def silu(x: Any, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish). Same shape as ``x``; ``inplace`` as
    :func:`leaky_relu`'s."""
    no_inplace("silu", inplace)
    t = _float("silu", x)
    return ops.mul(t, ops.sigmoid(t))


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, and x itself where ``beta x > threshold``.

    Args:
        x: any shape.
        beta: sharpness, > 0.
        threshold: above it (in ``beta x``) the function is linear, as in PyTorch.

    Returns:
        Same shape; the gradient is ``sigmoid(beta x)`` (1 in the linear region).

    Raises:
        ValueError: if ``beta`` is not positive (PyTorch does not check; 0 divides by 0).
    """
    b = _number("softplus", "beta", beta)
    th = _number("softplus", "threshold", threshold)
    if not b > 0:
        raise ValueError(f"softplus: beta must be > 0; got {beta!r}")
    t = _float("softplus", x)
    bx = t if b == 1.0 else ops.mul(t, b)
    y = special.softplus(bx)
    if b != 1.0:
        y = ops.mul(y, 1.0 / b)
    linear = bx.data > th
    if not linear.any():
        return y
    return ops.where(constant(linear), t, y)  # no 0 * inf where either side is infinite
