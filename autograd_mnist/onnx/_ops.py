"""Engine ops exported one by one: the table from a recorded op (a :class:`Function`
subclass) to ONNX nodes, for the code that runs outside the layers of
:mod:`autograd_mnist.onnx._modules` (a custom module's ``forward``, ``F`` calls).

An op missing from :data:`OPS` cannot be exported; :func:`autograd_mnist.onnx.export`
raises :class:`UnsupportedOpError` naming it and its module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograd_mnist.function import Function
from autograd_mnist.onnx._graph import Graph, UnsupportedOpError
from autograd_mnist.onnx._modules import linear
from autograd_mnist.ops import elementwise as ew
from autograd_mnist.ops.cast import Cast, Clone
from autograd_mnist.ops.conv import MaxPool2d
from autograd_mnist.ops.fused import Linear
from autograd_mnist.ops.linalg import MatMul
from autograd_mnist.ops.power import PowT
from autograd_mnist.ops.reduction import Sum
from autograd_mnist.ops.select import Clamp, Maximum, Minimum
from autograd_mnist.ops.shape import Permute, Reshape
from autograd_mnist.ops.softmax import LogSoftmax
from autograd_mnist.ops.special import Erf, Softplus
from autograd_mnist.tensor import Tensor

__all__ = ["OPS", "OpCall"]

_ONNX_TYPES = {np.dtype(np.float32): 1, np.dtype(np.float64): 11, np.dtype(np.int64): 7}


@dataclass
class OpCall:
    """One recorded op to export: its node, input value names, output and module name."""

    ctx: Function
    ins: list[str]
    out: Tensor
    where: str
    dynamic: list[bool]  # per input: does it depend on the graph's input (batch-sized)?

    def describe(self) -> str:
        """``op Reshape in module '3' (Flatten)``, for errors."""
        module = f" in module '{self.where}'" if self.where else " (outside any module)"
        return f"op {type(self.ctx).__name__}{module}"


OpMapper = Callable[[Graph, OpCall], str]


def _same(op: str) -> OpMapper:
    """An ONNX op taking the same inputs, with no attributes."""

    def mapper(g: Graph, c: OpCall) -> str:
        return g.node(op, c.ins, c.where)

    return mapper


def _pow(g: Graph, c: OpCall) -> str:
    exponent = g.const(c.ctx.params["exponent"], c.out.dtype, "exponent")
    return g.node("Pow", [c.ins[0], exponent], c.where)


def _linear(g: Graph, c: OpCall) -> str:
    bias = c.ins[2] if len(c.ins) > 2 else None
    return linear(g, c.ins[0], c.ctx.inputs[0].ndim, c.ins[1], bias, c.where)


def _reshape(g: Graph, c: OpCall) -> str:
    """A Reshape; one of a batch-sized value must keep dimension 0, written as 0 ("copy")."""
    src, dst = c.ctx.inputs[0].shape, c.out.shape
    if not c.dynamic[0]:
        return g.node("Reshape", [c.ins[0], g.ints(dst)], c.where)
    if not src or not dst or src[0] != dst[0]:
        raise UnsupportedOpError(
            f"export: {c.describe()} reshapes {src} to {dst}: the batch dimension (0) must be "
            "kept for a dynamic batch; got a new first dimension, expected the input's"
        )
    return g.node("Reshape", [c.ins[0], g.ints([0, *dst[1:]])], c.where)


def _permute(g: Graph, c: OpCall) -> str:
    return g.node("Transpose", c.ins, c.where, perm=[int(d) for d in c.ctx.params["dims"]])


def _log_softmax(g: Graph, c: OpCall) -> str:
    return g.node("LogSoftmax", c.ins, c.where, axis=int(c.ctx.params["axis"]))


def _sum(g: Graph, c: OpCall) -> str:
    """A ReduceSum; not over the batch dimension (0) of a batch-sized value: a mean or a
    variance over it divides by the traced batch size, a constant in the graph."""
    if c.dynamic[0] and 0 in c.ctx.params["axes"]:
        raise UnsupportedOpError(
            f"export: {c.describe()} sums over dimension 0 of {c.ctx.inputs[0].shape}, the "
            "batch: a mean or variance over it would divide by the traced batch size, which "
            "cannot follow a dynamic batch; got axes "
            f"{tuple(c.ctx.params['axes'])}, expected ones without 0"
        )
    axes = g.ints(list(c.ctx.params["axes"]), "axes")
    return g.node("ReduceSum", [c.ins[0], axes], c.where, keepdims=int(c.ctx.params["keepdim"]))


def _clamp(g: Graph, c: OpCall) -> str:
    lo, hi = c.ctx.params["lo"], c.ctx.params["hi"]
    bounds = ["" if v is None else g.const(v, c.out.dtype, "clip") for v in (lo, hi)]
    return g.node("Clip", [c.ins[0], *bounds], c.where)


def _cast(g: Graph, c: OpCall) -> str:
    to = _ONNX_TYPES.get(np.dtype(c.out.dtype))
    if to is None:
        raise UnsupportedOpError(
            f"export: {c.describe()} casts to {c.out.dtype}; expected float32, float64 or int64"
        )
    return g.node("Cast", c.ins, c.where, to=to)


def _max_pool(g: Graph, c: OpCall) -> str:
    p = c.ctx.params
    (ph, pw) = p["padding"]
    return g.node(
        "MaxPool",
        c.ins,
        c.where,
        kernel_shape=list(p["kernel"]),
        strides=list(p["stride"]),
        pads=[ph, pw, ph, pw],
    )


OPS: dict[type[Function], OpMapper] = {
    ew.Add: _same("Add"),
    ew.Sub: _same("Sub"),
    ew.Mul: _same("Mul"),
    ew.Div: _same("Div"),
    ew.Neg: _same("Neg"),
    ew.Exp: _same("Exp"),
    ew.Log: _same("Log"),
    ew.Sqrt: _same("Sqrt"),
    ew.Abs: _same("Abs"),
    ew.ReLU: _same("Relu"),
    ew.Sigmoid: _same("Sigmoid"),
    ew.Tanh: _same("Tanh"),
    ew.Sin: _same("Sin"),
    ew.Cos: _same("Cos"),
    ew.Pow: _pow,
    PowT: _same("Pow"),
    Erf: _same("Erf"),
    Softplus: _same("Softplus"),
    MatMul: _same("MatMul"),
    Linear: _linear,
    LogSoftmax: _log_softmax,
    Reshape: _reshape,
    Permute: _permute,
    Sum: _sum,
    Maximum: _same("Max"),
    Minimum: _same("Min"),
    Clamp: _clamp,
    Cast: _cast,
    Clone: _same("Identity"),
    MaxPool2d: _max_pool,
}
"""Engine ops exported one by one, and how. Softmax is ``exp(log_softmax)``: Exp after
LogSoftmax."""
