"""The op table: one ``OpCase`` row per primitive and per functional function.

Each row names the op, the callable under test, one strategy drawing the whole argument
tuple (float arrays are the differentiated inputs; dims, indices, targets, strides pass
through unchanged), an independent NumPy reference forward, and notes on kinks and on any
loosened tolerance. Generic tests run every row: ``test_ops_grad.py`` (gradcheck and
gradgradcheck in float64) and ``test_ops_forward.py`` (forward vs the reference in float64
and float32, dtype preservation, no input mutation).

Strategies come only from :mod:`autograd_mnist.testing`; this file composes them.
The references never call the engine; conv and pool ones are plain loops, slow and obvious.
``F.exp``, ``F.log``, ``F.sqrt``, ``F.abs``, ``F.relu``, ``F.sigmoid``, ``F.tanh`` and
``F.matmul`` are the ops themselves (same objects), so one row covers both names.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_mnist import functional as F
from autograd_mnist import ops
from autograd_mnist._args import pair
from autograd_mnist.gradcheck import ATOL, RTOL
from autograd_mnist.ops import conv as conv_ops
from autograd_mnist.tensor import Tensor
from autograd_mnist.testing import (
    ConvGeometry,
    PoolGeometry,
    away_from_zero,
    broadcast_sources,
    broadcastable_shapes,
    class_targets,
    conv2d_geometries,
    distinct_arrays,
    float_arrays,
    matmul_shapes,
    one_dim,
    pad_widths,
    pool2d_geometries,
    positive_arrays,
    reduction_dims,
    reshape_targets,
    shapes,
)

Args = tuple[Any, ...]


@dataclass(frozen=True)
class OpCase:
    """One row of the op table.

    Attributes:
        name: test id.
        fn: the op on Tensors, called as ``fn(*args)``.
        args: strategy drawing the argument tuple (float64 arrays are differentiated).
        reference: the same computation in NumPy on the raw arguments.
        kind: forward float32 tolerance class: "elementwise" (rtol 1e-5, atol 1e-6) or
            "reduction" (matmul/conv/sums: rtol 1e-4, atol 1e-5).
        float32_tol: (rtol, atol) replacing the ``kind`` tolerances for float32 forwards;
            loosen only with a comment saying why.
        grad_rtol, grad_atol: gradcheck tolerances, by default gradcheck's own (``RTOL``,
            ``ATOL``); loosen only with a comment saying why (no row does).
        gradgrad: run gradgradcheck too.
        max_examples: optional cap on Hypothesis examples for a costly row (none needs one
            today: the conv and pool rows run 200 examples in a few seconds).
        notes: kinks avoided and other remarks.
        forms: the argument forms the ``args`` strategy must draw, names from ``FORMS``
            (``test_ops_forward.py`` finds an example of each): array forms ("0-d",
            "size-1", "size-0") look at the float arrays drawn; dim forms ("dim=None",
            "dim=int", "dim=-int", "dim=tuple", "dim=()") at ``args[1]`` and "keepdim"
            at ``args[2]``, so a reduction-like row draws ``(x, dim, keepdim, ...)``.
    """

    name: str
    fn: Callable[..., Tensor]
    args: st.SearchStrategy[Args]
    reference: Callable[..., Any]
    kind: str = "elementwise"
    float32_tol: tuple[float, float] | None = None
    grad_rtol: float = RTOL
    grad_atol: float = ATOL
    gradgrad: bool = True
    max_examples: int | None = None
    notes: str = ""
    forms: tuple[str, ...] = ()


def _float_arrays_in(args: Args) -> list[np.ndarray]:
    return [a for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _strings_in(args: Args) -> list[str]:
    return [a for a in args if isinstance(a, str)]


_CONV_POSITIONS = {"stride": 3, "padding": 4, "dilation": 5}
_POOL_POSITIONS = {"kernel": 1, "stride": 2, "padding": 3}


def _spatial_form(args: Args, name: str, form: str) -> bool:
    """Whether a conv or pool row passes ``name`` as an int or as a pair."""
    conv = len(args) > 1 and isinstance(args[1], np.ndarray)
    pos = (_CONV_POSITIONS if conv else _POOL_POSITIONS).get(name)
    if pos is None or pos >= len(args):
        return False
    v = args[pos]
    return _is_int(v) if form == "int" else isinstance(v, tuple) and len(v) == 2


#: Argument forms a row can declare (``OpCase.forms``), each a predicate on a drawn tuple.
FORMS: dict[str, Callable[[Args], bool]] = {
    "0-d": lambda a: any(x.ndim == 0 for x in _float_arrays_in(a)),
    "size-1": lambda a: any(1 in x.shape for x in _float_arrays_in(a)),
    "size-0": lambda a: any(0 in x.shape for x in _float_arrays_in(a)),
    "dim=None": lambda a: a[1] is None,
    "dim=int": lambda a: isinstance(a[1], int) and a[1] >= 0,
    "dim=-int": lambda a: isinstance(a[1], int) and a[1] < 0,
    "dim=tuple": lambda a: isinstance(a[1], tuple) and len(a[1]) > 0,
    "dim=()": lambda a: a[1] == (),
    "keepdim": lambda a: a[2] is True,
    # a dim passed last (stack, cat; flatten's end_dim)
    "last=int": lambda a: _is_int(a[-1]) and a[-1] >= 0,
    "last=-int": lambda a: _is_int(a[-1]) and a[-1] < 0,
    # expand's -1 ("keep this size")
    "size=-1": lambda a: any(_is_int(v) and v == -1 for v in a[1:]),
    # a loss's reduction
    "reduction=mean": lambda a: "mean" in _strings_in(a),
    "reduction=sum": lambda a: "sum" in _strings_in(a),
    "reduction=none": lambda a: "none" in _strings_in(a),
    # conv rows (x, w, b, stride, padding[, dilation]), pool rows (x, kernel, stride, padding)
    **{
        f"{name}={form}": (lambda a, n=name, f=form: _spatial_form(a, n, f))
        for name in ("kernel", "stride", "padding", "dilation")
        for form in ("int", "pair")
    },
}
ARRAY_FORMS = ("0-d", "size-1")
SHAPE_FORMS = (*ARRAY_FORMS, "size-0")
REDUCTION_FORMS = ("reduction=mean", "reduction=sum", "reduction=none")
CONV_FORMS = ("stride=int", "stride=pair", "padding=int", "padding=pair")
POOL_FORMS = ("kernel=int", "kernel=pair", *CONV_FORMS)
DIM_FORMS = ("dim=None", "dim=int", "dim=-int", "dim=tuple", "keepdim", *ARRAY_FORMS)


# ----- argument strategies composed from autograd_mnist.testing -----
# Shapes with an empty dimension about a quarter of the time (sides 0-5), else sides 1-5;
# 0-d and size-1 dims are drawn too (``shapes()`` draws 0-4 dims of sides 1-5).
SHAPES_WITH_EMPTY = shapes() | shapes(min_side=0, max_dims=3)
ANY_SHAPE = SHAPES_WITH_EMPTY


def unary(strategy: st.SearchStrategy[np.ndarray]) -> st.SearchStrategy[Args]:
    return strategy.map(lambda x: (x,))


def binary(
    left: Callable[[Any], st.SearchStrategy[np.ndarray]] = float_arrays,
    right: Callable[[Any], st.SearchStrategy[np.ndarray]] = float_arrays,
) -> st.SearchStrategy[Args]:
    """Two arrays of mutually broadcastable shapes (0-d, size-1 and size-0 dims drawn)."""
    pairs = broadcastable_shapes(2) | broadcastable_shapes(2, min_side=0, max_dims=3)
    return pairs.flatmap(lambda s: st.tuples(left(s[0]), right(s[1])))


def with_dims(
    arrays: Callable[[Any], st.SearchStrategy[np.ndarray]],
    allow_tuple: bool = True,
    *,
    empty: str = "no",
    allow_none: bool = True,
) -> st.SearchStrategy[Args]:
    """(x, dim, keepdim) for reductions, every dim form (None, int, negative, tuple, ()).

    ``empty``: "no" (sides >= 1), "any" (empty dims may be reduced: sum, mean) or
    "kept" (shapes may have empty dims, but only non-empty ones are reduced: max, amax).
    """
    shape_strategy = shapes() if empty == "no" else SHAPES_WITH_EMPTY
    if empty == "kept":  # some dimension to reduce: not all of them empty
        shape_strategy = shape_strategy.filter(lambda s: 0 not in s or max(s) > 0)

    def dims(s: tuple[int, ...]) -> st.SearchStrategy[Any]:
        return reduction_dims(
            s if empty == "kept" else len(s),
            allow_tuple,
            allow_none=allow_none,
            allow_empty_tuple=allow_tuple,
        )

    return shape_strategy.flatmap(lambda s: st.tuples(arrays(s), dims(s), st.booleans()))


def np_axis(x: np.ndarray, dim: Any) -> Any:
    """A PyTorch ``dim`` as NumPy's ``axis``: None and ``()`` mean every dimension, and a
    0-d array's dim 0 / -1 is all of it."""
    return None if x.ndim == 0 or dim is None or dim == () else dim


