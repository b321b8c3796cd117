"""PyTorch's top-level names for what this package has as Tensor methods or NumPy does:
``am.flatten(x, 1)`` as ``torch.flatten(x, 1)``, ``am.max(out, 1)`` as ``torch.max(out, 1)``,
``am.from_numpy``, ``am.device``...

Each function is the Tensor method of the same name applied to its first argument (a
Tensor, or anything :func:`~autograd_mnist.tensor.as_tensor` accepts), so both forms
compute the same thing with the same errors; they are written out so that the signatures
are visible to IDEs and type checkers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist.arithmetic import write_out
from autograd_mnist.devices import device
from autograd_mnist.ops import ValuesIndices
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor, as_tensor

__all__ = [
    "abs",
    "allclose",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "chunk",
    "clamp",
    "clip",
    "clone",
    "cos",
    "device",
    "eq",
    "equal",
    "exp",
    "flatten",
    "from_numpy",
    "ge",
    "gt",
    "is_tensor",
    "le",
    "log",
    "logsumexp",
    "lt",
    "masked_fill",
    "matmul",
    "max",
    "mean",
    "min",
    "mm",
    "ne",
    "norm",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "sin",
    "sort",
    "split",
    "sqrt",
    "squeeze",
    "std",
    "sum",
    "tanh",
    "topk",
    "transpose",
    "unsqueeze",
    "var",
]


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing ``array``'s memory, as ``torch.from_numpy`` (float32 and float64
    arrays keep their dtype, integer and bool arrays stay integer: see :class:`Tensor`).

    Raises:
        TypeError: if ``array`` is not a NumPy array, or its dtype is one a Tensor cannot
            hold without a copy (float16, complex, a non-native byte order...): the result
            would not share its memory.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array; got {type(array).__name__}")
    dt = array.dtype
    if not dt.isnative or not (dt in FLOAT_DTYPES or dt.kind in "iub"):
        raise TypeError(
            f"from_numpy: cannot share the memory of a {dt.str} array (shape {array.shape}); "
            "expected float32, float64, an integer or bool dtype in native byte order: "
            "convert it first, e.g. a.astype(np.float32)"
        )
    return Tensor(array)


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a :class:`Tensor`."""
    return isinstance(obj, Tensor)


def allclose(
    input: Any,  # noqa: A002 - PyTorch's name
    other: Any,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    equal_nan: bool = False,
) -> bool:
    """``|input - other| <= atol + rtol |other|`` everywhere (broadcast), as torch's."""
    a, b = (x.data if isinstance(x, Tensor) else np.asarray(x) for x in (input, other))
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Any, other: Any) -> bool:  # noqa: A002 - PyTorch's name
    """Same shape and the same values, as ``torch.equal``."""
    a, b = (x.data if isinstance(x, Tensor) else np.asarray(x) for x in (input, other))
    return a.shape == b.shape and bool(np.array_equal(a, b))


def exp(input: Any) -> Tensor:  # noqa: A002
    """``input.exp()``."""
    return as_tensor(input).exp()


def log(input: Any) -> Tensor:  # noqa: A002
    """``input.log()``."""
    return as_tensor(input).log()


def sqrt(input: Any) -> Tensor:  # noqa: A002
    """``input.sqrt()``."""
    return as_tensor(input).sqrt()


def abs(input: Any) -> Tensor:  # noqa: A001, A002
    """``input.abs()``."""
    return as_tensor(input).abs()


def relu(input: Any) -> Tensor:  # noqa: A002
    """``input.relu()``."""
    return as_tensor(input).relu()


def sigmoid(input: Any) -> Tensor:  # noqa: A002
    """``input.sigmoid()``."""
    return as_tensor(input).sigmoid()


def tanh(input: Any) -> Tensor:  # noqa: A002
    """``input.tanh()``."""
    return as_tensor(input).tanh()


