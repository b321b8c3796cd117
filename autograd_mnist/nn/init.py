"""Weight initialisers (in place, PyTorch names): He, Xavier/Glorot, normal, zeros...

Each takes the tensor to fill and an optional ``rng`` (default: the package generator
seeded by ``manual_seed``), fills ``tensor.data`` in place and returns the tensor.
"""

from __future__ import annotations

import math

import numpy as np

from autograd_mnist.rng import get_rng
from autograd_mnist.tensor import Tensor

_GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 0.75}


def _fans(t: Tensor) -> tuple[int, int]:
    """fan_in, fan_out of a (out, in) or (OC, C, KH, KW) weight."""
    if t.ndim < 2:
        raise ValueError(f"init: fan in/out need at least 2 dimensions; got shape {t.shape}")
    receptive = math.prod(t.shape[2:])
    return t.shape[1] * receptive, t.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity ('relu', 'tanh', 'leaky_relu', ...)."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity in _GAINS:
        return _GAINS[nonlinearity]
    if nonlinearity.startswith("conv"):
        return 1.0
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fill(t: Tensor, values: np.ndarray | float) -> Tensor:
    """Write ``values`` into ``t`` in place: an in-place op, so the version moves (as torch's
    ``nn.init`` functions, which run in-place ops under ``no_grad``)."""
    t.data[...] = np.asarray(values).astype(t.dtype, copy=False)
    t._bump_version()
    return t


def _gen(rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else get_rng()


def uniform_(
    t: Tensor, a: float = 0.0, b: float = 1.0, rng: np.random.Generator | None = None
) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(t, _gen(rng).uniform(a, b, t.shape))


def normal_(
    t: Tensor, mean: float = 0.0, std: float = 1.0, rng: np.random.Generator | None = None
) -> Tensor:
    """Fill with N(mean, std**2) (R0's conv filters: std 0.5; R4: std 0.01)."""
    return _fill(t, _gen(rng).normal(mean, std, t.shape))


def trunc_normal_(
    t: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Fill with N(mean, std**2) redrawn until inside [a, b] (absolute bounds, as PyTorch)."""
    gen = _gen(rng)
    values = gen.normal(mean, std, t.shape)
    bad = (values < a) | (values > b)
    while bad.any():
        values[bad] = gen.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    return _fill(t, values)


def zeros_(t: Tensor) -> Tensor:
    """Fill with zeros."""
    return _fill(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    """Fill with ones."""
    return _fill(t, 1.0)


def constant_(t: Tensor, value: float) -> Tensor:
    """Fill with ``value``."""
    return _fill(t, value)


def xavier_uniform_(t: Tensor, gain: float = 1.0, rng: np.random.Generator | None = None) -> Tensor:
    """Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, rng)


def xavier_normal_(t: Tensor, gain: float = 1.0, rng: np.random.Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def _kaiming_std(t: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = _fans(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out'; got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    t: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | None = None,
) -> Tensor:
    """He uniform: U(-b, b), b = sqrt(3) * gain / sqrt(fan)."""
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound, rng)


def kaiming_normal_(
    t: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: np.random.Generator | None = None,
) -> Tensor:
    """He normal: N(0, std**2), std = gain / sqrt(fan) (sqrt(2 / fan_in) for ReLU)."""
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity), rng)


def default_(weight: Tensor, bias: Tensor | None, rng: np.random.Generator | None = None) -> None:
    """PyTorch's default for Linear and Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both."""
    kaiming_uniform_(weight, a=math.sqrt(5), rng=rng)
    if bias is not None:
        fan_in, _ = _fans(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, rng)
