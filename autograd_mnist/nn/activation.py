"""Activation layers beyond ReLU/Sigmoid/Tanh, each calling its ``F`` function.

``inplace=True`` (PyTorch's) is accepted and computed out of place: the same output, and
the input keeps its values (see :func:`~autograd_mnist.activations.layer_inplace`)."""

from __future__ import annotations

from autograd_mnist import functional as F
from autograd_mnist.activations import layer_inplace
from autograd_mnist.nn.module import Module
from autograd_mnist.tensor import Tensor

__all__ = ["ELU", "GELU", "LeakyReLU", "SiLU", "Softplus"]


class LeakyReLU(Module):
    """x where x > 0, else ``negative_slope * x``
    (:func:`~autograd_mnist.functional.leaky_relu`)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = layer_inplace("LeakyReLU", inplace)
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x where x > 0, else ``alpha * (exp(x) - 1)`` (:func:`~autograd_mnist.functional.elu`)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = layer_inplace("ELU", inplace)
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """``x * Phi(x)``, exact (``'none'``) or with the tanh approximation
    (:func:`~autograd_mnist.functional.gelu`).

    Raises:
        ValueError: for an ``approximate`` other than 'none' and 'tanh' (when built).
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)`` (:func:`~autograd_mnist.functional.silu`)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = layer_inplace("SiLU", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold``
    (:func:`~autograd_mnist.functional.softplus`).

    Raises:
        ValueError: if ``beta`` is not positive (when built).
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if not beta > 0:
            raise ValueError(f"Softplus: beta must be > 0; got {beta!r}")
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"
