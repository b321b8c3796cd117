"""A Module's forward hooks and pre-hooks: registering them (with PyTorch's ``prepend``
and ``with_kwargs``) and running them around ``forward`` (the methods of
:class:`~autograd_mnist.nn.Module`; a module without hooks never calls in here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autograd_mnist.hooks import RemovableHandle

if TYPE_CHECKING:
    from autograd_mnist.nn.module import Module


class WithKwargs:
    """A hook registered with ``with_kwargs=True``: it also gets (and a pre-hook may
    replace) the keyword arguments of the call."""

    __slots__ = ("hook",)

    def __init__(self, hook: Callable[..., Any]) -> None:
        self.hook = hook


def register(
    module: Module,
    hooks: dict[int, Any],
    hook: Callable[..., Any],
    prepend: bool,
    with_kwargs: bool,
    where: str,
) -> RemovableHandle:
    """Add ``hook`` to ``hooks`` (first with ``prepend``, else last) and return its handle."""
    if not callable(hook):
        raise TypeError(
            f"{type(module).__name__}.{where}: got a {type(hook).__name__}, expected a callable"
        )
    handle = RemovableHandle(hooks)
    hooks[handle.id] = WithKwargs(hook) if with_kwargs else hook
    if prepend:  # the same dict (the handle holds it), reordered
        others = [(k, h) for k, h in hooks.items() if k != handle.id]
        for k, _ in others:
            del hooks[k]
        hooks.update(others)
    return handle


def run_pre_hooks(
    module: Module, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments of ``forward`` after every pre-hook of ``module``, in order."""
    for pre in list(module._forward_pre_hooks.values()):  # a hook may remove itself
        if isinstance(pre, WithKwargs):
            new = pre.hook(module, args, kwargs)
            if new is None:
                continue
            if not (isinstance(new, tuple) and len(new) == 2):
                raise RuntimeError(
                    f"{type(module).__name__}: a forward pre-hook registered with_kwargs must "
                    f"return None or a tuple (new_args, new_kwargs); got {type(new).__name__}"
                )
            args, kwargs = new
        else:
            new = pre(module, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
    return args, kwargs


def run_hooks(module: Module, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> Any:
    """``out`` after every forward hook of ``module``, in order."""
    for hook in list(module._forward_hooks.values()):  # a hook may remove itself
        if isinstance(hook, WithKwargs):
            result = hook.hook(module, args, kwargs, out)
        else:
            result = hook(module, args, out)
        if result is not None:
            out = result
    return out
