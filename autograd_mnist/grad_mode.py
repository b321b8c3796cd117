"""Grad mode: whether ops are recorded for backward, per thread, as in PyTorch.

``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``is_grad_enabled`` read and set a
flag local to the calling thread: ``no_grad()`` in one thread does not stop another thread
from recording, and every new thread starts with grad mode on (PyTorch's rules).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar, cast

_F = TypeVar("_F", bound=Callable[..., Any])


class _GradMode(threading.local):
    """The calling thread's grad mode. ``enabled`` is read once per op by
    :meth:`~autograd_mnist.function.Function.apply` (a class attribute until a thread sets
    it, so new threads start enabled); ``saved`` holds the modes that ``__enter__`` of
    ``no_grad``/``enable_grad`` replaced, so one instance may be nested or shared.

    Two more things ``apply`` copies onto each op it records, for :mod:`autograd_mnist.viz`:
    ``modules``, the tuple of ``nn.Module`` objects whose calls are running (outermost
    first; ``Module.__call__`` pushes and pops), and ``in_backward``, True while
    :func:`~autograd_mnist.autograd.run_backward` walks a graph (ops recorded then, with
    ``create_graph=True``, make the gradient's graph).
    """

    enabled = True
    modules: tuple[Any, ...] = ()
    in_backward = False

    def __init__(self) -> None:
        self.saved: list[bool] = []


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Return True when ops are being recorded for backward (in the calling thread)."""
    return _mode.enabled


class _Mode:
    """``no_grad`` and ``enable_grad``: set a fixed mode on enter, restore it on exit."""

    _enabled: bool

    def __enter__(self) -> None:
        m = _mode
        m.saved.append(m.enabled)
        m.enabled = self._enabled

    def __exit__(self, *exc: object) -> None:
        m = _mode
        m.enabled = m.saved.pop()

    def __call__(self, fn: _F) -> _F:
        return _decorate(fn, type(self))


class no_grad(_Mode):  # noqa: N801 - named as in PyTorch
    """Disable recording in this thread, as a context manager or a decorator; nests and
    survives exceptions.

    Example:
        >>> with no_grad():
        ...     y = x * 2          # y.requires_grad is False, nothing recorded
    """

    _enabled = False


class enable_grad(_Mode):  # noqa: N801 - named as in PyTorch
    """Enable recording in this thread (inside ``no_grad``, say), as a context manager or
    a decorator; nests and survives exceptions."""

    _enabled = True


class set_grad_enabled:  # noqa: N801 - named as in PyTorch
    """Set grad mode to ``mode`` in this thread, as in PyTorch: as a plain call it sets the
    mode (``set_grad_enabled(False)``); as a context manager it also restores the previous
    mode on exit; as a decorator it runs the function in that mode.

    Args:
        mode: True to record ops, False not to.

    Example:
        >>> with set_grad_enabled(is_train):
        ...     loss = model(x)
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous = _mode.enabled
        _mode.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self.previous

    def __call__(self, fn: _F) -> _F:
        _mode.enabled = self.previous  # decorating does not change the mode
        mode = self.mode
        return _decorate(fn, lambda: set_grad_enabled(mode))


def _decorate(fn: _F, enter: Callable[[], contextlib.AbstractContextManager[Any]]) -> _F:
    """``fn`` run in the mode ``enter()`` sets: each call of a function; each step (start,
    ``next``, ``send``, ``throw``, ``close``) of a generator function, as torch's
    decorators, so its body never runs in the caller's mode nor changes the caller's."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def steps(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            try:
                with enter():
                    gen = fn(*args, **kwargs)
                    item = next(gen)
                while True:
                    try:
                        sent = yield item
                    except GeneratorExit:
                        with enter():
                            gen.close()
                        raise
                    except BaseException as e:
                        with enter():
                            item = gen.throw(e)
                    else:
                        with enter():
                            item = gen.send(sent)
            except StopIteration as stop:  # fn returned: so does this generator
                return stop.value

        return cast(_F, steps)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with enter():
            return fn(*args, **kwargs)

    return cast(_F, wrapper)  # functools.wraps keeps fn's signature


@contextlib.contextmanager
def backward_walk() -> Iterator[None]:
    """Mark ops recorded in this thread as recorded by a backward walk (``in_backward``);
    :func:`~autograd_mnist.autograd.run_backward` wraps its walk in this. Nests."""
    m = _mode
    previous, m.in_backward = m.in_backward, True
    try:
        yield
    finally:
        m.in_backward = previous
