"""Tensor constructors: zeros, ones, randn, rand (PyTorch names; float32 by default)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist._args import sizes
from autograd_mnist.rng import get_rng
from autograd_mnist.tensor import Tensor


def zeros(
    *shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A tensor of zeros, e.g. ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return Tensor(np.zeros(sizes(shape), dtype=dtype), requires_grad=requires_grad, name=name)


def ones(
    *shape: Any, dtype: Any = np.float32, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A tensor of ones."""
    return Tensor(np.ones(sizes(shape), dtype=dtype), requires_grad=requires_grad, name=name)


def randn(
    *shape: Any,
    dtype: Any = np.float32,
    requires_grad: bool = False,
    name: str | None = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Standard-normal samples from ``rng`` or the package generator (``manual_seed``)."""
    gen = rng if rng is not None else get_rng()
    data = gen.standard_normal(sizes(shape), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad, name=name)


def rand(
    *shape: Any,
    dtype: Any = np.float32,
    requires_grad: bool = False,
    name: str | None = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Uniform samples in [0, 1) from ``rng`` or the package generator."""
    gen = rng if rng is not None else get_rng()
    data = gen.random(sizes(shape), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad, name=name)
