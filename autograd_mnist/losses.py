"""Loss functions, as in ``torch.nn.functional`` (public through ``F.<name>``).

Each validates its arguments, naming the loss and the shapes on error, then composes
differentiable ops (the fused cross-entropy is used where no option needs the composite),
so gradients of any order work, with respect to the target too where it is a float tensor.
``reduction`` is 'mean' (default), 'sum' or 'none' (per-element losses).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist.ops import special
from autograd_mnist.tensor import Tensor, as_operands, as_tensor, constant

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "l1_loss",
    "mse_loss",
    "nll_loss",
]

REDUCTIONS = ("mean", "sum", "none")
#: PyTorch's binary_cross_entropy clamps each log at this value (so log(0) costs 100).
LOG_CLAMP = -100.0


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}; got {reduction!r}")


def _reduce(op: str, losses: Tensor, reduction: str) -> Tensor:
    _check_reduction(op, reduction)
    if reduction == "mean":
        return ops.mean(losses)
    if reduction == "sum":
        return ops.sum(losses)
    return losses


def _target(op: str, input: Tensor, target: Any, ignore_index: int | None = None) -> np.ndarray:
    """Class indices (N,) for input (N, K), checked; ``ignore_index`` entries may be any."""
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
    used = t if ignore_index is None else t[t != ignore_index]
    if used.size and (used.min() < 0 or used.max() >= K):
        raise ValueError(
            f"{op}: target out of range; got values in [{used.min()}, {used.max()}], "
            f"expected 0 <= target < {K} (or ignore_index {ignore_index}); "
            f"input {input.shape}, target {t.shape}"
        )
    return t.astype(np.intp, copy=False)


def _class_losses(
    logp: Tensor, t: np.ndarray, ignore_index: int, smoothing: float, reduction: str
) -> Tensor:
    """The composite behind ``nll_loss`` and ``cross_entropy`` with their options:
    per-sample ``(1 - s) * -logp[target] + s * -mean_k(logp)``, 0 for ignored samples; the
    mean divides by the number of samples not ignored (nan if there are none, with a zero
    gradient, as torch)."""
    N, K = logp.shape
    valid = t != ignore_index
    picked = ops.getitem(logp, (np.arange(N), np.where(valid, t, 0)))  # (N,)
    losses = ops.neg(picked)
    if smoothing:
        uniform = ops.neg(ops.mean(logp, 1))  # (N,)
        losses = ops.add(ops.mul(losses, 1.0 - smoothing), ops.mul(uniform, smoothing))
    if valid.all():
        return _reduce("cross_entropy", losses, reduction)
    losses = ops.mul(losses, constant(valid.astype(logp.dtype)))
    if reduction == "none":
        return losses
    total = ops.sum(losses)
    if reduction == "sum":
        return total
    count = int(valid.sum())
    if not count:  # NaN, as 0 / 0 (torch's), with a zero gradient (torch's), not NaN
        return ops.add(ops.mul(total, 0.0), constant(np.asarray(np.nan, dtype=logp.dtype)))
    return ops.mul(total, 1.0 / count)


def _check_class_options(op: str, ignore_index: Any, label_smoothing: Any) -> None:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{op}: ignore_index must be an int; got {ignore_index!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1]; got {label_smoothing!r}")


def nll_loss(input: Any, target: Any, reduction: str = "mean", ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood of the target classes.

    Args:
        input: log-probabilities (N, K).
        target: class indices (N,), an int array or Tensor, each in [0, K) or
            ``ignore_index``.
        reduction: 'mean' (default; over the samples not ignored), 'sum' or 'none'
            (per-sample losses, shape (N,), 0 where ignored).
        ignore_index: a target value that contributes nothing (PyTorch's default -100).

    Raises:
        ValueError: for wrong shapes, out-of-range targets or an unknown reduction.
        TypeError: for non-integer targets.
    """
    input = as_tensor(input)
    _check_reduction("nll_loss", reduction)
    _check_class_options("nll_loss", ignore_index, 0.0)
    t = _target("nll_loss", input, target, ignore_index)
    return _class_losses(input, t, ignore_index, 0.0, reduction)


