"""Trace one forward pass and walk its recorded graph into a :class:`Graph`.

The model runs once in eval mode on a copy of the example input that requires grad, so
every op that depends on the input is recorded (``Tensor.grad_fn``, ``ctx.inputs``), even
in a model whose parameters are frozen. Forward hooks note each call of a layer that
:mod:`._modules` exports whole (its input and output tensors). The walk then goes back from
the output: a tensor a noted call made becomes that call's node(s), and the walk goes on
from the call's input; a tensor a recorded op made becomes the op's node(s)
(:mod:`._ops`); the input becomes the graph's input; a parameter or buffer becomes an
initializer named by its state-dict key; any other leaf becomes a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_mnist import nn
from autograd_mnist.grad_mode import enable_grad
from autograd_mnist.hooks import RemovableHandle
from autograd_mnist.onnx._graph import Graph, UnsupportedOpError
from autograd_mnist.onnx._modules import MODULES, Mapper, Names, module_mapper
from autograd_mnist.onnx._ops import OPS, OpCall
from autograd_mnist.tensor import Tensor

__all__ = ["INPUT", "trace"]

INPUT = "input"
"""The graph input's name."""


@dataclass
class _Call:
    """One call of a layer exported whole."""

    module: nn.Module
    mapper: Mapper
    input: Tensor


class _Tracer:
    def __init__(self, model: nn.Module, graph: Graph, x: Tensor) -> None:
        self.model, self.g, self.x = model, graph, x
        self.names = Names(model)
        graph.reserved.update(self.names.params.values(), self.names.buffers.values())
        self.module_names = {id(m): n for n, m in model.named_modules()}
        self.calls: dict[int, _Call] = {}
        self.keep: list[Any] = []  # every tensor seen stays alive: ids stay unique
        self.values: dict[int, str] = {}
        self.dynamic: set[int] = set()

    def hook(self, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        x = inputs[0] if inputs else None
        if not isinstance(output, Tensor) or not isinstance(x, Tensor) or output is x:
            return  # Dropout and Identity in eval mode: the input itself, no node
        mapper = module_mapper(module, self.g.opset, x.ndim)
        if mapper is not None and id(output) not in self.calls:  # an outer call is noted last
            self.calls[id(output)] = _Call(module, mapper, x)
            self.keep += [output, x]

    def where(self, path: tuple[Any, ...]) -> str:
        return self.module_names.get(id(path[-1]), type(path[-1]).__name__) if path else ""

    def deps(self, t: Tensor) -> list[Tensor]:
        if t is self.x:
            return []
        call = self.calls.get(id(t))
        if call is not None:
            return [call.input]
        return list(t.grad_fn.inputs) if t.grad_fn is not None else []

    def walk(self, root: Tensor) -> str:
        """Emit every node behind ``root`` (inputs first); return ``root``'s value name."""
        stack: list[tuple[Tensor, bool]] = [(root, False)]
        while stack:
            t, ready = stack.pop()
            if id(t) in self.values:
                continue
            pending = [d for d in self.deps(t) if id(d) not in self.values]
            if pending and not ready:
                self.keep += pending
                stack.append((t, True))
                stack.extend((d, False) for d in reversed(pending))
                continue
            self.values[id(t)] = self.emit(t)
        return self.values[id(root)]

    def emit(self, t: Tensor) -> str:
        if t is self.x:
            self.dynamic.add(id(t))
            return INPUT
        call = self.calls.get(id(t))
        if call is not None:
            where = self.module_names.get(id(call.module), type(call.module).__name__)
            if id(call.input) in self.dynamic:
                self.dynamic.add(id(t))
            value = self.values[id(call.input)]
            return call.mapper(self.g, call.module, value, call.input, self.names, where)
        ctx = t.grad_fn
        if ctx is None:
            return self.leaf(t)
        dynamic = [id(i) in self.dynamic for i in ctx.inputs]
        if any(dynamic):
            self.dynamic.add(id(t))
        op = OpCall(
            ctx, [self.values[id(i)] for i in ctx.inputs], t, self.where(ctx.modules), dynamic
        )
        mapper = OPS.get(type(ctx))
        if mapper is None:
            raise UnsupportedOpError(
                f"export: {op.describe()} has no ONNX mapping; ops that map: "
                f"{', '.join(sorted(k.__name__ for k in OPS))} (and the layers "
                "autograd_mnist.onnx.MODULES names)"
            )
        return mapper(self.g, op)

    def leaf(self, t: Tensor) -> str:
        # a parameter, or a buffer (an array, wrapped by the op that used it, not copied)
        name = self.names.params.get(id(t)) or self.names.buffers.get(id(t.data))
        if name is not None:
            return self.g.initializer(name, t.data)
        batch = self.x.shape[0]
        batch_like = t.ndim >= 2 or (t.ndim == 1 and self.x.ndim == 1)  # (F,): features
        if batch_like and t.shape[0] == batch > 1:
            raise UnsupportedOpError(
                f"export: a constant of shape {t.shape} has the batch size {batch} as its "
                "first dimension: made from the input's values (such as the masks of "
                "F.leaky_relu, F.elu or F.softplus called outside their nn layers)? It "
                "cannot follow a dynamic batch; use the nn layer, which exports whole (a "
                "fixed array: register it with register_buffer)"
            )
        return self.g.const(t.data, t.dtype)


def trace(model: nn.Module, example: np.ndarray, graph: Graph) -> tuple[str, Tensor]:
    """Run ``model`` once on ``example`` (eval mode, restored after) and fill ``graph``.

    Returns:
        The output's value name and the output tensor.

    Raises:
        UnsupportedOpError: for an op or layer with no ONNX mapping, naming it and its module.
    """
    tracer = _Tracer(model, graph, Tensor(np.array(example), requires_grad=True))
    modes = [(m, m.training) for m in model.modules()]
    handles: list[RemovableHandle] = [
        m.register_forward_hook(tracer.hook) for m in model.modules() if type(m) in MODULES
    ]
    try:
        model.eval()
        with enable_grad():
            out = model(tracer.x)
        if not isinstance(out, Tensor):
            raise UnsupportedOpError(
                f"export: the model returned a {type(out).__name__}, expected one Tensor"
            )
        if out is tracer.x:
            return graph.node("Identity", [INPUT]), out
        return tracer.walk(out), out
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
