"""Process-level settings that must be in place before NumPy loads its BLAS.

NumPy's OpenBLAS keeps its idle threads spinning, each at 100% of a core, for about 0.1 s
after every matmul: a core taken from the NumPy work between matmuls (pooling, Adam), worth
about 8% of a CNN training step. ``OPENBLAS_THREAD_TIMEOUT=20`` (2**20 cycles, well under a
millisecond of spinning) makes them sleep instead. OpenBLAS reads the variable once, when
NumPy loads it, so setting it later in a running process has no effect.

Importing the package changes nothing; the command line (``autograd-mnist``, ``python -m
autograd_mnist``) and the benchmarks call :func:`ensure_blas_thread_timeout` first. Other
programs can call it too, or export the variable themselves.
"""

from __future__ import annotations

import os
import sys

__all__ = ["BLAS_THREAD_TIMEOUT", "BLAS_THREAD_TIMEOUT_VAR", "ensure_blas_thread_timeout"]

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
