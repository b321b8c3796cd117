"""Shape ops: reshape, permute/transpose, indexing and its adjoint scatter, pad, cat."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist._args import dim_index, ints
from autograd_mnist._layout import zeros_as
from autograd_mnist.function import Function
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor, as_operands, as_tensor, constant


class Reshape(Function):
    """y = x in a new shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx: Reshape, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        y: np.ndarray = x.reshape(shape)
        return y

    @staticmethod
    def backward(ctx: Reshape, g: Tensor) -> Tensor:
        return reshape(g, ctx.inputs[0].shape)


class Permute(Function):
    """y = x with axes reordered;  the gradient is permuted by the inverse order."""

    @staticmethod
    def forward(ctx: Permute, x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        y: np.ndarray = np.transpose(x, dims)
        return y

    @staticmethod
    def backward(ctx: Permute, g: Tensor) -> Tensor:
        return permute(g, tuple(np.argsort(ctx.params["dims"])))


class GetItem(Function):
    """y = x[index];  the gradient is scattered (added) back to the indexed places."""

    @staticmethod
    def forward(ctx: GetItem, x: np.ndarray, index: Any) -> np.ndarray:
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx: GetItem, g: Tensor) -> Tensor:
        return scatter_add(g, ctx.params["index"], ctx.inputs[0].shape)


class ScatterAdd(Function):
    """y = zeros(shape) with x added at ``index`` (repeats add up);  adjoint of x[index]."""

    @staticmethod
    def forward(ctx: ScatterAdd, x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
        out = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(ctx: ScatterAdd, g: Tensor) -> Tensor:
        return GetItem.apply(g, index=ctx.params["index"])


class Pad(Function):
    """y = x with zeros around it (``widths`` per axis, as in np.pad);  backward crops."""

    @staticmethod
    def forward(ctx: Pad, x: np.ndarray, widths: tuple[tuple[int, int], ...]) -> np.ndarray:
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
        out = zeros_as(x, shape)  # in x's memory layout (np.pad's is C order)
        out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, widths))] = x
        return out

    @staticmethod
    def backward(ctx: Pad, g: Tensor) -> Tensor:
        index = tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(ctx.params["widths"]))
        return GetItem.apply(g, index=index)


class Cat(Function):
    """y = the inputs joined along ``dim``;  each input's gradient is its slice of g."""

    @staticmethod
    def forward(ctx: Cat, *arrays: np.ndarray, dim: int) -> np.ndarray:
        y: np.ndarray = np.concatenate(arrays, axis=dim)
        return y

    @staticmethod
    def backward(ctx: Cat, g: Tensor) -> tuple[Tensor | None, ...]:
        dim, start, grads = ctx.params["dim"], 0, []
        for x, needed in zip(ctx.inputs, ctx.needs_input_grad):
            stop = start + x.shape[dim]
            index = (slice(None),) * dim + (slice(start, stop),)
            grads.append(GetItem.apply(g, index=index) if needed else None)
            start = stop
        return tuple(grads)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, np.integer)) or i is None or i is Ellipsis for i in items)


def _normalize_index(index: Any) -> Any:
    """Replace Tensors and lists in an index by integer arrays (bool masks as is)."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, Tensor):
            i = i.data
        if isinstance(i, list):
            i = np.asarray(i) if i else np.zeros(0, dtype=np.intp)  # [] selects nothing
        if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
            raise TypeError(f"getitem: index arrays must be integer or bool; got {i.dtype}")
        out.append(i)
    return tuple(out) if isinstance(index, tuple) else out[0]


def kept_dtype(t: Tensor, data: np.ndarray) -> Tensor:
    """The result ``data`` of a shape op on an integer or bool tensor ``t``: its dtype kept,
    as torch keeps it (a float op would make it float), not differentiable; a view of
    ``t``'s memory shares its version counter, as the views of float tensors do."""
    out = constant(data)
    if np.may_share_memory(data, t.data):
        out._vbox = t._vbox
    return out


