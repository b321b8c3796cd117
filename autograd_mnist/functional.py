"""PyTorch-style functions (``import autograd_mnist.functional as F``).

Each validates its arguments, naming the op and the shapes on error, then composes ops.
Layout is NCHW; weights are stored as PyTorch stores them. ``F`` is the public name of
everything: convolution, pooling and padding live in :mod:`autograd_mnist.spatial`,
activations in :mod:`autograd_mnist.activations`, losses in :mod:`autograd_mnist.losses`,
``layer_norm`` in :mod:`autograd_mnist.normalization` and ``normalize`` and
``cosine_similarity`` in :mod:`autograd_mnist.distances`, and are re-exported here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist._args import is_number
from autograd_mnist.activations import elu, gelu, leaky_relu, no_inplace, relu, silu, softplus
from autograd_mnist.distances import cosine_similarity, normalize
from autograd_mnist.grad_mode import is_grad_enabled
from autograd_mnist.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from autograd_mnist.normalization import layer_norm
from autograd_mnist.ops._bn_kernels import affine, batch_stats
from autograd_mnist.rng import get_rng
from autograd_mnist.spatial import adaptive_avg_pool2d, avg_pool2d, conv2d, max_pool2d, pad
from autograd_mnist.tensor import Tensor, as_operands, as_tensor, constant

__all__ = [
    "abs",
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "exp",
    "gelu",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "matmul",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "sqrt",
    "tanh",
]

# Elementwise functions are the ops themselves: no arguments to check.
exp = ops.exp
log = ops.log
sqrt = ops.sqrt
abs = ops.abs  # noqa: A001 - PyTorch's name
sigmoid = ops.sigmoid
tanh = ops.tanh
matmul = ops.matmul


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


def log_softmax(x: Any, dim: int = -1, *, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along one int ``dim``, computed stably (finite for logits of 1e4).

    ``x``: any shape (0-d takes dim 0 or -1); returns ``x``'s shape, in ``dtype`` if given
    (a float dtype: ``x`` is cast first, as PyTorch). A tuple or None ``dim`` is a
    TypeError (PyTorch refuses a tuple; its deprecated implicit dim for None is not
    copied: the default is the last dimension).
    """
    t = _softmax_input("log_softmax", x, dtype)
    return ops.log_softmax(t, ops.softmax_dim("log_softmax", t, dim))


