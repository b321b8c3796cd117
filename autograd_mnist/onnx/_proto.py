"""A :class:`Graph` as an ONNX ``ModelProto``: built, checked with ``onnx.checker``, saved.

The one module of the package that imports ``onnx`` (lazily: it is the optional extra
``autograd-mnist[onnx]``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from autograd_mnist.io import PathLike, atomic_open
from autograd_mnist.onnx._graph import Graph

__all__ = ["INSTALL_HINT", "build_model", "onnx_module", "save_model"]

INSTALL_HINT = 'pip install "autograd-mnist[onnx]"'
"""How to install what ONNX export needs."""

BATCH = "batch"
"""The name of the dynamic batch dimension of the graph's input and output."""


def onnx_module() -> Any:
    """The ``onnx`` package, imported when first needed.

    Raises:
        ImportError: saying how to install it.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError(f"ONNX export needs the onnx package: {INSTALL_HINT}") from None
    return onnx


Spec = tuple[str, np.dtype[Any], tuple[int, ...]]
"""(name, dtype, shape) of a graph input or output; dimension 0 is the dynamic batch."""


def _value_info(onnx: Any, spec: Spec) -> Any:
    name, dtype, shape = spec
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return onnx.helper.make_tensor_value_info(name, elem, [BATCH, *shape[1:]])


def build_model(
    g: Graph,
    io: tuple[Spec, Spec],
    doc: str,
) -> Any:
    """The checked ``onnx.ModelProto`` of ``g``.

    Args:
        g: the traced graph.
        io: (name, dtype, shape) of the input and of the output; dimension 0 is the
            dynamic batch.
        doc: the graph's ``doc_string``.

    Raises:
        onnx.checker.ValidationError: if the model fails ``onnx.checker.check_model``
            (with ``full_check``: shapes and types inferred); a bug of the exporter.
    """
    onnx = onnx_module()
    helper = onnx.helper
    nodes = [helper.make_node(n.op, n.inputs, n.outputs, name=n.name, **n.attrs) for n in g.nodes]
    inits = [onnx.numpy_helper.from_array(a, name) for name, a in g.initializers.items()]
    graph = helper.make_graph(
        nodes,
        "autograd_mnist",
        [_value_info(onnx, io[0])],
        [_value_info(onnx, io[1])],
        initializer=inits,
        doc_string=doc,
    )
    opsets = [helper.make_opsetid("", g.opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="autograd_mnist")
    model.ir_version = helper.find_min_ir_version_for(opsets)  # the oldest runtime that can
    onnx.checker.check_model(model, full_check=True)
    return model


def save_model(model: Any, path: PathLike) -> None:
    """Write ``model`` (a ``ModelProto``) to ``path``, atomically (its folder must exist)."""
    data = model.SerializeToString()
    with atomic_open(os.fspath(path)) as f:
        f.write(data)
