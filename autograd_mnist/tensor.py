"""Tensor: a NumPy array that records the ops applied to it.

Operator dunders and methods are written out, one line each, calling into ``ops`` (imported
at the bottom of this module: the one import cycle, tensor <-> ops). The engine
(:mod:`autograd_mnist.autograd`) does not import this module: the bottom of this module
registers the Tensor type with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist import autograd, function
from autograd_mnist._args import sizes

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The float dtypes the engine computes in (gradients exist only for these)."""


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert constructor data to an array following the package's dtype rules."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = np.asarray(data)
        if arr.dtype in FLOAT_DTYPES or arr.dtype.kind in "iub":
            return arr
        if arr.dtype.kind == "f":
            return arr.astype(np.float32)
        raise TypeError(f"Tensor: unsupported dtype {arr.dtype}; expected a float or int array")
    return np.asarray(data, dtype=np.float32)


class Tensor:
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
        data: the ``np.ndarray`` holding the values.
        grad: the accumulated gradient (a Tensor that does not require grad), or None.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_ctx", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to our reflected operators (ndarray * Tensor)

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        arr = _to_array(data, dtype)
        if requires_grad and arr.dtype not in FLOAT_DTYPES:
            if arr.dtype.kind not in "iub":
                raise TypeError(f"Tensor: only float tensors can require grad; got {arr.dtype}")
            arr = arr.astype(np.float32)
        self.data: np.ndarray = arr
        self.grad: Tensor | None = None
        self.requires_grad: bool = bool(requires_grad)
        self.name: str | None = name
        self._ctx: function.Function | None = None

    @classmethod
    def _wrap(cls, data: np.ndarray, grad_fn: function.Function | None) -> Tensor:
        """Fast constructor for op outputs, no conversion or validation: a tensor made by
        ``grad_fn`` (requiring grad), or a constant when it is None."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = grad_fn is not None
        t.name = None
        t._ctx = grad_fn
        return t

    # ----- properties and conversions -----
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape, a tuple of ints."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of ``data``."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op."""
        return self._ctx is None

    @property
    def grad_fn(self) -> function.Function | None:
        """The op that produced this tensor (None for a leaf)."""
        return self._ctx

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dimensions reversed (a transpose for 2-D tensors)."""
        return _ops.permute(self, tuple(reversed(range(self.ndim))))

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert; got shape {self.shape}")
        value: float | int | bool = self.data.item()
        return value

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._wrap(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only); returns self."""
        if requires_grad and self.dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"requires_grad_: only float tensors can require grad; got {self.dtype}"
            )
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("requires_grad_: can only change it on a leaf tensor")
        self.requires_grad = requires_grad
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``grad`` to None)."""
        self.grad = None

    def backward(
        self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Accumulate gradients into the ``.grad`` of every leaf that requires grad.

        See :func:`autograd_mnist.autograd.backward` for the arguments.
        """
        autograd.backward(self, grad, retain_graph, create_graph)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self.data.shape[0])

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", prefix="tensor(")
        extra = f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn={type(self._ctx).__name__}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

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

    # ----- comparisons (not differentiable: bool tensors) -----
    # Elementwise, as in PyTorch and NumPy: not object's bool-valued __eq__.
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor(self.data == raw(other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor(self.data != raw(other))

    def __lt__(self, other: Any) -> Tensor:
        return Tensor(self.data < raw(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor(self.data <= raw(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor(self.data > raw(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor(self.data >= raw(other))

    __hash__ = object.__hash__

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
        """Elementwise absolute value."""
        return _ops.abs(self)

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
        return _ops.sum_to(self, sizes(size))

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Mean over ``dim`` (all dimensions when None)."""
        return _ops.mean(self, dim, keepdim)

    def max(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Maxima over ``dim`` (values only); the gradient goes to the first maximum."""
        return _ops.max(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Indices of the maxima (int64, not differentiable)."""
        return Tensor(np.argmax(self.data, axis=dim, keepdims=keepdim))

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same data in a new shape (one dimension may be -1)."""
        return _ops.reshape(self, sizes(shape))

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """Alias of :meth:`reshape`."""
        return _ops.reshape(self, sizes(shape))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions."""
        return _ops.transpose(self, dim0, dim1)

    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        """Reorder dimensions."""
        return _ops.permute(self, sizes(dims))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim..end_dim`` into one."""
        return _ops.flatten(self, start_dim, end_dim)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with NumPy's ``matmul`` semantics."""
        return _ops.matmul(self, other)


def raw(x: Any) -> Any:
    """The NumPy array of a Tensor; anything else unchanged."""
    return x.data if isinstance(x, Tensor) else x


def tensor(
    data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None
) -> Tensor:
    """Create a Tensor (see :class:`Tensor` for the dtype rules)."""
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

    Python scalars take the dtype of the float tensors among ``inputs`` (float32 if none);
    integer arrays (and bool arrays not yet wrapped) are converted to it; bool Tensors
    (masks) are kept, NumPy promotes them without a copy. Mixed float32/float64 raises
    TypeError.
    """
    dtype: np.dtype[Any] | None = None
    for x in inputs:
        arr = x.data if isinstance(x, Tensor) else x
        if isinstance(arr, (np.ndarray, np.generic)) and arr.dtype in FLOAT_DTYPES:
            if dtype is None:
                dtype = arr.dtype
            elif arr.dtype != dtype:
                shapes = [getattr(i, "shape", ()) for i in inputs]
                dtypes = [str(getattr(i, "dtype", type(i).__name__)) for i in inputs]
                raise TypeError(
                    f"{op}: mixed float dtypes {dtypes} (shapes {shapes}); "
                    "expected one dtype: convert with .data.astype(...) first"
                )
    dtype = dtype or np.dtype(np.float32)
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            keep = x.data.dtype == dtype or x.data.dtype == np.bool_  # bool masks stay bool
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
