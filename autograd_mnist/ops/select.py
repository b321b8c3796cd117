"""Selection ops: where, maximum, minimum, clamp.

Each is piecewise linear: its backward multiplies (or selects) the upstream gradient by a
constant mask taken in forward, so the backward is made of engine ops and the second
derivative is the exact 0 away from the switching points.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.ops.elementwise import mul
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor, as_tensor, constant, raw


class Where(Function):
    """y = x where ``cond`` else y (broadcast);  dy/dx = cond, dy/dy = not cond.

    The gradients are selected with ``where`` too (not multiplied by a mask), so a NaN or
    infinity in the branch not taken does not leak into the other's gradient, as in torch.
    """

    @staticmethod
    def forward(ctx: Where, x: np.ndarray, y: np.ndarray, cond: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.where(cond, x, y)
        return out

    @staticmethod
    def backward(ctx: Where, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        cond = ctx.params["cond"]
        dx, dy = ctx.needs_input_grad
        gx = Where.apply(g, 0.0, cond=cond) if dx else None
        gy = Where.apply(0.0, g, cond=cond) if dy else None
        return gx, gy


def _tie_masks(a: np.ndarray, b: np.ndarray, a_wins: np.ndarray) -> tuple[Any, Any]:
    """The share of the gradient each side gets: 1 where it wins, 1/2 on ties, else 0."""
    dtype = np.result_type(a, b)
    share = a_wins.astype(dtype) + np.asarray(0.5, dtype) * (a == b)
    return share, np.asarray(1.0, dtype) - share


class Maximum(Function):
    """y = max(a, b) elementwise;  the gradient goes to the larger, half each on ties."""

    @staticmethod
    def forward(ctx: Maximum, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if any(ctx.needs_input_grad):
            ctx.save(*_tie_masks(a, b, a > b))
        y: np.ndarray = np.maximum(a, b)
        return y

    @staticmethod
    def backward(ctx: Maximum, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        (sa, sb), (da, db) = ctx.saved, ctx.needs_input_grad
        return (mul(g, constant(sa)) if da else None), (mul(g, constant(sb)) if db else None)


class Minimum(Function):
    """y = min(a, b) elementwise;  the gradient goes to the smaller, half each on ties."""

    @staticmethod
    def forward(ctx: Minimum, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if any(ctx.needs_input_grad):
            ctx.save(*_tie_masks(a, b, a < b))
        y: np.ndarray = np.minimum(a, b)
        return y

    @staticmethod
    def backward(ctx: Minimum, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        (sa, sb), (da, db) = ctx.saved, ctx.needs_input_grad
        return (mul(g, constant(sa)) if da else None), (mul(g, constant(sb)) if db else None)


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi (bounds included, as torch),
    else 0."""

    @staticmethod
    def forward(ctx: Clamp, x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
        t = x.dtype.type
        low, high = (None if lo is None else t(lo)), (None if hi is None else t(hi))
        if ctx.needs_input_grad[0]:
            inside = np.ones(x.shape, dtype=bool) if low is None else x >= low
            if high is not None:
                inside &= x <= high
            ctx.save(inside)
        y: np.ndarray = np.clip(x, low, high)
        return y

    @staticmethod
    def backward(ctx: Clamp, g: Tensor) -> Tensor:
        return mul(g, constant(ctx.saved[0]))


def _condition(cond: Any, shapes: str) -> np.ndarray:
    c = np.asarray(raw(cond))
    if c.dtype != np.bool_:
        raise TypeError(
            f"where: condition must be a bool tensor; got dtype {c.dtype} ({shapes}), "
            "expected bool (compare first, e.g. x > 0)"
        )
    return c


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002 - torch's name
    """``input`` where ``condition`` holds, else ``other`` (``torch.where``), broadcast.

    Differentiable in ``input`` and ``other``; ``condition`` is a constant. Integer inputs
    become float (the package's dtype rule; torch keeps integer dtypes).

    Args:
        condition: a bool tensor or array.
        input: a tensor, array or Python number.
        other: a tensor, array or Python number.

    Returns:
        A tensor of the broadcast shape of the three.

    Raises:
        TypeError: if ``condition`` is not bool.
        ValueError: if the shapes do not broadcast (naming them).
    """
    shapes = [np.shape(raw(v)) for v in (condition, input, other)]
    c = _condition(condition, f"shapes {shapes}")
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"where: shapes do not broadcast; got condition {shapes[0]}, input {shapes[1]}, "
            f"other {shapes[2]}"
        ) from None
    return Where.apply(input, other, cond=c)


def maximum(input: Any, other: Any) -> Tensor:  # noqa: A002 - torch's name
    """The elementwise maximum of two broadcastable tensors (``torch.maximum``).

    The gradient goes to the larger element; on a tie each side gets half, as in torch.
    A NaN in either input gives NaN. Integer inputs become float (torch keeps them).
    """
    return Maximum.apply(input, other)


def minimum(input: Any, other: Any) -> Tensor:  # noqa: A002 - torch's name
    """The elementwise minimum of two broadcastable tensors (``torch.minimum``).

    The gradient goes to the smaller element; on a tie each side gets half, as in torch.
    """
    return Minimum.apply(input, other)


def clamp(x: Any, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """``x`` limited to ``[min, max]`` (``torch.clamp``; either bound may be None).

    The gradient is 1 where ``min <= x <= max`` (bounds included, as torch) and 0 outside.
    If ``min > max`` every element becomes ``max``, as in torch. Integer tensors are
    clamped without a graph and keep their dtype (float32 if a bound is a float).

    Args:
        x: a tensor of any shape.
        min: the lower bound, a Python number, or None.
        max: the upper bound, a Python number, or None.

    Raises:
        ValueError: if both bounds are None.
        TypeError: if a bound is a tensor or an array (torch accepts tensor bounds: use
            :func:`maximum` and :func:`minimum` here).
    """
    t = as_tensor(x)
    if min is None and max is None:
        raise ValueError(f"clamp: at least one of min or max must not be None; got shape {t.shape}")
    for name, v in (("min", min), ("max", max)):
        if v is not None and not isinstance(v, (int, float, np.number)):
            raise TypeError(
                f"clamp: {name} must be a Python number or None; got {type(v).__name__} "
                f"(tensor {t.shape}); use am.maximum / am.minimum for tensor bounds"
            )
    if t.dtype not in FLOAT_DTYPES:  # no graph; a float bound makes it float32
        y = np.clip(t.data, min, max)
        return constant(y.astype(np.float32) if y.dtype.kind == "f" else y)
    return Clamp.apply(t, lo=min, hi=max)
