"""``torch.backends``' availability checks, for scripts that pick their device with them
(``"mps" if am.backends.mps.is_available() else "cpu"``): the CPU is the only device."""

from autograd_mnist.backends import mps

__all__ = ["mps"]
