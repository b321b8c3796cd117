"""Layer normalisation, as ``torch.nn.functional.layer_norm`` (public as ``F.layer_norm``).

Composed from differentiable engine ops (mean, sub, mul, sqrt, div), so its gradients of
any order come from theirs. Batch normalisation, with its fused kernel, is
``F.batch_norm`` in :mod:`autograd_mnist.functional`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist._args import is_int
from autograd_mnist.tensor import Tensor, as_operands, as_tensor

__all__ = ["layer_norm", "normalized_shape_of"]


def normalized_shape_of(op: str, normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple of ints (an int ``n`` is ``(n,)``).

    Raises:
        TypeError: unless it is an int or a tuple or list of ints.
        ValueError: if it is empty or has a negative size.
    """
    raw = (normalized_shape,) if is_int(normalized_shape) else normalized_shape
    if not isinstance(raw, (tuple, list)) or not all(is_int(n) for n in raw):
        raise TypeError(
            f"{op}: normalized_shape must be an int or a tuple of ints; got {normalized_shape!r}"
        )
    shape = tuple(int(n) for n in raw)
    if not shape or min(shape) < 0:
        raise ValueError(
            f"{op}: normalized_shape must have at least one dimension, each >= 0; "
            f"got {normalized_shape!r}"
        )
    return shape


def layer_norm(
    x: Any,
    normalized_shape: int | Sequence[int],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims: ``(x - mean) / sqrt(var +
    eps) * weight + bias``, the variance biased (divided by the count), as PyTorch.

    Args:
        x: (*, *normalized_shape).
        normalized_shape: an int or a tuple of ints: the trailing dims normalised together.
        weight, bias: ``normalized_shape``-shaped scale and shift, or None.
        eps: added to the variance.

    Returns:
        ``x``'s shape.

    Raises:
        ValueError: if ``x`` does not end with ``normalized_shape``, or ``weight``/``bias``
            have another shape; for an empty ``normalized_shape``.
        TypeError: for a ``normalized_shape`` that is not an int or a tuple of ints, an
            ``eps`` that is not a number, or mixed float dtypes.
    """
    shape = normalized_shape_of("layer_norm", normalized_shape)
    t = as_tensor(x)
    k = len(shape)
    if t.ndim < k or t.shape[t.ndim - k :] != shape:
        raise ValueError(
            f"layer_norm: input {t.shape} does not end with normalized_shape {shape}; "
            f"expected input (*, {', '.join(map(str, shape))})"
        )
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and tuple(np.shape(v)) != shape:
            raise ValueError(
                f"layer_norm: {name} has shape {tuple(np.shape(v))}; expected normalized_shape "
                f"{shape} for input {t.shape}"
            )
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)):
        raise TypeError(f"layer_norm: eps must be a number; got {eps!r}")
    affine = [v for v in (weight, bias) if v is not None]
    t, *params = as_operands("layer_norm", (t, *affine))
    dims = tuple(range(-k, 0))
    # Centred twice (d - mean(d), d = x - mean(x): the same map, idempotent): the second pass
    # removes the first mean's rounding, so a constant group is exactly 0, as PyTorch's.
    centred = ops.sub(t, ops.mean(t, dims, keepdim=True))
    centred = ops.sub(centred, ops.mean(centred, dims, keepdim=True))
    var = ops.mean(ops.mul(centred, centred), dims, keepdim=True)  # biased, as PyTorch
    y = ops.div(centred, ops.sqrt(ops.add(var, float(eps))))
    if weight is not None:
        y = ops.mul(y, params.pop(0))
    if bias is not None:
        y = ops.add(y, params.pop(0))
    return y
