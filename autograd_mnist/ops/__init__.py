"""The primitive ops (Function subclasses) and their thin wrappers.

Argument checking with PyTorch-style messages lives in :mod:`autograd_mnist.functional`;
these wrappers assume valid arguments except where noted.
"""

from autograd_mnist.ops.cast import cast, clone, new_full, to
from autograd_mnist.ops.cast import dtype_of as cast_dtype
from autograd_mnist.ops.conv import col2im, im2col, max_pool2d, out_size
from autograd_mnist.ops.dims import chunk, expand, repeat, split, squeeze, stack, unsqueeze
from autograd_mnist.ops.elementwise import (
    abs,
    add,
    cos,
    div,
    exp,
    log,
    mul,
    neg,
    relu,
    sigmoid,
    sin,
    sqrt,
    sub,
    tanh,
)
from autograd_mnist.ops.extrema import ValuesIndices, amax, amin, argmax, argmin, max, min
from autograd_mnist.ops.fused import batch_norm, cross_entropy, linear
from autograd_mnist.ops.linalg import matmul
from autograd_mnist.ops.norms import norm
from autograd_mnist.ops.power import pow
from autograd_mnist.ops.reduction import (
    broadcast_to,
    logsumexp,
    mean,
    normalize_dims,
    std,
    sum,
    sum_to,
    var,
)
from autograd_mnist.ops.select import clamp, maximum, minimum, where
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
from autograd_mnist.ops.softmax import log_softmax, softmax_dim
from autograd_mnist.ops.sorting import sort, topk

__all__ = [
    "ValuesIndices",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "logsumexp",
    "min",
    "std",
    "var",
    "abs",
    "add",
    "batch_norm",
    "broadcast_to",
    "cast",
    "cast_dtype",
    "cat",
    "chunk",
    "clamp",
    "clone",
    "col2im",
    "cos",
    "cross_entropy",
    "div",
    "exp",
    "expand",
    "flatten",
    "getitem",
    "im2col",
    "linear",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "max_pool2d",
    "maximum",
    "mean",
    "minimum",
    "mul",
    "neg",
    "new_full",
    "norm",
    "normalize_dims",
    "out_size",
    "pad",
    "permute",
    "pow",
    "relu",
    "repeat",
    "reshape",
    "scatter_add",
    "sigmoid",
    "sin",
    "softmax_dim",
    "sort",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "sum_to",
    "tanh",
    "to",
    "topk",
    "transpose",
    "unsqueeze",
    "where",
]