def cross_entropy(
    input: Any,
    target: Any,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy from logits: ``nll_loss(log_softmax(input), target)``.

    With ``label_smoothing = s`` the target is ``(1 - s) * onehot + s / K`` (PyTorch's
    rule), so each sample's loss is ``(1 - s) * nll + s * mean_k(-log_softmax)``.

    Args:
        input: logits (N, K).
        target: class indices (N,), an int array or Tensor, each in [0, K) or
            ``ignore_index``.
        reduction: 'mean' (default; over the samples not ignored: nan if all are), 'sum'
            or 'none' ((N,), 0 where ignored).
        ignore_index: a target value that contributes nothing (PyTorch's default -100).
        label_smoothing: s in [0, 1].

    Unlike PyTorch, the third positional argument is ``reduction`` (there are no class
    weights), and targets are class indices only (no class probabilities).

    Raises:
        ValueError: for wrong shapes, out-of-range targets, an unknown reduction or a
            smoothing outside [0, 1].
        TypeError: for non-integer targets or ignore_index.
    """
    input = as_tensor(input)
    _check_reduction("cross_entropy", reduction)
    _check_class_options("cross_entropy", ignore_index, label_smoothing)
    t = _target("cross_entropy", input, target, ignore_index)
    if not (t == ignore_index).any():  # fused: the training path
        return ops.cross_entropy(input, t, reduction, float(label_smoothing))
    logp = ops.log_softmax(input, 1)
    return _class_losses(logp, t, ignore_index, float(label_smoothing), reduction)


def _same_shape(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:
    """input and target as Tensors of one float dtype and the same shape."""
    x, t = as_operands(op, (input, target))
    if x.shape != t.shape:
        raise ValueError(
            f"{op}: input {x.shape} and target {t.shape} must have the same shape "
            "(PyTorch broadcasts them with a warning; we refuse)"
        )
    return x, t


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)**2``, reduced.

    Args:
        input, target: the same shape (no broadcasting, unlike PyTorch, which warns).
        reduction: 'mean', 'sum' or 'none'.
    """
    _check_reduction("mse_loss", reduction)
    x, t = _same_shape("mse_loss", input, target)
    d = ops.sub(x, t)
    return _reduce("mse_loss", ops.mul(d, d), reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|``, reduced; the gradient at equality is 0.

    Args:
        input, target: the same shape (no broadcasting, unlike PyTorch, which warns).
        reduction: 'mean', 'sum' or 'none'.
    """
    _check_reduction("l1_loss", reduction)
    x, t = _same_shape("l1_loss", input, target)
    return _reduce("l1_loss", ops.abs(ops.sub(x, t)), reduction)


def _clamped_log(u: Tensor) -> Tensor:
    """``max(log(u), -100)``: the log where it is above -100 (differentiable), the constant
    -100 elsewhere (gradient 0), with no log(0) warning."""
    with np.errstate(divide="ignore"):
        keep = np.log(u.data) > LOG_CLAMP
    if keep.all():
        return ops.log(u)
    safe = ops.add(ops.mul(u, constant(keep)), constant((~keep).astype(u.dtype)))
    return ops.add(ops.log(safe), constant(np.where(keep, 0.0, LOG_CLAMP).astype(u.dtype)))


def _fits(op: str, name: str, shape: tuple[int, ...], to: tuple[int, ...]) -> None:
    """Raise unless ``shape`` broadcasts to ``to`` (without growing it)."""
    try:
        ok = np.broadcast_shapes(shape, to) == to
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{op}: {name} {shape} does not broadcast to the input {to}")


def _weighted(op: str, losses: Tensor, weight: Any) -> Tensor:
    if weight is None:
        return losses
    w = as_operands(op, (losses, weight))[1]
    _fits(op, "weight", w.shape, losses.shape)
    return ops.mul(losses, w)


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """``-(t log(x) + (1 - t) log(1 - x))`` for probabilities x, each log clamped at -100
    as PyTorch does (so x = 0 or 1 gives a finite loss).

    Args:
        input: probabilities x in [0, 1], any shape.
        target: t, the same shape (values in [0, 1]).
        weight: optional, broadcast to the input's shape, multiplies each element's loss.
        reduction: 'mean', 'sum' or 'none'.

    The gradient is that of the clamped logs (0 where a log is clamped); PyTorch's
    backward instead divides by ``max(x (1 - x), 1e-12)``: the two differ only within about
    1e-12 of 0 or 1.

    Raises:
        ValueError: for an input outside [0, 1] (PyTorch raises RuntimeError), different
            shapes, a weight that does not broadcast, or an unknown reduction.
    """
    op = "binary_cross_entropy"
    _check_reduction(op, reduction)
    x, t = _same_shape(op, input, target)
    if x.data.size and not (x.data.min() >= 0 and x.data.max() <= 1):
        raise ValueError(
            f"{op}: all elements of input should be between 0 and 1; got values in "
            f"[{x.data.min()}, {x.data.max()}], input {x.shape}"
        )
    pos = ops.mul(t, _clamped_log(x))
    neg = ops.mul(ops.sub(1.0, t), _clamped_log(ops.sub(1.0, x)))
    losses = _weighted(op, ops.neg(ops.add(pos, neg)), weight)
    return _reduce(op, losses, reduction)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits:
    ``softplus(x) - x t`` (with ``pos_weight`` p: ``(1 - t) x + (1 + (p - 1) t)
    softplus(-x)``, PyTorch's formula). Finite for logits of 1e4.

    Args:
        input: logits x, any shape.
        target: t, the same shape (values in [0, 1]).
        weight: optional, broadcast to the input's shape, multiplies each element's loss.
        reduction: 'mean', 'sum' or 'none'.
        pos_weight: optional weight of the positive term, broadcast along the last
            dimension (one per class).

    Raises:
        ValueError: for different shapes, a weight that does not broadcast, or an unknown
            reduction.
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    x, t = _same_shape(op, input, target)
    if pos_weight is None:
        losses = ops.sub(special.softplus(x), ops.mul(x, t))
    else:
        p = as_operands(op, (x, pos_weight))[1]
        _fits(op, "pos_weight", p.shape, x.shape)
        scale = ops.add(ops.mul(ops.sub(p, 1.0), t), 1.0)
        losses = ops.add(ops.mul(ops.sub(1.0, t), x), ops.mul(scale, special.softplus(ops.neg(x))))
    return _reduce(op, _weighted(op, losses, weight), reduction)
