"""``torch.backends.mps``: Apple's GPU backend, never available here (the CPU is the only
device), so ``"mps" if am.backends.mps.is_available() else "cpu"`` picks ``"cpu"``."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: no MPS device, as ``torch.backends.mps.is_available`` on a CPU-only build."""
    return False


def is_built() -> bool:
    """False: this package is not built with MPS support."""
    return False
