"""Dimension ops (PyTorch names): unsqueeze, squeeze, expand, stack.

All are composites of primitives: ``reshape`` (unsqueeze, squeeze), ``broadcast_to``
(expand; its backward is ``sum_to``) and ``cat`` (stack), so their gradients of every order
come from those.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist._args import dim_index, sizes
from autograd_mnist.ops.reduction import broadcast_to
from autograd_mnist.ops.shape import cat, reshape
from autograd_mnist.tensor import Tensor, as_operands, as_tensor


def _dim_in(op: str, dim: int, n: int, shape: tuple[int, ...]) -> int:
    """``dim`` in ``[-n, n)`` as a non-negative index (IndexError naming op and shape)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int; got {dim!r}")
    return dim_index(op, dim, n, shape, IndexError)


def unsqueeze(x: Any, dim: int) -> Tensor:
    """``x`` with a new dimension of size 1 at ``dim`` (``torch.unsqueeze``; a reshape).

    Args:
        x: a tensor of shape ``(*s)``, ``ndim`` dimensions.
        dim: in ``[-ndim - 1, ndim]``; negative counts from the end of the result.

    Returns:
        ``(*s[:dim], 1, *s[dim:])``.

    Raises:
        IndexError: if ``dim`` is out of range.
    """
    t = as_tensor(x)
    d = _dim_in("unsqueeze", dim, t.ndim + 1, t.shape)
    return reshape(t, t.shape[:d] + (1,) + t.shape[d:])


def squeeze(x: Any, dim: int | Sequence[int] | None = None) -> Tensor:
    """``x`` without its size-1 dimensions (``torch.squeeze``, 2.x; a reshape).

    Args:
        x: a tensor.
        dim: None (every size-1 dimension), an int or a tuple of ints; a named dimension
            whose size is not 1 is left alone, as in PyTorch. A 0-d tensor accepts dim 0
            and -1.

    Raises:
        IndexError: if a dimension is out of range.
        ValueError: if a dimension is repeated.
    """
    t = as_tensor(x)
    n = max(t.ndim, 1)
    if dim is None:
        named = set(range(t.ndim))
    else:
        dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
        named = {_dim_in("squeeze", d, n, t.shape) for d in dims}
        if len(named) != len(dims):
            raise ValueError(f"squeeze: repeated dimension in {dims}; got shape {t.shape}")
    return reshape(t, tuple(s for i, s in enumerate(t.shape) if not (i in named and s == 1)))


def expand(x: Any, *size: int | Sequence[int]) -> Tensor:
    """``x`` broadcast to ``size`` (``torch.Tensor.expand``; ``broadcast_to``, whose
    backward sums the gradient back: ``sum_to``).

    Args:
        x: a tensor of shape ``s``.
        *size: the new shape, as ints or one sequence; -1 keeps the size of that
            dimension. New dimensions go in front (-1 is not allowed there), and only
            size-1 dimensions can grow.

    Raises:
        ValueError: naming both shapes, if ``s`` does not expand to ``size``.
    """
    t, to = as_tensor(x), sizes(size)
    lead = len(to) - t.ndim
    if lead < 0:
        raise ValueError(
            f"expand: got {len(to)} sizes {to} for shape {t.shape}; "
            f"expected at least {t.ndim} sizes"
        )
    if any(s == -1 for s in to[:lead]):
        raise ValueError(f"expand: -1 is not allowed in a new leading dimension; got {to}")
    full = to[:lead] + tuple(o if s == -1 else s for s, o in zip(to[lead:], t.shape))
    if any(s < 0 for s in full) or any(o not in (1, s) for s, o in zip(full[lead:], t.shape)):
        raise ValueError(
            f"expand: cannot expand shape {t.shape} to {to}; expected each size to equal "
            "the tensor's or the tensor's to be 1"
        )
    return broadcast_to(t, full)


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension ``dim`` (``torch.stack``;
    ``cat`` of ``unsqueeze``: each input's gradient is its slice).

    Args:
        tensors: a non-empty sequence of tensors of the same shape ``s`` (converted to
            one float dtype, as for ``cat``: integer tensors become float, unlike torch).
        dim: in ``[-len(s) - 1, len(s)]``.

    Returns:
        ``(*s[:dim], len(tensors), *s[dim:])``.

    Raises:
        ValueError: for no tensors or shapes that differ (naming the first two).
        IndexError: if ``dim`` is out of range.
    """
    xs = as_operands("stack", tuple(tensors))
    if not xs:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for k, x in enumerate(xs[1:], 1):
        if x.shape != xs[0].shape:
            raise ValueError(
                f"stack: expected each tensor to be equal size; got {xs[0].shape} at "
                f"entry 0 and {x.shape} at entry {k}"
            )
    d = _dim_in("stack", dim, xs[0].ndim + 1, xs[0].shape)
    return cat([unsqueeze(x, d) for x in xs], d)
