"""The ``autograd-mnist`` command (also ``python -m autograd_mnist``).

Subcommands: ``train`` (into a run folder, or ``--resume`` one), ``evaluate``, ``predict``,
``show`` (filters, feature maps, mistakes as PNGs), ``graph`` (one training step's
computation graph), ``summary`` (a model's layers), ``export`` (safetensors or ONNX)
and ``serve`` (a local page to draw a digit on). :func:`main` returns the exit code:
0 on success, 2 for a usage error or a problem such as a missing run folder or a bad
checkpoint (one message on stderr, no traceback; set ``AUTOGRAD_MNIST_DEBUG=1`` for the
traceback), 130 when interrupted with Ctrl-C. Run as a program (``main()`` with no
``argv``), it first makes sure OpenBLAS's idle threads do not spin
(:func:`autograd_mnist.runtime.ensure_blas_thread_timeout`). ``--threads N`` (on the
commands that compute) is applied before the command runs; without it the default thread
count is first chosen then (:mod:`autograd_mnist.threads`). An empty path argument
(``evaluate ''``, ``--resume ''``...) is refused before any command runs: it would mean the
working folder (:func:`~autograd_mnist.cli._options.check_paths`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from autograd_mnist import runtime, threads
from autograd_mnist.checkpoint import RunInterrupted
from autograd_mnist.cli import evaluate, export, model, serve, train
from autograd_mnist.cli._options import check_paths
from autograd_mnist.errors import RunError
from autograd_mnist.report import format_confusion, format_per_class

__all__ = ["COMMANDS", "PROG", "build_parser", "format_confusion", "format_per_class", "main"]

PROG = "autograd-mnist"
"""The program's name in usage lines and messages."""

COMMANDS: tuple[Callable[[Any], None], ...] = (
    train.register,
    evaluate.register,
    model.register,
    export.register,
    serve.register,
)
"""Each command module's ``register(subparsers)``, in the order ``--help`` lists them. A new
command is a module of this package with a ``register`` function, added here."""

_EXPECTED = (
    RunError,
    ImportError,
    OSError,
    RuntimeError,
    ValueError,
    MemoryError,  # a user's file or option asking for more than there is: one line, rc 2
    RecursionError,
)
_SIGPIPE_EXIT = 128 + 13  # what a shell reports for a process ended by SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-parser per command (each module in ``COMMANDS``
    adds its own)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Train and inspect MNIST classifiers built on autograd_mnist."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Without ``argv`` (the program's own command line: the console script, ``python -m
    autograd_mnist``), :func:`~autograd_mnist.runtime.ensure_blas_thread_timeout` runs
    first and may re-execute the process once; with ``argv`` (a call from Python) the
    process is never re-executed.
    """
    if argv is None:
        runtime.ensure_blas_thread_timeout()
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        check_paths(args)  # '' would silently mean the working folder
        if getattr(args, "threads", None) is not None:  # the commands that compute
            threads.set_num_threads(args.threads)
        elif hasattr(args, "threads"):  # else the default's first choice, before they compute
            threads.refresh()
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe fails here, not in Python's final flush
        return code
    except KeyboardInterrupt as exc:
        message = str(exc) if isinstance(exc, RunInterrupted) else "interrupted"
        print(f"{PROG}: {message}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `autograd-mnist evaluate RUN | head`: stop quietly, as Unix tools
        _silence_stdout()
        return _SIGPIPE_EXIT
    except _EXPECTED as exc:
        if os.environ.get("AUTOGRAD_MNIST_DEBUG"):
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    """The error as one line; errors that are not ours say what kind they are."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, MemoryError | RecursionError):
        return f"{type(exc).__name__} (an input too large or too deeply nested?) {text}"
    return text


def _silence_stdout() -> None:
    """Point stdout at the null device so that Python's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (e.g. captured by a test)
        pass


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM: exit through ``SystemExit`` so that locks and temporary files are cleaned."""
    raise SystemExit(128 + signum)
