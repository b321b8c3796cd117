"""Reductions: sum, mean, var, std, logsumexp, and the adjoint pair sum_to / broadcast_to.

Maxima and minima (max, min, amax, amin, argmax, argmin) are in :mod:`.extrema`.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist._args import ints
from autograd_mnist.function import Function
from autograd_mnist.ops.elementwise import exp, log, mul, sqrt
from autograd_mnist.ops.select import where
from autograd_mnist.ops.shape import reshape
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor, as_tensor, constant

Dims = int | Sequence[int] | None


def normalize_dims(op: str, dim: Dims, ndim: int) -> tuple[int, ...]:
    """Turn ``dim`` (None, an int or a sequence, negatives allowed) into sorted axes.

    A 0-d tensor accepts dimension 0 and -1 (as in PyTorch) and has no axes to reduce.

    Raises:
        TypeError: if a dimension is not an int.
        ValueError: if a dimension is out of range or repeated.
    """
    if dim is None:
        return tuple(range(ndim))
    if not isinstance(dim, (int, np.integer, Sequence, np.ndarray)) or isinstance(dim, str):
        raise TypeError(f"{op}: dim must be an int or a tuple of ints; got {dim!r}")
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    limit = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints; got {dim!r}")
        if not -limit <= d < limit:
            raise ValueError(
                f"{op}: dimension out of range; got {d} for a {ndim}-d tensor, "
                f"expected {-limit} <= dim <= {limit - 1}"
            )
        out.append(int(d) % limit)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated dimension; got {dims}, expected distinct dims")
    return tuple(sorted(out)) if ndim else ()


def reduction_axes(op: str, dim: Dims, ndim: int) -> tuple[int, ...]:
    """:func:`normalize_dims` for reductions: an empty sequence means every dimension, as
    in PyTorch (``x.sum(())`` is the full sum)."""
    if isinstance(dim, Sequence) and len(dim) == 0:
        return tuple(range(ndim))
    return normalize_dims(op, dim, ndim)


def reduced_count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements each output element of a reduction over ``axes`` combines."""
    return math.prod([shape[a] for a in axes])


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


def sum(x: Any, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Sum of ``x`` over ``dim``.

    Args:
        x: a tensor of any shape.
        dim: an int, a tuple of ints (negatives allowed), or None for every dimension;
            ``()`` also means every dimension, as in PyTorch. A 0-d tensor takes 0 or -1.
        keepdim: keep the reduced dimensions with size 1.

    Returns:
        ``x``'s shape without (or, with ``keepdim``, with size 1 at) the reduced dims. A sum
        over an empty dimension is 0.
    """
    t = as_tensor(x)
    return Sum.apply(t, axes=reduction_axes("sum", dim, t.ndim), keepdim=keepdim)


def mean(x: Any, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Mean of ``x`` over ``dim`` (as :func:`sum`): ``sum / count``, a composite.

    The mean over an empty dimension is NaN, as in PyTorch (without NumPy's warning).
    """
    t = as_tensor(x)
    axes = reduction_axes("mean", dim, t.ndim)
    count = reduced_count(t.shape, axes)
    total = Sum.apply(t, axes=axes, keepdim=keepdim)
    return total / count if count else mul(total, float("nan"))


def var(
    x: Any,
    dim: Dims = None,
    *,
    correction: int | float = 1,
    keepdim: bool = False,
    unbiased: bool | None = None,
) -> Tensor:
    """Variance over ``dim``: ``sum((x - mean)**2) / (count - correction)``, a composite.

    Args:
        x: a tensor of any shape.
        dim: as in :func:`sum` (None or ``()``: every dimension).
        correction: subtracted from the count (1: Bessel's unbiased estimate; 0: the
            population variance). Keyword-only, as in PyTorch 2.
        keepdim: keep the reduced dimensions with size 1.
        unbiased: PyTorch's older spelling: True means ``correction=1``, False ``0``.

    Returns:
        The shape of ``sum(x, dim, keepdim)``. Where ``count - correction <= 0`` the result
        is NaN (0 / 0) or inf, as in PyTorch (which also warns; we do not).
    """
    t = as_tensor(x)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axes = reduction_axes("var", dim, t.ndim)
    dof = builtins.max(reduced_count(t.shape, axes) - correction, 0)
    centred = t - mean(t, axes, keepdim=True)
    total = Sum.apply(centred * centred, axes=axes, keepdim=keepdim)
    if dof == 0:  # PyTorch's sum / 0: NaN where the sum is 0, inf elsewhere
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / 0.0
    return total / dof


def std(
    x: Any,
    dim: Dims = None,
    *,
    correction: int | float = 1,
    keepdim: bool = False,
    unbiased: bool | None = None,
) -> Tensor:
    """Standard deviation ``sqrt(var(x, dim, correction=..., keepdim=...))``: see :func:`var`.

    Where the variance is 0 (a constant group) the gradient is 0, as PyTorch's, not the
    NaN of ``0 * sqrt'(0)``: the square root is taken of 1 there, and its result replaced.
    """
    v = var(x, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)
    flat = v.data == 0
    if not flat.any():
        return sqrt(v)
    mask = constant(flat)
    return where(mask, 0.0, sqrt(where(mask, 1.0, v)))


def logsumexp(x: Any, dim: Dims, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x), dim))``, stable: the maximum is subtracted before exponentiating.

    Args:
        x: a tensor of any shape.
        dim: an int or a tuple of ints (required, as in PyTorch); ``()`` or None mean every
            dimension (PyTorch refuses both).
        keepdim: keep the reduced dimensions with size 1.

    Returns:
        The shape of ``sum(x, dim, keepdim)``; -inf over an empty dimension.

    The shift ``m`` (the maximum, 0 where it is not finite) is a constant:
    ``m + log(sum(exp(x - m)))`` has the same derivatives of every order for any ``m``.
    """
    t = as_tensor(x)
    axes = reduction_axes("logsumexp", dim, t.ndim)
    shift = np.zeros(_kept_shape(t.shape, axes))
    if t.numel():
        top = np.max(t.data, axis=axes, keepdims=True)
        shift = np.where(np.isfinite(top), top, 0.0)
    shift = shift.astype(t.dtype if t.dtype in FLOAT_DTYPES else np.float32)
    with np.errstate(divide="ignore"):  # log(0) = -inf over an empty dimension
        out = log(Sum.apply(exp(t - constant(shift)), axes=axes, keepdim=keepdim))
    return out + constant(shift if keepdim else shift.reshape(out.shape))


def sum_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Sum ``x`` down to ``shape``, undoing NumPy broadcasting.

    Raises:
        ValueError: if ``shape`` does not broadcast to ``x.shape``.
    """
    t, to = as_tensor(x), ints("sum_to_size", shape)
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
    t, to = as_tensor(x), ints("broadcast_to", shape)
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
