"""PyTorch-style functions (``import autograd_mnist.functional as F``).

Each validates its arguments, naming the op and the shapes on error, then composes ops.
Layout is NCHW; weights are stored as PyTorch stores them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist._args import Size2, pair
from autograd_mnist._layout import NCHW_FROM_BATCH_LAST
from autograd_mnist.rng import get_rng
from autograd_mnist.tensor import Tensor, as_operands, as_tensor, constant

# Elementwise functions are the ops themselves: no arguments to check.
exp = ops.exp
log = ops.log
sqrt = ops.sqrt
abs = ops.abs  # noqa: A001 - PyTorch's name
relu = ops.relu
sigmoid = ops.sigmoid
tanh = ops.tanh
matmul = ops.matmul

_REDUCTIONS = ("mean", "sum", "none")


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """y = x @ weight.T + bias.

    Args:
        x: (..., in_features).
        weight: (out_features, in_features).
        bias: (out_features,) or None.

    Returns:
        (..., out_features).

    Raises:
        ValueError: if the feature sizes do not match.
    """
    x, weight = as_operands("linear", (x, weight))
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1] if x.ndim else 0} features but weight expects "
            f"(out, {weight.shape[-1]}); input {x.shape}, weight {weight.shape}"
        )
    b = None if bias is None else as_tensor(bias)
    if b is not None and b.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias has shape {b.shape}; expected ({weight.shape[0]},) "
            f"for weight {weight.shape}"
        )
    return ops.linear(x, weight, b)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Size2 = 1,
    padding: Size2 = 0,
) -> Tensor:
    """2-D cross-correlation, by im2col and one matmul (which also adds the bias).

    Args:
        x: (N, C, H, W).
        weight: (OC, C, KH, KW).
        bias: (OC,) or None.
        stride: int or (SH, SW), >= 1.
        padding: int or (PH, PW) zeros on each side, >= 0.

    Returns:
        (N, OC, OH, OW) with OH = (H + 2 PH - KH) // SH + 1 (OW likewise), stored
        batch-last: a view of an (OC, OH, OW, N) buffer (see ``autograd_mnist._layout``).

    Raises:
        ValueError: for wrong ranks, a channel mismatch, a kernel larger than the padded
            input, or a bias of the wrong shape.
    """
    x, weight = as_operands("conv2d", (x, weight))
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expected input (N, C, H, W) and weight (OC, C, KH, KW); "
            f"got input {x.shape}, weight {weight.shape}"
        )
    N, C, H, W = x.shape
    OC, WC, KH, KW = weight.shape
    SH, SW = pair("conv2d", "stride", stride, 1)
    PH, PW = pair("conv2d", "padding", padding, 0)
    if C != WC:
        raise ValueError(
            f"conv2d: input has {C} channels but weight expects {WC}; "
            f"input {x.shape}, weight {weight.shape}"
        )
    if KH > H + 2 * PH or KW > W + 2 * PW:
        raise ValueError(
            f"conv2d: kernel ({KH}, {KW}) is larger than the padded input "
            f"({H + 2 * PH}, {W + 2 * PW}); input {x.shape}, weight {weight.shape}, "
            f"padding {(PH, PW)}"
        )
    OH, OW = ops.out_size(H, KH, SH, PH), ops.out_size(W, KW, SW, PW)
    w2 = ops.reshape(weight, (OC, C * KH * KW))
    if bias is not None:
        weight, bias = as_operands("conv2d", (weight, bias))
        if bias.shape != (OC,):
            raise ValueError(f"conv2d: bias has shape {bias.shape}; expected ({OC},)")
        # The bias as a last weight column, against a row of ones in cols: the matmul adds
        # it, and the weight-gradient matmul sums its gradient.
        w2 = ops.cat([w2, ops.reshape(bias, (OC, 1))], 1)
    cols = ops.im2col(x, (KH, KW), (SH, SW), (PH, PW), ones_row=bias is not None)
    # One matmul for the whole batch: (OC, CKK [+1]) @ (CKK [+1], OH*OW*N) -> (OC, OH*OW*N),
    # returned as (N, OC, OH, OW), batch-last in memory: a view, no transpose copy.
    y = ops.matmul(w2, cols)
    return ops.permute(ops.reshape(y, (OC, OH, OW, N)), NCHW_FROM_BATCH_LAST)


def _pool_args(
    op: str,
    x: Tensor,
    kernel_size: Size2,
    stride: Size2 | None,
    padding: Size2,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input (N, C, H, W); got {x.shape}")
    kernel = pair(op, "kernel_size", kernel_size, 1)
    strides = kernel if stride is None else pair(op, "stride", stride, 1)
    pads = pair(op, "padding", padding, 0)
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ValueError(
            f"{op}: padding {pads} must be at most half the kernel {kernel}; input {x.shape}"
        )
    H, W = x.shape[2:]
    if kernel[0] > H + 2 * pads[0] or kernel[1] > W + 2 * pads[1]:
        raise ValueError(
            f"{op}: kernel {kernel} is larger than the padded input "
            f"({H + 2 * pads[0]}, {W + 2 * pads[1]}); input {x.shape}, padding {pads}"
        )
    return kernel, strides, pads


def max_pool2d(
    x: Any,
    kernel_size: Size2,
    stride: Size2 | None = None,
    padding: Size2 = 0,
) -> Tensor:
    """Maximum over each window.

    Args:
        x: (N, C, H, W).
        kernel_size: int or (KH, KW).
        stride: int or (SH, SW); None means ``kernel_size``.
        padding: implicit -inf padding on each side, at most half the kernel.

    Returns:
        (N, C, OH, OW). On ties, the gradient goes to the first maximal element of the
        window in row-major order (as PyTorch's CPU kernel does).
    """
    x = as_tensor(x)
    kernel, strides, pads = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    return ops.max_pool2d(x, kernel, strides, pads)


def avg_pool2d(
    x: Any,
    kernel_size: Size2,
    stride: Size2 | None = None,
    padding: Size2 = 0,
) -> Tensor:
    """Mean over each window; zero padding counts in the mean (PyTorch's default).

    Args:
        x: (N, C, H, W).
        kernel_size: int or (KH, KW).
        stride: int or (SH, SW); None means ``kernel_size``.
        padding: zeros on each side, at most half the kernel.

    Returns:
        (N, C, OH, OW).
    """
    x = as_tensor(x)
    (KH, KW), strides, (PH, PW) = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    OH, OW = ops.out_size(H, KH, strides[0], PH), ops.out_size(W, KW, strides[1], PW)
    cols = ops.im2col(x, (KH, KW), strides, (PH, PW))  # (C*KH*KW, OH*OW*N)
    means = ops.mean(ops.reshape(cols, (C, KH * KW, OH * OW * N)), 1)  # (C, OH*OW*N)
    return ops.permute(ops.reshape(means, (C, OH, OW, N)), NCHW_FROM_BATCH_LAST)


def log_softmax(x: Any, dim: int = -1) -> Tensor:
    """log(softmax(x)) along one int ``dim``, computed stably (finite for logits of 1e4).

    ``x``: any shape (0-d takes dim 0 or -1); returns ``x``'s shape. A tuple or None
    ``dim`` is a TypeError (PyTorch refuses a tuple; its deprecated implicit dim for None
    is not copied: the default is the last dimension).
    """
    x = as_tensor(x)
    return ops.log_softmax(x, ops.softmax_dim("log_softmax", x, dim))


def softmax(x: Any, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, as exp(log_softmax(x)): stable; as
    :func:`log_softmax` for shapes and errors."""
    x = as_tensor(x)
    return ops.exp(ops.log_softmax(x, ops.softmax_dim("softmax", x, dim)))


def _target(op: str, input: Tensor, target: Any) -> np.ndarray:
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.ndim != 2:
        raise ValueError(f"{op}: expected input (N, K); got {input.shape}")
    N, K = input.shape
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class indices; got dtype {t.dtype}; "
            f"input {input.shape}, target {t.shape}"
        )
    if t.shape != (N,):
        raise ValueError(
            f"{op}: target has shape {t.shape}; expected ({N},) for input {input.shape}"
        )
    if t.size and (t.min() < 0 or t.max() >= K):
        raise ValueError(
            f"{op}: target out of range; got values in [{t.min()}, {t.max()}], "
            f"expected 0 <= target < {K}; input {input.shape}, target {t.shape}"
        )
    return t.astype(np.intp, copy=False)


def _reduce(op: str, losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return ops.mean(losses)
    if reduction == "sum":
        return ops.sum(losses)
    if reduction == "none":
        return losses
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}; got {reduction!r}")


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of the target classes.

    Args:
        input: log-probabilities (N, K).
        target: class indices (N,), an int array or Tensor, each in [0, K).
        reduction: 'mean' (default), 'sum' or 'none' (per-sample losses, shape (N,)).

    Raises:
        ValueError: for wrong shapes, out-of-range targets or an unknown reduction.
        TypeError: for non-integer targets.
    """
    input = as_tensor(input)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be one of {_REDUCTIONS}; got {reduction!r}")
    t = _target("nll_loss", input, target)
    picked = ops.getitem(input, (np.arange(input.shape[0]), t))  # (N,)
    return _reduce("nll_loss", ops.neg(picked), reduction)


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy from logits: ``nll_loss(log_softmax(input), target)``.

    Args:
        input: logits (N, K).
        target: class indices (N,), an int array or Tensor.
        reduction: 'mean' (default), 'sum' or 'none'.
    """
    input = as_tensor(input)
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"cross_entropy: reduction must be one of {_REDUCTIONS}; got {reduction!r}"
        )
    t = _target("cross_entropy", input, target)
    return ops.cross_entropy(input, t, reduction)


