"""Sorting: sort and topk, each a ``(values, indices)`` named tuple like ``max(dim)``.

The indices come from a stable NumPy argsort; the values are ``x`` gathered at them with
``getitem`` (an integer-array index), whose backward scatters (adds) the gradient back to
the selected places: each selected element gets its own gradient, the others 0, at any
order. NaN sorts as the largest value, as in PyTorch.

Ties: equal values keep their original order (the lower index first) whichever the
direction, which is what ``torch.sort(stable=True)`` returns. ``torch.sort`` without
``stable`` and ``torch.topk`` may order tied values' indices otherwise (the values agree).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist._args import dim_index, is_int
from autograd_mnist.ops.cast import clone
from autograd_mnist.ops.extrema import ValuesIndices
from autograd_mnist.ops.shape import getitem
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor, as_tensor, constant


def _axis(op: str, t: Tensor, dim: Any) -> int:
    if not is_int(dim):
        raise TypeError(f"{op}: dim must be an int; got {dim!r} (tensor {t.shape})")
    return dim_index(op, dim, max(t.ndim, 1), t.shape)


def stable_order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Indices sorting ``data`` along ``axis``; ties (and NaNs) keep their order."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    # Ascending on the reversed array, reversed back: NaN first, ties still in index order.
    flipped = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    out: np.ndarray = data.shape[axis] - 1 - np.flip(flipped, axis)
    return out


def _gather(t: Tensor, idx: np.ndarray, axis: int) -> ValuesIndices:
    """``(t`` at ``idx`` along ``axis``, ``idx``): differentiable for float tensors."""
    index = tuple(
        idx if a == axis else np.arange(n).reshape([-1 if b == a else 1 for b in range(idx.ndim)])
        for a, n in enumerate(idx.shape)
    )
    indices = Tensor(idx.astype(np.int64, copy=False))
    if t.dtype not in FLOAT_DTYPES:  # integer values keep their dtype, as in torch
        return ValuesIndices(constant(t.data[index]), indices)
    return ValuesIndices(getitem(t, index), indices)


def _scalar(t: Tensor) -> ValuesIndices:
    """sort / topk of a 0-d tensor: itself and index 0, as torch."""
    values = clone(t) if t.dtype in FLOAT_DTYPES else constant(t.data.copy())
    return ValuesIndices(values, Tensor(np.zeros((), dtype=np.int64)))


def sort(x: Any, dim: int = -1, descending: bool = False, *, stable: bool = False) -> ValuesIndices:
    """``x`` sorted along ``dim`` and where each value came from (``torch.sort``).

    Args:
        x: a tensor (a 0-d one takes dim 0 or -1 and is returned as it is).
        dim: the dimension to sort, negatives allowed.
        descending: largest first.
        stable: accepted for torch's signature: the sort is always stable here.

    Returns:
        ``ValuesIndices(values, indices)``, both of ``x``'s shape; ``indices`` int64. The
        gradient of ``values`` goes back to the element each came from.

    Raises:
        TypeError: for a non-int dim. ValueError: for a dim out of range.
    """
    t = as_tensor(x)
    axis = _axis("sort", t, dim)
    if t.ndim == 0:
        return _scalar(t)
    return _gather(t, stable_order(t.data, axis, bool(descending)), axis)


def topk(x: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices
    (``torch.topk``).

    Args:
        x: a tensor (a 0-d one takes dim 0 or -1 and k 0 or 1, and is returned as it is,
            as in torch).
        k: how many, ``0 <= k <= x.shape[dim]``.
        dim: the dimension, negatives allowed.
        largest: the largest values (else the smallest).
        sorted: accepted for torch's signature: the values always come sorted (largest
            first when ``largest``), a valid order for ``sorted=False`` too.

    Returns:
        ``ValuesIndices(values, indices)`` of ``x``'s shape with ``k`` at ``dim``; among
        tied values the lower index comes first (torch's CPU topk may pick other tied
        indices: the values agree). The gradient goes to the selected elements.

    Raises:
        TypeError: for a non-int k or dim. ValueError: for k out of range or a dim out of
        range.
    """
    t = as_tensor(x)
    axis = _axis("topk", t, dim)
    if not is_int(k):
        raise TypeError(f"topk: k must be an int; got {k!r} (tensor {t.shape})")
    n = t.shape[axis] if t.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(
            f"topk: k out of range; got k={k} for dim {dim} of shape {t.shape}, "
            f"expected 0 <= k <= {n}"
        )
    if t.ndim == 0:
        return _scalar(t)
    order = stable_order(t.data, axis, bool(largest))
    return _gather(t, np.take(order, np.arange(k), axis=axis), axis)
