"""Loss functions, as in ``torch.nn.functional`` (public through ``F.<name>``).

Each validates its arguments, naming the loss and the shapes on error, then composes
differentiable ops (the fused cross-entropy is used where no option needs the composite),
so gradients of any order work, with respect to the target too where it is a float tensor.
``reduction`` is 'mean' (default), 'sum' or 'none' (per-element losses).
"""

from __future__ import annotations

import math
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
    if not isinstance(reduction, str):  # e.g. PyTorch's positional class weights
        hint = " (class weights go by keyword: weight=...)" if op in _CLASS_LOSSES else ""
        raise ValueError(
            f"{op}: reduction must be one of {REDUCTIONS}; got {type(reduction).__name__} "
            f"{np.shape(reduction)}{hint}"
        )
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}; got {reduction!r}")


def _reduce(op: str, losses: Tensor, reduction: str) -> Tensor:
    _check_reduction(op, reduction)
    if reduction == "mean":
        return ops.mean(losses)
    if reduction == "sum":
        return ops.sum(losses)
    return losses


_CLASS_LOSSES = ("cross_entropy", "nll_loss")


def _class_shape(op: str, input: Tensor) -> tuple[int, tuple[int, ...]]:
    """(K, the shape of per-sample losses) for input (N, K), (K,) or (N, K, d1, ...)."""
    shape = input.shape
    if not shape:
        raise ValueError(f"{op}: expected input (N, K), (K,) or (N, K, d1, ...); got {shape}")
    return (shape[0], ()) if len(shape) == 1 else (shape[1], shape[:1] + shape[2:])


def _classes_last(x: Tensor) -> Tensor:
    """(N, K) as is; (K,) as (1, K); (N, K, d1, ...) as (N * d1 * ..., K)."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return ops.reshape(x, (1, x.shape[0]))
    moved = ops.permute(x, (0, *range(2, x.ndim), 1))
    return ops.reshape(moved, (math.prod(moved.shape[:-1]), x.shape[1]))


def _target(op: str, input: Tensor, target: Any, ignore_index: int | None = None) -> np.ndarray:
    """Class indices, flat (M,), for input (N, K) (target (N,)), (K,) (target a scalar) or
    (N, K, d1, ...) (target (N, d1, ...)), checked; ``ignore_index`` entries may be any."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    K, want = _class_shape(op, input)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class indices"
            + (" (or class probabilities of the input's shape)" if op == "cross_entropy" else "")
            + f"; got dtype {t.dtype}; input {input.shape}, target {t.shape}"
        )
    if t.shape != want:
        raise ValueError(
            f"{op}: target has shape {t.shape}; expected {want} for input {input.shape}"
        )
    used = t if ignore_index is None else t[t != ignore_index]
    if used.size and (used.min() < 0 or used.max() >= K):
        raise ValueError(
            f"{op}: target out of range; got values in [{used.min()}, {used.max()}], "
            f"expected 0 <= target < {K} (or ignore_index {ignore_index}); "
            f"input {input.shape}, target {t.shape}"
        )
    return (t if t.ndim == 1 else t.reshape(-1)).astype(np.intp, copy=False)


def _class_weight(op: str, input: Tensor, weight: Any) -> np.ndarray | None:
    """The (K,) class weights as an array of the input's dtype (constants, as PyTorch's)."""
    if weight is None:
        return None
    w = as_operands(op, (input, weight))[1].data
    K = _class_shape(op, input)[0]
    if w.shape != (K,):
        raise ValueError(
            f"{op}: weight has shape {w.shape}; expected ({K},) for input {input.shape}"
        )
    return w


def _class_losses(
    logp: Tensor,
    t: np.ndarray,
    ignore_index: int,
    smoothing: float,
    reduction: str,
    weight: np.ndarray | None = None,
) -> Tensor:
    """The composite behind ``nll_loss`` and ``cross_entropy`` with their options, for
    logp (M, K): per-sample ``(1 - s) * -w[target] logp[target] + s * -mean_k(w logp)``
    (w = 1 without class weights), 0 for ignored samples; the mean divides by the sum of
    ``w[target]`` over the samples not ignored (their number without weights: nan if
    there are none, with a zero gradient, as torch)."""
    N, K = logp.shape
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    losses = ops.neg(ops.getitem(logp, (np.arange(N), safe)))  # (N,)
    w_t = None if weight is None else np.where(valid, weight[safe], 0).astype(logp.dtype)
    if w_t is not None:
        losses = ops.mul(losses, constant(w_t))
    if smoothing:
        spread = (
            ops.mean(logp, 1)
            if weight is None
            else ops.mul(ops.sum(ops.mul(logp, constant(weight)), 1), 1.0 / K)
        )
        losses = ops.add(ops.mul(losses, 1.0 - smoothing), ops.mul(ops.neg(spread), smoothing))
    if w_t is None and valid.all():
        return _reduce("cross_entropy", losses, reduction)
    if not valid.all():
        losses = ops.mul(losses, constant(valid.astype(logp.dtype)))
    if reduction == "none":
        return losses
    total = ops.sum(losses)
    if reduction == "sum":
        return total
    count = valid.sum() if w_t is None else w_t.sum()
    if not count:  # NaN, as 0 / 0 (torch's), with a zero gradient (torch's), not NaN
        return ops.add(ops.mul(total, 0.0), constant(np.asarray(np.nan, dtype=logp.dtype)))
    return ops.mul(total, 1.0 / float(count))


