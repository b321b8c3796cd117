"""The primitive ops (Function subclasses) and their thin wrappers.

Argument checking with PyTorch-style messages lives in :mod:`autograd_mnist.functional`;
these wrappers assume valid arguments except where noted.
"""

from autograd_mnist.ops.conv import col2im, im2col, max_pool2d
from autograd_mnist.ops.elementwise import (
    abs,
    add,
    div,
    exp,
    log,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
)
from autograd_mnist.ops.linalg import matmul
from autograd_mnist.ops.reduction import broadcast_to, max, mean, sum, sum_to
from autograd_mnist.ops.shape import (
    cat,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    scatter_add,
    transpose,
)
from autograd_mnist.ops.softmax import log_softmax

__all__ = [
    "abs",
    "add",
    "broadcast_to",
    "cat",
    "col2im",
    "div",
    "exp",
    "flatten",
    "getitem",
    "im2col",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "max_pool2d",
    "mean",
    "mul",
    "neg",
    "pad",
    "permute",
    "pow",
    "relu",
    "reshape",
    "scatter_add",
    "sigmoid",
    "sqrt",
    "sub",
    "sum",
    "sum_to",
    "tanh",
    "transpose",
]