def _reduced_count(x: np.ndarray, dim: Any) -> int:
    axis = np_axis(x, dim)
    if axis is None:
        return x.size
    return math.prod(x.shape[a] for a in ((axis,) if isinstance(axis, int) else axis))


@st.composite
def var_args(draw: st.DrawFn, spread: bool) -> Args:
    """(x, dim, keepdim, correction), correction 0 or 1 with more elements per group than
    the correction (finite results). ``spread``: at least 2 per group and values >= 0.05
    apart, so the standard deviation is >= 0.035, clear of sqrt's kink at 0."""
    shape = draw(shapes(max_dims=3, max_side=4) if spread else shapes())
    x = draw(distinct_arrays(shape, spacing=0.05) if spread else float_arrays(shape))
    dim = draw(reduction_dims(len(shape), allow_empty_tuple=True))
    count = _reduced_count(x, dim)
    assume(count >= 2 or not spread)
    correction = draw(st.sampled_from([0, 1])) if count >= 2 else 0
    return (x, dim, draw(st.booleans()), correction)


def sum_to_args() -> st.SearchStrategy[Args]:
    return shapes().flatmap(lambda s: st.tuples(float_arrays(s), broadcast_sources(s)))


def broadcast_to_args() -> st.SearchStrategy[Args]:
    return shapes().flatmap(lambda s: st.tuples(float_arrays(broadcast_sources(s)), st.just(s)))


def reshape_args() -> st.SearchStrategy[Args]:
    return SHAPES_WITH_EMPTY.flatmap(lambda s: st.tuples(float_arrays(s), reshape_targets(s)))


def permute_args() -> st.SearchStrategy[Args]:
    """(x, dims): a permutation, each dim non-negative or negative (both are valid)."""

    def dims(n: int) -> st.SearchStrategy[tuple[int, ...]]:
        signs = st.lists(st.booleans(), min_size=n, max_size=n)
        return st.tuples(st.permutations(range(n)), signs).map(
            lambda ps: tuple(d - n if neg else d for d, neg in zip(*ps))
        )

    return SHAPES_WITH_EMPTY.flatmap(lambda s: st.tuples(float_arrays(s), dims(len(s))))


