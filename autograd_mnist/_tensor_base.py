"""TensorBase: the array, its gradient and its graph link, without any op.

:class:`~autograd_mnist.tensor.Tensor` subclasses it with the differentiable operators and
methods, which dispatch into ``ops``; what is here needs no op (construction, shape and
dtype, conversions, printing, the non-differentiable comparisons; the version counter and
the in-place operations, which are not recorded, are in :mod:`._inplace`), so this module
stays out of the tensor <-> ops import cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import numpy as np

from autograd_mnist import autograd
from autograd_mnist._inplace import InPlace
from autograd_mnist._tensor_aliases import TorchAliases
from autograd_mnist.hooks import (
    RemovableHandle,
    TensorHook,
    register_hook,
    retain_grad,
    retains_grad,
)

if TYPE_CHECKING:
    from autograd_mnist.function import Function
    from autograd_mnist.tensor import Tensor

_T = TypeVar("_T", bound="TensorBase")

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The float dtypes the engine computes in (gradients exist only for these)."""


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert constructor data to an array following the package's dtype rules."""
    if isinstance(data, TensorBase):
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
    out = np.asarray(data, dtype=np.float32)
    if np.isnan(out).any() and _holds_none(data):  # NumPy reads None as NaN; torch raises
        raise TypeError(f"Tensor: cannot make a tensor of None; got {data!r}, expected numbers")
    return out


def _holds_none(data: Any) -> bool:
    """True if ``data`` is None or a (nested) list or tuple holding None."""
    if isinstance(data, (list, tuple)):
        return any(_holds_none(d) for d in data)
    return data is None


