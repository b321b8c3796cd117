"""PyTorch's method spellings of what Tensor has as operators and conversions, and a few
methods composed of them (``expand_as``, ``square``, ``argsort``) or not differentiable
(``any``, ``all``, ``nonzero``).

:class:`TorchAliases` is a base of :class:`~autograd_mnist._tensor_base.TensorBase`, as
:class:`~autograd_mnist._inplace.InPlace` is: ``t.mul(u)`` is ``t * u``, ``t.add(u,
alpha=2)`` is ``t + 2 * u``, ``t.type(am.float)`` is ``t.to(am.float)``, and ``t.device`` is
the CPU. Each calls the Tensor's own operator or method, so it is recorded (and
differentiable) exactly as the operator is, without importing ``ops``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from autograd_mnist import devices

if TYPE_CHECKING:
    from autograd_mnist.tensor import Tensor


class TorchAliases:
    """Method forms of the operators, ``type``, ``device`` and ``is_cuda``."""

    __slots__ = ()

    @property
    def device(self) -> devices.device:
        """The device the tensor is on: always ``am.device("cpu")`` (prints as ``cpu``)."""
        return devices.CPU

    @property
    def is_cuda(self) -> bool:
        """False: the CPU is the only device."""
        return False

    def mul(self, other: Any) -> Tensor:
        """``self * other`` (broadcast; differentiable), as ``torch.Tensor.mul``."""
        return _me(self).__mul__(other)

    def div(self, other: Any) -> Tensor:
        """``self / other`` (true division; differentiable), as ``torch.Tensor.div``."""
        return _me(self).__truediv__(other)

    def add(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self + alpha * other`` (differentiable), as ``torch.Tensor.add``."""
        return _me(self).__add__(_scaled(_me(self), other, alpha))

    def sub(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self - alpha * other`` (differentiable), as ``torch.Tensor.sub``."""
        return _me(self).__sub__(_scaled(_me(self), other, alpha))

    def expand_as(self, other: Any) -> Tensor:
        """``self.expand(other.shape)`` (differentiable), as ``torch.Tensor.expand_as``."""
        return _me(self).expand(np.shape(getattr(other, "data", other)))

    def square(self) -> Tensor:
        """``self * self`` (differentiable), as ``torch.Tensor.square``."""
        t = _me(self)
        return t * t

    def argsort(self, dim: int = -1, descending: bool = False) -> Tensor:
        """The indices that sort ``dim`` (int64), as ``torch.Tensor.argsort``: the
        ``indices`` of :meth:`sort` (stable here: the lower index first among ties)."""
        return _me(self).sort(dim, descending).indices

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Whether any element (along ``dim``) is nonzero: a bool tensor."""
        return _truth("any", np.any, _me(self), dim, keepdim)

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Whether every element (along ``dim``) is nonzero: a bool tensor."""
        return _truth("all", np.all, _me(self), dim, keepdim)

    def nonzero(self) -> Tensor:
        """The indices of the nonzero elements, int64 of shape (count, ndim), in row-major
        order, as ``torch.Tensor.nonzero``."""
        t = _me(self)
        return type(t)(np.argwhere(t.data).astype(np.int64))

    def type(self, dtype: Any = None) -> Any:
        """This tensor in ``dtype``, as ``self.to(dtype)`` (``self`` if it already has it):
        ``(pred.argmax(1) == y).type(am.float)``. Without ``dtype``, the dtype's name
        (``'float32'``; PyTorch returns its legacy type name, ``'torch.FloatTensor'``)."""
        t = _me(self)
        return t.dtype.name if dtype is None else t.to(dtype)


def _truth(op: str, fn: Any, t: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    """``fn`` (``np.any``/``np.all``) over ``dim`` (None: every element) as a bool tensor.

    Raises:
        ValueError: for a dim out of range, naming the op and the shape.
    """
    if dim is not None and not -max(t.ndim, 1) <= dim < max(t.ndim, 1):
        raise ValueError(f"{op}: dim {dim} out of range for a tensor of shape {t.shape}")
    axis = None if dim is None or t.ndim == 0 else dim
    kept = keepdim and dim is not None
    return type(t)(np.asarray(fn(t.data, axis=axis, keepdims=kept), dtype=np.bool_))


def _me(t: TorchAliases) -> Tensor:
    """``t`` as the Tensor it is (every TorchAliases is one), for the type checker."""
    return cast("Tensor", t)


def _scaled(t: Tensor, other: Any, alpha: float) -> Any:
    """``alpha * other`` for ``add``/``sub``, with the operators' dtype rules: a number, a
    list or an integer array is taken in ``t``'s dtype first (so a list is not repeated and
    a number keeps ``t``'s precision); a tensor or a float array keeps its dtype."""
    if alpha == 1:
        return other
    is_float_array = isinstance(other, np.ndarray) and other.dtype.kind == "f"
    if not (hasattr(other, "requires_grad") or is_float_array):
        other = type(t)(other, dtype=t.dtype)
    return other * alpha