def transpose_args() -> st.SearchStrategy[Args]:
    def dims(n: int) -> st.SearchStrategy[int]:
        return st.integers(-n, n - 1)

    return SHAPES_WITH_EMPTY.flatmap(
        lambda s: st.tuples(float_arrays(s), dims(max(len(s), 1)), dims(max(len(s), 1)))
    )


def flatten_args() -> st.SearchStrategy[Args]:
    """(x, start_dim, end_dim), each non-negative or negative; 0-d x (dims 0 / -1) and
    empty dims included."""

    def ends(n: int) -> st.SearchStrategy[tuple[int, int]]:
        n = max(n, 1)
        pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).map(sorted)
        signs = st.tuples(st.booleans(), st.booleans())
        return st.tuples(pair, signs).map(
            lambda ps: tuple(d - n if neg else d for d, neg in zip(ps[0], ps[1]))
        )

    return SHAPES_WITH_EMPTY.flatmap(
        lambda s: st.tuples(float_arrays(s), ends(len(s))).map(lambda a: (a[0], *a[1]))
    )


def basic_index_args() -> st.SearchStrategy[Args]:
    return shapes(min_dims=1).flatmap(
        lambda s: st.tuples(float_arrays(s), hnp.basic_indices(s, allow_newaxis=True))
    )


def int_array_args(axes: int) -> st.SearchStrategy[Args]:
    """x[i] (axes=1) or x[i, j] (axes=2) with integer arrays; indices often repeat."""
    result = shapes(min_dims=1, max_dims=2, max_side=6)

    def make(s: tuple[int, ...]) -> st.SearchStrategy[Args]:
        idx = hnp.integer_array_indices(s[:axes], result_shape=result)
        return st.tuples(float_arrays(s), idx.map(lambda t: t[0] if axes == 1 else t))

    return shapes(min_dims=axes).flatmap(make)


def slice_then_array_args() -> st.SearchStrategy[Args]:
    """x[:, i] with an integer array i on the second axis."""

    def make(s: tuple[int, ...]) -> st.SearchStrategy[Args]:
        idx = hnp.integer_array_indices((s[1],), result_shape=shapes(1, 2, max_side=6))
        return st.tuples(float_arrays(s), idx.map(lambda t: (slice(None), t[0])))

    return shapes(min_dims=2).flatmap(make)


def bool_mask_args() -> st.SearchStrategy[Args]:
    return shapes(min_dims=1).flatmap(lambda s: st.tuples(float_arrays(s), hnp.arrays(np.bool_, s)))


def scatter_add_args() -> st.SearchStrategy[Args]:
    def make(s: tuple[int, ...]) -> st.SearchStrategy[Args]:
        idx = hnp.integer_array_indices(s, result_shape=shapes(1, 2, max_side=6))
        return idx.flatmap(
            lambda i: st.tuples(float_arrays(np.zeros(s)[i].shape), st.just(i), st.just(s))
        )

    return shapes(min_dims=1, max_dims=3).flatmap(make)


