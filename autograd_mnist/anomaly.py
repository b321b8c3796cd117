"""Anomaly mode: where a NaN or inf gradient came from (``torch.autograd``'s names).

Off by default, per thread, like grad mode. When it is on:

- each recorded op keeps the stack of the forward call that created it (the user's
  frames, without the engine's own);
- backward checks every gradient an op's backward returns and raises ``RuntimeError``
  naming the op and the input (``Log.backward returned nan in the gradient of input 0``),
  followed by the traceback of that op's forward call; any other error raised inside a
  backward gets that traceback as a note;
- with ``check_forward=True`` (not in PyTorch), forward also stops at the first op that
  turns finite inputs into NaN or inf, naming it.

Off, it costs one attribute check per op (in :meth:`Function.apply`) and one per
backward call.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

if TYPE_CHECKING:
    from autograd_mnist.function import Function
    from autograd_mnist.tensor import Tensor

__all__ = [
    "detect_anomaly",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "set_detect_anomaly",
]

_F = TypeVar("_F", bound=Callable[..., Any])

_PACKAGE = Path(__file__).resolve().parent
# Frames in these files are the engine recording an op, not the caller: left out of traces.
_ENGINE_FILES = {
    str(_PACKAGE / f)
    for f in ("function.py", "tensor.py", "_tensor_base.py", "_inplace.py", "anomaly.py")
}
_OPS_DIR = str(_PACKAGE / "ops")
_PACKAGE_DIR = str(_PACKAGE)
# Python's own library and installed packages: left out of traces (a test runner's frames).
_LIBRARY_DIRS = tuple(
    {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")} - {""}
)


class _AnomalyMode(threading.local):
    """The calling thread's anomaly settings: class attributes until a thread sets them,
    so every new thread starts with anomaly mode off. ``saved`` holds the settings that
    ``detect_anomaly``/``set_detect_anomaly`` replaced."""

    enabled = False
    check_nan = True
    check_forward = False

    def __init__(self) -> None:
        self.saved: list[tuple[bool, bool, bool]] = []


mode = _AnomalyMode()
"""The calling thread's settings; :meth:`Function.apply` reads ``mode.enabled``."""
_state = mode  # for set_detect_anomaly, whose argument is named ``mode`` (PyTorch's name)


