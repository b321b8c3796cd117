"""The version counter, the in-place methods and NumPy's ufunc hook of every Tensor.

:class:`InPlace` is a base of :class:`~autograd_mnist._tensor_base.TensorBase`. In-place
methods (``add_ sub_ mul_ div_ pow_ zero_ fill_ copy_ clamp_``, ``+= -= *= /= **=``)
follow PyTorch: they change ``data`` in place, add one to the tensor's version and return
the same tensor. They are not recorded: in grad mode they refuse a tensor that requires grad (a
leaf, with PyTorch's error; a tensor made by an op, where PyTorch would record them by
rebasing the graph, which without PyTorch's version counters shared among views could be
silently wrong) and an operand that requires grad. Recorded ops keep their inputs'
versions, and backward refuses an input changed since
(:meth:`~autograd_mnist.function.Function.check_versions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from autograd_mnist.grad_mode import _mode

if TYPE_CHECKING:
    from autograd_mnist.function import Function

_S = TypeVar("_S", bound="InPlace")


class InPlace:
    """Versions and in-place operations; the attributes are TensorBase's."""

    __slots__ = ("_vbox",)
    _vbox: list[int]  # the version counter, one box shared by a tensor and its views

    if TYPE_CHECKING:
        data: np.ndarray
        requires_grad: bool
        _ctx: Function | None

        @property
        def shape(self) -> tuple[int, ...]: ...

    @property
    def _vc(self) -> int:
        """The version (the engine's short name)."""
        return self._vbox[0]

    @property
    def _version(self) -> int:
        """PyTorch's name for :attr:`version`."""
        return self._vbox[0]

    @property
    def version(self) -> int:
        """How many in-place operations changed this tensor (read-only).

        Every in-place method (``add_``, ``+=``, ``zero_``, ``copy_``...) and every optimizer
        step adds one. A recorded op keeps its inputs' versions, and backward raises
        ``RuntimeError`` if one changed since. As in PyTorch, a view (``x.reshape(...)``,
        ``x[1:]``, ``x.T``, ``x.detach()``: an op whose result shares ``x``'s memory)
        shares ``x``'s counter, so a change of either is caught in a graph that used the
        other. Writes through the raw ``.data`` array are not counted (as in PyTorch).
        """
        return self._vbox[0]

    def _bump_version(self) -> None:
        """Count an in-place change of ``data`` (for code writing into it directly, such
        as the optimizers)."""
        self._vbox[0] += 1

    def _check_inplace(self, op: str, *operands: Any) -> None:
        """Refuse an in-place change that would make a wrong graph: in grad mode, on a
        tensor that requires grad or with an operand that does (in-place ops are not
        recorded); and, always, one whose memory is read-only."""
        if not self.data.flags.writeable:
            raise RuntimeError(
                f"{op}: cannot write into a read-only tensor of shape {self.shape} (an "
                "expand() or broadcast view, whose elements share memory, or a read-only "
                "array); expected a tensor of its own: clone() it first"
            )
        if not _mode.enabled:
            return
        if self.requires_grad and self._ctx is None:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place "
                f"operation; got a leaf of shape {self.shape} that requires grad, expected "
                "the change under no_grad() (with no_grad(): w -= lr * w.grad)"
            )
        if self.requires_grad:
            raise RuntimeError(
                f"{op}: in-place operations are not recorded; got a tensor of shape "
                f"{self.shape} made by {type(self._ctx).__name__}, expected an out-of-place "
                "op (y = y + x) or the change under no_grad()"
            )
        for o in operands:
            if isinstance(o, InPlace) and o.requires_grad:
                raise RuntimeError(
                    f"{op}: in-place operations are not recorded; got an operand of shape "
                    f"{o.shape} that requires grad, written into a tensor of shape "
                    f"{self.shape} that does not, expected an out-of-place op (y = y + x)"
                )

    def _write(self: _S, op: str, ufunc: Callable[..., Any], *operands: Any) -> _S:
        """``data = ufunc(data, *operands)`` in place (operands broadcast to this shape,
        results cast to this dtype as NumPy's ``same_kind`` allows), counted."""
        self._check_inplace(op, *operands)
        arrays = [_raw(o) for o in operands]
        self._check_broadcast(op, arrays)
        try:
            ufunc(self.data, *arrays, out=self.data)
        except TypeError as e:  # NumPy's casting rule: no float result into an int tensor
            dtypes = ", ".join(str(np.result_type(a)) for a in arrays)
            raise TypeError(
                f"{op}: {e}; got operand dtypes {dtypes}, expected results castable to the "
                f"tensor's {self.data.dtype}"
            ) from e
        self._vbox[0] += 1
        return self

    def _check_broadcast(self, op: str, arrays: list[Any]) -> None:
        shapes = [np.shape(a) for a in arrays]
        try:
            ok = np.broadcast_shapes(self.shape, *shapes) == self.shape
        except ValueError:
            ok = False
        if not ok:
            got = ", ".join(str(s) for s in shapes)
            raise ValueError(
                f"{op}: operands do not broadcast to the tensor's shape; got {got}, "
                f"expected shapes broadcasting to {self.shape}"
            )

    def add_(self: _S, other: Any, *, alpha: float = 1) -> _S:
        """``self += alpha * other`` in place; returns self (see :meth:`zero_` for when
        in-place operations are allowed)."""
        self._check_inplace("add_", other)  # before alpha strips a Tensor to its array
        return self._write("add_", np.add, other if alpha == 1 else _raw(other) * alpha)

    def sub_(self: _S, other: Any, *, alpha: float = 1) -> _S:
        """``self -= alpha * other`` in place; returns self."""
        self._check_inplace("sub_", other)
        return self._write("sub_", np.subtract, other if alpha == 1 else _raw(other) * alpha)

    def mul_(self: _S, other: Any) -> _S:
        """``self *= other`` in place; returns self."""
        return self._write("mul_", np.multiply, other)

    def div_(self: _S, other: Any) -> _S:
        """``self /= other`` in place; returns self."""
        return self._write("div_", np.true_divide, other)

    def pow_(self: _S, exponent: Any) -> _S:
        """``self **= exponent`` in place; returns self."""
        return self._write("pow_", np.power, exponent)

    def __iadd__(self: _S, other: Any) -> _S:
        return self._write("__iadd__", np.add, other)

    def __isub__(self: _S, other: Any) -> _S:
        return self._write("__isub__", np.subtract, other)

    def __imul__(self: _S, other: Any) -> _S:
        return self._write("__imul__", np.multiply, other)

    def __itruediv__(self: _S, other: Any) -> _S:
        return self._write("__itruediv__", np.true_divide, other)

    def __ipow__(self: _S, exponent: Any) -> _S:
        return self._write("__ipow__", np.power, exponent)

    def clamp_(self: _S, min: Any = None, max: Any = None) -> _S:  # noqa: A002 - torch's names
        """Clip the values to ``[min, max]`` in place (either may be None); returns self."""
        return self._clamp("clamp_", min, max)

    def clip_(self: _S, min: Any = None, max: Any = None) -> _S:  # noqa: A002 - torch's names
        """Alias of :meth:`clamp_`."""
        return self._clamp("clip_", min, max)

    def _clamp(self: _S, op: str, lo: Any, hi: Any) -> _S:
        if lo is None and hi is None:
            raise ValueError(f"{op}: got min=None and max=None, expected at least one bound")
        return self._write(op, np.clip, lo, hi)

    def zero_(self: _S) -> _S:
        """Set every element to 0 in place; returns self.

        In-place methods (``add_ sub_ mul_ div_ pow_ zero_ fill_ copy_ clamp_`` and
        ``+= -= *= /= **=``) follow PyTorch: they change ``data`` in place, add one to
        :attr:`version` and return the same tensor. They are allowed under ``no_grad()``
        (``w`` stays the same leaf, with its ``grad``) and on tensors that do not require
        grad. In grad mode they raise ``RuntimeError`` on a leaf that requires grad (as
        PyTorch does) and, unlike PyTorch, which records them, also on a tensor made by a
        recorded op or with an operand that requires grad: write ``y = y + x`` there.
        """
        self._check_inplace("zero_")
        self.data.fill(0)
        self._vbox[0] += 1
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value`` in place (NumPy's indexing; ``value`` broadcast and cast),
        counted like the other in-place methods, with their rules."""
        self._check_inplace("__setitem__", value)
        index = tuple(_raw(i) for i in index) if isinstance(index, tuple) else _raw(index)
        try:
            self.data[index] = _raw(value)
        except (IndexError, ValueError, TypeError) as e:
            raise type(e)(f"__setitem__: {e}; tensor shape {self.shape}") from None
        self._vbox[0] += 1

    def masked_fill_(self: _S, mask: Any, value: Any) -> _S:
        """Set the elements where the bool ``mask`` (broadcast to this shape) holds to
        ``value``, converted to this dtype as :meth:`fill_` does (``2.5`` is 2 in an int
        tensor, as torch).

        Raises:
            TypeError: for a mask that is not bool. ValueError: for a mask that does not
                broadcast to this shape.
        """
        self._check_inplace("masked_fill_", value)
        m = np.asarray(_raw(mask))
        if m.dtype != np.bool_:
            raise TypeError(
                f"masked_fill_: mask must be bool; got dtype {m.dtype} (shape {m.shape}) for a "
                f"tensor of shape {self.shape}, expected a comparison such as x > 0"
            )
        self._check_broadcast("masked_fill_", [m])
        np.copyto(self.data, _raw(value), casting="unsafe", where=m)
        self._vbox[0] += 1
        return self

    def fill_(self: _S, value: Any) -> _S:
        """Set every element to ``value`` (a number or a one-element tensor) in place."""
        self._check_inplace("fill_", value)
        self.data.fill(_raw(value))
        self._vbox[0] += 1
        return self

    def copy_(self: _S, src: Any) -> _S:
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor in
        place; returns self."""
        self._check_inplace("copy_", src)
        a = _raw(src)
        self._check_broadcast("copy_", [a])
        np.copyto(self.data, a, casting="unsafe")
        self._vbox[0] += 1
        return self

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy's hook for ufuncs with a Tensor operand.

        With an ``out`` array (``arr -= t``, ``np.add(a, t, out=arr)``: an update of a plain
        array) the ufunc runs on the tensors' arrays. An arithmetic or comparison operator
        with an array first (``arr * t``) calls the Tensor's operator (``t.__rmul__(arr)``),
        so it is recorded. Anything else returns NotImplemented (NumPy raises TypeError).
        """
        out = kwargs.get("out")
        if out is not None:
            if method == "__call__" and all(o is None or type(o) is np.ndarray for o in out):
                return ufunc(*[_raw(x) for x in inputs], **kwargs)
            return NotImplemented
        names = _OPERATORS.get(ufunc)
        if names is None or method != "__call__" or len(inputs) != 2 or kwargs:
            return NotImplemented
        a, b = inputs
        first = isinstance(a, InPlace)
        fn = getattr(a if first else b, names[0 if first else 1], None)
        return NotImplemented if fn is None else fn(b if first else a)


# ufunc -> (the Tensor's operator when it comes first, when it comes second)
_OPERATORS: dict[Any, tuple[str, str]] = {
    np.add: ("__add__", "__radd__"),
    np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"),
    np.true_divide: ("__truediv__", "__rtruediv__"),
    np.matmul: ("__matmul__", "__rmatmul__"),
    np.power: ("__pow__", "__rpow__"),
    np.equal: ("__eq__", "__eq__"),
    np.not_equal: ("__ne__", "__ne__"),
    np.less: ("__lt__", "__gt__"),
    np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"),
    np.greater_equal: ("__ge__", "__le__"),
}


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, InPlace) else x
