"""Gradient clipping, as ``torch.nn.utils``: call between ``backward()`` and ``step()``;
and the parameters as one flat vector and back (``parameters_to_vector``,
``vector_to_parameters``).

Both change each parameter's ``.grad`` in place (with the in-place tensor methods, under
``no_grad``, so versions are kept as PyTorch keeps them) and skip parameters whose
``.grad`` is None.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd_mnist._args import is_number
from autograd_mnist.grad_mode import no_grad
from autograd_mnist.ops.shape import cat
from autograd_mnist.tensor import Tensor

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "vector_to_parameters",
]

_BLOCK = 1 << 16
"""Elements per float64 pass of the norm (512 KiB: each block stays in the cache)."""


def _grads(fn: str, parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The ``.grad`` of each parameter that has one (one Tensor or an iterable of them)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: parameter {i} is a {type(p).__name__}, expected a Tensor")
    return [p.grad for p in params if p.grad is not None]


def _number(fn: str, name: str, value: object) -> float:
    if not is_number(value):
        raise TypeError(f"{fn}: {name} must be a number; got {type(value).__name__} {value!r}")
    return float(value)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients together so that their joint norm is at most ``max_norm``.

    The joint norm is the ``norm_type``-norm of all gradients seen as one vector (``inf``:
    the largest magnitude). Every gradient is multiplied by
    ``min(1, max_norm / (norm + 1e-6))``, as in PyTorch (the norm is computed in float64).
    An infinite norm makes every gradient 0 (its infinite elements NaN) and a NaN norm
    makes them NaN, as in PyTorch, unless ``error_if_nonfinite``.

    Args:
        parameters: a Tensor or an iterable of Tensors (e.g. ``model.parameters()``).
        max_norm: the largest joint norm allowed.
        norm_type: p of the p-norm (> 0), or ``float('inf')`` (also the string ``'inf'``,
            as torch).
        error_if_nonfinite: raise instead of scaling when the norm is NaN or infinite.

    Returns:
        The joint norm before clipping, a 0-d tensor in the gradients' dtype (0.0 when no
        parameter has a gradient).

    Raises:
        TypeError: if a parameter is not a Tensor or an argument is not a number.
        ValueError: if ``norm_type`` is not positive.
        RuntimeError: if ``error_if_nonfinite`` and the norm is NaN or infinite.
    """
    fn = "clip_grad_norm_"
    if isinstance(norm_type, str) and norm_type.strip().lower() in ("inf", "+inf"):
        norm_type = math.inf  # torch takes float(norm_type): clip_grad_norm_(ps, 1, "inf")
    max_norm, p = _number(fn, "max_norm", max_norm), _number(fn, "norm_type", norm_type)
    if not p > 0:
        raise ValueError(f"{fn}: norm_type must be > 0 or inf; got {norm_type}")
    grads = _grads(fn, parameters)
    if not grads:
        return Tensor(np.zeros((), dtype=np.float32))
    total = _total_norm([g.data for g in grads], p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{fn}: the total norm of order {norm_type} of the gradients is {total}, so "
            "they cannot be clipped; set error_if_nonfinite=False to scale them anyway"
        )
    coef = max_norm / (total + 1e-6)
    coef = coef if math.isnan(coef) else min(1.0, coef)  # a NaN norm makes NaN gradients
    with no_grad(), np.errstate(invalid="ignore"):  # inf * 0 is NaN without a warning
        for g in grads:
            g.mul_(g.dtype.type(coef))
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def _total_norm(grads: list[np.ndarray], p: float) -> float:
    """The ``p``-norm of all ``grads`` as one vector, in float64, a block at a time (no
    float64 copy of a whole gradient: this runs every training step). A NaN anywhere makes
    it NaN."""
    if math.isinf(p):  # exact in the gradients' own dtype
        return float(np.max([np.max(np.abs(g)) if g.size else 0.0 for g in grads]))
    total = 0.0
    for g in grads:
        flat = g.reshape(-1)
        for i in range(0, flat.size, _BLOCK):
            b = flat[i : i + _BLOCK].astype(np.float64)
            total += float(np.dot(b, b)) if p == 2 else float(np.sum(np.abs(b) ** p))
    return float(total ** (1.0 / p))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place.

    Raises:
        TypeError: if a parameter is not a Tensor or ``clip_value`` is not a number.
    """
    fn = "clip_grad_value_"
    c = _number(fn, "clip_value", clip_value)
    with no_grad():
        for g in _grads(fn, parameters):
            g.clamp_(-c, c)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Every parameter flattened and joined into one 1-D tensor (differentiable), as
    PyTorch's.

    Raises:
        TypeError: if a parameter is not a Tensor.
        ValueError: if there is no parameter, or they mix float32 and float64.
    """
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"parameters_to_vector: parameter {i} is a {type(p).__name__}, expected a Tensor"
            )
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Replace each parameter's values by its slice of ``vec`` (in order, reshaped), as
    PyTorch's: ``.data`` is replaced (no graph, the version is not bumped), and each
    parameter takes ``vec``'s dtype and shares its memory.

    Raises:
        TypeError: if ``vec`` or a parameter is not a Tensor.
        ValueError: if ``vec`` is not 1-D or its length is not the parameters' total.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = list(parameters)
    _grads("vector_to_parameters", params)  # the type check
    total = sum(p.data.size for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: expected a 1-D vector of {total} values (the "
            f"parameters' total); got shape {vec.shape}"
        )
    start = 0
    for p in params:
        n = p.data.size
        p.data = vec.data[start : start + n].reshape(p.shape)
        start += n
