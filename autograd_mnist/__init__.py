"""autograd_mnist: a small, exact and fast reverse-mode autograd engine on NumPy."""

from autograd_mnist.tensor import Tensor, tensor  # noqa: I001 - the core loads first
from autograd_mnist.autograd import grad
from autograd_mnist.function import Function
from autograd_mnist.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from autograd_mnist.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd_mnist.factory import (
    arange,
    eye,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    zeros,
    zeros_like,
)
from autograd_mnist.ops import cat, maximum, minimum, stack, where
from autograd_mnist.functions import (
    abs,
    allclose,
    argmax,
    argmin,
    clamp,
    device,
    equal,
    exp,
    flatten,
    from_numpy,
    is_tensor,
    log,
    matmul,
    max,
    mean,
    min,
    mm,
    permute,
    relu,
    reshape,
    sigmoid,
    sqrt,
    squeeze,
    sum,
    tanh,
    transpose,
    unsqueeze,
)
from autograd_mnist.rng import manual_seed
from autograd_mnist import func, functional
from autograd_mnist.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_gradient
from autograd_mnist import nn, optim, viz
from autograd_mnist.serialization import load, save
from autograd_mnist.weights import load_weights, save_weights
from autograd_mnist import onnx  # am.onnx.export; the onnx package is imported when it runs
from autograd_mnist.threads import get_num_threads, set_num_threads
import numpy as np

# dtype names as in torch (torch.float32, ...): the NumPy types, so t.to(am.float64) and
# t.dtype == am.float32 work.
float32, float64, int64, bool = np.float32, np.float64, np.int64, np.bool_  # noqa: A001

__version__ = "0.1.0"

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "abs",
    "allclose",
    "arange",
    "argmax",
    "argmin",
    "bool",
    "cat",
    "clamp",
    "detect_anomaly",
    "device",
    "enable_grad",
    "equal",
    "exp",
    "eye",
    "flatten",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "func",
    "functional",
    "get_num_threads",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "int64",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_tensor",
    "load",
    "load_weights",
    "log",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mm",
    "nn",
    "no_grad",
    "numerical_gradient",
    "ones",
    "ones_like",
    "onnx",
    "optim",
    "permute",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "relu",
    "reshape",
    "save",
    "save_weights",
    "set_detect_anomaly",
    "set_grad_enabled",
    "set_num_threads",
    "sigmoid",
    "sqrt",
    "squeeze",
    "stack",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "unsqueeze",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
