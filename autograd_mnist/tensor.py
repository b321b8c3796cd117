"""Tensor: a NumPy array that records the ops applied to it.

Operator dunders and methods are written out, one line each, calling into ``ops`` (imported
at the bottom of this module: the one import cycle, tensor <-> ops); the data side is
:class:`~autograd_mnist._tensor_base.TensorBase`. The engine (:mod:`autograd_mnist.function`,
:mod:`autograd_mnist.autograd`) does not import this module: the bottom of this module
hands ``Function.apply`` the Tensor constructors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from autograd_mnist import function
from autograd_mnist._args import keeps_bool, operand_dtype, sizes
from autograd_mnist._tensor_base import FLOAT_DTYPES, TensorBase, raw

if TYPE_CHECKING:
    from autograd_mnist.ops.extrema import ValuesIndices

__all__ = [
    "FLOAT_DTYPES",
    "Tensor",
    "as_operands",
    "as_tensor",
    "constant",
    "raw",
    "tensor",
]


class Tensor(TensorBase):
    """An n-dimensional array with reverse-mode automatic differentiation.

    Args:
        data: array-like. Float arrays keep their dtype (float32 or float64); Python
            scalars and lists become float32; integer and bool arrays stay as they are
            (labels, indices) and become float when used in a float op. The array is
            used without copying when it already has the right dtype.
        requires_grad: record ops on this tensor so ``backward`` can reach it. Integer
            data is converted to float32 when this is True.
        name: a label shown by :mod:`autograd_mnist.viz`.
        dtype: optional NumPy dtype to convert ``data`` to.

    Attributes:
        data: the ``np.ndarray`` holding the values. Writes through it (``t.data[0] = 1``,
            ``w.data -= lr * g``) are not counted by ``version``, as in PyTorch: use the
            in-place methods (``w.sub_(lr * g)``) to have backward check them.
        grad: the accumulated gradient (a Tensor that does not require grad), or None.
    """

    __slots__ = ()

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dimensions reversed (a transpose for 2-D tensors)."""
        return _ops.permute(self, tuple(reversed(range(self.ndim))))

    # ----- arithmetic (differentiable) -----
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, exponent: float) -> Tensor:
        return _ops.pow(self, exponent)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # ----- in-place (PyTorch semantics) -----
    # add_ sub_ mul_ div_ zero_ fill_ copy_ clamp_ and += -= *= /= are not recorded and need
    # no op: they are on every tensor's base, autograd_mnist._inplace.InPlace.

    # ----- methods (PyTorch names) -----
    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return _ops.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (also ``abs(t)``)."""
        return _ops.abs(self)

    __abs__ = abs

    def relu(self) -> Tensor:
        """Elementwise max(x, 0)."""
        return _ops.relu(self)

    def sigmoid(self) -> Tensor:
        """Elementwise 1 / (1 + e**-x)."""
        return _ops.sigmoid(self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return _ops.tanh(self)

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Sum over ``dim`` (all dimensions when None)."""
        return _ops.sum(self, dim, keepdim)

    def sum_to_size(self, *size: int | Sequence[int]) -> Tensor:
        """Sum down to ``size``, undoing broadcasting (raises ValueError if it does not
        broadcast to this tensor's shape)."""
        return _ops.sum_to(self, sizes(size, "sum_to_size"))

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Mean over ``dim`` (all dimensions when None)."""
        return _ops.mean(self, dim, keepdim)

    @overload
    def max(self, dim: None = None, keepdim: bool = False) -> Tensor: ...
    @overload
    def max(self, dim: int, keepdim: bool = False) -> ValuesIndices: ...
    def max(self, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
        """The maximum (ties share the gradient), or ``(values, indices)`` along an int
        ``dim`` (the gradient goes to the index returned): :func:`autograd_mnist.ops.max`."""
        return _ops.max(self, dim, keepdim)

    @overload
    def min(self, dim: None = None, keepdim: bool = False) -> Tensor: ...
    @overload
    def min(self, dim: int, keepdim: bool = False) -> ValuesIndices: ...
    def min(self, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
        """The minimum, or ``(values, indices)`` along ``dim``: as :meth:`max`."""
        return _ops.min(self, dim, keepdim)

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Maxima over ``dim`` (ints; all when None); ties share the gradient."""
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Minima over ``dim`` (ints; all when None); ties share the gradient."""
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Indices of the first maxima (int64, not differentiable; None: flattened)."""
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Indices of the first minima (int64, not differentiable; None: flattened)."""
        return _ops.argmin(self, dim, keepdim)

    def var(
        self,
        dim: Any = None,
        *,
        correction: float = 1,
        keepdim: bool = False,
        unbiased: bool | None = None,
    ) -> Tensor:
        """Variance over ``dim`` with ``correction``: :func:`autograd_mnist.ops.var`."""
        return _ops.var(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def std(
        self,
        dim: Any = None,
        *,
        correction: float = 1,
        keepdim: bool = False,
        unbiased: bool | None = None,
    ) -> Tensor:
        """Standard deviation over ``dim``: :func:`autograd_mnist.ops.std`."""
        return _ops.std(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``dim``, stable: :func:`autograd_mnist.ops.logsumexp`."""
        return _ops.logsumexp(self, dim, keepdim)

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same data in a new shape (one dimension may be -1)."""
        return _ops.reshape(self, sizes(shape, "reshape"))

    view = reshape

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions."""
        return _ops.transpose(self, dim0, dim1)

    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        """Reorder dimensions."""
        return _ops.permute(self, sizes(dims, "permute"))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim..end_dim`` into one."""
        return _ops.flatten(self, start_dim, end_dim)

    matmul = __matmul__

    def t(self) -> Tensor:
        """The transpose of a 2-D tensor (a 0-D or 1-D one unchanged), as PyTorch's."""
        return _ops.transpose(self, 0, 1) if self.ndim == 2 else self

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where the bool ``mask`` (broadcast) holds, else this tensor."""
        return _ops.where(mask, value, self)

    # ----- shape, dtype and elementwise methods (PyTorch names) -----
    def unsqueeze(self, dim: int) -> Tensor:
        """A new size-1 dimension at ``dim`` (see :func:`~autograd_mnist.ops.unsqueeze`)."""
        return _ops.unsqueeze(self, dim)

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        """Drop size-1 dimensions: all, or those in ``dim`` (an int or a tuple)."""
        return _ops.squeeze(self, dim)

    def expand(self, *size: int | Sequence[int]) -> Tensor:
        """Broadcast to ``size`` (-1 keeps a dimension); the gradient is summed back."""
        return _ops.expand(self, *size)

    def clone(self) -> Tensor:
        """A differentiable copy with its own memory."""
        return _ops.clone(self)

    def to(self, *args: Any, dtype: Any = None, copy: bool = False, device: Any = None) -> Tensor:
        """This tensor in another dtype (differentiable between float32 and float64), as
        PyTorch's: ``to(dtype)``, ``to(other_tensor)`` (its dtype), ``to("cpu")``,
        ``to(am.device("cpu"))`` or ``device=`` (the only device: a no-op; others raise
        ValueError). ``self`` when nothing changes, unless ``copy``. Float to integer or bool
        gives a tensor that does not require grad. Raises TypeError for an unsupported dtype."""
        return _ops.to(self, *args, dtype=dtype, copy=copy, device=device)

    def view_as(self, other: Any) -> Tensor:
        """``view(other.shape)``, as PyTorch's (``other``: a Tensor or an array)."""
        return _ops.reshape(self, tuple(other.shape))

    def type_as(self, other: Any) -> Tensor:
        """This tensor in ``other``'s dtype (``self`` if it already has it)."""
        return self.to(other.dtype)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """Limit to ``[min, max]``; the gradient is 1 inside (bounds included), 0 outside."""
        return _ops.clamp(self, min, max)

    clip = clamp

    def pow(self, exponent: Any) -> Tensor:
        """Elementwise ``self ** exponent``: a Python number, or a tensor (broadcast;
        differentiable in both)."""
        return _ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _ops.pow(base, self)

    def sin(self) -> Tensor:
        """Elementwise sine."""
        return _ops.sin(self)

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        return _ops.cos(self)

    def double(self) -> Tensor:
        """This tensor as float64 (``self`` if it already is); differentiable."""
        return self.to(np.float64)

    def float(self) -> Tensor:
        """This tensor as float32 (``self`` if it already is); differentiable."""
        return self.to(np.float32)

    # ----- norms, pieces, sorting and new tensors (PyTorch names) -----
    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
        """The vector ``p``-norm over ``dim``: :func:`autograd_mnist.ops.norm`."""
        return _ops.norm(self, p, dim, keepdim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunks`` pieces along ``dim``: :func:`autograd_mnist.ops.chunk`."""
        return _ops.chunk(self, chunks, dim)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces of a size, or of a list of sizes: :func:`autograd_mnist.ops.split`."""
        return _ops.split(self, split_size, dim)

    def repeat(self, *repeats: int | Sequence[int]) -> Tensor:
        """This tensor tiled along each dim: :func:`autograd_mnist.ops.repeat`."""
        return _ops.repeat(self, *repeats)

    def sort(
        self, dim: int = -1, descending: bool = False, *, stable: bool = False
    ) -> ValuesIndices:
        """``(values, indices)`` sorted along ``dim``: :func:`autograd_mnist.ops.sort`."""
        return _ops.sort(self, dim, descending, stable=stable)

    def topk(
        self,
        k: int,
        dim: int = -1,
        largest: bool = True,
        sorted: bool = True,  # noqa: A002
    ) -> ValuesIndices:
        """The ``k`` largest (smallest) ``(values, indices)``: :func:`autograd_mnist.ops.topk`."""
        return _ops.topk(self, k, dim, largest, sorted)

    def new_full(
        self, size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """A new tensor of ``size`` in this dtype: :func:`autograd_mnist.ops.new_full`."""
        return _ops.new_full(self, size, fill_value, dtype, requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of ``size`` (ints or one sequence) in this dtype (unless ``dtype``)."""
        return _ops.new_full(self, size, 0, dtype, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones of ``size`` (ints or one sequence) in this dtype (unless ``dtype``)."""
        return _ops.new_full(self, size, 1, dtype, requires_grad)


def tensor(
    data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None
) -> Tensor:
    """Create a Tensor (see :class:`Tensor` for the dtype rules). From a Tensor, a copy of
    its data (as ``torch.tensor``), never its memory; a NumPy array is wrapped as it is."""
    if isinstance(data, Tensor):
        data = data.data.copy()
    return Tensor(data, requires_grad=requires_grad, name=name, dtype=dtype)


def as_tensor(data: Any) -> Tensor:
    """``data`` itself if it is a Tensor, else ``Tensor(data)`` (same dtype rules)."""
    return data if isinstance(data, Tensor) else Tensor(data)


def constant(array: np.ndarray) -> Tensor:
    """A tensor that does not require grad, wrapping ``array`` as is: no copy, no dtype
    conversion (for masks, saved values and other constants inside ops)."""
    return Tensor._wrap(array, None)


def as_operands(op: str, inputs: Sequence[Any]) -> tuple[Tensor, ...]:
    """Wrap op inputs as Tensors of one float dtype.

    Python and NumPy scalars take the dtype of the float tensors and arrays among
    ``inputs`` (float32 if none), as PyTorch treats them; integer and bool arrays are
    converted to it, except bool Tensors where :func:`~autograd_mnist._args.keeps_bool`
    (masks beside a float: NumPy promotes them without a copy). Mixed float32/float64
    raises TypeError.
    """
    dtype = operand_dtype(op, inputs)
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            keep = x.data.dtype == dtype or (x.data.dtype == np.bool_ and keeps_bool(op, inputs))
            out.append(x if keep else constant(x.data.astype(dtype)))
        elif isinstance(x, np.ndarray) and x.dtype == dtype:
            out.append(constant(x))
        else:
            out.append(constant(np.asarray(x, dtype=dtype)))
    return tuple(out)


# Function.apply makes its operands and outputs with these: the engine cannot import this
# module (it is imported by it), so the type is handed over once, here.
function.register_tensor(as_operands, Tensor._wrap)

# The one import cycle: ops import Tensor, and the dunders above dispatch into ops.
from autograd_mnist import ops as _ops  # noqa: E402
