"""Maxima and minima: max, min (values and indices along a dim), amax, amin, argmax, argmin.

Gradients, as in PyTorch: a full reduction (``x.max()``) and ``amax``/``amin`` split the
gradient evenly among tied extremes (1/k to each of k); ``max(dim)``/``min(dim)`` route it
to the one index they return (the first extreme along ``dim``).
"""

from __future__ import annotations

from typing import Any, NamedTuple, overload

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.ops.elementwise import mul
from autograd_mnist.ops.reduction import (
    Dims,
    _kept_shape,
    broadcast_to,
    normalize_dims,
    reduction_axes,
)
from autograd_mnist.ops.select import maximum, minimum
from autograd_mnist.ops.shape import reshape
from autograd_mnist.tensor import Tensor, as_tensor, constant


class ValuesIndices(NamedTuple):
    """What ``max(dim)``, ``min(dim)``, ``sort`` and ``topk`` return, as
    ``torch.return_types.max`` & co: the values (differentiable) and their int64 indices
    along ``dim``; unpacks as ``values, indices``."""

    values: Tensor
    indices: Tensor


class Extremum(Function):
    """y = max (``largest``) or min of x over ``axes``;  dy/dx = a constant mask.

    ``split`` (full reductions, amax, amin): the mask is 1/k at each of the k tied extremes
    of a group, so it sums to 1 as PyTorch's gradient does. Otherwise (``max(dim)``,
    ``min(dim)``, one axis): 1 at the first extreme along the axis, the index returned.
    The backward is g broadcast back times the mask: linear in g with a constant mask, so
    its own derivative (second order) is exact.
    """

    @staticmethod
    def forward(
        ctx: Extremum,
        x: np.ndarray,
        axes: tuple[int, ...],
        keepdim: bool,
        largest: bool,
        split: bool,
    ) -> np.ndarray:
        kept = np.asarray((np.max if largest else np.min)(x, axis=axes, keepdims=True))
        if any(ctx.needs_input_grad):
            if split or not axes:
                hit = x == kept
                if np.isnan(kept).any():  # a NaN is the extreme of its group, as in torch
                    hit |= np.isnan(x) & np.isnan(kept)
                mask = hit.astype(x.dtype)
                mask /= np.sum(mask, axis=axes, keepdims=True)
            else:
                (axis,) = axes
                idx = (np.argmax if largest else np.argmin)(x, axis=axis, keepdims=True)
                mask = np.zeros(x.shape, dtype=x.dtype)
                np.put_along_axis(mask, idx, 1, axis=axis)
            ctx.save(mask)
        if keepdim:
            return kept
        return kept.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))

    @staticmethod
    def backward(ctx: Extremum, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        spread = broadcast_to(reshape(g, _kept_shape(x.shape, ctx.params["axes"])), x.shape)
        return mul(spread, constant(ctx.saved[0]))


def _check_nonempty(op: str, t: Tensor, axes: tuple[int, ...], dim: Any) -> None:
    if t.numel() == 0 and (not axes or any(t.shape[a] == 0 for a in axes)):
        raise ValueError(
            f"{op}: reduction over an empty dimension; got shape {t.shape} and dim {dim}, "
            "expected a non-zero size in every reduced dimension"
        )


def _one_dim(op: str, dim: Any, ndim: int) -> tuple[int, ...]:
    """The axes of a single int ``dim`` (empty for a 0-d tensor); a tuple is a TypeError."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(
            f"{op}: dim must be an int; got {dim!r}, expected one dimension "
            "(amax/amin reduce over a tuple of dims)"
        )
    return normalize_dims(op, int(dim), ndim)


def _indices(data: np.ndarray, axes: tuple[int, ...], keepdim: bool, largest: bool) -> Tensor:
    find = np.argmax if largest else np.argmin
    if not axes:  # a 0-d tensor: index 0
        return Tensor(np.zeros(data.shape, dtype=np.int64))
    return Tensor(np.asarray(find(data, axis=axes[0], keepdims=keepdim), dtype=np.int64))


def _extreme(op: str, x: Any, dim: Any, keepdim: bool, largest: bool) -> Any:
    t = as_tensor(x)
    if dim is None:
        axes = tuple(range(t.ndim))
        _check_nonempty(op, t, axes, dim)
        return Extremum.apply(t, axes=axes, keepdim=keepdim, largest=largest, split=True)
    axes = _one_dim(op, dim, t.ndim)
    _check_nonempty(op, t, axes, dim)
    values = Extremum.apply(t, axes=axes, keepdim=keepdim, largest=largest, split=False)
    return ValuesIndices(values, _indices(t.data, axes, keepdim, largest))


@overload
def max(x: Any, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def max(x: Any, dim: int, keepdim: bool = False) -> ValuesIndices: ...
def max(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:  # noqa: A001
    """The maximum of all elements, or the maxima and their indices along ``dim``.

    Args:
        x: a tensor with at least one element in each reduced dimension.
        dim: None (every element) or one int (a 0-d tensor takes 0 or -1). For several
            dims use :func:`amax`; a tuple is a TypeError, as in PyTorch. A tensor or an
            array is torch's ``max(input, other)``: :func:`maximum` (``keepdim`` unused).
        keepdim: keep the reduced dimension(s) with size 1. (PyTorch's ``x.max()`` takes
            no ``keepdim``; here it keeps every dimension with size 1.)

    Returns:
        ``dim=None``: a 0-d tensor whose gradient is split evenly among tied maxima.
        Otherwise ``ValuesIndices(values, indices)`` like ``torch.return_types.max``: the
        gradient of ``values`` goes to the returned index, the first maximum along ``dim``.

    Raises:
        TypeError: for a tuple ``dim``. ValueError: a dim out of range, or a reduction over
        an empty dimension (PyTorch raises IndexError or RuntimeError there).
    """
    if isinstance(dim, Tensor | np.ndarray):  # x.max(other), as torch
        return maximum(x, dim)
    return _extreme("max", x, dim, keepdim, largest=True)  # type: ignore[no-any-return]


@overload
def min(x: Any, dim: None = None, keepdim: bool = False) -> Tensor: ...
@overload
def min(x: Any, dim: int, keepdim: bool = False) -> ValuesIndices: ...
def min(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:  # noqa: A001
    """The minimum of all elements, or the minima and their indices along ``dim``: as
    :func:`max`, with the smallest values (a tensor ``dim``: :func:`minimum`)."""
    if isinstance(dim, Tensor | np.ndarray):  # x.min(other), as torch
        return minimum(x, dim)
    return _extreme("min", x, dim, keepdim, largest=False)  # type: ignore[no-any-return]


def _amax(op: str, x: Any, dim: Dims, keepdim: bool, largest: bool) -> Tensor:
    t = as_tensor(x)
    axes = reduction_axes(op, dim, t.ndim)
    _check_nonempty(op, t, axes, dim)
    return Extremum.apply(t, axes=axes, keepdim=keepdim, largest=largest, split=True)


def amax(x: Any, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Maxima over ``dim`` (an int, a tuple of ints; None or ``()``: every dimension).

    Args:
        x: a tensor with at least one element in each reduced dimension.
        dim: the dimension(s) to reduce, negatives allowed.
        keepdim: keep the reduced dimensions with size 1.

    Returns:
        The values only; the gradient is split evenly among tied maxima, as in PyTorch.
        A NaN is a group's maximum and shares its gradient with the group's other NaNs,
        as in PyTorch's full ``max()`` (PyTorch's ``amax`` gives NaN gradients there).

    Raises:
        ValueError: a dim out of range or repeated, or an empty reduced dimension.
    """
    return _amax("amax", x, dim, keepdim, largest=True)


def amin(x: Any, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Minima over ``dim``: as :func:`amax`, with the smallest values."""
    return _amax("amin", x, dim, keepdim, largest=False)


def _arg(op: str, x: Any, dim: int | None, keepdim: bool, largest: bool) -> Tensor:
    t = as_tensor(x)
    find = np.argmax if largest else np.argmin
    if dim is None:
        _check_nonempty(op, t, tuple(range(t.ndim)), dim)
        flat = np.asarray(find(t.data.reshape(-1)), dtype=np.int64)
        return Tensor(flat.reshape((1,) * t.ndim) if keepdim else flat)
    axes = _one_dim(op, dim, t.ndim)
    _check_nonempty(op, t, axes, dim)
    return _indices(t.data, axes, keepdim, largest)


def argmax(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Indices (int64, not differentiable) of the first maxima along ``dim``.

    ``dim=None`` indexes the flattened tensor (with ``keepdim``, in a shape of ones, as
    PyTorch). A tuple ``dim`` is a TypeError; an empty reduced dimension a ValueError.
    """
    return _arg("argmax", x, dim, keepdim, largest=True)


def argmin(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Indices (int64, not differentiable) of the first minima along ``dim``: as
    :func:`argmax`."""
    return _arg("argmin", x, dim, keepdim, largest=False)