class TensorBase(InPlace, TorchAliases):
    """The data side of :class:`~autograd_mnist.tensor.Tensor`: the array, the gradient, the
    graph link and ``backward``, conversions and printing; the version counter and the
    in-place methods come from :class:`~autograd_mnist._inplace.InPlace`, PyTorch's method
    spellings (``mul``, ``type``, ``device``...) from ``_tensor_aliases.TorchAliases``. Every
    differentiable method is on ``Tensor``, whose docstring gives the constructor's
    arguments and dtype rules.

    Attributes:
        data: the ``np.ndarray`` holding the values. Writes through it (``t.data[0] = 1``,
            ``w.data -= lr * g``) are not counted by :attr:`version`, as in PyTorch: use
            the in-place methods (``w.sub_(lr * g)``) to have backward check them.
        grad: the accumulated gradient (a Tensor that does not require grad), or None.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_ctx", "_hooks", "__weakref__")

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if not isinstance(requires_grad, bool | np.bool_):
            raise TypeError(
                f"Tensor: requires_grad must be a bool; got {requires_grad!r} (a shape is "
                "not a first argument here: for a (2, 3) tensor use am.zeros(2, 3))"
            )
        arr = _to_array(data, dtype)
        if requires_grad and arr.dtype not in FLOAT_DTYPES:
            if arr.dtype.kind not in "iub":
                raise TypeError(f"Tensor: only float tensors can require grad; got {arr.dtype}")
            arr = arr.astype(np.float32)
        self.data: np.ndarray = arr
        self.grad: Tensor | None = None
        self.requires_grad: bool = bool(requires_grad)
        self.name: str | None = name
        self._ctx: Function | None = None
        self._hooks: dict[int, TensorHook] | None = None
        self._vbox = [0]

    @classmethod
    def _wrap(cls: type[_T], data: np.ndarray, grad_fn: Function | None) -> _T:
        """Fast constructor for op outputs, no conversion or validation: a tensor made by
        ``grad_fn`` (requiring grad), or a constant when it is None."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = grad_fn is not None
        t.name = None
        t._ctx = grad_fn
        t._hooks = None
        t._vbox = [0]
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

    @overload
    def size(self, dim: None = None) -> tuple[int, ...]: ...
    @overload
    def size(self, dim: int) -> int: ...
    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, as ``torch.Tensor.size``: a tuple of ints, or one int for ``dim``.

        ``t.size()`` is ``t.shape`` (a plain tuple: PyTorch returns ``torch.Size``, a tuple
        subclass). Unlike NumPy's ``.size`` this is a method, not the element count: use
        :meth:`numel` for that.

        Args:
            dim: a dimension (negative counts from the end); None for the whole shape.

        Raises:
            IndexError: if ``dim`` is out of range (as PyTorch).
        """
        if dim is None:
            return self.data.shape
        n = self.data.ndim
        if not -n <= dim < n:
            rule = f"a dim in [{-n}, {n - 1}]" if n else "no dim (a 0-d tensor has none)"
            raise IndexError(
                f"size: dimension {dim} out of range; got a tensor of shape {self.shape}, "
                f"expected {rule}"
            )
        return int(self.data.shape[dim])

    def numel(self) -> int:
        """The number of elements (NumPy's ``.size``)."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of ``data``."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        """The op that produced this tensor (None for a leaf)."""
        return self._ctx

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

    def detach(self: _T) -> _T:
        """A new leaf sharing this tensor's data (and its version counter, as PyTorch's),
        cut from the graph."""
        t = type(self)._wrap(self.data, None)
        t._vbox = self._vbox
        return t

    def requires_grad_(self: _T, requires_grad: bool = True) -> _T:
        """Set ``requires_grad`` in place (leaves only); returns self."""
        if requires_grad and self.dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"requires_grad_: only float tensors can require grad; got {self.dtype}"
            )
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("requires_grad_: can only change it on a leaf tensor")
        self.requires_grad = bool(requires_grad)
        return self

    # ----- gradient hooks (autograd_mnist.hooks) -----
    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        *,
        grad: Any = None,
    ) -> None:
        """Accumulate gradients into the ``.grad`` of every leaf that requires grad.

        ``gradient`` is PyTorch's name for the upstream gradient (``grad=`` also works);
        ``retain_graph`` defaults to ``create_graph``, as in PyTorch. See
        :func:`autograd_mnist.autograd.backward` for the arguments.
        """
        if grad is not None and gradient is not None:
            raise TypeError("backward: give the upstream gradient once (gradient= or grad=)")
        keep = create_graph if retain_graph is None else retain_graph
        autograd.backward(
            cast("Tensor", self), gradient if grad is None else grad, keep, create_graph
        )

    def register_hook(self, hook: TensorHook) -> RemovableHandle:
        """Call ``hook(grad)`` with this tensor's gradient during backward, as in PyTorch.

        A result other than None replaces the gradient (a Tensor of the same shape and
        dtype). On a leaf the hooks run before the gradient is accumulated into
        ``.grad``; on a non-leaf, once its gradient is complete, before it flows on.
        Hooks run in registration order; with ``create_graph=True`` they see a gradient
        with a graph, and their result is part of the higher-order graph.

        Args:
            hook: ``hook(grad) -> Tensor | None``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Raises:
            RuntimeError: if this tensor does not require grad.

        Example:
            >>> h = w.register_hook(lambda g: g.clamp(-1, 1))   # clip w's gradient
            >>> loss.backward(); h.remove()
        """
        return register_hook(self, hook)

    def retain_grad(self) -> None:
        """Fill ``.grad`` of this non-leaf during backward (after its hooks ran), adding
        up over backward calls as a leaf's does; on a leaf it does nothing.

        Raises:
            RuntimeError: if this tensor does not require grad.
        """
        retain_grad(self)

    @property
    def retains_grad(self) -> bool:
        """True when :meth:`retain_grad` was called on this non-leaf (False on leaves)."""
        return retains_grad(self)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``grad`` to None)."""
        self.grad = None

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # NumPy 2 asks for a copy (np.array) or allows a view (np.asarray): honour it, or
        # a "snapshot" np.array(t) would change with the tensor.
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self.data.shape[0])

    def __iter__(self: _T) -> Iterator[_T]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))  # type: ignore[index]

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:  # f"{loss:.4f}", as PyTorch
            return format(self.data.item(), spec)
        return object.__format__(self, spec)

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(
                f"only integer tensors of a single element can be converted to an index; "
                f"got dtype {self.data.dtype}, shape {self.shape}"
            )
        return int(self.data.item())

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

    # ----- comparisons (not differentiable: bool tensors) -----
    # Elementwise, as in PyTorch and NumPy: not object's bool-valued __eq__.
    def __eq__(self: _T, other: Any) -> _T:  # type: ignore[override]
        return type(self)(self.data == raw(other))

    def __ne__(self: _T, other: Any) -> _T:  # type: ignore[override]
        return type(self)(self.data != raw(other))

    def __lt__(self: _T, other: Any) -> _T:
        return type(self)(self.data < raw(other))

    def __le__(self: _T, other: Any) -> _T:
        return type(self)(self.data <= raw(other))

    def __gt__(self: _T, other: Any) -> _T:
        return type(self)(self.data > raw(other))

    def __ge__(self: _T, other: Any) -> _T:
        return type(self)(self.data >= raw(other))

    __hash__ = object.__hash__
    # comparisons as methods (PyTorch's names): the operators' aliases
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # ----- logic on bool and integer tensors (not differentiable), as PyTorch's -----
    def __invert__(self: _T) -> _T:
        return type(self)(_logical("~", np.invert, self))

    def __and__(self: _T, other: Any) -> _T:
        return type(self)(_logical("&", np.bitwise_and, self, other))

    def __or__(self: _T, other: Any) -> _T:
        return type(self)(_logical("|", np.bitwise_or, self, other))

    def __xor__(self: _T, other: Any) -> _T:
        return type(self)(_logical("^", np.bitwise_xor, self, other))

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def contiguous(self: _T) -> _T:
        """This tensor (memory layout is not visible here: see docs/pytorch.md)."""
        return self

    def cpu(self: _T) -> _T:
        """This tensor: the CPU is the only device (``x.cpu().numpy()`` works)."""
        return self

    def long(self: _T) -> _T:
        """This tensor as int64 (``self`` if it already is), not differentiable: class
        indices for ``cross_entropy``, as PyTorch's ``t.long()`` (floats are truncated)."""
        if self.data.dtype == np.int64:
            return self
        return type(self)(self.data.astype(np.int64))


def _logical(op: str, fn: Any, *operands: Any) -> np.ndarray:
    arrays = [raw(o) for o in operands]
    if any(np.asarray(a).dtype.kind not in "biu" for a in arrays):
        kinds = ", ".join(str(np.asarray(a).dtype) for a in arrays)
        raise TypeError(f"{op}: bool or integer tensors only; got {kinds}")
    out: np.ndarray = fn(*arrays)
    return out


def raw(x: Any) -> Any:
    """The NumPy array of a Tensor; anything else unchanged."""
    return x.data if isinstance(x, TensorBase) else x
