"""Reductions: sum, mean, max, and the adjoint pair sum_to / broadcast_to."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.ops.elementwise import mul
from autograd_mnist.ops.shape import reshape
from autograd_mnist.tensor import Tensor, as_tensor, constant


def normalize_dims(op: str, dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Turn ``dim`` (None, an int or a sequence, negatives allowed) into sorted axes.

    Raises:
        ValueError: if a dimension is out of range or repeated.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
            raise ValueError(
                f"{op}: dimension {d} out of range; got a tensor with {ndim} dimensions"
            )
        out.append(int(d) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated dimension in {dims}")
    return tuple(sorted(out)) if ndim else ()


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Function):
    """y = sum of x over ``axes``;  dy/dx = 1 (the gradient is broadcast back)."""

    @staticmethod
    def forward(ctx: Sum, x: np.ndarray, axes: tuple[int, ...], keepdim: bool) -> np.ndarray:
        return np.asarray(np.sum(x, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Sum, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        kept = _kept_shape(x.shape, ctx.params["axes"])
        return broadcast_to(reshape(g, kept), x.shape)


class Max(Function):
    """y = max of x over one axis (or all);  dy/dx = 1 at the first maximum, else 0."""

    @staticmethod
    def forward(ctx: Max, x: np.ndarray, axis: int | None, keepdim: bool) -> np.ndarray:
        flat = x.reshape(-1) if axis is None else x
        idx = np.argmax(flat, axis=0 if axis is None else axis, keepdims=True)
        mask = np.zeros(flat.shape, dtype=x.dtype)
        np.put_along_axis(mask, idx, 1, axis=0 if axis is None else axis)
        ctx.save(mask.reshape(x.shape))
        return np.asarray(np.max(x, axis=axis, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Max, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        axis = ctx.params["axis"]
        axes = tuple(range(x.ndim)) if axis is None else (axis,)
        spread = broadcast_to(reshape(g, _kept_shape(x.shape, axes)), x.shape)
        return mul(spread, constant(ctx.saved[0]))


class SumTo(Function):
    """y = x summed down to ``shape`` (undoes broadcasting);  adjoint of broadcast_to."""

    @staticmethod
    def forward(ctx: SumTo, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
        )
        y = np.sum(x, axis=axes, keepdims=True) if axes else x
        return np.asarray(y.reshape(shape))

    @staticmethod
    def backward(ctx: SumTo, g: Tensor) -> Tensor:
        return broadcast_to(g, ctx.inputs[0].shape)


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (NumPy rules);  adjoint of sum_to."""

    @staticmethod
    def forward(ctx: BroadcastTo, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        y: np.ndarray = np.broadcast_to(x, shape)
        return y

    @staticmethod
    def backward(ctx: BroadcastTo, g: Tensor) -> Tensor:
        return sum_to(g, ctx.inputs[0].shape)


def sum(  # noqa: A001 - PyTorch's name
    x: Any, dim: int | Sequence[int] | None = None, keepdim: bool = False
) -> Tensor:
    """Sum of ``x`` over ``dim`` (an int, a sequence, or None for all dimensions)."""
    t = as_tensor(x)
    return Sum.apply(t, axes=normalize_dims("sum", dim, t.ndim), keepdim=keepdim)


def mean(x: Any, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Mean of ``x`` over ``dim``: ``sum / count`` (a composite)."""
    t = as_tensor(x)
    axes = normalize_dims("mean", dim, t.ndim)
    count = int(np.prod([t.shape[a] for a in axes])) if axes else 1
    return Sum.apply(t, axes=axes, keepdim=keepdim) / count


def max(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Maxima of ``x`` over ``dim`` (None: over all elements). Values only.

    The gradient goes to the first maximal element (in C order) of each reduced group.

    Raises:
        ValueError: if ``x`` is empty or ``dim`` is out of range.
    """
    t = as_tensor(x)
    if t.size == 0:
        raise ValueError(f"max: empty tensor of shape {t.shape}")
    axis = None if dim is None else normalize_dims("max", dim, t.ndim)[0]
    if t.ndim == 0:
        axis = None  # a 0-d tensor's dim 0 or -1 is all of it
    return Max.apply(t, axis=axis, keepdim=keepdim)


def sum_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Sum ``x`` down to ``shape``, undoing NumPy broadcasting.

    Raises:
        ValueError: if ``shape`` does not broadcast to ``x.shape``.
    """
    t, to = as_tensor(x), tuple(int(s) for s in shape)
    if t.shape == to:
        return t
    if not _broadcasts(to, t.shape):
        raise ValueError(f"sum_to: shape {to} does not broadcast to {t.shape}")
    return SumTo.apply(t, shape=to)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Broadcast ``x`` to ``shape`` with NumPy's rules.

    Raises:
        ValueError: if ``x.shape`` does not broadcast to ``shape``.
    """
    t, to = as_tensor(x), tuple(int(s) for s in shape)
    if t.shape == to:
        return t
    if not _broadcasts(t.shape, to):
        raise ValueError(f"broadcast_to: cannot broadcast shape {t.shape} to {to}")
    return BroadcastTo.apply(t, shape=to)


def _broadcasts(shape: tuple[int, ...], to: tuple[int, ...]) -> bool:
    """Whether NumPy broadcasts ``shape`` to exactly ``to``."""
    try:
        return np.broadcast_shapes(shape, to) == to
    except ValueError:
        return False
