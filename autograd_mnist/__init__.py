"""autograd_mnist: a small, exact and fast reverse-mode autograd engine on NumPy."""

from autograd_mnist.tensor import Tensor, tensor  # noqa: I001 - the core loads first
from autograd_mnist.autograd import grad
from autograd_mnist.function import Function
from autograd_mnist.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd_mnist.factory import ones, rand, randn, zeros
from autograd_mnist.ops import cat
from autograd_mnist.rng import manual_seed
from autograd_mnist import functional
from autograd_mnist.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_gradient
from autograd_mnist import nn, optim, viz
from autograd_mnist.serialization import load, save

__version__ = "0.1.0"

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "cat",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "nn",
    "no_grad",
    "numerical_gradient",
    "ones",
    "optim",
    "rand",
    "randn",
    "save",
    "set_grad_enabled",
    "tensor",
    "viz",
    "zeros",
]
