"""Op-table rows for the layers PyTorch users reach for on MNIST beyond the basics:
``F.dropout2d``, ``F.adaptive_avg_pool2d`` and ``F.layer_norm``.

``LAYER_CASES`` holds :class:`op_cases.OpCase` rows, run through the generic checks of
``test_ops_forward.py`` and ``test_ops_grad.py`` (forward vs an independent NumPy reference
in float64 and float32, dtype preservation, no mutation, gradcheck and gradgradcheck in
float64). The argument forms these rows draw (p at 0, 1 and between, eval mode, output sizes
as int, pair and None, even and uneven bins, normalized_shape as int and tuple, with and
without weight and bias) are added to ``op_cases.FORMS`` here, so that
``test_row_draws_each_argument_form_it_declares`` checks each is drawn.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from op_cases import FORMS, Args, OpCase

from autograd_mnist import functional as F
from autograd_mnist.tensor import Tensor
from autograd_mnist.testing import float_arrays


# ----- independent NumPy references -----
def ref_dropout2d(x: np.ndarray, p: float, training: bool, seed: int) -> np.ndarray:
    """The documented draw: one float32 uniform per channel, kept where >= p, the kept
    channels scaled by 1 / (1 - p)."""
    if not training or p == 0.0:
        return x.copy()
    if p == 1.0:
        return np.zeros_like(x)
    keep = np.random.default_rng(seed).random(x.shape[:-2] + (1, 1), dtype=np.float32) >= p
    return x * keep / (1.0 - p)


def ref_adaptive_avg_pool2d(x: np.ndarray, output_size: Any) -> np.ndarray:
    """PyTorch's bins, one output element at a time: rows floor(i H / OH) to
    ceil((i + 1) H / OH), columns likewise."""
    H, W = x.shape[-2:]
    sizes = (output_size, output_size) if isinstance(output_size, int) else output_size
    OH, OW = (H if sizes[0] is None else sizes[0]), (W if sizes[1] is None else sizes[1])
    y = np.zeros((*x.shape[:-2], OH, OW))
    for i, j in np.ndindex(OH, OW):
        h0, h1 = math.floor(i * H / OH), math.ceil((i + 1) * H / OH)
        w0, w1 = math.floor(j * W / OW), math.ceil((j + 1) * W / OW)
        y[..., i, j] = x[..., h0:h1, w0:w1].mean(axis=(-2, -1))
    return y


def ref_layer_norm(x: np.ndarray, shape: Any, w: Any, b: Any, eps: float) -> np.ndarray:
    k = 1 if isinstance(shape, int) else len(shape)
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    y = y if w is None else y * w
    return y if b is None else y + b


# ----- argument strategies -----
@st.composite
def dropout2d_args(draw: st.DrawFn) -> Args:
    """(x (N, C, H, W) or (C, H, W), p (0, 1 or between), training, seed): N may be 0."""
    lead = draw(st.sampled_from([(), (draw(st.integers(0, 3)),)]))
    shape = (*lead, draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    p = draw(st.sampled_from([0.0, 1.0]) | st.floats(0.05, 0.95))
    return (draw(float_arrays(shape)), p, draw(st.booleans()), draw(st.integers(0, 2**32 - 1)))


def dropout2d_with_seed(x: Tensor, p: float, training: bool, seed: int) -> Tensor:
    """F.dropout2d with a fresh generator per call: the same mask every evaluation."""
    return F.dropout2d(x, p, training, rng=np.random.default_rng(seed))


@st.composite
def adaptive_pool_args(draw: st.DrawFn) -> Args:
    """(x, output_size): x (N, C, H, W) (N may be 0) or (C, H, W), H, W in 1-6; sizes 1-7
    (smaller, equal or larger than the input's, dividing it or not), an int, a pair, or a
    pair with None."""
    lead = draw(st.sampled_from([(), (draw(st.integers(0, 2)),)]))
    H, W = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    x = draw(float_arrays((*lead, draw(st.integers(1, 2)), H, W)))
    side = st.integers(1, 7) | st.sampled_from([1, 2, 3])  # often dividing H and W
    size: Any = draw(side | st.tuples(st.none() | side, st.none() | side))
    return (x, size)


@st.composite
def layer_norm_args(draw: st.DrawFn) -> Args:
    """(x, normalized_shape (int or tuple), weight or None, bias or None, eps): 0-2 batch
    dims of sides 0-3, 1-3 normalised dims of sides 1-4."""
    batch = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    norm = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    shape: Any = norm[0] if len(norm) == 1 and draw(st.booleans()) else norm
    w = draw(st.none() | float_arrays(norm))
    b = draw(st.none() | float_arrays(norm))
    eps = draw(st.sampled_from([1e-5, 1e-3]))
    return (draw(float_arrays((*batch, *norm))), shape, w, b, eps)


def _output_sizes(a: Args) -> tuple[Any, Any]:
    size = a[1]
    return (size, size) if isinstance(size, int) else size


def _even_bins(a: Args) -> bool:
    (H, W), sizes = a[0].shape[-2:], _output_sizes(a)
    return all(s is None or n % s == 0 for n, s in zip((H, W), sizes))


LAYER_FORMS = {
    "3-D input": lambda a: a[0].ndim == 3,
    "p=0": lambda a: a[1] == 0.0,
    "p=1": lambda a: a[1] == 1.0,
    "0<p<1": lambda a: 0.0 < a[1] < 1.0,
    "training=False": lambda a: a[2] is False,
    "output=int": lambda a: isinstance(a[1], int),
    "output=pair": lambda a: isinstance(a[1], tuple) and None not in a[1],
    "output=None": lambda a: isinstance(a[1], tuple) and None in a[1],
    "bins=even": _even_bins,
    "bins=uneven": lambda a: not _even_bins(a),
    "output>input": lambda a: any(
        s is not None and s > n for n, s in zip(a[0].shape[-2:], _output_sizes(a))
    ),
    "normalized=int": lambda a: isinstance(a[1], int),
    "normalized=tuple": lambda a: isinstance(a[1], tuple),
    "weight": lambda a: a[2] is not None,
    "weight=None": lambda a: a[2] is None,
    "bias": lambda a: a[3] is not None,
    "bias=None": lambda a: a[3] is None,
}
assert not set(LAYER_FORMS) & set(FORMS), "form names must be new"
FORMS.update(LAYER_FORMS)

LAYER_CASES: list[OpCase] = [
    OpCase(
        "dropout2d",
        dropout2d_with_seed,
        dropout2d_args(),
        ref_dropout2d,
        notes="a fresh generator with a fixed seed per call, so the mask is a constant",
        forms=("3-D input", "p=0", "p=1", "0<p<1", "training=False", "size-1", "size-0"),
    ),
    OpCase(
        "adaptive_avg_pool2d",
        F.adaptive_avg_pool2d,
        adaptive_pool_args(),
        ref_adaptive_avg_pool2d,
        kind="reduction",
        forms=(
            "3-D input",
            "output=int",
            "output=pair",
            "output=None",
            "bins=even",
            "bins=uneven",
            "output>input",
            "size-1",
            "size-0",
        ),
    ),
    OpCase(
        "layer_norm",
        F.layer_norm,
        layer_norm_args(),
        ref_layer_norm,
        kind="reduction",
        forms=(
            "normalized=int",
            "normalized=tuple",
            "weight",
            "weight=None",
            "bias",
            "bias=None",
            "size-1",
            "size-0",
        ),
    ),
]