@st.composite
def cat_args(draw: st.DrawFn) -> Args:
    """Three arrays that differ only in the size of dimension ``dim`` (negative at times;
    a piece may be empty along it)."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    sizes = draw(st.lists(st.integers(0, 4), min_size=3, max_size=3))  # empty pieces too
    arrays = []
    for n in sizes:
        s = list(shape)
        s[dim] = n
        arrays.append(draw(float_arrays(tuple(s))))
    return (*arrays, dim)


def pad_args() -> st.SearchStrategy[Args]:
    return shapes(max_dims=3).flatmap(lambda s: st.tuples(float_arrays(s), pad_widths(len(s))))


def matmul_args(**kw: Any) -> st.SearchStrategy[Args]:
    """Operands of matmul; empty sides at times (an empty inner side gives zeros)."""
    return (matmul_shapes(**kw) | matmul_shapes(**kw, min_side=0)).flatmap(
        lambda ab: st.tuples(float_arrays(ab[0]), float_arrays(ab[1]))
    )


def matmul_1d_args() -> st.SearchStrategy[Args]:
    pairs = matmul_shapes(max_batch_dims=1).filter(lambda ab: 1 in (len(ab[0]), len(ab[1])))
    return pairs.flatmap(lambda ab: st.tuples(float_arrays(ab[0]), float_arrays(ab[1])))


@st.composite
def linear_args(draw: st.DrawFn, bias: bool) -> Args:
    lead = draw(shapes(min_dims=0, max_dims=2))
    fin, fout = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = draw(float_arrays((*lead, fin)))
    w = draw(float_arrays((fout, fin)))
    return (x, w, draw(float_arrays((fout,)))) if bias else (x, w)


# Small geometries (N, C, OC <= 2, sides <= 5) keep the full Jacobians of conv and pool cheap.
CONV = conv2d_geometries(max_batch=2, max_channels=2, max_out_channels=2, max_side=5)
POOL = pool2d_geometries(max_batch=2, max_channels=2, max_side=5)


def int_or_pair(draw: st.DrawFn, p: tuple[int, int]) -> int | tuple[int, int]:
    """A pair as PyTorch takes it: an int when both sides agree (at times), else the pair."""
    return p[0] if p[0] == p[1] and draw(st.booleans()) else p


@st.composite
def conv_args(draw: st.DrawFn, bias: bool) -> Args:
    g: ConvGeometry = draw(CONV)
    x = draw(float_arrays(g.input_shape))
    w = draw(float_arrays(g.weight_shape))
    b = draw(float_arrays((g.OC,))) if bias else None
    return (x, w, b, int_or_pair(draw, g.stride), int_or_pair(draw, g.padding))


@st.composite
def pool_args(draw: st.DrawFn, distinct: bool) -> Args:
    g: PoolGeometry = draw(POOL)
    x = draw(distinct_arrays(g.input_shape) if distinct else float_arrays(g.input_shape))
    stride = None if (g.stride == (g.KH, g.KW) and draw(st.booleans())) else g.stride
    kernel = int_or_pair(draw, (g.KH, g.KW))
    stride = None if stride is None else int_or_pair(draw, stride)
    return (x, kernel, stride, int_or_pair(draw, g.padding))


@st.composite
def im2col_args(draw: st.DrawFn) -> Args:
    g: PoolGeometry = draw(pool2d_geometries(max_batch=2, max_channels=2, max_kernel=3))
    x = draw(float_arrays(g.input_shape))
    return (x, (g.KH, g.KW), g.stride, g.padding)


@st.composite
def col2im_args(draw: st.DrawFn) -> Args:
    x, (KH, KW), (SH, SW), (PH, PW) = draw(im2col_args())
    N, C, H, W = x.shape
    OH, OW = (H + 2 * PH - KH) // SH + 1, (W + 2 * PW - KW) // SW + 1
    cols = draw(float_arrays((C * KH * KW, OH * OW * N)))
    return (cols, (H, W), (KH, KW), (SH, SW), (PH, PW))


@st.composite
def pool_route_args(draw: st.DrawFn, gather: bool) -> Args:
    """Arguments of PoolGather / PoolScatter: any argmax offsets, valid or not, will do
    (the two are adjoint linear maps for every ``arg``)."""
    g: PoolGeometry = draw(POOL)
    N, C, OH, OW = g.output_shape
    arg = draw(hnp.arrays(np.int64, (N, C, OH, OW), elements=st.integers(0, g.KH * g.KW - 1)))
    kernel = (g.KH, g.KW)
    if gather:
        return (draw(float_arrays(g.input_shape)), arg, kernel, g.stride, g.padding)
    g_out = draw(float_arrays((N, C, OH, OW)))
    return (g_out, arg, (g.H, g.W), kernel, g.stride, g.padding)


def softmax_args() -> st.SearchStrategy[Args]:
    """(x, dim): one int dim (a tuple is a TypeError, as in PyTorch), 0-d and empty x."""
    return SHAPES_WITH_EMPTY.flatmap(lambda s: st.tuples(float_arrays(s), one_dim(len(s))))


@st.composite
def loss_args(draw: st.DrawFn) -> Args:
    N, K = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = draw(float_arrays((N, K)))
    target = draw(class_targets(N, K))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return (x, target, reduction)


@st.composite
def batch_norm_args(draw: st.DrawFn, training: bool) -> Args:
    """(x, weight, bias, stats): x (N, C) or (N, C, H, W), at least 2 values per channel;
    stats = (running_mean, running_var) in a tuple, so they are not differentiated."""
    C = draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (1, 1), (2, 3)]))
    N = draw(st.integers(2 if training or not spatial else 1, 4))
    x = draw(float_arrays((N, C, *spatial)))
    w, b = draw(float_arrays((C,))), draw(float_arrays((C,)))
    stats = (draw(float_arrays((C,))), draw(positive_arrays((C,), min_value=0.1)))
    return (x, w, b, stats)


def batch_norm_fn(training: bool) -> Callable[..., Tensor]:
    def fn(x: Tensor, w: Tensor, b: Tensor, stats: tuple[np.ndarray, np.ndarray]) -> Tensor:
        if training:  # batch statistics only: no running buffers to update
            return F.batch_norm(x, None, None, w, b, training=True)
        return F.batch_norm(x, stats[0].copy(), stats[1].copy(), w, b, training=False)

    return fn


def ref_batch_norm(training: bool) -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, stats: Any, eps: float = 1e-5) -> Any:
        axes = (0,) if x.ndim == 2 else (0, 2, 3)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if training:
            mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        else:
            mu, var = stats[0].reshape(shape), stats[1].reshape(shape)
        return (x - mu) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)

    return ref


def dropout_args() -> st.SearchStrategy[Args]:
    p = st.sampled_from([0.0, 1.0]) | st.floats(0.05, 0.95)
    return st.tuples(float_arrays(), p, st.integers(0, 2**32 - 1))


# ----- NumPy references (never the engine) -----
def ref_sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    while x.ndim > len(shape):
        x = x.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and x.shape[i] != 1:
            x = x.sum(axis=i, keepdims=True)
    return x


def ref_flatten(x: np.ndarray, start: int, end: int) -> np.ndarray:
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start % x.ndim, end % x.ndim
    return x.reshape(x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :])


def ref_scatter_add(x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=x.dtype)
    np.add.at(out, index, x)
    return out


def ref_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    y = np.einsum("...i,oi->...o", x, w)
    return y if b is None else y + b


def _pair(v: int | tuple[int, int] | None, default: tuple[int, int]) -> tuple[int, int]:
    return default if v is None else pair("reference", "size", v, 0)


def naive_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: int | tuple[int, int],
    padding: int | tuple[int, int],
) -> np.ndarray:
    """Cross-correlation by the definition, one output element at a time."""
    (SH, SW), (PH, PW) = _pair(stride, (1, 1)), _pair(padding, (0, 0))
    N, C, H, W = x.shape
    OC, _, KH, KW = w.shape
    OH, OW = (H + 2 * PH - KH) // SH + 1, (W + 2 * PW - KW) // SW + 1
    y = np.zeros((N, OC, OH, OW), dtype=np.result_type(x, w))
    for n in range(N):
        for oc in range(OC):
            for i in range(OH):
                for j in range(OW):
                    acc = 0.0 if b is None else float(b[oc])
                    for c in range(C):
                        for kh in range(KH):
                            for kw in range(KW):
                                h, v = i * SH + kh - PH, j * SW + kw - PW
                                if 0 <= h < H and 0 <= v < W:
                                    acc += x[n, c, h, v] * w[oc, c, kh, kw]
                    y[n, oc, i, j] = acc
    return y


def _naive_pool(
    x: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int] | None,
    padding: tuple[int, int],
    reduce: Callable[[list[float]], float],
    fill: float,
) -> np.ndarray:
    (KH, KW), (PH, PW) = _pair(kernel, (1, 1)), _pair(padding, (0, 0))
    SH, SW = _pair(stride, (KH, KW))
    N, C, H, W = x.shape
    OH, OW = (H + 2 * PH - KH) // SH + 1, (W + 2 * PW - KW) // SW + 1
    y = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = []
                    for kh in range(KH):
                        for kw in range(KW):
                            h, v = i * SH + kh - PH, j * SW + kw - PW
                            inside = 0 <= h < H and 0 <= v < W
                            window.append(float(x[n, c, h, v]) if inside else fill)
                    y[n, c, i, j] = reduce(window)
    return y


def naive_max_pool2d(x: np.ndarray, kernel: Any, stride: Any, padding: Any) -> np.ndarray:
    """Max over each window; padding is -inf (never the maximum)."""
    return _naive_pool(x, kernel, stride, padding, max, -np.inf)


def naive_avg_pool2d(x: np.ndarray, kernel: Any, stride: Any, padding: Any) -> np.ndarray:
    """Mean over each window; zero padding counts in the mean."""
    return _naive_pool(x, kernel, stride, padding, lambda v: sum(v) / len(v), 0.0)


def naive_im2col(x: np.ndarray, kernel: Any, stride: Any, padding: Any) -> np.ndarray:
    """cols[(c, kh, kw), (i, j, n)] = xp[n, c, i*SH + kh, j*SW + kw], xp = x zero-padded."""
    (KH, KW), (SH, SW), (PH, PW) = kernel, stride, padding
    x = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    N, C, H, W = x.shape
    OH, OW = (H - KH) // SH + 1, (W - KW) // SW + 1
    cols = np.zeros((C, KH, KW, OH, OW, N), dtype=x.dtype)
    for i in range(OH):
        for j in range(OW):
            window = x[:, :, i * SH : i * SH + KH, j * SW : j * SW + KW]  # (N, C, KH, KW)
            cols[:, :, :, i, j, :] = window.transpose(1, 2, 3, 0)
    return cols.reshape(C * KH * KW, OH * OW * N)


def naive_im2col_ones(x: np.ndarray, kernel: Any, stride: Any, padding: Any) -> np.ndarray:
    """naive_im2col with a last row of ones."""
    cols = naive_im2col(x, kernel, stride, padding)
    return np.concatenate([cols, np.ones((1, cols.shape[1]), dtype=cols.dtype)])


def naive_col2im(cols: np.ndarray, size: Any, kernel: Any, stride: Any, padding: Any) -> np.ndarray:
    """x[n, c, i*SH + kh - PH, j*SW + kw - PW] += cols[(c, kh, kw), (i, j, n)], the padding
    cropped off at the end."""
    (KH, KW), (SH, SW), (PH, PW) = kernel, stride, padding
    H, W = size[0] + 2 * PH, size[1] + 2 * PW
    OH, OW = (H - KH) // SH + 1, (W - KW) // SW + 1
    C, N = cols.shape[0] // (KH * KW), cols.shape[1] // (OH * OW)
    blocks = cols.reshape(C, KH, KW, OH, OW, N)
    x = np.zeros((N, C, H, W), dtype=cols.dtype)
    for i in range(OH):
        for j in range(OW):
            window = blocks[:, :, :, i, j, :].transpose(3, 0, 1, 2)  # (N, C, KH, KW)
            x[:, :, i * SH : i * SH + KH, j * SW : j * SW + KW] += window
    return x[:, :, PH : H - PH, PW : W - PW]


def naive_pool_gather(
    x: np.ndarray, arg: np.ndarray, kernel: Any, stride: Any, padding: Any
) -> np.ndarray:
    """y[n, c, i, j] = padded x at window (i, j)'s offset arg[n, c, i, j] (row-major)."""
    (_, KW), (SH, SW), (PH, PW) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    y = np.zeros(arg.shape, dtype=x.dtype)
    for idx in np.ndindex(arg.shape):
        n, c, i, j = idx
        kh, kw = divmod(int(arg[idx]), KW)
        y[idx] = xp[n, c, i * SH + kh, j * SW + kw]
    return y


