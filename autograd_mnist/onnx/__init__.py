"""Export a model to ONNX: ``am.onnx.export(model, example_input, "model.onnx")``.

The exporter traces one forward pass through the engine's recorded graph (see
:mod:`._trace`) and maps it to ONNX: the layers in :data:`MODULES` whole (``nn.Conv2d`` is
one ``Conv``, an eval-mode ``nn.BatchNorm2d`` one ``BatchNormalization``, ``nn.Dropout`` is
gone), every other op through :data:`OPS`. Parameters and buffers become initializers named
by their state-dict keys; dimension 0 of the input and the output is a dynamic ``batch``.
The model is checked with ``onnx.checker.check_model`` before it is written. ONNX Runtime
(``pip install "autograd-mnist[onnx]"``) runs it.

Needs the ``onnx`` package (the ``onnx`` extra), imported only when :func:`export` runs.
Named after ``torch.onnx`` (``am.onnx.export``); the ``onnx`` package itself is imported
by absolute name, so the two never clash.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist import nn
from autograd_mnist.io import PathLike
from autograd_mnist.onnx._graph import Graph, UnsupportedOpError
from autograd_mnist.onnx._modules import MODULES
from autograd_mnist.onnx._ops import OPS
from autograd_mnist.onnx._proto import INSTALL_HINT, build_model, onnx_module, save_model
from autograd_mnist.onnx._trace import INPUT, trace
from autograd_mnist.tensor import Tensor

__all__ = [
    "DEFAULT_OPSET",
    "INPUT",
    "INSTALL_HINT",
    "MIN_OPSET",
    "MODULES",
    "OPS",
    "OUTPUT",
    "UnsupportedOpError",
    "export",
    "onnx_module",
]

DEFAULT_OPSET = 17
"""The opset written unless ``opset=`` says otherwise: run by ONNX Runtime 1.14 and later,
and by onnxruntime-web."""
MIN_OPSET = 13
"""The oldest opset the exporter writes (Softmax and ReduceSum as they are since 13)."""
OUTPUT = "output"
"""The graph output's name."""


def export(
    model: nn.Module,
    example_input: Any,
    path: PathLike,
    opset: int = DEFAULT_OPSET,
) -> Any:
    """Trace ``model`` on ``example_input`` and write it to ``path`` as an ONNX model.

    As ``torch.onnx.export(model, args, f, opset_version=...)``: one forward pass is traced
    in eval mode (the model's mode is restored afterwards), so Dropout is gone and
    BatchNorm uses its running statistics. Unlike it, the batch dimension is always
    dynamic (named ``batch``) and the names are fixed: input ``input``, output ``output``.

    Args:
        model: a Module taking one float tensor and returning one.
        example_input: an array or Tensor ``(N, ...)`` of the input's shape and dtype; its
            values only drive the trace. A batch of 1 is traced as 2 (the example
            twice), so that a constant made from the input's values (a mask, which
            cannot follow another batch size) is refused, never frozen in.
        path: the ``.onnx`` file to write (atomically; its folder must exist).
        opset: the ONNX opset, from :data:`MIN_OPSET` to what the installed ``onnx``
            knows (``GELU`` is one ``Gelu`` node from opset 20, ``Erf`` and friends below).

    Returns:
        The ``onnx.ModelProto`` written (checked with ``onnx.checker.check_model``).

    Raises:
        ImportError: if the ``onnx`` package is missing (saying how to install it).
        UnsupportedOpError: (a ValueError) for an op or layer that has no ONNX mapping,
            naming the op and the module it ran in.
        ValueError: for an opset out of range or an input that is not a float array with
            a batch dimension.
        OSError: if ``path`` cannot be written.
    """
    onnx = onnx_module()
    newest = int(onnx.defs.onnx_opset_version())
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"export: opset {opset!r}, expected an int from {MIN_OPSET} to {newest}")
    x = np.asarray(example_input.data if isinstance(example_input, Tensor) else example_input)
    if x.ndim < 1 or x.dtype.kind != "f" or x.shape[0] < 1:
        raise ValueError(
            f"export: example_input of shape {x.shape} and dtype {x.dtype}; expected a float "
            "array (N, ...) with N >= 1"
        )
    # a batch of 1 is traced as 2 (the example twice): a constant made from the input's
    # values then has the batch size first and is refused instead of frozen into the graph
    traced = np.concatenate([x, x]) if x.shape[0] == 1 else x
    graph = Graph(opset)
    out_name, out = trace(model, traced, graph)
    if out.ndim < 1 or out.shape[0] != traced.shape[0]:
        raise UnsupportedOpError(
            f"export: the output has shape {out.shape} for an input of shape {traced.shape}; "
            f"expected the batch dimension {traced.shape[0]} first, as the input's"
        )
    graph.node("Identity", [out_name])  # the output under its fixed name
    graph.nodes[-1].outputs = [OUTPUT]
    doc = f"{type(model).__name__} exported by autograd_mnist"
    proto = build_model(graph, ((INPUT, x.dtype, x.shape), (OUTPUT, out.dtype, out.shape)), doc)
    save_model(proto, path)
    return proto