def integer_operands(tensors: Sequence[Any]) -> tuple[Tensor, ...] | None:
    """``tensors`` as Tensors if all hold one integer or bool dtype (``cat`` and ``stack``
    keep it, as torch's), else None."""
    first = tensors[0] if len(tensors) else None
    if isinstance(first, Tensor) and first.dtype in FLOAT_DTYPES:
        return None  # the usual case (a conv's weight and bias), decided without wrapping
    ts = tuple(as_tensor(x) for x in tensors)
    kinds = {t.dtype for t in ts}
    if not ts or len(kinds) != 1 or next(iter(kinds)) in FLOAT_DTYPES:
        return None
    return ts


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` with a new shape (one entry may be -1).

    Raises:
        ValueError: if the number of elements differs.
    """
    t, to = as_tensor(x), ints("reshape", shape)
    if to == t.shape:
        return t
    n, known = t.numel(), math.prod([s for s in to if s != -1])
    free = to.count(-1)
    if (
        free > 1
        or any(s < -1 for s in to)
        or (n != known if free == 0 else (known == 0 or n % known))
    ):
        raise ValueError(f"reshape: cannot reshape {t.shape} ({n} elements) to {to}")
    if free:
        to = tuple(n // known if s == -1 else s for s in to)
    if t.dtype not in FLOAT_DTYPES:
        return kept_dtype(t, t.data.reshape(to))
    return Reshape.apply(t, shape=to)


def permute(x: Any, dims: Sequence[int]) -> Tensor:
    """``x`` with its dimensions reordered to ``dims``.

    Raises:
        ValueError: if ``dims`` is not a permutation of the dimensions.
    """
    t, dims = as_tensor(x), ints("permute", dims)
    if any(not -t.ndim <= d < max(t.ndim, 1) for d in dims):
        raise ValueError(
            f"permute: dims {tuple(dims)} out of range; got shape {t.shape}, "
            f"expected dims in [{-t.ndim}, {max(t.ndim - 1, 0)}]"
        )
    order = tuple(d % t.ndim if t.ndim else d for d in dims)
    if sorted(order) != list(range(t.ndim)):
        raise ValueError(f"permute: {order} is not a permutation of {t.ndim} dimensions")
    if order == tuple(range(t.ndim)):
        return t
    if t.dtype not in FLOAT_DTYPES:
        return kept_dtype(t, t.data.transpose(order))
    return Permute.apply(t, dims=order)


def transpose(x: Any, dim0: int, dim1: int) -> Tensor:
    """``x`` with dimensions ``dim0`` and ``dim1`` swapped."""
    t = as_tensor(x)
    dims, n = list(range(t.ndim)), max(t.ndim, 1)  # a 0-d tensor takes 0 and -1, as torch
    for d in (dim0, dim1):
        if not -n <= d < n:
            raise ValueError(f"transpose: dimension {d} out of range for shape {t.shape}")
    if t.ndim == 0:
        return t
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return permute(t, dims)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` to ``end_dim`` (inclusive) into one."""
    t = as_tensor(x)
    n = max(t.ndim, 1)  # a 0-d tensor takes dims 0 and -1, as in PyTorch
    s, e = (dim_index("flatten", d, n, t.shape) for d in (start_dim, end_dim))
    if t.ndim == 0:
        return reshape(t, (1,))
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    # The merged size explicitly: -1 is ambiguous when another dimension is empty.
    merged = math.prod(t.shape[s : e + 1])
    return reshape(t, t.shape[:s] + (merged,) + t.shape[e + 1 :])


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: basic slices, integers, integer or bool arrays, tuples of them."""
    t, index = as_tensor(x), _normalize_index(index)
    try:
        np.broadcast_to(np.int8(0), t.shape)[index]
    except IndexError as e:
        raise IndexError(f"getitem: {e}; tensor shape {t.shape}") from None
    if t.dtype not in FLOAT_DTYPES:
        return kept_dtype(t, np.asarray(t.data[index]))
    return GetItem.apply(t, index=index)


def scatter_add(x: Any, index: Any, shape: Sequence[int]) -> Tensor:
    """A zero tensor of ``shape`` with ``x`` added at ``index`` (the adjoint of indexing)."""
    return ScatterAdd.apply(x, index=_normalize_index(index), shape=tuple(shape))


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension ``dim`` (``torch.cat``).

    Raises:
        ValueError: for no tensors, 0-d tensors, ``dim`` out of range, or shapes that
            differ in another dimension (naming every shape).
    """
    tensors = tuple(tensors)  # any iterable, read once
    ints = integer_operands(tensors)
    xs = ints if ints is not None else as_operands("cat", tensors)
    if not xs:
        raise ValueError("cat: expected at least one tensor")
    shapes = [x.shape for x in xs]
    ndim = xs[0].ndim
    if ndim == 0 or not -ndim <= dim < ndim:
        raise ValueError(f"cat: dimension {dim} out of range for shapes {shapes}")
    dim %= ndim
    rest = {s[:dim] + s[dim + 1 :] for s in shapes}
    if any(len(s) != ndim for s in shapes) or len(rest) > 1:
        raise ValueError(f"cat: shapes must match except in dimension {dim}; got {shapes}")
    if ints is not None:
        return constant(np.concatenate([x.data for x in xs], axis=dim))
    return Cat.apply(*xs, dim=dim)  # a new array even for one tensor, as torch.cat


def pad(x: Any, widths: Sequence[tuple[int, int]]) -> Tensor:
    """Pad with zeros: ``widths[i] = (before, after)`` for axis i, as in ``np.pad``."""
    t, w = as_tensor(x), tuple((int(a), int(b)) for a, b in widths)
    if len(w) != t.ndim or any(a < 0 or b < 0 for a, b in w):
        raise ValueError(f"pad: widths {w} do not fit shape {t.shape}")
    return Pad.apply(t, widths=w)  # always a new array (torch's F.pad), even with no widths