def is_anomaly_enabled() -> bool:
    """Return True when anomaly mode is on in the calling thread."""
    return mode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Return True when anomaly mode is on and checks backward for NaN/inf gradients."""
    return mode.enabled and mode.check_nan


def _set(enabled: bool, check_nan: bool, check_forward: bool) -> None:
    m = mode
    m.saved.append((m.enabled, m.check_nan, m.check_forward))
    m.enabled, m.check_nan, m.check_forward = enabled, check_nan, check_forward


def _restore() -> None:
    m = mode
    m.enabled, m.check_nan, m.check_forward = m.saved.pop()


class detect_anomaly:  # noqa: N801 - named as in PyTorch
    """Turn anomaly mode on in this thread, as a context manager or a decorator; nests,
    and restores the previous settings on exit (also on an exception).

    Args:
        check_nan: raise when a backward returns a NaN or inf gradient (PyTorch's
            default, True); False only records forward tracebacks, shown as a note on any
            error raised inside a backward.
        check_forward: also raise at the first op whose forward turns finite inputs into
            NaN or inf (not in PyTorch; costs a scan of every op's inputs and output).

    Example:
        >>> with detect_anomaly():
        ...     loss = model(x).log().sum()
        ...     loss.backward()   # RuntimeError: Log.backward returned nan ... + traceback
    """

    def __init__(self, check_nan: bool = True, check_forward: bool = False) -> None:
        self.check_nan = bool(check_nan)
        self.check_forward = bool(check_forward)

    def __enter__(self) -> None:
        _set(True, self.check_nan, self.check_forward)

    def __exit__(self, *exc: object) -> None:
        _restore()

    def __call__(self, fn: _F) -> _F:
        settings = (self.check_nan, self.check_forward)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(*settings):
                return fn(*args, **kwargs)

        return cast(_F, wrapper)  # functools.wraps keeps fn's signature


class set_detect_anomaly:  # noqa: N801 - named as in PyTorch
    """Set anomaly mode to ``mode`` in this thread, as in PyTorch: as a plain call it sets
    it (``set_detect_anomaly(True)``); as a context manager it also restores the previous
    settings on exit.

    Args:
        mode: True to turn anomaly mode on, False to turn it off.
        check_nan: see :class:`detect_anomaly`.
        check_forward: see :class:`detect_anomaly`.
    """

    def __init__(self, mode: bool, check_nan: bool = True, check_forward: bool = False) -> None:
        m = _state
        self.previous = (m.enabled, m.check_nan, m.check_forward)
        m.enabled, m.check_nan, m.check_forward = bool(mode), bool(check_nan), bool(check_forward)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        m = _state
        m.enabled, m.check_nan, m.check_forward = self.previous


# ----- forward: record the creation stack, optionally check the output -----
def _user_stack() -> traceback.StackSummary:
    """The calling stack, outermost first: the user's frames and the package's layers,
    without the engine's innermost frames, the standard library's or installed tools'
    (a test runner's)."""
    frames = list(traceback.walk_stack(sys._getframe(1)))
    while frames and _is_engine(frames[0][0].f_code.co_filename):
        frames.pop(0)
    frames = [f for f in frames if _is_shown(f[0].f_code.co_filename)] or frames
    stack = traceback.StackSummary.extract(iter(frames), lookup_lines=False)
    stack.reverse()
    return stack


def _is_engine(filename: str) -> bool:
    return filename in _ENGINE_FILES or filename.startswith(_OPS_DIR)


def _is_shown(filename: str) -> bool:
    """True for the package's files and the user's: not Python's nor an installed tool's."""
    if filename.startswith(_PACKAGE_DIR):
        return True
    return not (filename.startswith("<frozen") or filename.startswith(_LIBRARY_DIRS))


def on_forward(ctx: Function, inputs: Sequence[Tensor], out: np.ndarray, record: bool) -> None:
    """Called by :meth:`Function.apply` after forward, in anomaly mode only: keep the
    forward call's stack on a recorded op (``ctx._trace``) and, with ``check_forward``,
    raise if finite inputs gave a NaN or inf output."""
    if record:
        ctx._trace = _user_stack()
    if mode.check_forward and not np.isfinite(out).all():
        if all(np.isfinite(t.data).all() for t in inputs):
            shapes = ", ".join(str(t.shape) for t in inputs)
            raise RuntimeError(
                f"{type(ctx).__name__}.forward returned {_kind(out)} from finite inputs "
                f"(input shapes {shapes}; output shape {out.shape}); "
                "detect_anomaly(check_forward=True) stopped at the first such op"
            )


def _kind(a: np.ndarray) -> str:
    return "nan" if np.isnan(a).any() else "inf"


def forward_trace(ctx: Function) -> str:
    """The traceback of the forward call that created ``ctx``, as text."""
    stack: traceback.StackSummary | None = getattr(ctx, "_trace", None)
    if stack is None:
        return (
            f"(no traceback of {type(ctx).__name__}'s forward call: it was recorded "
            "outside anomaly mode)"
        )
    cwd = os.getcwd() + os.sep
    for frame in stack:  # paths under the working directory, as the user typed them
        if frame.filename.startswith(cwd):
            frame.filename = frame.filename[len(cwd) :]
    return "Traceback of the forward call that created it (most recent call last):\n" + (
        "".join(stack.format()).rstrip("\n")
    )


# ----- backward: check what each op's backward returns -----
def checked_backward(ctx: Function, grad_output: Tensor) -> tuple[Any, ...]:
    """Run ``ctx``'s backward in anomaly mode (the walk calls this instead of
    ``backward``): an error raised inside gets the forward traceback as a note, and with
    ``check_nan`` a NaN or inf in a returned gradient raises ``RuntimeError``."""
    try:
        result = type(ctx).backward(ctx, grad_output)
    except Exception as e:
        if hasattr(e, "add_note"):  # Python 3.11+
            e.add_note(f"{type(ctx).__name__}.backward failed. {forward_trace(ctx)}")
        raise
    result = result if isinstance(result, tuple) else (result,)
    if mode.check_nan:
        for i, g in enumerate(result):
            if g is not None and not np.isfinite(g.data).all():
                raise RuntimeError(
                    f"{type(ctx).__name__}.backward returned {_kind(g.data)} in the gradient "
                    f"of input {i} (shape {g.shape}).\n{forward_trace(ctx)}"
                )
    return result
