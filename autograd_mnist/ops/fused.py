"""Fused primitives: one op where a composite of primitive ops would do, for speed only.

Each equals the composite its docstring names, values and gradients of every order
(``tests/test_fused.py`` checks both), and its backward is still built from engine ops, so
it is differentiable again.
"""

from __future__ import annotations

import numpy as np

from autograd_mnist._layout import column_major
from autograd_mnist.function import Function
from autograd_mnist.grad_mode import is_grad_enabled
from autograd_mnist.ops._bn_kernels import normalize, normalize_backward
from autograd_mnist.ops.elementwise import exp, mul, pow, sub
from autograd_mnist.ops.linalg import MatMul, matmul, product
from autograd_mnist.ops.reduction import mean, sum
from autograd_mnist.ops.shape import reshape, transpose
from autograd_mnist.ops.softmax import LogSoftmax
from autograd_mnist.tensor import Tensor, constant


class Linear(Function):
    """y = x @ W^T + b on x (..., in), W (out, in), b (out,) or absent;
    dx = g @ W,  dW = g^T @ x,  db = sum of g over the leading dimensions.

    Equals ``matmul(x, transpose(W, 0, 1)) + b``. Fused so that dW comes out C-contiguous
    in W's own (out, in) layout, with no copy before the optimizer.
    """

    @staticmethod
    def forward(ctx: Linear, x: np.ndarray, w: np.ndarray, *b: np.ndarray) -> np.ndarray:
        if column_major(x):
            # x is a transposed view (a flattened batch-last conv output, or the output of
            # a Linear that had one): BLAS multiplies untransposed operands faster, so take
            # y as the transpose of W @ x^T, column-major too.
            y: np.ndarray = product(w, x.T).T
        else:
            y = product(x, w.T)
        if b:
            y += b[0]
        return y

    @staticmethod
    def backward(ctx: Linear, g: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.inputs[:2]
        needs = ctx.needs_input_grad
        g2 = reshape(g, (-1, g.shape[-1]))  # (M, out), M = product of leading dims
        gx = None
        if needs[0] and column_major(x.data):
            # x is a transposed view (a flattened batch-last conv output): give its gradient
            # the same layout, (W^T @ g^T)^T, so that reshaping it back stays a view.
            gx = transpose(MatMul.apply(transpose(w, 0, 1), transpose(g, 0, 1)), 0, 1)
        elif needs[0]:
            gx = matmul(g, w)
        gw = MatMul.apply(transpose(g2, 0, 1), reshape(x, (-1, x.shape[-1]))) if needs[1] else None
        if len(ctx.inputs) == 2:
            return gx, gw
        gb = sum(g2, 0) if needs[2] else None
        return gx, gw, gb


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x (..., in) @ weight (out, in).T + bias (out,) -> (..., out); shapes already checked
    (by ``functional.linear``)."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x (N, K) with class indices ``target`` (N,) and
    label smoothing s: the target distribution is ``q = (1 - s) * onehot(target) + s / K``;
    dx = (softmax(x) - q) * g, scaled by 1/N for the mean reduction.

    Equals ``mean((1 - s) * nll + s * mean_k(-log_softmax(x, 1)))`` with
    ``nll = -log_softmax(x, 1)[arange(N), target]`` (``sum`` or no reduction for the
    other ``reduction`` values): PyTorch's ``cross_entropy(..., label_smoothing=s)``.
    Fused: the forward builds no graph of log_softmax, indexing and mean, and the backward
    is one subtraction.
    """

    @staticmethod
    def forward(
        ctx: CrossEntropy,
        x: np.ndarray,
        target: np.ndarray,
        reduction: str,
        label_smoothing: float = 0.0,
    ) -> np.ndarray:
        shifted = x - np.max(x, axis=1, keepdims=True)
        logz = np.log(np.sum(np.exp(shifted), axis=1))
        picked = shifted[np.arange(x.shape[0]), target]
        if label_smoothing:
            s = label_smoothing
            picked = (1 - s) * picked + s * np.mean(shifted, axis=1)
        losses: np.ndarray = (logz - picked).astype(x.dtype, copy=False)  # (N,)
        if reduction == "none":
            return losses
        total = losses.sum(dtype=x.dtype)
        if reduction == "sum":
            return np.asarray(total, dtype=x.dtype)
        return np.asarray(total / x.shape[0] if x.shape[0] else np.nan, dtype=x.dtype)

    @staticmethod
    def backward(ctx: CrossEntropy, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        N, K = x.shape
        target, reduction = ctx.params["target"], ctx.params["reduction"]
        s = ctx.params.get("label_smoothing", 0.0)
        q = np.full((N, K), s / K, dtype=x.dtype)
        q[np.arange(N), target] += 1 - s
        d = sub(exp(LogSoftmax.apply(x, axis=1)), constant(q))  # (N, K)
        if reduction == "none":
            return mul(d, reshape(g, (N, 1)))
        # The mean of an empty batch is NaN (as PyTorch's), and its gradient is empty.
        return mul(d, mul(g, 1.0 / N if N else np.nan) if reduction == "mean" else g)


def cross_entropy(
    x: Tensor, target: np.ndarray, reduction: str, label_smoothing: float = 0.0
) -> Tensor:
    """Softmax cross-entropy of logits x (N, K) and class indices ``target`` (N,), reduced
    by 'mean', 'sum' or 'none', targets smoothed by ``label_smoothing`` (arguments already
    checked by ``functional.cross_entropy``)."""
    if not label_smoothing:  # the parameters a graph shows stay as they were
        return CrossEntropy.apply(x, target=target, reduction=reduction)
    return CrossEntropy.apply(
        x, target=target, reduction=reduction, label_smoothing=float(label_smoothing)
    )


class BatchNorm(Function):
    """y = xhat * w + b, xhat = (x - mean) / sqrt(var + eps), statistics over ``axes``;
    dx = (w / sqrt(var + eps)) * (g - mean(g) - xhat * mean(g * xhat)),
    dw = sum(g * xhat), db = sum(g)  (means and sums over ``axes``, per channel).

    Equals ``(x - m) * pow(mean((x - m) ** 2, axes) + eps, -0.5) * w + b`` with
    ``m = mean(x, axes)``: batch statistics, the variance biased. ``mean`` and ``var``
    arrive as parameters, computed from x by the caller. A plain backward uses the saved
    xhat; when the backward itself is recorded (``create_graph=True``) it recomputes the
    statistics from x with engine ops, so that second derivatives see how mean and variance
    depend on x.
    """

    @staticmethod
    def forward(
        ctx: BatchNorm,
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray,
        mean: np.ndarray,
        var: np.ndarray,
        axes: tuple[int, ...],
        eps: float,
    ) -> np.ndarray:
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)  # (1, C) or (1, C, 1, 1)
        y, xhat = normalize(x, mean, invstd, w, b)
        ctx.save(xhat, invstd)
        return y

    @staticmethod
    def backward(ctx: BatchNorm, g: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x, w, b = ctx.inputs
        axes, eps = ctx.params["axes"], ctx.params["eps"]
        shape = ctx.params["mean"].shape
        if is_grad_enabled():
            mu = mean(x, axes, keepdim=True)
            xc = sub(x, mu)
            invstd = pow(mean(mul(xc, xc), axes, keepdim=True) + eps, -0.5)
            xhat = mul(xc, invstd)
            gx = mul(g, xhat)
            dx = mul(
                mul(reshape(w, shape), invstd),
                sub(sub(g, mean(g, axes, keepdim=True)), mul(xhat, mean(gx, axes, keepdim=True))),
            )
            return dx, sum(gx, axes), sum(g, axes)
        xhat_a, invstd_a = ctx.saved
        dx_a, dw, db = normalize_backward(g.data, xhat_a, invstd_a, w.data, axes)
        return constant(dx_a), constant(dw.astype(w.dtype)), constant(db.astype(b.dtype))


def batch_norm(
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    mean: np.ndarray,
    var: np.ndarray,
    axes: tuple[int, ...],
    eps: float,
) -> Tensor:
    """Normalise x (N, C) or (N, C, H, W) with its batch ``mean`` and biased ``var``
    ((1, C) or (1, C, 1, 1), over ``axes``), then scale by weight (C,) and shift by bias
    (C,) (arguments already checked by ``functional.batch_norm``)."""
    return BatchNorm.apply(x, weight, bias, mean=mean, var=var, axes=axes, eps=eps)
