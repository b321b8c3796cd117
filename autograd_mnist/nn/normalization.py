"""Normalisation layers over each sample's own values (``nn.LayerNorm``); the batch
normalisation layers are in :mod:`autograd_mnist.nn.layers`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autograd_mnist import functional as F
from autograd_mnist.nn.module import Module, Parameter
from autograd_mnist.normalization import normalized_shape_of
from autograd_mnist.tensor import Tensor


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims of each sample, then scale
    by ``weight`` (ones) and shift by ``bias`` (zeros), both ``normalized_shape``-shaped,
    as PyTorch's (same names, shapes and initial values, so state dicts match)."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        shape = normalized_shape_of("LayerNorm", normalized_shape)
        if isinstance(eps, bool) or not isinstance(eps, int | float | np.floating):
            raise TypeError(f"LayerNorm: eps must be a number; got {eps!r}")
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = bool(elementwise_affine)
        affine = self.elementwise_affine
        self.weight = Parameter(np.ones(shape, dtype=np.float32)) if affine else None
        self.bias = Parameter(np.zeros(shape, dtype=np.float32)) if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        shape = self.normalized_shape
        if x.ndim < len(shape) or x.shape[x.ndim - len(shape) :] != shape:
            raise ValueError(
                f"LayerNorm: input {x.shape} does not end with normalized_shape {shape}; "
                f"expected input (*, {', '.join(map(str, shape))})"
            )
        return F.layer_norm(x, shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
