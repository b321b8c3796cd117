"""Measure what a call allocates, for the tests that feed hostile files to the readers."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable


def traced_peak(call: Callable[[], object]) -> tuple[int, BaseException | None]:
    """Run ``call`` under :mod:`tracemalloc`; return (peak bytes traced, what it raised or None).

    NumPy reports its array buffers to tracemalloc, so an allocation the call attempted is
    counted even when it failed (a refused 1 TiB ``np.empty`` shows as 1 TiB).
    """
    tracemalloc.start()
    try:
        call()
        error: BaseException | None = None
    except Exception as exc:
        error = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, error
