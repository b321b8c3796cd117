"""Normalising vectors and comparing them (``torch.nn.functional``'s names): normalize and
cosine_similarity, composed of engine ops (``norm``, ``clamp``, division, ``sum``), so their
gradients of every order come from those. Re-exported by :mod:`autograd_mnist.functional`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist._args import dim_index, is_int, is_number
from autograd_mnist.tensor import Tensor, as_operands, as_tensor, constant


def _eps(op: str, eps: Any) -> float:
    if not is_number(eps):
        raise TypeError(f"{op}: eps must be a number; got {eps!r}")
    return float(eps)


def normalize(input: Any, p: Any = 2.0, dim: Any = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """``input / max(norm(input, p, dim), eps)``: vectors along ``dim`` scaled to norm 1
    (``F.normalize``).

    Args:
        input: a tensor of any shape with ``dim`` in range.
        p: the norm's order, as :meth:`Tensor.norm` takes it (2, 1, inf, ...).
        dim: an int or a tuple of ints, negatives allowed.
        eps: the smallest denominator: a vector with a smaller norm is divided by ``eps``
            (its gradient through the norm is then 0, as torch's ``clamp_min``).

    Returns:
        A tensor of ``input``'s shape.

    Raises:
        TypeError: for a non-number ``eps`` or a bad ``p``/``dim`` type. ValueError: for a
        dim out of range or repeated, or a ``p`` the norm refuses.
    """
    t = as_tensor(input)
    ops.normalize_dims("normalize", dim, t.ndim)  # name this op, not norm, in the error
    denom = ops.clamp(ops.norm(t, p, dim, keepdim=True), min=_eps("normalize", eps))
    return ops.div(t, denom)


def _clamped_norm(t: Tensor, dim: int, eps: float) -> Tensor:
    """The 2-norm over ``dim`` (kept), at least ``eps`` in value; its gradient is the
    norm's even below ``eps``, as torch's (which clamps in place under no_grad)."""
    n = ops.norm(t, 2, dim, keepdim=True)
    return ops.add(n, constant(np.maximum(n.data, n.data.dtype.type(eps)) - n.data))


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps))`` along ``dim``
    (``F.cosine_similarity``; 2-norms, each vector divided by its own before the sum, as
    torch 2.x computes it).

    Args:
        x1: a tensor, broadcastable with ``x2``.
        x2: a tensor, broadcastable with ``x1``.
        dim: an int: a dim of the broadcast shape, negatives allowed.
        eps: the smallest norm used: a shorter vector is divided by ``eps``. As in torch,
            the gradient still flows through that vector's norm (torch clamps it in place
            with gradients off), not the zero of a true ``max``.

    Returns:
        The broadcast shape without ``dim``; values in [-1, 1].

    Raises:
        TypeError: for a non-int ``dim``, a non-number ``eps``, or mixed float32/float64.
        ValueError: for shapes that do not broadcast or ``dim`` out of range (naming both
            shapes).
    """
    a, b = as_operands("cosine_similarity", (x1, x2))
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"cosine_similarity: shapes do not broadcast; got x1 {a.shape} and x2 {b.shape}"
        ) from None
    if not is_int(dim):
        raise TypeError(f"cosine_similarity: dim must be an int; got {dim!r}")
    d = dim_index("cosine_similarity", dim, max(len(shape), 1), shape)
    e = _eps("cosine_similarity", eps)
    a, b = ops.broadcast_to(a, shape), ops.broadcast_to(b, shape)
    unit_a, unit_b = ops.div(a, _clamped_norm(a, d, e)), ops.div(b, _clamped_norm(b, d, e))
    return ops.sum(ops.mul(unit_a, unit_b), d)