def naive_pool_scatter(
    g: np.ndarray, arg: np.ndarray, size: Any, kernel: Any, stride: Any, padding: Any
) -> np.ndarray:
    """The transpose of naive_pool_gather: add g back at each window's offset."""
    (H, W), (_, KW), (SH, SW), (PH, PW) = size, kernel, stride, padding
    out = np.zeros(g.shape[:2] + (H + 2 * PH, W + 2 * PW), dtype=g.dtype)
    for idx in np.ndindex(arg.shape):
        n, c, i, j = idx
        kh, kw = divmod(int(arg[idx]), KW)
        out[n, c, i * SH + kh, j * SW + kw] += g[idx]
    return out[:, :, PH : PH + H, PW : PW + W]


def ref_log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    m = x.max(axis=np_axis(x, dim), keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=np_axis(x, dim), keepdims=True))


def ref_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=np_axis(x, dim), keepdims=True))
    return e / e.sum(axis=np_axis(x, dim), keepdims=True)


def ref_reduce(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The NumPy reduction ``fn`` called with a PyTorch dim (see :func:`np_axis`); NumPy's
    warnings on empty slices are silenced (the NaN is the expected value)."""

    def ref(x: np.ndarray, dim: Any, keepdim: bool, *rest: Any) -> Any:
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(x, np_axis(x, dim), keepdim, *rest)

    return ref


def ref_logsumexp(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros((1,) * x.ndim)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def values(result: Any) -> Tensor:
    """The values of ``max(dim)`` / ``min(dim)`` (the indices are checked in
    test_reductions.py), or the tensor a full reduction returns."""
    return result.values if isinstance(result, tuple) else result


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": losses.mean, "sum": losses.sum, "none": losses.copy}[reduction]()


def ref_nll_loss(x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
    return _reduce(-x[np.arange(len(target)), target], reduction)


def ref_cross_entropy(x: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:
    return ref_nll_loss(ref_log_softmax(x, 1), target, reduction)


def dropout_with_seed(x: Tensor, p: float, seed: int) -> Tensor:
    """F.dropout with a fresh generator per call: the same mask every evaluation."""
    return F.dropout(x, p, rng=np.random.default_rng(seed))


def ref_dropout(x: np.ndarray, p: float, seed: int) -> np.ndarray:
    # The mask is the documented draw: keep where U[0,1) (float32) >= p; scale by 1/(1-p).
    if p == 0.0:
        return x.copy()
    if p == 1.0:
        return np.zeros_like(x)
    keep = np.random.default_rng(seed).random(x.shape, dtype=np.float32) >= p
    return x * keep / (1.0 - p)


def _pos(shape: Any) -> st.SearchStrategy[np.ndarray]:
    return positive_arrays(shape)


def _nonzero(shape: Any) -> st.SearchStrategy[np.ndarray]:
    return away_from_zero(shape, margin=1e-2)


def _pow_case(p: float, strategy: st.SearchStrategy[np.ndarray], notes: str = "") -> OpCase:
    return OpCase(
        f"pow[{p:g}]", lambda x: x**p, unary(strategy), lambda x: np.power(x, p), notes=notes
    )


# ----- the table -----
CASES: list[OpCase] = [
    # elementwise, binary with broadcasting
    OpCase("add", ops.add, binary(), np.add),
    OpCase("sub", ops.sub, binary(), np.subtract),
    OpCase("mul", ops.mul, binary(), np.multiply),
    OpCase(
        "div",
        ops.div,
        binary(right=_nonzero),
        np.divide,
        notes="|b| >= 1e-2 (pole at 0: the rounding floor covers entries next to ~1e6)",
    ),
    OpCase("add[scalar]", lambda x: x + 2.5, unary(float_arrays(ANY_SHAPE)), lambda x: x + 2.5),
    OpCase("rsub[scalar]", lambda x: 1.5 - x, unary(float_arrays(ANY_SHAPE)), lambda x: 1.5 - x),
    OpCase(
        "rdiv[scalar]",
        lambda x: 2.0 / x,
        unary(_nonzero(ANY_SHAPE)),
        lambda x: 2.0 / x,
        notes="|x| >= 1e-2 (pole at 0: the rounding floor covers entries next to ~1e6)",
    ),
    # elementwise, unary
    OpCase("neg", ops.neg, unary(float_arrays(ANY_SHAPE)), np.negative),
    _pow_case(2, float_arrays(ANY_SHAPE)),
    _pow_case(3, float_arrays(ANY_SHAPE)),
    _pow_case(0.5, _pos(ANY_SHAPE), "x >= 1e-2 (sqrt's kink and domain edge at 0)"),
    _pow_case(1.5, _pos(ANY_SHAPE), "x >= 1e-2 (second derivative singular at 0)"),
    _pow_case(-1, _nonzero(ANY_SHAPE), "|x| >= 1e-2 (pole at 0)"),
    _pow_case(0, float_arrays(ANY_SHAPE), "constant: gradient identically 0"),
    _pow_case(1, float_arrays(ANY_SHAPE), "identity"),
    OpCase("exp", ops.exp, unary(float_arrays(ANY_SHAPE)), np.exp),
    OpCase("log", ops.log, unary(_pos(ANY_SHAPE)), np.log, notes="x >= 1e-2"),
    OpCase("sqrt", ops.sqrt, unary(_pos(ANY_SHAPE)), np.sqrt, notes="x >= 1e-2"),
    OpCase(
        "abs", ops.abs, unary(away_from_zero(ANY_SHAPE)), np.abs, notes="kink at 0: |x| >= 1e-3"
    ),
    OpCase(
        "relu",
        F.relu,
        unary(away_from_zero(ANY_SHAPE)),
        lambda x: np.maximum(x, 0.0),
        notes="kink at 0: |x| >= 1e-3",
    ),
    OpCase(
        "sigmoid",
        F.sigmoid,
        unary(float_arrays(ANY_SHAPE, min_value=-8.0, max_value=8.0)),
        lambda x: 1.0 / (1.0 + np.exp(-x)),
        notes="wider range: exercises both branches of the stable forward",
    ),
    OpCase("tanh", F.tanh, unary(float_arrays(ANY_SHAPE)), np.tanh),
    # reductions: every dim form, keepdim both ways, 0-d, size-1 and size-0 dims
    OpCase(
        "sum",
        lambda x, d, k: x.sum(d, keepdim=k),
        with_dims(float_arrays, empty="any"),
        ref_reduce(lambda x, a, k: np.sum(x, axis=a, keepdims=k)),
        kind="reduction",
        forms=(*DIM_FORMS, "dim=()", "size-0"),
        notes="a sum over an empty dim is 0",
    ),
    OpCase(
        "mean",
        lambda x, d, k: x.mean(d, keepdim=k),
        with_dims(float_arrays, empty="any"),
        ref_reduce(lambda x, a, k: np.mean(x, axis=a, keepdims=k)),
        kind="reduction",
        forms=(*DIM_FORMS, "dim=()", "size-0"),
        notes="a mean over an empty dim is NaN",
    ),
    OpCase(
        "max",
        lambda x, d, k: values(x.max(d, keepdim=k)),
        with_dims(distinct_arrays, allow_tuple=False, empty="kept"),
        ref_reduce(lambda x, a, k: np.max(x, axis=a, keepdims=k)),
        forms=(*(f for f in DIM_FORMS if f != "dim=tuple"), "size-0"),
        notes="kink where two values tie: values spaced >= 1e-3 apart; dim=None is the "
        "full reduction (a tensor), an int dim gives (values, indices)",
    ),
    OpCase(
        "min",
        lambda x, d, k: values(x.min(d, keepdim=k)),
        with_dims(distinct_arrays, allow_tuple=False, empty="kept"),
        ref_reduce(lambda x, a, k: np.min(x, axis=a, keepdims=k)),
        forms=(*(f for f in DIM_FORMS if f != "dim=tuple"), "size-0"),
        notes="as max",
    ),
    OpCase(
        "amax",
        lambda x, d, k: x.amax(d, keepdim=k),
        with_dims(distinct_arrays, empty="kept"),
        ref_reduce(lambda x, a, k: np.max(x, axis=a, keepdims=k)),
        forms=(*DIM_FORMS, "dim=()", "size-0"),
        notes="as max; ties (split evenly) are checked by hand in test_reductions.py",
    ),
    OpCase(
        "amin",
        lambda x, d, k: x.amin(d, keepdim=k),
        with_dims(distinct_arrays, empty="kept"),
        ref_reduce(lambda x, a, k: np.min(x, axis=a, keepdims=k)),
        forms=(*DIM_FORMS, "dim=()", "size-0"),
        notes="as amax",
    ),
    OpCase(
        "var",
        lambda x, d, k, c: x.var(d, keepdim=k, correction=c),
        var_args(spread=False),
        ref_reduce(lambda x, a, k, c: np.var(x, axis=a, keepdims=k, ddof=c)),
        kind="reduction",
        forms=(*DIM_FORMS, "dim=()"),
        notes="correction 0 or 1, always below the group size (finite)",
    ),
    OpCase(
        "std",
        lambda x, d, k, c: x.std(d, keepdim=k, correction=c),
        var_args(spread=True),
        ref_reduce(lambda x, a, k, c: np.std(x, axis=a, keepdims=k, ddof=c)),
        kind="reduction",
        forms=(*(f for f in DIM_FORMS if f != "0-d"), "dim=()"),
        notes="sqrt's kink at variance 0: >= 2 values per group, spaced >= 0.05 apart "
        "(so no 0-d draws: NaN, checked in test_reductions.py)",
    ),
    OpCase(
        "logsumexp",
        lambda x, d, k: x.logsumexp(d, keepdim=k),
        with_dims(float_arrays),
        ref_reduce(ref_logsumexp),
        kind="reduction",
        forms=(*DIM_FORMS, "dim=()"),
        notes="dim=None and () are extensions (all dims; PyTorch requires a dim); "
        "empty dims (-inf) are checked in test_reductions.py",
    ),
    OpCase("sum_to", ops.sum_to, sum_to_args(), ref_sum_to, kind="reduction"),
    OpCase("broadcast_to", ops.broadcast_to, broadcast_to_args(), np.broadcast_to),
    # shapes and indexing
    OpCase("reshape", ops.reshape, reshape_args(), np.reshape),
    OpCase(
        "permute",
        lambda x, d: x.permute(d),
        permute_args(),
        np.transpose,
        forms=("dim=tuple", *SHAPE_FORMS),
    ),
    OpCase(
        "transpose",
        lambda x, a, b: x.transpose(a, b),
        transpose_args(),
        lambda x, a, b: x.copy() if x.ndim == 0 else np.swapaxes(x, a, b),
        forms=("dim=int", "dim=-int", *SHAPE_FORMS),
    ),
    OpCase("T", lambda x: x.T, unary(float_arrays(ANY_SHAPE)), lambda x: x.T),
    OpCase("flatten", lambda x, s, e: x.flatten(s, e), flatten_args(), ref_flatten),
    OpCase("getitem[basic]", ops.getitem, basic_index_args(), lambda x, i: x[i]),
    OpCase(
        "getitem[int array]",
        ops.getitem,
        int_array_args(1),
        lambda x, i: x[i],
        notes="repeated indices: the gradient adds up",
    ),
    OpCase("getitem[int array pair]", ops.getitem, int_array_args(2), lambda x, i: x[i]),
    OpCase("getitem[slice, int array]", ops.getitem, slice_then_array_args(), lambda x, i: x[i]),
    OpCase("getitem[bool mask]", ops.getitem, bool_mask_args(), lambda x, m: x[m]),
    OpCase("scatter_add", ops.scatter_add, scatter_add_args(), ref_scatter_add),
    OpCase("pad", ops.pad, pad_args(), lambda x, w: np.pad(x, w) if x.ndim else x.copy()),
    OpCase(
        "cat",
        lambda a, b, c, dim: ops.cat([a, b, c], dim),
        cat_args(),
        lambda a, b, c, dim: np.concatenate([a, b, c], axis=dim),
    ),
    # linear algebra
    OpCase(
        "matmul[2-D]",
        ops.matmul,
        matmul_args(max_batch_dims=0, allow_1d=False),
        np.matmul,
        kind="reduction",
    ),
    OpCase(
        "matmul[batched]",
        ops.matmul,
        matmul_args(min_batch_dims=1, max_batch_dims=2, allow_1d=False),
        np.matmul,
        kind="reduction",
    ),
    OpCase("matmul[1-D]", F.matmul, matmul_1d_args(), np.matmul, kind="reduction"),
    OpCase("linear", F.linear, linear_args(bias=False), ref_linear, kind="reduction"),
    OpCase("linear[bias]", F.linear, linear_args(bias=True), ref_linear, kind="reduction"),
    # convolution and pooling
    OpCase(
        "conv2d",
        F.conv2d,
        conv_args(bias=False),
        naive_conv2d,
        kind="reduction",
    ),
    OpCase(
        "conv2d[bias]",
        F.conv2d,
        conv_args(bias=True),
        naive_conv2d,
        kind="reduction",
    ),
    OpCase(
        "max_pool2d",
        F.max_pool2d,
        pool_args(distinct=True),
        naive_max_pool2d,
        notes="ties in a window are kinks: values spaced >= 1e-3 apart",
    ),
    OpCase(
        "avg_pool2d",
        F.avg_pool2d,
        pool_args(distinct=False),
        naive_avg_pool2d,
        kind="reduction",
    ),
    OpCase("im2col", conv_ops.im2col, im2col_args(), naive_im2col),
    OpCase(
        "im2col[ones row]",
        lambda x, k, s, p: conv_ops.im2col(x, k, s, p, ones_row=True),
        im2col_args(),
        naive_im2col_ones,
    ),
    OpCase("col2im", conv_ops.col2im, col2im_args(), naive_col2im),
    OpCase(
        "pool_gather",
        lambda x, a, k, s, p: conv_ops.PoolGather.apply(x, arg=a, kernel=k, stride=s, padding=p),
        pool_route_args(gather=True),
        naive_pool_gather,
    ),
    OpCase(
        "pool_scatter",
        lambda g, a, n, k, s, p: conv_ops.PoolScatter.apply(
            g, arg=a, size=n, kernel=k, stride=s, padding=p
        ),
        pool_route_args(gather=False),
        naive_pool_scatter,
    ),
    # softmax and losses
    OpCase(
        "log_softmax",
        F.log_softmax,
        softmax_args(),
        ref_log_softmax,
        kind="reduction",
        forms=("dim=int", "dim=-int", "0-d", "size-1", "size-0"),
    ),
    OpCase(
        "softmax",
        F.softmax,
        softmax_args(),
        ref_softmax,
        kind="reduction",
        forms=("dim=int", "dim=-int", "0-d", "size-1", "size-0"),
    ),
    OpCase("nll_loss", F.nll_loss, loss_args(), ref_nll_loss, kind="reduction"),
    OpCase("cross_entropy", F.cross_entropy, loss_args(), ref_cross_entropy, kind="reduction"),
    OpCase(
        "batch_norm[train]",
        batch_norm_fn(training=True),
        batch_norm_args(training=True),
        ref_batch_norm(training=True),
        kind="reduction",
        # Normalising multiplies the float32 rounding of x and of the batch mean (~1e-7 for
        # |x| <= 3) by |w| / sqrt(var + eps), up to 3 / sqrt(1e-5) ~ 1e3 for a (nearly)
        # constant channel: ~1e-4 absolute on outputs near 0 (seen: 1.9e-5 where the exact
        # value is 0). Any float32 implementation has it; float64 stays at 1e-10 / 1e-12.
        float32_tol=(1e-4, 1e-3),
        notes="eps = 1e-5 keeps it smooth even for a constant channel (variance 0)",
    ),
    OpCase(
        "batch_norm[eval]",
        batch_norm_fn(training=False),
        batch_norm_args(training=False),
        ref_batch_norm(training=False),
        notes="running variance >= 0.1",
    ),
    OpCase(
        "dropout",
        dropout_with_seed,
        dropout_args(),
        ref_dropout,
        notes="a fresh generator with a fixed seed per call, so the mask is a constant",
    ),
]

# The elementwise rows and T draw 0-d, size-1 and size-0 arrays (ANY_SHAPE), declared once.
_ANY_SHAPE_ROWS = {"add", "sub", "mul", "div", "add[scalar]", "rsub[scalar]", "rdiv[scalar]"}
_ANY_SHAPE_ROWS |= {"neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "T"}
_ANY_SHAPE_ROWS |= {c.name for c in CASES if c.name.startswith("pow[")}
CASES = [replace(c, forms=SHAPE_FORMS) if c.name in _ANY_SHAPE_ROWS else c for c in CASES]
# The other rows' forms, by name.
_FORMS: dict[str, tuple[str, ...]] = {
    "reshape": SHAPE_FORMS,
    "flatten": ("dim=int", "dim=-int", "last=int", "last=-int", *SHAPE_FORMS),
    "cat": ("last=int", "last=-int", "size-1", "size-0"),
    "matmul[2-D]": ("size-1", "size-0"),
    "matmul[batched]": ("size-1", "size-0"),
    "sum_to": ARRAY_FORMS,
    "broadcast_to": ARRAY_FORMS,
    "nll_loss": (*REDUCTION_FORMS, "size-1"),
    "cross_entropy": (*REDUCTION_FORMS, "size-1"),
    "conv2d": CONV_FORMS,
    "conv2d[bias]": CONV_FORMS,
    "max_pool2d": POOL_FORMS,
    "avg_pool2d": POOL_FORMS,
    "pad": ARRAY_FORMS,
    "linear": ("size-1",),
    "linear[bias]": ("size-1",),
    "getitem[basic]": ("size-1",),
    "getitem[bool mask]": ("size-1",),
    "batch_norm[train]": ("size-1",),
    "batch_norm[eval]": ("size-1",),
}
CASES = [replace(c, forms=_FORMS[c.name]) if c.name in _FORMS else c for c in CASES]

CASE_IDS = [c.name for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate OpCase names"