def _check_class_options(op: str, ignore_index: Any, label_smoothing: Any) -> None:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{op}: ignore_index must be an int; got {ignore_index!r}")
    number = isinstance(label_smoothing, (int, float, np.integer, np.floating))
    if not (number and 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"{op}: label_smoothing must be in [0, 1]; got {label_smoothing!r}")


def _per_sample(losses: Tensor, shape: tuple[int, ...], reduction: str) -> Tensor:
    """Per-sample losses (M,) back in the shape of the target, for reduction 'none'."""
    return ops.reshape(losses, shape) if reduction == "none" and losses.shape != shape else losses


def nll_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    ignore_index: int = -100,
    *,
    weight: Any = None,
) -> Tensor:
    """Negative log-likelihood of the target classes: :func:`cross_entropy` of
    log-probabilities, without its softmax.

    Args:
        input: log-probabilities (N, K), (K,) or (N, K, d1, ...), as :func:`cross_entropy`.
        target: class indices, as :func:`cross_entropy`'s (no probabilities).
        reduction, ignore_index, weight: as :func:`cross_entropy`.

    Raises:
        ValueError: for wrong shapes, out-of-range targets or an unknown reduction.
        TypeError: for non-integer targets.
    """
    input = as_tensor(input)
    _check_reduction("nll_loss", reduction)
    _check_class_options("nll_loss", ignore_index, 0.0)
    t = _target("nll_loss", input, target, ignore_index)
    w = _class_weight("nll_loss", input, weight)
    losses = _class_losses(_classes_last(input), t, ignore_index, 0.0, reduction, w)
    return _per_sample(losses, _class_shape("nll_loss", input)[1], reduction)


def _soft_target_losses(
    op: str, input: Tensor, target: Any, smoothing: float, reduction: str, weight: Any
) -> Tensor:
    """Cross-entropy against class probabilities ``target`` of the input's shape:
    ``-sum_k w_k p_k log_softmax(x)_k``, p smoothed to ``(1 - s) p + s / K``; the mean is
    over the samples (not weighted), as PyTorch's."""
    x, p = as_operands(op, (input, target))
    K, shape = _class_shape(op, x)
    w = _class_weight(op, x, weight)
    logp = ops.log_softmax(_classes_last(x), 1)
    p = _classes_last(p)
    if smoothing:
        p = ops.add(ops.mul(p, 1.0 - smoothing), smoothing / K)
    terms = ops.mul(logp, p) if w is None else ops.mul(ops.mul(logp, p), constant(w))
    losses = _reduce(op, ops.neg(ops.sum(terms, 1)), reduction)
    return _per_sample(losses, shape, reduction)


def cross_entropy(
    input: Any,
    target: Any,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    *,
    weight: Any = None,
) -> Tensor:
    """Softmax cross-entropy from logits: ``nll_loss(log_softmax(input), target)``.

    With ``label_smoothing = s`` the target is ``(1 - s) * onehot + s / K`` (PyTorch's
    rule), so each sample's loss is ``(1 - s) * nll + s * mean_k(-log_softmax)`` (with
    class weights, ``(1 - s) w[t] nll + s * mean_k(-w_k log_softmax_k)``, as PyTorch).

    Args:
        input: logits (N, K); also (K,) for one sample or (N, K, d1, ...) with the classes
            in dimension 1, as PyTorch.
        target: class indices (N,) (a scalar, or (N, d1, ...), for those inputs), an int
            array or Tensor, each in [0, K) or ``ignore_index``; or class probabilities, a
            float target of the input's shape (``ignore_index`` then does not apply).
        reduction: 'mean' (default; over the samples not ignored, weighted by their class
            weights: nan if all are ignored), 'sum' or 'none' (per-sample losses, the
            target's shape, 0 where ignored).
        ignore_index: a target value that contributes nothing (PyTorch's default -100).
        label_smoothing: s in [0, 1].
        weight: optional (K,) class weights (constants, as PyTorch's).

    Unlike PyTorch, the third positional argument is ``reduction``: ``weight`` is
    keyword-only (an array passed third is refused, naming this).

    Raises:
        ValueError: for wrong shapes, out-of-range targets, an unknown reduction or a
            smoothing outside [0, 1].
        TypeError: for non-integer targets (other than probabilities) or ignore_index.
    """
    op = "cross_entropy"
    input = as_tensor(input)
    _check_reduction(op, reduction)
    _check_class_options(op, ignore_index, label_smoothing)
    s = float(label_smoothing)
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    if raw.dtype.kind == "f" and raw.shape == input.shape:  # class probabilities
        return _soft_target_losses(op, input, target, s, reduction, weight)
    t = _target(op, input, raw, ignore_index)
    if weight is None and input.ndim == 2 and not (t == ignore_index).any():
        return ops.cross_entropy(input, t, reduction, s)  # fused: the training path
    logp = ops.log_softmax(_classes_last(input), 1)
    losses = _class_losses(logp, t, ignore_index, s, reduction, _class_weight(op, input, weight))
    return _per_sample(losses, _class_shape(op, input)[1], reduction)


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
