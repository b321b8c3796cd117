"""``Module.to``: reading PyTorch's forms of its arguments (a device, a dtype, both, or a
tensor, positional or by keyword) and casting a module's parameters and buffers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_mnist.devices import DEVICES
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor

if TYPE_CHECKING:
    from autograd_mnist.nn.module import Module

NOT_GIVEN = object()
"""An argument not given (None is a value: ``to(None)`` is refused, as before)."""


def _is_device(value: Any) -> bool:
    return isinstance(value, str) and value.split(":")[0] in DEVICES


def target_dtype(module: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The dtype that ``module.to(*args, **kwargs)`` asks for (``NOT_GIVEN`` when only a
    device is given), after checking the device.

    Raises:
        TypeError: for an unknown keyword or too many arguments.
        ValueError: for a device other than the CPU.
    """
    name = f"{type(module).__name__}.to"
    extra = sorted(set(kwargs) - {"device", "dtype", "non_blocking", "copy"})
    if extra:
        raise TypeError(f"{name}: unexpected keyword argument(s) {extra}")
    rest = list(args)
    if len(rest) > 1 and isinstance(rest[-1], bool):  # to(device, dtype, non_blocking)
        rest.pop()
    if len(rest) > 2 or (len(rest) == 2 and not _is_device(rest[0])):
        raise TypeError(
            f"{name}: expected (device, dtype), a dtype or a tensor; got {len(args)} "
            "positional arguments"
        )
    device, dtype = kwargs.get("device"), kwargs.get("dtype", NOT_GIVEN)
    if dtype is None:
        dtype = NOT_GIVEN
    for value in rest:
        if isinstance(value, Tensor):
            dtype = value.dtype
        elif _is_device(value):
            device = value
        else:
            dtype = value
    if device is not None and not (isinstance(device, str) and device.split(":")[0] == "cpu"):
        raise ValueError(f"{name}: only the CPU exists; got {device!r}")
    return dtype


def cast(module: Module, dtype: Any) -> None:
    """Cast every parameter (and its gradient) and float buffer of ``module`` to
    ``dtype`` in place (see :meth:`Module.to`).

    Raises:
        TypeError: for a dtype other than float32 and float64.
    """
    try:
        d = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        d = None
    if d is None or d not in FLOAT_DTYPES:  # (None == np.dtype('float64') is True)
        raise TypeError(
            f"{type(module).__name__}.to: expected float32 or float64 (or 'cpu'); got {dtype!r}"
        )
    for p in module.parameters():
        if p.data.dtype != d:
            p.data = p.data.astype(d)
            if p.grad is not None:
                p.grad = Tensor(p.grad.data.astype(d))
    for m in module.modules():
        for k in m._buffers:
            b = getattr(m, k)
            if isinstance(b, np.ndarray) and b.dtype.kind == "f" and b.dtype != d:
                object.__setattr__(m, k, b.astype(d))
