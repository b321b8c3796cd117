"""Vector norms (``Tensor.norm``, ``torch.linalg.vector_norm``), composed of engine ops.

The p-norm over ``dim`` is ``(sum |x|**p) ** (1/p)`` over the flattened reduced dims; p = 1,
2, inf and -inf take shorter paths (a sum of ``abs``, a square root of a sum of squares,
``amax``/``amin`` of ``abs``). Where a formula's derivative is 0/0 (a group of zeros, or a
zero element raised to p < 1), the gradient is 0, as PyTorch's ``norm_backward`` masks it:
the offending values are swapped for 1 before the power and the result put back with
``where``, so no NaN reaches any order of derivative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_mnist._args import is_int, is_number
from autograd_mnist.ops.elementwise import abs, mul, pow, sqrt
from autograd_mnist.ops.extrema import _check_nonempty, amax, amin
from autograd_mnist.ops.reduction import Dims, reduction_axes, sum
from autograd_mnist.ops.select import where
from autograd_mnist.tensor import Tensor, as_tensor, constant


def _order(p: Any, dim: Dims) -> float:
    """``p`` as a float: 2.0 for 'fro'; inf, -inf or a positive number."""
    if isinstance(p, str):
        n_dims = 1 if dim is None or is_int(dim) else len(dim)  # type: ignore[arg-type]
        if p == "fro" and (dim is None or n_dims <= 2):
            return 2.0
        raise ValueError(
            f"norm: p={p!r} is not supported with dim={dim!r}; expected 'fro' (over at most "
            "2 dims, or all of them), inf, -inf or a positive number"
        )
    if not is_number(p):
        raise TypeError(f"norm: p must be a number or 'fro'; got {p!r}")
    if not (float(p) > 0 or float(p) == -math.inf):
        raise ValueError(f"norm: p must be positive, inf or -inf; got {p!r}")
    return float(p)


def _masked(s: Tensor, zero: np.ndarray, fn: Any) -> Tensor:
    """``fn(s)``, but 0 with a zero gradient where ``zero`` holds (fn sees 1 there)."""
    if not zero.any():
        return fn(s)  # type: ignore[no-any-return]
    mask = constant(zero)
    return where(mask, 0.0, fn(where(mask, 1.0, s)))


def norm(x: Any, p: Any = "fro", dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The vector ``p``-norm of ``x`` over ``dim`` (``Tensor.norm``, ``torch.norm``).

    As ``torch.linalg.vector_norm``: the reduced dims are treated as one flattened vector.

    Args:
        x: a tensor of any shape (integer tensors become float32, as for ``sum``).
        p: 'fro' (the 2-norm, over at most 2 dims or all), 2, 1, ``math.inf`` (the largest
            ``|x|``), ``-math.inf`` (the smallest) or any other positive number.
        dim: None (every dim), an int or a tuple of ints, negatives allowed.
        keepdim: keep the reduced dims with size 1.

    Returns:
        The shape of ``sum(x, dim, keepdim)``. Gradients as PyTorch's: 0 for a group of
        zeros (p = 2: ``x / norm`` there is 0/0), ``sign(x)`` for p = 1; inf and -inf
        split the gradient evenly among tied extremes of ``|x|``.

    Raises:
        TypeError: for a ``p`` that is neither a number nor a string, or a non-int dim.
        ValueError: for p <= 0, NaN, 'nuc' or another string, 'fro' over more than 2 dims,
            a dim out of range or repeated, or inf/-inf over an empty dim.
    """
    t = as_tensor(x)
    order = _order(p, dim)
    axes = reduction_axes("norm", dim, t.ndim)
    if math.isinf(order):
        _check_nonempty("norm", t, axes, dim)
        return (amax if order > 0 else amin)(abs(t), axes, keepdim)
    if order == 1.0:
        return sum(abs(t), axes, keepdim)
    if order == 2.0:
        squares = sum(mul(t, t), axes, keepdim)
        return _masked(squares, squares.data == 0, sqrt)
    a = abs(t)
    powers = _masked(a, a.data == 0, lambda v: pow(v, order))  # 0 ** p, p < 1: 0/0 slope
    total = sum(powers, axes, keepdim)
    return _masked(total, total.data == 0, lambda v: pow(v, 1.0 / order))
