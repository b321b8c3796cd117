"""``torch.accelerator``'s checks, for scripts that pick their device with them, as
PyTorch's tutorials do::

    device = (
        am.accelerator.current_accelerator().type if am.accelerator.is_available() else "cpu"
    )

This package computes on the CPU only: there is never an accelerator (as PyTorch on a
CPU-only build), so the line above picks ``"cpu"``.
"""

from __future__ import annotations

from autograd_mnist.devices import device

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """False: no accelerator (CUDA, MPS...), as ``torch.accelerator.is_available``."""
    return False


def current_accelerator(check_available: bool = False) -> device | None:
    """None: no accelerator, as ``torch.accelerator.current_accelerator`` on a CPU-only
    build (``check_available`` changes nothing)."""
    return None


def device_count() -> int:
    """0: no accelerator."""
    return 0
