"""Copies and dtype conversions: clone, cast (``Tensor.to``, ``float``, ``double``), and
``Tensor.new_full`` (a new tensor in another's dtype).

Both are differentiable: a clone's gradient is the upstream gradient, a cast's is the
upstream gradient cast back to the input's dtype (float32 <-> float64), so gradients of any
order flow through a change of precision. Integer and bool tensors (which never require
grad) convert without a graph; a float tensor cast to an integer or bool dtype gives a
tensor that does not require grad, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist._tensor_base import TensorBase
from autograd_mnist.devices import DEVICES
from autograd_mnist.function import Function
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor, as_tensor, constant


class Cast(Function):
    """y = x converted to ``dtype`` (a float dtype);  the gradient is converted back."""

    @staticmethod
    def forward(ctx: Cast, x: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
        y: np.ndarray = x.astype(dtype)  # a copy in x's memory layout (order "K")
        return y

    @staticmethod
    def backward(ctx: Cast, g: Tensor) -> Tensor:
        return Cast.apply(g, dtype=ctx.inputs[0].dtype)


class Clone(Function):
    """y = a copy of x;  dy/dx = 1."""

    @staticmethod
    def forward(ctx: Clone, x: np.ndarray) -> np.ndarray:
        return x.copy(order="K")  # the same memory layout, as torch's preserve_format

    @staticmethod
    def backward(ctx: Clone, g: Tensor) -> Tensor:
        return g


def dtype_of(op: str, dtype: Any) -> np.dtype[Any]:
    """``dtype`` as a NumPy dtype the package supports: float32, float64, int or bool.

    Raises:
        TypeError: for anything else (float16, complex, strings that name no dtype).
    """
    dt: np.dtype[Any] | None
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or not (dt in FLOAT_DTYPES or dt.kind in "iub"):
        raise TypeError(
            f"{op}: unsupported dtype {dtype!r}; expected float32, float64, an integer or "
            "bool dtype"
        )
    out: np.dtype[Any] = dt
    return out


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype``: always a new tensor (``Tensor.to`` returns ``x``
    itself when the dtype already matches).

    Float to float is differentiable (the gradient is cast back to ``x``'s dtype); any
    other conversion gives a tensor that does not require grad.

    Args:
        x: a tensor of shape ``s``.
        dtype: float32, float64, an integer or bool dtype (NumPy or ``am.float32`` & co).

    Returns:
        A tensor of shape ``s`` and dtype ``dtype``.

    Raises:
        TypeError: for an unsupported dtype.
    """
    t, dt = as_tensor(x), dtype_of("to", dtype)
    if t.dtype in FLOAT_DTYPES and dt in FLOAT_DTYPES:
        return Cast.apply(t, dtype=dt)
    return constant(t.data.astype(dt))


def clone(x: Any) -> Tensor:
    """A copy of ``x`` with its own memory, in the graph (the gradient flows through).

    Args:
        x: a tensor of any shape and dtype.
    """
    t = as_tensor(x)
    if t.dtype in FLOAT_DTYPES:
        return Clone.apply(t)
    return constant(t.data.copy(order="K"))


def to(x: Tensor, *args: Any, dtype: Any = None, copy: bool = False, device: Any = None) -> Tensor:
    """``x`` in another dtype, as ``Tensor.to``: ``to(dtype)``, ``to(other_tensor)`` (its
    dtype), ``to("cpu")``, ``to(am.device("cpu"))`` or ``to(device=...)`` (the only device:
    a no-op).

    Returns:
        ``x`` itself when nothing changes, unless ``copy``; else :func:`cast`.

    Raises:
        ValueError: for a device other than the CPU (or a ``device=`` that names none).
        TypeError: for an unsupported dtype.
    """
    if device is not None and not (isinstance(device, str) and device.split(":")[0] in DEVICES):
        raise ValueError(f"to: device must be one of {DEVICES} (e.g. 'cpu'); got {device!r}")
    target = dtype
    for a in (*args, *(() if device is None else (device,))):
        if isinstance(a, TensorBase):
            target = a.dtype
        elif isinstance(a, str) and a.split(":")[0] in DEVICES:
            if a.split(":")[0] != "cpu":
                raise ValueError(f"to: only the CPU exists here; got device {a!r}")
        else:
            target = a
    dt = x.dtype if target is None else dtype_of("to", target)
    if dt == x.dtype and not copy:
        return x
    return cast(x, dt)


def new_full(
    x: Tensor, size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A new leaf of shape ``size`` filled with ``fill_value``, in ``x``'s dtype unless
    ``dtype`` (``Tensor.new_full``; a fill value is converted to it, as in torch).

    Args:
        x: the tensor whose dtype is used.
        size: the shape: an int or a sequence of ints, or a 1-tuple holding the sequence
            (what ``new_zeros((2, 3))`` passes on).
        fill_value: a Python number or bool.
        dtype: optional dtype instead of ``x``'s.
        requires_grad: make the result a leaf that requires grad (float dtypes only).

    Raises:
        TypeError: for a size that is not ints, an unsupported dtype, or
            ``requires_grad`` with an integer or bool dtype.
        ValueError: for a negative size.
    """
    if isinstance(size, (tuple, list)) and len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(size) if isinstance(size, (tuple, list)) else (size,)
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"new_full: size must be ints; got {size!r} (tensor {x.shape})")
    if any(s < 0 for s in shape):
        raise ValueError(f"new_full: sizes must be >= 0; got {tuple(shape)} (tensor {x.shape})")
    dt = x.dtype if dtype is None else dtype_of("new_full", dtype)
    if requires_grad and dt not in FLOAT_DTYPES:  # torch refuses too; never a silent float
        raise TypeError(f"new_full: only float tensors can require grad; got dtype {dt}")
    return Tensor(np.full(shape, fill_value, dtype=dt), requires_grad=requires_grad)
