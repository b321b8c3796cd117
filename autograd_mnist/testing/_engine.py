"""Copies of engine helpers the testing package needs (one place for all of them).

These duplicate ``autograd_mnist.tensor``'s float dtypes and raw-array helper and
``autograd_mnist.gradcheck``'s function naming; they go once the engine exposes public
versions of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_mnist.tensor import Tensor

#: The float dtypes the engine computes in.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def raw(v: Any) -> Any:
    """The NumPy array of a Tensor; anything else unchanged."""
    return v.data if isinstance(v, Tensor) else v


def function_name(fn: Callable[..., Any]) -> str:
    """A readable name of ``fn`` for messages (``MyOp.apply`` for a Function's apply)."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # MyOp.apply
        return f"{owner.__qualname__}.{fn.__name__}"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return str(name) if name else repr(fn)
