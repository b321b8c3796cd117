"""Module calls exported as one ONNX node (or a few), from the module's own settings.

A layer such as ``nn.Conv2d`` records several engine ops (im2col, matmul, reshapes) that
ONNX has as one op, and the activations with a kink record data-dependent masks; so the
calls of the layers in :data:`MODULES` are exported whole. Only these exact classes are
(a subclass may change ``forward``); any other module is exported op by op
(:mod:`autograd_mnist.onnx._ops`). ``nn.Dropout`` and ``nn.Identity`` return their input in
eval mode: no node at all.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograd_mnist import nn
from autograd_mnist._args import pair
from autograd_mnist.onnx._graph import Graph, UnsupportedOpError
from autograd_mnist.spatial import adaptive_avg_matrix, adaptive_sizes, conv_padding
from autograd_mnist.tensor import Tensor

__all__ = ["MODULES", "Names", "module_mapper"]

GELU_OPSET = 20
"""The first opset with ``Gelu``; below it GELU is exported op by op (Erf or Tanh)."""


class Names:
    """State-dict names of a model's parameters and buffers, by object identity."""

    def __init__(self, model: nn.Module) -> None:
        self.params = {id(p): n for n, p in model.named_parameters()}
        self.buffers = {id(b): n for n, b in model.named_buffers()}

    def of(self, g: Graph, value: Tensor | np.ndarray) -> str:
        """The initializer of a parameter (a Tensor) or buffer (an array), by its name."""
        if isinstance(value, Tensor):
            return g.initializer(self.params[id(value)], value.data)
        return g.initializer(self.buffers[id(value)], value)


# (graph, module, input value, the input tensor, names, where) -> output value
Mapper = Callable[[Graph, nn.Module, str, Tensor, Names, str], str]


def _pads(top_left: tuple[int, int], extra: tuple[int, int]) -> list[int]:
    """ONNX ``pads`` [top, left, bottom, right] from our (each side, extra at the end)."""
    (t, left), (eh, ew) = top_left, extra
    return [t, left, t + eh, left + ew]


def _conv(g: Graph, m: nn.Module, x: str, _t: Tensor, names: Names, where: str) -> str:
    assert isinstance(m, nn.Conv2d)
    pads, extra = conv_padding("Conv2d", m.padding, m.kernel_size, m.stride, m.dilation)
    ins = [x, names.of(g, m.weight)] + ([names.of(g, m.bias)] if m.bias is not None else [])
    return g.node(
        "Conv",
        ins,
        where,
        kernel_shape=list(m.kernel_size),
        strides=list(m.stride),
        dilations=list(m.dilation),
        pads=_pads(pads, extra),
    )


def linear(g: Graph, x: str, ndim: int, w: str, b: str | None, where: str) -> str:
    """``x @ w.T + b``: Gemm for a 2-D ``x``, else Transpose, MatMul (and Add)."""
    if ndim == 2:
        return g.node("Gemm", [x, w] + ([b] if b is not None else []), where, transB=1)
    y = g.node("MatMul", [x, g.node("Transpose", [w], where, perm=[1, 0])], where)
    return g.node("Add", [y, b], where) if b is not None else y


def _linear(g: Graph, m: nn.Module, x: str, t: Tensor, names: Names, where: str) -> str:
    assert isinstance(m, nn.Linear)
    b = names.of(g, m.bias) if m.bias is not None else None
    return linear(g, x, t.ndim, names.of(g, m.weight), b, where)


def _pool(g: Graph, m: nn.Module, x: str, _t: Tensor, _n: Names, where: str) -> str:
    assert isinstance(m, nn.MaxPool2d | nn.AvgPool2d)
    name = type(m).__name__
    kernel = pair(name, "kernel_size", m.kernel_size, 1)
    stride = kernel if m.stride is None else pair(name, "stride", m.stride, 1)
    pads = pair(name, "padding", m.padding, 0)
    attrs = dict(kernel_shape=list(kernel), strides=list(stride), pads=_pads(pads, (0, 0)))
    if isinstance(m, nn.AvgPool2d):
        return g.node(
            "AveragePool", [x], where, count_include_pad=int(m.count_include_pad), **attrs
        )
    return g.node("MaxPool", [x], where, **attrs)


