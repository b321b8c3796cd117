"""Dimension ops (PyTorch names): unsqueeze, squeeze, expand, stack, repeat, split, chunk.

All are composites of primitives: ``reshape`` (unsqueeze, squeeze), ``broadcast_to``
(expand, repeat; its backward is ``sum_to``), ``cat`` (stack) and ``getitem`` (split,
chunk: each piece is a slice), so their gradients of every order come from those.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist._args import dim_index, is_int, sizes
from autograd_mnist.ops.cast import clone
from autograd_mnist.ops.reduction import broadcast_to
from autograd_mnist.ops.shape import cat, getitem, integer_operands, kept_dtype, reshape
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor, as_operands, as_tensor, constant


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
    t, to = as_tensor(x), sizes(size, "expand")
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
    if t.dtype not in FLOAT_DTYPES:  # a read-only view, as torch's expand of an int tensor
        return kept_dtype(t, np.broadcast_to(t.data, full))
    return broadcast_to(t, full)


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension ``dim`` (``torch.stack``;
    ``cat`` of ``unsqueeze``: each input's gradient is its slice).

    Args:
        tensors: a non-empty sequence of tensors of the same shape ``s``: of one integer
            or bool dtype, kept (as torch), else converted to one float dtype, as for
            ``cat``.
        dim: in ``[-len(s) - 1, len(s)]``.

    Returns:
        ``(*s[:dim], len(tensors), *s[dim:])``.

    Raises:
        ValueError: for no tensors or shapes that differ (naming the first two).
        IndexError: if ``dim`` is out of range.
    """
    tensors = tuple(tensors)  # any iterable, read once
    xs = integer_operands(tensors) or as_operands("stack", tensors)
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


def repeat(x: Any, *repeats: int | Sequence[int]) -> Tensor:
    """``x`` tiled ``repeats`` times along each dim (``torch.Tensor.repeat``; a broadcast of
    ``x`` with a new size-1 dim before each of its dims, then a reshape).

    Args:
        x: a tensor of shape ``s``.
        *repeats: one count per dim, as ints or one sequence, at least ``len(s)`` of them:
            extra counts add leading dims (``np.tile``'s rule). A count may be 0.

    Returns:
        A new tensor of shape ``(r * n for r, n in zip(repeats, (1, ..., 1, *s)))``; its
        gradient is the sum of the gradients of every copy.

    Raises:
        TypeError: for a count that is not an int.
        ValueError: for fewer counts than dims or a negative count.
    """
    t = as_tensor(x)
    given = repeats[0] if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)) else repeats
    if not all(is_int(r) for r in given):  # nor bools, which sizes() takes
        raise TypeError(f"repeat: repeats must be ints; got {repeats!r} (tensor {t.shape})")
    reps = sizes(repeats)
    if len(reps) < t.ndim or any(r < 0 for r in reps):
        raise ValueError(
            f"repeat: got repeats {reps} for shape {t.shape}; expected at least {t.ndim} "
            "non-negative counts (one per dim)"
        )
    if t.dtype not in FLOAT_DTYPES:  # integer tensors keep their dtype, as in torch
        return constant(np.tile(t.data, reps))
    shape = (1,) * (len(reps) - t.ndim) + t.shape
    spread = tuple(v for n in shape for v in (1, n))  # (1, s0, 1, s1, ...)
    tiled = tuple(v for r, n in zip(reps, shape) for v in (r, n))  # (r0, s0, r1, s1, ...)
    y = reshape(broadcast_to(reshape(t, spread), tiled), [r * n for r, n in zip(reps, shape)])
    # torch's repeat makes a new tensor: never hand back x's memory (reshape may keep it).
    return clone(y) if np.may_share_memory(y.data, t.data) else y


def _pieces(t: Tensor, d: int, lengths: Sequence[int]) -> tuple[Tensor, ...]:
    out, start = [], 0
    for n in lengths:
        index = (slice(None),) * d + (slice(start, start + n),)
        out.append(getitem(t, index))  # an integer piece keeps its dtype, a view's counter
        start += n
    return tuple(out)


def _split_dim(op: str, t: Tensor, dim: Any) -> int:
    if t.ndim == 0:
        raise ValueError(f"{op}: expects at least a 1-dimensional tensor; got shape ()")
    if not is_int(dim):
        raise TypeError(f"{op}: dim must be an int; got {dim!r} (tensor {t.shape})")
    return dim_index(op, dim, t.ndim, t.shape)


def split(x: Any, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """``x`` cut along ``dim`` into pieces (``torch.split``): slices of ``x``, each with its
    share of the gradient.

    Args:
        x: a tensor with at least 1 dim.
        split_size_or_sections: an int, the size of every piece (the last may be smaller;
            0 only for an empty dim), or a list of sizes summing to ``x.shape[dim]``.
        dim: the dim to cut, negatives allowed.

    Returns:
        A tuple of tensors (pieces of an integer tensor keep its dtype).

    Raises:
        TypeError: for a size that is not an int or a sequence of ints, or a non-int dim.
        ValueError: for a 0-d tensor, a dim out of range, a negative size, a zero size for
            a non-empty dim, or sizes that do not sum to the dim's size.
    """
    t = as_tensor(x)
    d = _split_dim("split", t, dim)
    n, arg = t.shape[d], split_size_or_sections
    if is_int(arg):
        if arg < 0 or (arg == 0 and n > 0):
            raise ValueError(
                f"split: split_size must be positive (0 only for an empty dim); got {arg} "
                f"for dim {dim} of shape {t.shape}"
            )
        lengths = [min(arg, n - s) for s in range(0, n, arg)] if n else [0]
    elif isinstance(arg, (list, tuple)) and all(is_int(v) for v in arg):
        lengths = [int(v) for v in arg]
        if any(v < 0 for v in lengths) or sum(lengths) != n:
            raise ValueError(
                f"split: sizes {lengths} must be non-negative and sum to {n}, the size of dim "
                f"{dim} of shape {t.shape}"
            )
    else:
        raise TypeError(
            f"split: split_size_or_sections must be an int or a list of ints; got {arg!r}"
        )
    return _pieces(t, d, lengths)


def chunk(x: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``x`` cut along ``dim`` into ``chunks`` pieces of ``ceil(size / chunks)`` (the last
    smaller, and fewer pieces when they run out first), as ``torch.chunk``.

    Args:
        x: a tensor with at least 1 dim.
        chunks: the number of pieces, >= 1 (an empty dim gives ``chunks`` empty pieces).
        dim: the dim to cut, negatives allowed.

    Raises:
        TypeError: for a non-int ``chunks`` or dim. ValueError: for a 0-d tensor, a dim out
        of range or ``chunks < 1``.
    """
    t = as_tensor(x)
    d = _split_dim("chunk", t, dim)
    if not is_int(chunks):
        raise TypeError(f"chunk: chunks must be an int; got {chunks!r} (tensor {t.shape})")
    if chunks < 1:
        raise ValueError(f"chunk: chunks must be >= 1; got {chunks} (tensor {t.shape})")
    n = t.shape[d]
    if n == 0:
        return _pieces(t, d, [0] * chunks)
    return split(t, -(-n // chunks), d)
