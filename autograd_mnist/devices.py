"""Devices, as far as this package has them: the CPU is the only one.

:class:`device` is ``torch.device``'s stand-in; :func:`check_device` is the ``device=``
argument of the factories (``am.rand(3, device=device)``) and of ``am.load``'s
``map_location=``; :data:`CPU` is every tensor's ``t.device``. This module imports nothing
of the package, so the Tensor class itself can use it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CPU", "DEVICES", "check_device", "device"]

#: The device types ``to`` recognises; the CPU is the only one that exists here.
DEVICES = ("cpu", "cuda", "mps", "meta")


class device(str):  # noqa: N801 - PyTorch's name
    """``torch.device``'s stand-in: ``am.device("cpu")`` is the string ``"cpu"``, so
    ``model.to(device)`` and ``x.to(device)`` work; the CPU is the only device, and moving
    to any other (``am.device("cuda")`` can be made, as in PyTorch) raises ``ValueError``.
    """

    TYPES = DEVICES

    def __new__(cls, type: str, index: int | None = None) -> device:  # noqa: A002
        name = type if index is None else f"{type}:{index}"
        kind, colon, i = name.partition(":") if isinstance(type, str) else ("", "", "")
        doubled = index is not None and ":" in type  # device("cuda:0", 1)
        if kind not in cls.TYPES or (colon and not i.isdigit()) or doubled:
            raise ValueError(
                f"device: expected one of {cls.TYPES}, with an optional index >= 0 given once "
                f"(e.g. 'cpu', 'cuda:0', device('cuda', 0)); got {name!r}"
            )
        return super().__new__(cls, name)

    @property
    def type(self) -> str:
        """The device type (``"cpu"``, ``"cuda"``...), without an index."""
        return self.split(":")[0]

    def __repr__(self) -> str:  # no ``index`` attribute: str.index is a method
        _, _, i = self.partition(":")
        return f"device(type={self.type!r}" + (f", index={i}" if i else "") + ")"


CPU = device("cpu")
"""The one device: what ``t.device`` returns."""


def check_device(op: str, device: Any, name: str = "device") -> None:
    """Accept a ``device=`` argument naming the CPU (``None``, ``"cpu"``, ``"cpu:0"``,
    ``am.device("cpu")``).

    Raises:
        ValueError: for any other device (``"cuda"``...) or a value that names none.
    """
    if device is None or (isinstance(device, str) and device.split(":")[0] == "cpu"):
        return
    known = isinstance(device, str) and device.split(":")[0] in DEVICES
    why = "only the CPU exists here" if known else f"expected one of {DEVICES}"
    raise ValueError(f"{op}: {why}; got {name}={device!r}, expected 'cpu' (or None)")
