"""Gradient hooks on tensors, and the handle that removes a hook (PyTorch's semantics).

``t.register_hook(fn)`` calls ``fn(grad)`` with ``t``'s total gradient during backward;
a result other than None replaces the gradient (a Tensor of the same shape and dtype).
On a leaf the hooks run before the gradient is accumulated into ``.grad`` (or returned
by :func:`~autograd_mnist.autograd.grad`); on a non-leaf, once its gradient is complete,
before it flows on to the inputs of the op that made it (``autograd.grad`` returns a
non-leaf's gradient as it was before its hooks, as PyTorch does). ``t.retain_grad()``
keeps a non-leaf's gradient in ``.grad`` after its other hooks ran. Hooks run in
registration order, in the grad mode of the backward pass: with ``create_graph=True``
they see a gradient with a graph, and what they return is part of the higher-order
graph.

A tensor keeps its hooks in ``_hooks`` (None until the first one is registered), so the
backward walk pays one attribute check per node for them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograd_mnist._tensor_base import TensorBase
    from autograd_mnist.tensor import Tensor

#: ``hook(grad) -> Tensor | None``, registered with :meth:`Tensor.register_hook`.
TensorHook = Callable[["Tensor"], "Tensor | None"]

_RETAIN = -1
"""The key of ``retain_grad``'s entry in a tensor's hooks (handle ids start at 0)."""


class RemovableHandle:
    """What ``register_hook``, ``Module.register_forward_hook`` and
    ``Module.register_forward_pre_hook`` return: ``remove()`` unregisters the hook.

    Removing twice, or after the hook is gone, does nothing. Also a context manager that
    removes the hook on exit (``with module.register_forward_hook(h): ...``).
    """

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, Any]) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        """Unregister the hook."""
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()


def register_hook(t: TensorBase, hook: TensorHook) -> RemovableHandle:
    """Register ``hook`` on ``t`` (see :meth:`Tensor.register_hook`)."""
    if not t.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(hook):
        raise TypeError(f"register_hook: got a {type(hook).__name__}, expected a callable")
    if t._hooks is None:
        t._hooks = {}
    handle = RemovableHandle(t._hooks)
    t._hooks[handle.id] = hook
    return handle


def retain_grad(t: TensorBase) -> None:
    """Have backward fill a non-leaf's ``.grad`` (see :meth:`Tensor.retain_grad`)."""
    if not t.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t.grad_fn is None:
        return  # a leaf's .grad is filled anyway
    if t._hooks is None:
        t._hooks = {}
    t._hooks[_RETAIN] = _retain


def retains_grad(t: TensorBase) -> bool:
    """True when ``retain_grad()`` was called on the non-leaf ``t``."""
    return t._hooks is not None and _RETAIN in t._hooks


def _retain(g: Tensor) -> None:
    """A placeholder: the retained gradient is stored by :func:`run_hooks`, last."""


def run_hooks(t: Tensor, g: Tensor) -> Tensor:
    """Call ``t``'s hooks on its gradient ``g`` in registration order; each result other
    than None replaces ``g``. Then, if ``t`` retains its gradient, add ``g`` to ``t.grad``
    (a copy: with ``create_graph=True``, one that keeps the graph). Return ``g``."""
    hooks = t._hooks or {}
    for key, hook in list(hooks.items()):  # a hook may remove itself
        if key != _RETAIN:
            out = hook(g)
            g = g if out is None else _checked(hook, out, g)
    if _RETAIN in hooks:
        t.grad = g * 1 if t.grad is None else t.grad + g
    return g


def _checked(hook: TensorHook, out: Any, g: Tensor) -> Tensor:
    """``out``, the gradient a hook returned, if it can replace ``g``; else raise."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(out, type(g)):
        raise TypeError(
            f"register_hook: hook {name!r} returned a {type(out).__name__}; "
            "expected a Tensor (the new gradient) or None"
        )
    if out.shape != g.shape or out.dtype != g.dtype:
        raise RuntimeError(
            f"register_hook: hook {name!r} returned a gradient of shape {out.shape} and "
            f"dtype {out.dtype}; expected the gradient's shape {g.shape} and dtype {g.dtype}"
        )
    return out
