"""Intra-op parallelism: one op's NumPy work split over a few threads, as PyTorch's
``at::parallel_for`` splits its kernels.

NumPy releases the GIL inside its loops, so threads that each run long NumPy calls on
their own part of the arrays use several cores at once. The parts are contiguous index
ranges (channels of a batch-last tensor, blocks of a flat array); every element sees the
same operations whichever thread runs it, so results are bit-identical for any thread
count. Small work runs in the calling thread: a hand-off costs tens of microseconds.

Bodies must not call BLAS (``np.dot``, ``np.matmul``): BLAS has threads of its own.
The thread count is :func:`autograd_mnist.threads.kernel_threads`, the same as BLAS's.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from autograd_mnist import threads
from autograd_mnist._layout import is_dense

__all__ = ["GRAIN", "MAX_THREADS", "cores", "elementwise", "parallel_for", "pool"]

#: Elements below which one thread does the whole of an op's work (a few hundred
#: microseconds of NumPy passes: enough to pay for the hand-off).
GRAIN = 1 << 19
#: The most threads an op's work is shared out to.
MAX_THREADS = 8
_pool: ThreadPoolExecutor | None = None


def cores() -> int:
    """The cores this process may run on, at most :data:`MAX_THREADS`."""
    return min(threads.max_threads(), MAX_THREADS)


def pool() -> ThreadPoolExecutor:
    """The process's worker threads (created on first use, :func:`cores` of them)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=cores(), thread_name_prefix="autograd_mnist")
    return _pool


def parallel_for(n: int, body: Callable[[int, int], object], elements: int) -> None:
    """Run ``body(lo, hi)`` over ``[0, n)`` split into contiguous ranges, one per thread.

    Args:
        n: the number of items (channels, rows...) to share out.
        body: does the work of items ``lo`` to ``hi - 1``; NumPy only, no BLAS.
        elements: the array elements the whole work touches: below ``2 * GRAIN`` the
            calling thread does it all.
    """
    workers = min(n, threads.kernel_threads(), cores(), elements // GRAIN)
    if workers <= 1:
        body(0, n)
        return
    bounds = [n * k // workers for k in range(workers + 1)]
    futures = [pool().submit(body, bounds[k], bounds[k + 1]) for k in range(1, workers)]
    try:
        body(bounds[0], bounds[1])  # the calling thread takes the first range
    finally:  # every range has ended before this returns or raises (the first error)
        for f in futures:
            f.exception()
    for f in futures:
        f.result()


def _memory_order(a: np.ndarray) -> np.ndarray | None:
    """A dense array as the 1-D view of its memory, in memory order (None if NumPy would
    have to copy: writes into a copy would be lost)."""
    order = sorted(range(a.ndim), key=lambda i: -a.strides[i])
    flat = a.transpose(order).reshape(-1)
    return flat if np.may_share_memory(flat, a) else None


def elementwise(fn: Callable[..., object], *arrays: np.ndarray) -> bool:
    """Run the elementwise ``fn`` on matching pieces of ``arrays``, shared out to threads.

    ``fn(*pieces)`` gets 1-D views of the same elements of every array (the last one is
    typically an output it writes into). Returns False, having run nothing, unless the
    arrays are large (``2 * GRAIN`` elements or more), dense and laid out alike (the same
    shape and strides): the caller then does the work with whole-array calls.
    """
    a = arrays[0]
    if a.size < 2 * GRAIN or any(
        b.shape != a.shape or b.strides != a.strides or not is_dense(b) for b in arrays
    ):
        return False
    flat = [_memory_order(b) for b in arrays]
    views = [f for f in flat if f is not None]
    if len(views) < len(flat):
        return False
    parallel_for(a.size, lambda lo, hi: fn(*(f[lo:hi] for f in views)), a.size)
    return True