def _adaptive_avg_pool(g: Graph, m: nn.Module, x: str, t: Tensor, _n: Names, where: str) -> str:
    """GlobalAveragePool for a 1 x 1 output, AveragePool for bins that tile the input, else
    ``A_h @ x @ A_w^T`` with the averaging matrices (uneven bins overlap, as ours)."""
    assert isinstance(m, nn.AdaptiveAvgPool2d)
    (H, W), (OH, OW) = t.shape[-2:], adaptive_sizes("AdaptiveAvgPool2d", t.shape, m.output_size)
    if t.ndim == 4 and (OH, OW) == (1, 1):
        return g.node("GlobalAveragePool", [x], where)
    if t.ndim == 4 and OH and OW and H % OH == 0 and W % OW == 0:
        k = [H // OH, W // OW]
        return g.node("AveragePool", [x], where, kernel_shape=k, strides=k)
    rows = g.const(adaptive_avg_matrix(H, OH), t.dtype, "bins")  # (OH, H)
    cols = g.const(adaptive_avg_matrix(W, OW).T, t.dtype, "bins")  # (W, OW)
    return g.node("MatMul", [g.node("MatMul", [rows, x], where), cols], where)


def _batch_norm(g: Graph, m: nn.Module, x: str, t: Tensor, names: Names, where: str) -> str:
    assert isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)
    rm, rv = getattr(m, "running_mean", None), getattr(m, "running_var", None)
    if rm is None or rv is None:
        raise UnsupportedOpError(
            f"export: {type(m).__name__} '{where}' keeps no running statistics "
            "(track_running_stats=False): in eval mode it normalises with the batch's own, "
            "which ONNX's BatchNormalization cannot; got no running_mean, expected one"
        )
    c, dtype = rm.shape[0], t.dtype
    w = names.of(g, m.weight) if m.weight is not None else g.const(np.ones(c), dtype, "ones")
    b = names.of(g, m.bias) if m.bias is not None else g.const(np.zeros(c), dtype, "zeros")
    ins = [x, w, b, names.of(g, rm), names.of(g, rv)]
    return g.node("BatchNormalization", ins, where, epsilon=float(m.eps))


def _unary(op: str) -> Mapper:
    def mapper(g: Graph, m: nn.Module, x: str, _t: Tensor, _n: Names, where: str) -> str:
        return g.node(op, [x], where)

    return mapper


def _leaky_relu(g: Graph, m: nn.Module, x: str, _t: Tensor, _n: Names, where: str) -> str:
    assert isinstance(m, nn.LeakyReLU)
    return g.node("LeakyRelu", [x], where, alpha=float(m.negative_slope))


def _elu(g: Graph, m: nn.Module, x: str, _t: Tensor, _n: Names, where: str) -> str:
    assert isinstance(m, nn.ELU)
    return g.node("Elu", [x], where, alpha=float(m.alpha))


def _gelu(g: Graph, m: nn.Module, x: str, _t: Tensor, _n: Names, where: str) -> str:
    assert isinstance(m, nn.GELU)
    return g.node("Gelu", [x], where, approximate=str(m.approximate))


def _silu(g: Graph, m: nn.Module, x: str, _t: Tensor, _n: Names, where: str) -> str:
    return g.node("Mul", [x, g.node("Sigmoid", [x], where)], where)


def _softplus(g: Graph, m: nn.Module, x: str, t: Tensor, _n: Names, where: str) -> str:
    """ONNX's Softplus has no beta and no threshold: where ``beta x`` is above the threshold
    (20 by default) ours is x, ONNX's log(1 + e**(beta x)) / beta, larger by
    log(1 + e**-(beta x)) / beta < 2.1e-9 / beta."""
    assert isinstance(m, nn.Softplus)
    if m.beta == 1.0:
        return g.node("Softplus", [x], where)
    bx = g.node("Mul", [x, g.const(m.beta, t.dtype, "beta")], where)
    y = g.node("Softplus", [bx], where)
    return g.node("Div", [y, g.const(m.beta, t.dtype, "beta")], where)


def _flatten(g: Graph, m: nn.Module, x: str, _t: Tensor, _n: Names, where: str) -> str:
    assert isinstance(m, nn.Flatten)
    return g.node("Flatten", [x], where, axis=1)


def _softmax(op: str) -> Mapper:
    def mapper(g: Graph, m: nn.Module, x: str, t: Tensor, _n: Names, where: str) -> str:
        assert isinstance(m, nn.Softmax | nn.LogSoftmax)
        return g.node(op, [x], where, axis=int(m.dim))

    return mapper


MODULES: dict[type[nn.Module], Mapper] = {
    nn.Conv2d: _conv,
    nn.Linear: _linear,
    nn.MaxPool2d: _pool,
    nn.AvgPool2d: _pool,
    nn.AdaptiveAvgPool2d: _adaptive_avg_pool,
    nn.BatchNorm1d: _batch_norm,
    nn.BatchNorm2d: _batch_norm,
    nn.ReLU: _unary("Relu"),
    nn.Sigmoid: _unary("Sigmoid"),
    nn.Tanh: _unary("Tanh"),
    nn.LeakyReLU: _leaky_relu,
    nn.ELU: _elu,
    nn.GELU: _gelu,
    nn.SiLU: _silu,
    nn.Softplus: _softplus,
    nn.Flatten: _flatten,
    nn.Softmax: _softmax("Softmax"),
    nn.LogSoftmax: _softmax("LogSoftmax"),
}
"""Module classes exported whole, and how."""


def module_mapper(module: nn.Module, opset: int, ndim: int) -> Mapper | None:
    """How a call of ``module`` on an ``ndim``-D input is exported whole (None: op by op)."""
    kind = type(module)
    if kind is nn.GELU and opset < GELU_OPSET:
        return None
    if kind is nn.Flatten:
        assert isinstance(module, nn.Flatten)
        n = max(ndim, 1)  # ONNX's Flatten makes (batch, rest): only dims 1.. to the end
        if module.start_dim % n != 1 or module.end_dim % n != ndim - 1:
            return None  # a Reshape then, with the batch dimension kept
    return MODULES.get(kind)
