"""The cache-blocked, multi-threaded elementwise update kernel shared by the optimizers.

An optimizer's update is a handful of elementwise NumPy passes over the parameter, its
gradient and its state. Run on a whole large parameter, every pass streams it through main
memory; run block by block, all the passes over one block stay in the cache. Large
parameters have their blocks shared out to a small thread pool (NumPy releases the GIL
inside its loops). Each element sees the same operations in either case, so the result is
bit-identical to one call on the whole arrays.

The pool uses as many threads as :func:`autograd_mnist.threads.get_num_threads` says (at
most :func:`cores`), and every call is a safe point where that count is re-checked
(:func:`autograd_mnist.threads.refresh`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from autograd_mnist import threads
from autograd_mnist._layout import flat_views
from autograd_mnist._parallel import cores, pool

__all__ = ["BLOCK", "LIGHT_PARALLEL_MIN", "PARALLEL_MIN", "blockwise", "cores"]

#: Elements per block of an update: every pass of the update over one block stays in the
#: cache (1 MiB of float32 per array), so a large parameter crosses main memory once per step
#: instead of once per NumPy call.
BLOCK = 1 << 18
#: From this many elements an update is spread over the cores (a thread hand-off costs ~50 us,
#: and threads need long NumPy calls, since each call takes the GIL to start).
PARALLEL_MIN = 1 << 19
#: The same for a light update of two passes (plain SGD's): below this size the second
#: thread costs more than it brings (at 692K elements, 0.19 ms on two threads against 0.14
#: on one; Adam's dozen passes gain from two threads at that size, 0.70 against 0.88).
LIGHT_PARALLEL_MIN = 1 << 21


def blockwise(
    kernel: Callable[..., None],
    arrays: Sequence[np.ndarray],
    work: np.ndarray,
    light: bool = False,
) -> None:
    """Run ``kernel(*views, scratch)`` over blocks of the flattened ``arrays``.

    ``kernel`` receives views of the same ``BLOCK`` or fewer elements of every array, and a
    scratch array of that length to write temporaries into; it must be elementwise. Blocks
    keep every pass in the cache; arrays of :data:`PARALLEL_MIN` elements or more (or
    :data:`LIGHT_PARALLEL_MIN` for a ``light`` kernel) have their
    blocks shared out to up to one thread per row of ``work`` (NumPy releases the GIL inside
    its loops, so a large update uses every core, as PyTorch's does), as many as
    :func:`autograd_mnist.threads.get_num_threads` allows. Each element sees the same
    operations, so the result is bit-identical to one ``kernel`` call on the whole.

    Args:
        kernel: the update, writing in place into its views.
        arrays: same-sized arrays (the parameter, its gradient, its state...).
        work: scratch of shape ``(threads, L)``, ``L >= min(BLOCK, size)``, in the
            arrays' dtype; row ``k`` is thread ``k``'s.
        light: a kernel of two or so passes, which needs larger arrays to gain from
            threads.
    """
    threads.refresh()
    n = arrays[0].size
    flat = flat_views(arrays)
    if flat is None:  # not all C-contiguous: one call on the whole arrays
        kernel(*arrays, np.empty_like(arrays[0]))
        return

    def run(lo: int, hi: int, row: np.ndarray) -> None:
        for a in range(lo, hi, BLOCK):
            b = min(a + BLOCK, hi)
            kernel(*(f[a:b] for f in flat), row[: b - a])

    blocks = -(-n // BLOCK)
    parallel = n >= (LIGHT_PARALLEL_MIN if light else PARALLEL_MIN)
    workers = min(len(work), blocks, threads.kernel_threads()) if parallel else 1
    if workers <= 1:
        run(0, n, work[0])
        return
    # Whole blocks to each thread, as evenly as they go.
    bounds = [min(n, BLOCK * (blocks * k // workers)) for k in range(workers + 1)]
    list(pool().map(lambda k: run(bounds[k], bounds[k + 1], work[k]), range(workers)))


def workspace_shape(size: int) -> tuple[int, int]:
    """The smallest ``work`` for :func:`blockwise` on arrays of ``size`` elements:
    ``(cores(), min(BLOCK, size))``."""
    return cores(), min(BLOCK, size)
