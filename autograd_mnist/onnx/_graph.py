"""The ONNX graph being built, as plain Python and NumPy (no ``onnx`` import here).

:class:`Graph` collects nodes (op type, input and output value names, attributes) and
initializers (name -> array); :mod:`autograd_mnist.onnx._proto` turns it into a
``ModelProto``. Keeping the two apart lets the tracer and the op tables be read and tested
without the ``onnx`` package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Graph", "Node", "UnsupportedOpError"]


class UnsupportedOpError(ValueError):
    """An op or module call that :func:`autograd_mnist.onnx.export` cannot map to ONNX; the
    message names it and the module it ran in."""


@dataclass
class Node:
    """One ONNX node: ``op`` (an ONNX op type) from ``inputs`` to ``outputs``."""

    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]
    name: str


@dataclass
class Graph:
    """Nodes in execution order and initializers by name, for one opset."""

    opset: int
    nodes: list[Node] = field(default_factory=list)
    initializers: dict[str, np.ndarray] = field(default_factory=dict)
    reserved: set[str] = field(default_factory=set)  # the model's names: no constant's

    def node(self, op: str, inputs: list[str], where: str = "", **attrs: Any) -> str:
        """Add a node; return its output's name (``<op>_<k>``; the node is ``/<where>/<op>_<k>``).

        ``where`` is the dotted name of the module it comes from ("" for none).
        """
        k = len(self.nodes)
        out = f"{op}_{k}"
        prefix = f"/{where.replace('.', '/')}" if where else ""
        self.nodes.append(Node(op, list(inputs), [out], attrs, f"{prefix}/{op}_{k}"))
        return out

    def initializer(self, name: str, array: np.ndarray) -> str:
        """Add ``array`` as the initializer ``name`` (once: a name seen before is reused)."""
        self.initializers.setdefault(name, np.ascontiguousarray(array))
        return name

    def const(self, value: Any, dtype: Any = np.float32, hint: str = "const") -> str:
        """A constant initializer holding ``value`` as ``dtype``, under a fresh name (never one
        of :attr:`reserved`, the state-dict keys that name the model's own)."""
        name = f"{hint}_{len(self.initializers)}"
        while name in self.initializers or name in self.reserved:
            name += "_"
        return self.initializer(name, np.asarray(value, dtype=dtype))

    def ints(self, values: Any, hint: str = "shape") -> str:
        """An int64 1-D constant (shapes, axes), as ONNX wants them."""
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), np.int64, hint)