def clamp(input: Any, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A001, A002
    """``input.clamp(min, max)``."""
    return as_tensor(input).clamp(min, max)


def sum(input: Any, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """``input.sum(dim, keepdim)``."""
    return as_tensor(input).sum(dim, keepdim)


def mean(input: Any, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.mean(dim, keepdim)``."""
    return as_tensor(input).mean(dim, keepdim)


def max(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001, A002
    """``input.max(dim, keepdim)``: the maximum, or ``(values, indices)`` along ``dim``
    (``_, predicted = am.max(outputs, 1)``); ``am.max(a, b)`` with a tensor or array ``b``
    is ``am.maximum(a, b)``, as ``torch.max(input, other)``."""
    if isinstance(dim, Tensor | np.ndarray):
        return ops.maximum(input, dim)
    return as_tensor(input).max(dim, keepdim)


def min(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001, A002
    """``input.min(dim, keepdim)``; ``am.min(a, b)`` with a tensor or array ``b`` is
    ``am.minimum(a, b)``, as ``torch.min(input, other)``."""
    if isinstance(dim, Tensor | np.ndarray):
        return ops.minimum(input, dim)
    return as_tensor(input).min(dim, keepdim)


def argmax(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.argmax(dim, keepdim)``."""
    return as_tensor(input).argmax(dim, keepdim)


def argmin(input: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.argmin(dim, keepdim)``."""
    return as_tensor(input).argmin(dim, keepdim)


def matmul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input @ other`` (written into ``out``: :func:`~autograd_mnist.arithmetic.write_out`)."""
    return write_out("matmul", as_tensor(input).matmul(other), out)


def mm(input: Any, mat2: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """The product of two 2-D tensors, as ``torch.mm`` (``out=`` as :func:`matmul`'s).

    Raises:
        ValueError: if either is not 2-D.
    """
    a, b = as_tensor(input), as_tensor(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: expected two 2-D tensors; got shapes {a.shape} and {b.shape}")
    return write_out("mm", a @ b, out)


def reshape(input: Any, shape: int | Sequence[int]) -> Tensor:  # noqa: A002
    """``input.reshape(shape)``."""
    return as_tensor(input).reshape(shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """``input.flatten(start_dim, end_dim)`` (``am.flatten(x, 1)`` keeps the batch)."""
    return as_tensor(input).flatten(start_dim, end_dim)


def transpose(input: Any, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """``input.transpose(dim0, dim1)``."""
    return as_tensor(input).transpose(dim0, dim1)


def permute(input: Any, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``input.permute(dims)``."""
    return as_tensor(input).permute(dims)


def squeeze(input: Any, dim: int | Sequence[int] | None = None) -> Tensor:  # noqa: A002
    """``input.squeeze(dim)``."""
    return as_tensor(input).squeeze(dim)


def unsqueeze(input: Any, dim: int) -> Tensor:  # noqa: A002
    """``input.unsqueeze(dim)``."""
    return as_tensor(input).unsqueeze(dim)


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.norm(p, dim, keepdim)``."""
    return as_tensor(input).norm(p, dim, keepdim)


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``input.chunk(chunks, dim)``."""
    return as_tensor(input).chunk(chunks, dim)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """``tensor.split(split_size_or_sections, dim)`` (``torch.split``'s argument names)."""
    return as_tensor(tensor).split(split_size_or_sections, dim)


def topk(
    input: Any,  # noqa: A002
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,  # noqa: A002
) -> ValuesIndices:
    """``input.topk(k, dim, largest, sorted)``."""
    return as_tensor(input).topk(k, dim, largest, sorted)


def sort(
    input: Any,  # noqa: A002
    dim: int = -1,
    descending: bool = False,
    *,
    stable: bool = False,
) -> ValuesIndices:
    """``input.sort(dim, descending, stable=stable)``."""
    return as_tensor(input).sort(dim, descending, stable=stable)


def sin(input: Any) -> Tensor:  # noqa: A002
    """``input.sin()``."""
    return as_tensor(input).sin()


def cos(input: Any) -> Tensor:  # noqa: A002
    """``input.cos()``."""
    return as_tensor(input).cos()


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001, A002
    """``input ** exponent`` (a number or a tensor; a number ``input`` with a tensor
    exponent too, as ``torch.pow``)."""
    if not isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return exponent.__rpow__(input)
    return as_tensor(input).pow(exponent)


def amax(input: Any, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.amax(dim, keepdim)``."""
    return as_tensor(input).amax(dim, keepdim)


def amin(input: Any, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.amin(dim, keepdim)``."""
    return as_tensor(input).amin(dim, keepdim)


def logsumexp(input: Any, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.logsumexp(dim, keepdim)``."""
    return as_tensor(input).logsumexp(dim, keepdim)


def std(input: Any, dim: Any = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.std(dim, correction=, keepdim=)``."""
    return as_tensor(input).std(dim, correction=correction, keepdim=keepdim)


def var(input: Any, dim: Any = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``input.var(dim, correction=, keepdim=)``."""
    return as_tensor(input).var(dim, correction=correction, keepdim=keepdim)


def clip(input: Any, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A001, A002
    """``input.clip(min, max)``, an alias of :func:`clamp`."""
    return as_tensor(input).clip(min, max)


def clone(input: Any) -> Tensor:  # noqa: A002
    """``input.clone()``."""
    return as_tensor(input).clone()


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """``input.masked_fill(mask, value)``."""
    return as_tensor(input).masked_fill(mask, value)


def eq(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input == other`` (a bool tensor)."""
    return as_tensor(input).eq(other)


def ne(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input != other`` (a bool tensor)."""
    return as_tensor(input).ne(other)


def gt(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input > other`` (a bool tensor)."""
    return as_tensor(input).gt(other)


def ge(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input >= other`` (a bool tensor)."""
    return as_tensor(input).ge(other)


def lt(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input < other`` (a bool tensor)."""
    return as_tensor(input).lt(other)


def le(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input <= other`` (a bool tensor)."""
    return as_tensor(input).le(other)
