"""Process-level settings of NumPy's BLAS: idle OpenBLAS threads that sleep.

NumPy's OpenBLAS keeps its idle threads spinning, each at 100% of a core, for about 0.1 s
after every matmul: a core taken from the NumPy work between matmuls (pooling, Adam), worth
about 8% of a CNN training step, and from every other process on the machine.
``OPENBLAS_THREAD_TIMEOUT=20`` (2**20 cycles, well under a millisecond of spinning) makes
them sleep instead. OpenBLAS reads the variable when NumPy loads it and when it starts its
thread pool. Two ways to apply it:

- :func:`make_idle_blas_threads_sleep`, at run time, whatever the import order: the
  variable is read again and the pool restarted (OpenBLAS's own fork-time shutdown; the
  next matmul starts the threads again). :mod:`autograd_mnist.threads` calls it at the
  first training step.
- :func:`ensure_blas_thread_timeout`, before NumPy loads (re-executing the program if need
  be), for BLAS builds without the symbols the first needs. The command line
  (``autograd-mnist``, ``python -m autograd_mnist``) and the benchmarks call it first.

Importing the package changes nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = [
    "BLAS_THREAD_TIMEOUT",
    "BLAS_THREAD_TIMEOUT_VAR",
    "blas_thread_timeout",
    "ensure_blas_thread_timeout",
    "make_idle_blas_threads_sleep",
]

BLAS_THREAD_TIMEOUT_VAR = "OPENBLAS_THREAD_TIMEOUT"
"""The environment variable OpenBLAS reads at load time."""
BLAS_THREAD_TIMEOUT = "20"
"""Its value: idle threads spin for 2**20 cycles (under a millisecond), then sleep."""


def _interactive() -> bool:
    """True in a REPL, ``python -i``, IPython or Jupyter, or for ``-c`` / stdin code."""
    return (
        bool(sys.flags.interactive)
        or hasattr(sys, "ps1")
        or "IPython" in sys.modules
        or "ipykernel" in sys.modules
        or sys.argv[:1] in ([], [""], ["-c"], ["-"])
    )


def ensure_blas_thread_timeout() -> bool:
    """Make sure OpenBLAS starts with ``OPENBLAS_THREAD_TIMEOUT``, re-executing if need be.

    - The variable is already set (by the user, or by this function before re-executing):
      nothing to do; a value the user chose is kept.
    - NumPy is not loaded yet: set the variable; OpenBLAS reads it when NumPy loads.
    - NumPy is loaded, and the program was started as a script or ``-m`` module on a POSIX
      system: set the variable and re-execute the same command line
      (``os.execv(sys.executable, sys.orig_argv)``, after flushing stdout and stderr), so
      the new process loads OpenBLAS with it. This call then never returns; the process
      starts over and this call, made again, finds the variable set.

    Returns:
        True if the timeout is in effect (as far as can be known: a variable set in this
        process after NumPy loaded, by other code, counts as set). False if it could not be
        applied: NumPy is already loaded and re-executing is not possible or not safe: in
        an interactive session (REPL, IPython, Jupyter, where it would lose the session's
        state), for ``python -c`` or code read from stdin, on a platform without ``execv``
        semantics (Windows), or when ``execv`` fails. Nothing is changed then; export the
        variable before starting Python instead.
    """
    if os.environ.get(BLAS_THREAD_TIMEOUT_VAR) is not None:
        return True
    if "numpy" not in sys.modules:
        os.environ[BLAS_THREAD_TIMEOUT_VAR] = BLAS_THREAD_TIMEOUT
        return True
    argv = list(getattr(sys, "orig_argv", []))
    if os.name != "posix" or not argv or _interactive():
        return False
    sys.stdout.flush()
    sys.stderr.flush()
    os.environ[BLAS_THREAD_TIMEOUT_VAR] = BLAS_THREAD_TIMEOUT
    try:
        os.execv(sys.executable, argv)
    except OSError:
        del os.environ[BLAS_THREAD_TIMEOUT_VAR]  # not in effect: leave no trace
        return False


def _openblas_libs() -> list[Any]:
    """Every loaded OpenBLAS (NumPy's, and SciPy's if it has its own) as a ctypes library."""
    libs = []
    for lib in ThreadpoolController().lib_controllers:
        if lib.internal_api == "openblas":
            try:
                libs.append(ctypes.CDLL(lib.filepath))
            except OSError:
                pass
    return libs


def blas_thread_timeout() -> int | None:
    """The thread timeout the first loaded OpenBLAS has read (log2 of cycles; 0: its default
    of about 0.1 s), or None if there is no OpenBLAS or it does not say."""
    libs = _openblas_libs()
    get = getattr(libs[0], "openblas_thread_timeout", None) if libs else None
    return None if get is None else int(get())


def make_idle_blas_threads_sleep() -> bool:
    """Make OpenBLAS's idle threads sleep after under a millisecond, now, in this process.

    If the user set ``OPENBLAS_THREAD_TIMEOUT``, nothing changes. Otherwise, for each
    loaded OpenBLAS that has not read a timeout, the variable is set for it to read
    (``openblas_read_env``), then removed from the environment again, and its thread pool
    is shut down (``blas_thread_shutdown_``, what OpenBLAS does itself before a ``fork``);
    its next threaded call starts the threads again, with the new timeout. Call it between
    computations, from the thread that computes: never while a BLAS call runs in another
    thread.

    Returns:
        True if idle threads now sleep after a short timeout (or one was already set);
        False if a BLAS offers no way (none is OpenBLAS, or one lacks those symbols):
        export the variable before starting Python then.
    """
    if os.environ.get(BLAS_THREAD_TIMEOUT_VAR) is not None:
        return True
    libs = _openblas_libs()
    names = ("openblas_thread_timeout", "openblas_read_env", "blas_thread_shutdown_")
    if not libs or not all(hasattr(lib, name) for lib in libs for name in names):
        return False
    for lib in libs:
        if lib.openblas_thread_timeout() > 0:
            continue
        os.environ[BLAS_THREAD_TIMEOUT_VAR] = BLAS_THREAD_TIMEOUT
        try:
            lib.openblas_read_env()
        finally:
            del os.environ[BLAS_THREAD_TIMEOUT_VAR]  # read: leave the environment as it was
        lib.blas_thread_shutdown_()
    return all(lib.openblas_thread_timeout() > 0 for lib in libs)
