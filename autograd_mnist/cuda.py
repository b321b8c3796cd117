"""``torch.cuda``'s availability checks, for scripts that pick their device with them
(``am.device("cuda" if am.cuda.is_available() else "cpu")``; ``am.accelerator`` has
``torch.accelerator``'s). This package computes on the CPU only: there is never a CUDA
device or another accelerator."""

from __future__ import annotations

__all__ = ["device_count", "is_available"]


def is_available() -> bool:
    """False: no CUDA device (as ``torch.cuda.is_available`` on a CPU-only build)."""
    return False


def device_count() -> int:
    """0: no CUDA device (as ``torch.cuda.device_count`` on a CPU-only build)."""
    return 0
