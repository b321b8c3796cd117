"""PyTorch's top-level arithmetic: ``am.add/sub/mul/div`` as ``torch.add/...``, and the
``out=`` argument they, ``am.matmul`` and ``am.mm`` take.

Each function is the Tensor method of the same name on its first argument, as in
:mod:`autograd_mnist.functions`. ``out=`` writes the result into an existing tensor of the
result's shape (as ``out.copy_(result)``: same memory, one more version) and returns it;
as in PyTorch it is not differentiable, so it is refused while recording with an input
that requires grad. Unlike PyTorch, ``out`` is never resized: a shape other than the
result's is a ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist.grad_mode import is_grad_enabled
from autograd_mnist.tensor import Tensor, as_tensor

__all__ = ["add", "div", "mul", "sub", "write_out"]


def write_out(op: str, result: Tensor, out: Tensor | None) -> Tensor:
    """``result``, or, given ``out``, ``result`` copied into ``out`` and ``out`` returned.

    Raises:
        TypeError: if ``out`` is not a Tensor, or the result's dtype cannot be cast to
            ``out``'s (a float result into an integer ``out``).
        ValueError: if ``out``'s shape is not the result's.
        RuntimeError: while recording, if an input or ``out`` requires grad (``out=`` is
            not differentiable, as in PyTorch).
    """
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: out must be a Tensor; got {type(out).__name__}")
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{op}: out= does not support automatic differentiation (as PyTorch); got an "
            f"input or out that requires grad, expected the call under no_grad() or without out="
        )
    if out.shape != result.shape:
        raise ValueError(
            f"{op}: out has shape {out.shape}, expected the result's shape {result.shape} "
            "(out is never resized here)"
        )
    if not np.can_cast(result.dtype, out.dtype, "same_kind"):
        raise TypeError(
            f"{op}: the result's dtype {result.dtype} can't be cast to out's dtype {out.dtype}"
        )
    return out.copy_(result)


def add(input: Any, other: Any, *, alpha: float = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input + alpha * other``, as ``torch.add``."""
    return write_out("add", as_tensor(input).add(other, alpha=alpha), out)


def sub(input: Any, other: Any, *, alpha: float = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input - alpha * other``, as ``torch.sub``."""
    return write_out("sub", as_tensor(input).sub(other, alpha=alpha), out)


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input * other``, as ``torch.mul``."""
    return write_out("mul", as_tensor(input).mul(other), out)


def div(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input / other`` (true division), as ``torch.div`` without ``rounding_mode``."""
    return write_out("div", as_tensor(input).div(other), out)
