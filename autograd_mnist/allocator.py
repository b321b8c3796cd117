"""Process-level setting of the C allocator: large arrays reuse memory instead of faulting.

glibc's ``malloc`` serves each block of 32 MiB or less (its dynamic threshold's ceiling;
128 KiB until a larger block is freed) from the heap and returns the heap's free top to
the system once it passes twice that threshold; larger blocks get their own ``mmap``,
unmapped when freed. A training step allocates and frees the same large temporaries
(im2col columns, activations, their gradients) every step, so their pages are returned
and then faulted in again, zeroed by the kernel, step after step: on this project's
2-core machine, 25-31% of the CPU time of a ``best`` training run went to the kernel.

:func:`keep_large_blocks` raises both thresholds (``mallopt``) so that freed blocks stay
in the process for the next step: a ``best`` training step (batch 128) took 61-64 ms
instead of 74-75 ms here, with the same peak memory (it is the steady state that no
longer returns memory to the system; a process keeps what it used at its peak).
:mod:`autograd_mnist.threads` calls it at the first training step (the first safe point);
importing the package changes nothing. Settings of the user's own (``MALLOC_*`` or
``GLIBC_TUNABLES`` in the environment) win: nothing is changed then. Other C libraries
(musl, macOS, Windows) are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import platform

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "USER_VARS", "keep_large_blocks"]

MMAP_THRESHOLD = 256 * 2**20
"""Blocks up to this size (bytes) come from the heap, whose freed memory is reused."""
TRIM_THRESHOLD = 1024 * 2**20
"""Free memory at the top of the heap is returned to the system past this size (bytes)."""
USER_VARS = (
    "GLIBC_TUNABLES",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)
"""Environment variables through which a user tunes glibc's malloc: any set, we do nothing."""

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


@functools.cache  # once per process: the first call's result
def keep_large_blocks() -> bool:
    """Raise glibc's mmap and trim thresholds (:data:`MMAP_THRESHOLD`,
    :data:`TRIM_THRESHOLD`), once per process.

    Returns:
        True if the thresholds are now ours; False if nothing was changed: not glibc, a
        ``MALLOC_*``/``GLIBC_TUNABLES`` variable of the user's is set, or ``mallopt``
        refused.
    """
    if platform.libc_ver()[0] != "glibc" or any(os.environ.get(v) for v in USER_VARS):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    # mallopt returns 1 on success; the mmap threshold also turns off its dynamic growth
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
