"""autograd_mnist: a small, exact and fast reverse-mode autograd engine on NumPy."""

from autograd_mnist.tensor import Tensor, tensor  # noqa: I001 - the core loads first
from autograd_mnist.autograd import Function, grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd_mnist.factory import ones, rand, randn, zeros
from autograd_mnist.rng import manual_seed
from autograd_mnist import functional
from autograd_mnist.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_gradient

__version__ = "0.1.0"

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "manual_seed",
    "no_grad",
    "numerical_gradient",
    "ones",
    "rand",
    "randn",
    "set_grad_enabled",
    "tensor",
    "zeros",
]