def softmax(x: Any, dim: int = -1, *, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, as exp(log_softmax(x)): stable; as
    :func:`log_softmax` for shapes, ``dtype`` and errors."""
    t = _softmax_input("softmax", x, dtype)
    return ops.exp(ops.log_softmax(t, ops.softmax_dim("softmax", t, dim)))


def _softmax_input(op: str, x: Any, dtype: Any) -> Tensor:
    """``x`` as a Tensor, cast to ``dtype`` unless it is None (a float dtype, else TypeError)."""
    t = as_tensor(x)
    if dtype is None:
        return t
    dt = ops.cast_dtype(op, dtype)
    if dt.kind != "f":
        raise TypeError(f"{op}: dtype must be float32 or float64; got {dtype!r}")
    return ops.to(t, dtype=dt)


def one_hot(x: Any, num_classes: int = -1) -> Tensor:
    """The one-hot encoding of integer class indices, as ``torch.nn.functional.one_hot``.

    Args:
        x: integer class indices of any shape (a Tensor, array or list).
        num_classes: the length of the new last dimension; -1 means ``x.max() + 1``.

    Returns:
        An int64 tensor of shape ``x.shape + (num_classes,)``, 1 at each index, else 0
        (not differentiable).

    Raises:
        TypeError: if ``x`` does not hold integers, or ``num_classes`` is not an int.
        ValueError: for a negative index, an index >= ``num_classes``, or an empty ``x``
            with ``num_classes`` -1.
    """
    idx = np.asarray(x.data if isinstance(x, Tensor) else x)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class indices; got dtype {idx.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        raise TypeError(f"one_hot: num_classes must be an int; got {num_classes!r}")
    if idx.size and idx.min() < 0:
        raise ValueError(f"one_hot: class values must be >= 0; got {idx.min()}")
    if num_classes == -1:
        if not idx.size:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if num_classes < 0 or (idx.size and idx.max() >= num_classes):
        top = idx.max() if idx.size else None
        raise ValueError(
            f"one_hot: class values must be smaller than num_classes {num_classes}; "
            f"got a largest value of {top}"
        )
    out = np.zeros(idx.shape + (int(num_classes),), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return constant(out)


def dropout(
    x: Any,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    Args:
        x: any shape.
        p: drop probability in [0, 1].
        training: when False, returns ``x`` unchanged.
        inplace: PyTorch's; only False is supported (use the returned tensor).
        rng: generator for the mask; default the package generator (``manual_seed``).
            Keyword-only (PyTorch has no such argument).

    Raises:
        ValueError: if ``p`` is outside [0, 1], or ``inplace`` is True.
        TypeError: if ``p`` is not a number.
    """
    return _drop("dropout", x, p, training, inplace, rng, per_channel=False)


def dropout2d(
    x: Any,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Zero each whole channel with probability ``p`` and scale the rest by 1 / (1 - p).

    Args:
        x: (N, C, H, W), or (C, H, W): one image, each channel dropped on its own (PyTorch
            2 still reads a 3-D input as (N, C, L), with a warning).
        p, training, inplace, rng: as :func:`dropout`; the mask, (N, C, 1, 1) or (C, 1, 1),
            is drawn as its: keep where a float32 uniform draw is >= ``p``.

    Raises:
        ValueError: if ``p`` is outside [0, 1], ``inplace`` is True, or ``x`` is not 3-D or 4-D.
        TypeError: if ``p`` is not a number.
    """
    return _drop("dropout2d", x, p, training, inplace, rng, per_channel=True)


def _drop(
    op: str,
    x: Any,
    p: float,
    training: bool,
    inplace: bool,
    rng: np.random.Generator | None,
    per_channel: bool,
) -> Tensor:
    """``dropout`` (one draw per element) or ``dropout2d`` (one per channel): keep where a
    float32 uniform draw is >= ``p``, scaled by 1 / (1 - p)."""
    no_inplace(op, inplace)
    if not is_number(p):
        raise TypeError(f"{op}: p must be a number in [0, 1]; got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be in [0, 1]; got {p}")
    t = as_tensor(x)
    if per_channel and t.ndim not in (3, 4):
        raise ValueError(f"{op}: expected input (N, C, H, W) or (C, H, W); got {t.shape}")
    if not training or p == 0.0:
        return t
    if p == 1.0:
        return ops.mul(t, 0.0)
    gen = rng if rng is not None else get_rng()
    shape = t.shape[:-2] + (1, 1) if per_channel else t.shape  # one draw per channel
    keep = gen.random(shape, dtype=np.float32) >= p
    return ops.mul(t, constant((keep / (1.0 - p)).astype(t.dtype)))


def batch_norm(
    x: Any,
    running_mean: np.ndarray | Tensor | None,
    running_var: np.ndarray | Tensor | None,
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
        x: (N, C) or (N, C, H, W); also (N, C, L) or (N, C, D, H, W) (statistics over all
            dimensions but C).
        running_mean, running_var: (C,) arrays (or Tensors, whose arrays are used) updated
            in place (or None: batch stats only).
        weight, bias: (C,) scale and shift, or None.
        training: use batch statistics (and update the running ones).
        momentum: weight of the new batch in the running statistics.
        eps: added to the variance.

    Raises:
        ValueError: for a wrong rank, mismatched channel sizes, or a training batch with a
            single value per channel.
    """
    t = as_tensor(x)
    if isinstance(running_mean, Tensor):  # PyTorch's are tensors: use (and update) their arrays
        running_mean = running_mean.data
    if isinstance(running_var, Tensor):
        running_var = running_var.data
    if t.ndim == 3 or t.ndim > 4:  # as (N, C, L, 1): one value per channel per L
        flat = ops.reshape(t, (*t.shape[:2], math.prod(t.shape[2:]), 1))
        y = batch_norm(flat, running_mean, running_var, weight, bias, training, momentum, eps)
        return ops.reshape(y, t.shape)
    if t.ndim not in (2, 4):
        raise ValueError(
            f"batch_norm: expected input (N, C), (N, C, H, W), (N, C, L) or (N, C, D, H, W); "
            f"got {t.shape}"
        )
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
        mu, var = batch_stats(t.data, axes)  # (1, C) or (1, C, 1, 1)
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
    if not (is_grad_enabled() and (t.requires_grad or scale.requires_grad)):
        # Nothing to record (inference): the same products and sums, one channel at a time
        # on a batch-last x, shared out to threads.
        return constant(affine(t.data, scale.data, shift.data))
    return t * ops.reshape(scale, shape) + ops.reshape(shift, shape)