def dropout(
    x: Any, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    Args:
        x: any shape.
        p: drop probability in [0, 1].
        training: when False, returns ``x`` unchanged.
        rng: generator for the mask; default the package generator (``manual_seed``).

    Raises:
        ValueError: if ``p`` is outside [0, 1].
    """
    t = as_tensor(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1]; got {p}")
    if not training or p == 0.0:
        return t
    if p == 1.0:
        return ops.mul(t, 0.0)
    gen = rng if rng is not None else get_rng()
    keep = gen.random(t.shape, dtype=np.float32) >= p
    scale = (keep / (1.0 - p)).astype(t.dtype)
    return ops.mul(t, constant(scale))


def batch_norm(
    x: Any,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over (N,) or (N, H, W) per channel, as ``torch.nn.functional``.

    In training, normalises with the batch mean and biased variance and updates the
    running statistics in place (``running = (1 - momentum) running + momentum batch``, the
    variance unbiased); in evaluation, normalises with the running statistics.

    Args:
        x: (N, C) or (N, C, H, W).
        running_mean, running_var: (C,) arrays updated in place (or None: batch stats only).
        weight, bias: (C,) scale and shift, or None.
        training: use batch statistics (and update the running ones).
        momentum: weight of the new batch in the running statistics.
        eps: added to the variance.

    Raises:
        ValueError: for a wrong rank, mismatched channel sizes, or a training batch with a
            single value per channel.
    """
    t = as_tensor(x)
    if t.ndim not in (2, 4):
        raise ValueError(f"batch_norm: expected input (N, C) or (N, C, H, W); got {t.shape}")
    C = t.shape[1]
    axes = (0,) if t.ndim == 2 else (0, 2, 3)
    shape = (C,) if t.ndim == 2 else (C, 1, 1)
    for name, v in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if v is not None and tuple(np.shape(v)) != (C,):
            raise ValueError(
                f"batch_norm: {name} has shape {np.shape(v)}; expected ({C},) for input {t.shape}"
            )
    w = as_tensor(weight) if weight is not None else Tensor(np.ones(C, dtype=t.dtype))
    b = as_tensor(bias) if bias is not None else Tensor(np.zeros(C, dtype=t.dtype))
    if training or running_mean is None or running_var is None:
        count = t.numel() // C
        if count < 2:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training; "
                f"got input {t.shape}"
            )
        mu = t.data.mean(axis=axes, keepdims=True)  # (1, C) or (1, C, 1, 1)
        var = ((t.data - mu) ** 2).mean(axis=axes, keepdims=True)
        if training and running_mean is not None and running_var is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mu.reshape(C)
            running_var *= 1 - momentum
            running_var += momentum * var.reshape(C) * count / (count - 1)
        return ops.batch_norm(t, w, b, mu, var, axes, eps)
    # Evaluation: an affine map per channel, y = x * scale + shift (differentiable in w, b).
    invstd = (1.0 / np.sqrt(running_var.astype(np.float64) + eps)).astype(t.dtype)
    scale = w * constant(invstd)  # (C,)
    shift = b - constant(running_mean.astype(t.dtype)) * scale
    return t * ops.reshape(scale, shape) + ops.reshape(shift, shape)
