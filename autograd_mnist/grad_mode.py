"""Grad mode: whether ops are recorded for backward (``no_grad``, ``set_grad_enabled``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

_F = TypeVar("_F", bound=Callable[..., Any])

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Return True when ops are being recorded for backward."""
    return _grad_enabled


@contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Context manager setting grad mode to ``mode``; restores the old mode on exit."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = bool(mode)
    try:
        yield
    finally:
        _grad_enabled = previous


class no_grad:  # noqa: N801 - named as in PyTorch
    """Disable recording, as a context manager or a decorator; nests and survives exceptions.

    Example:
        >>> with no_grad():
        ...     y = x * 2          # y.requires_grad is False, nothing recorded
    """

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return cast(_F, wrapper)  # functools.wraps keeps fn's signature
