"""Batch normalisation with batch statistics, as one primitive (fast forward and backward)."""

from __future__ import annotations

import numpy as np

from autograd_mnist.autograd import Function, is_grad_enabled
from autograd_mnist.ops.elementwise import mul, pow, sub
from autograd_mnist.ops.reduction import mean, sum
from autograd_mnist.ops.shape import reshape
from autograd_mnist.tensor import Tensor


class BatchNorm(Function):
    """y = xhat * w + b, xhat = (x - mean) / sqrt(var + eps), statistics over ``axes``;
    dx = (w / sqrt(var + eps)) * (g - mean(g) - xhat * mean(g * xhat)),
    dw = sum(g * xhat), db = sum(g)  (means and sums over ``axes``, per channel).

    ``mean`` and ``var`` (biased) arrive as parameters, computed from x by the caller.
    A plain backward uses the saved xhat; when the backward itself is recorded
    (``create_graph=True``) it recomputes the statistics from x with engine ops, so that
    second derivatives see how mean and variance depend on x.
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
        shape = mean.shape  # (1, C) or (1, C, 1, 1)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        xhat = (x - mean) * invstd
        ctx.save(xhat, invstd)
        return xhat * w.reshape(shape) + b.reshape(shape)  # type: ignore[no-any-return]

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
        ga = g.data
        m = ga.size // w.shape[0]
        db = ga.sum(axis=axes)
        dw = (ga * xhat_a).sum(axis=axes)
        centred = ga - (db / m).reshape(shape) - xhat_a * (dw / m).reshape(shape)
        dx = centred * (w.data.reshape(shape) * invstd_a)
        wrap = Tensor._wrap
        return wrap(dx, False), wrap(dw.astype(w.dtype), False), wrap(db.astype(b.dtype), False)
