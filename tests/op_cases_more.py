"""Op-table rows for norms, pieces, sorting and the vector functions: ``Tensor.norm`` (every
kind of ``p``), ``chunk``, ``split`` (an int and a list), ``repeat``, ``sort``, ``topk``,
``F.normalize`` and ``F.cosine_similarity``.

``MORE_CASES`` joins the op table (``op_table.py``), so the generic checks of
``test_ops_forward.py`` and ``test_ops_grad.py`` (forward against the NumPy reference in
float64 and float32, gradcheck and gradgradcheck in float64) run every row over its
argument forms: dims as None, int, negative int and tuple, keepdim, 0-d, size-1 and empty
arrays where the op takes them, every ``p``, ``k``, ``largest``, ``descending`` and list
splits. ``sort``/``topk`` rows check the values (the differentiable output); their indices
are checked against torch in ``test_tensor_more.py``.

Kinks are kept clear: norms see |x| >= 0.1 (|x|**p and the norm itself bend sharply at 0;
gradcheck's step is 1e-4), inf-norms, ``sort`` and ``topk`` distinct values (|x| >= 0.05
and pairwise >= 1e-3 apart: a tie is a kink).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_cases import DIM_FORMS, SHAPES_WITH_EMPTY, Args, OpCase, np_axis, with_dims

from autograd_mnist import functional as F
from autograd_mnist.testing import (
    away_from_zero,
    broadcastable_shapes,
    distinct_arrays,
    shapes,
)

SMALL_OR_EMPTY = shapes(max_dims=3, max_side=4) | shapes(max_dims=3, min_side=0, max_side=3)
PIECE_SHAPES = SMALL_OR_EMPTY.filter(lambda s: len(s) >= 1)


def clear_of_zero(shape: Any) -> st.SearchStrategy[np.ndarray]:
    """|x| >= 0.1: norms, normalize and cosine similarity bend on the scale of |x| (the
    k-th derivative of x / |x| grows as |x|**-k), so finite differences with gradcheck's
    step 1e-4 stay exact to about (1e-4 / |x|)**4 (Richardson)."""
    return away_from_zero(shape, margin=0.1)


def distinct_magnitudes(shape: Any) -> st.SearchStrategy[np.ndarray]:
    """Values of either sign whose |x| are >= 0.05 and pairwise >= 1e-3 apart."""
    magnitudes = distinct_arrays(shape, min_value=0.05, max_value=3.0)
    return magnitudes.flatmap(
        lambda m: hnp.arrays(np.bool_, m.shape).map(lambda neg: np.where(neg, -m, m))
    )


# ----- norm -----
def norm_args(orders: list[Any], arrays: Any, empty: str) -> st.SearchStrategy[Args]:
    """(x, dim, keepdim, p): every dim form; 'fro' only over at most 2 dims (torch's rule)."""

    def with_order(a: Args) -> st.SearchStrategy[Args]:
        wide = isinstance(a[1], tuple) and len(a[1]) > 2
        return st.sampled_from([p for p in orders if not (wide and p == "fro")]).map(
            lambda p: (*a, p)
        )

    return with_dims(arrays, empty=empty).flatmap(with_order)


def ref_norm(x: np.ndarray, dim: Any, keepdim: bool, p: Any) -> np.ndarray:
    axis, a = np_axis(x, dim), np.abs(x)
    if p in (math.inf, -math.inf):
        return (np.max if p > 0 else np.min)(a, axis=axis, keepdims=keepdim)
    q = 2.0 if p == "fro" else float(p)
    return np.sum(a**q, axis=axis, keepdims=keepdim) ** (1.0 / q)


# ----- chunk, split, repeat -----
def _dim_of(shape: tuple[int, ...]) -> st.SearchStrategy[int]:
    return st.integers(-len(shape), len(shape) - 1)


def chunk_args() -> st.SearchStrategy[Args]:
    """(x, dim, chunks): chunks 1-5, more than the size at times (fewer pieces come back)."""
    return PIECE_SHAPES.flatmap(
        lambda s: st.tuples(clear_of_zero(s), _dim_of(s), st.integers(1, 5))
    )


def ref_chunk(x: np.ndarray, dim: int, chunks: int) -> list[np.ndarray]:
    n = x.shape[dim]
    if n == 0:
        return [x.copy() for _ in range(chunks)]
    size = math.ceil(n / chunks)
    return np.split(x, list(range(size, n, size)), axis=dim)


@st.composite
def split_args(draw: st.DrawFn, sections: bool) -> Args:
    """(x, dim, size): an int size (0 only for an empty dim), or a list of sizes summing to
    the dim's size (zeros included)."""
    shape = draw(PIECE_SHAPES)
    x, dim = draw(clear_of_zero(shape)), draw(_dim_of(shape))
    n = shape[dim]
    if not sections:
        return (x, dim, draw(st.integers(0 if n == 0 else 1, max(n, 1) + 1)))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return (x, dim, [b - a for a, b in zip([0, *cuts], [*cuts, n])])


def ref_split(x: np.ndarray, dim: int, size: Any) -> list[np.ndarray]:
    n = x.shape[dim]
    if isinstance(size, list):
        return np.split(x, list(np.cumsum(size)[:-1]), axis=dim)
    return np.split(x, list(range(size, n, size)) if size else [], axis=dim)


@st.composite
def repeat_args(draw: st.DrawFn) -> Args:
    """(x, *repeats): one count (0-3) per dim plus up to 2 new leading ones."""
    shape = draw(shapes(max_dims=3, max_side=3) | shapes(max_dims=2, min_side=0, max_side=2))
    extra = draw(st.integers(0 if shape else 1, 2))
    counts = draw(st.lists(st.integers(0, 3), min_size=len(shape) + extra, max_size=5))
    return (draw(clear_of_zero(shape)), *counts)


# ----- sort, topk -----
def sort_args() -> st.SearchStrategy[Args]:
    """(x, dim, descending): distinct values, any dim (0 and -1 for a 0-d tensor)."""
    return SHAPES_WITH_EMPTY.flatmap(
        lambda s: st.tuples(
            distinct_magnitudes(s), st.integers(-max(len(s), 1), max(len(s), 1) - 1), st.booleans()
        )
    )


def _sorted_along(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    out = np.sort(x, axis=dim)
    return np.flip(out, axis=dim) if descending else out


def topk_args() -> st.SearchStrategy[Args]:
    """(x, dim, k, largest): 0 <= k <= the dim's size."""

    def make(s: tuple[int, ...]) -> st.SearchStrategy[Args]:
        def with_k(d: int) -> st.SearchStrategy[Args]:
            n = s[d] if s else 1
            return st.tuples(distinct_magnitudes(s), st.just(d), st.integers(0, n), st.booleans())

        return st.integers(-max(len(s), 1), max(len(s), 1) - 1).flatmap(with_k)

    return SHAPES_WITH_EMPTY.flatmap(make)


def ref_topk(x: np.ndarray, dim: int, k: int, largest: bool) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    return np.take(_sorted_along(x, dim, largest), np.arange(k), axis=dim)


# ----- normalize, cosine_similarity -----
def normalize_args() -> st.SearchStrategy[Args]:
    """(x, dim, p): dim an int, a negative int or a tuple; p 2, 1 or 3."""
    return (
        with_dims(clear_of_zero, allow_none=False)
        .map(lambda a: (a[0], a[1]))
        .flatmap(lambda a: st.sampled_from([2.0, 1, 3]).map(lambda p: (*a, p)))
    )


def ref_normalize(x: np.ndarray, dim: Any, p: Any) -> np.ndarray:
    return x / np.maximum(ref_norm(x, dim, True, p), 1e-12)


def cosine_args() -> st.SearchStrategy[Args]:
    """(x1, x2, dim): broadcastable shapes with >= 1 dim, dim of the broadcast shape."""

    def make(pair: tuple[tuple[int, ...], ...]) -> st.SearchStrategy[Args]:
        n = len(np.broadcast_shapes(*pair))
        return st.tuples(clear_of_zero(pair[0]), clear_of_zero(pair[1]), st.integers(-n, n - 1))

    return broadcastable_shapes(2, min_dims=1, max_dims=3).flatmap(make)


def ref_cosine(x1: np.ndarray, x2: np.ndarray, dim: int) -> np.ndarray:
    a, b = np.broadcast_arrays(x1, x2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        na = np.maximum(np.sqrt(np.sum(a * a, axis=dim)), 1e-8)
        nb = np.maximum(np.sqrt(np.sum(b * b, axis=dim)), 1e-8)
    return np.sum(a * b, axis=dim) / (na * nb)


_NORM_FORMS = (*DIM_FORMS, "size-0")
MORE_CASES: list[OpCase] = [
    OpCase(
        "norm[p=2, fro]",
        lambda x, d, k, p: x.norm(p, d, k),
        norm_args(["fro", 2, 2.0], clear_of_zero, "any"),
        ref_norm,
        kind="reduction",
        notes="|x| >= 0.1: the norm bends sharply near a zero group (gradient 0 there, "
        "tested by hand against torch)",
        forms=_NORM_FORMS,
    ),
    OpCase(
        "norm[p=1]",
        lambda x, d, k, p: x.norm(p, d, k),
        norm_args([1], clear_of_zero, "any"),
        ref_norm,
        kind="reduction",
        notes="|x| >= 0.1: the kink of |x| at 0",
        forms=_NORM_FORMS,
    ),
    OpCase(
        "norm[p=3, 1.5, 0.5]",
        lambda x, d, k, p: x.norm(p, d, k),
        norm_args([3, 1.5, 0.5], clear_of_zero, "any"),
        ref_norm,
        kind="reduction",
        notes="|x| >= 0.1: |x|**p bends sharply at 0 for p < 2",
        forms=_NORM_FORMS,
    ),
    OpCase(
        "norm[p=inf, -inf]",
        lambda x, d, k, p: x.norm(p, d, k),
        norm_args([math.inf, -math.inf], distinct_magnitudes, "kept"),
        ref_norm,
        kind="reduction",
        notes="distinct |x| >= 0.05: a tie between extremes is a kink (split evenly, by hand)",
        forms=DIM_FORMS,
    ),
    OpCase(
        "chunk",
        lambda x, d, c: x.chunk(c, d),
        chunk_args(),
        ref_chunk,
        forms=("dim=int", "dim=-int", "size-1", "size-0"),
    ),
    OpCase(
        "split[int]",
        lambda x, d, s: x.split(s, d),
        split_args(False),
        ref_split,
        forms=("dim=int", "dim=-int", "size-1", "size-0"),
    ),
    OpCase(
        "split[list]",
        lambda x, d, s: x.split(s, d),
        split_args(True),
        ref_split,
        forms=("dim=int", "dim=-int", "size-1", "size-0"),
    ),
    OpCase(
        "repeat",
        lambda x, *r: x.repeat(*r),
        repeat_args(),
        lambda x, *r: np.tile(x, r),
        forms=("0-d", "size-1", "size-0"),
    ),
    OpCase(
        "sort",
        lambda x, d, desc: x.sort(d, desc).values,
        sort_args(),
        _sorted_along,
        notes="distinct values: a tie is a kink",
        forms=("dim=int", "dim=-int", "0-d", "size-1", "size-0"),
    ),
    OpCase(
        "topk",
        lambda x, d, k, largest: x.topk(k, d, largest).values,
        topk_args(),
        ref_topk,
        notes="distinct values: a tie is a kink",
        forms=("dim=int", "dim=-int", "0-d", "size-1", "size-0"),
    ),
    OpCase(
        "F.normalize",
        lambda x, d, p: F.normalize(x, p, d),
        normalize_args(),
        ref_normalize,
        kind="reduction",
        notes="|x| >= 0.1: norms well above eps (below it the clamp is flat, by hand)",
        forms=("dim=int", "dim=-int", "dim=tuple", "0-d", "size-1"),
    ),
    OpCase(
        "F.cosine_similarity",
        F.cosine_similarity,
        cosine_args(),
        ref_cosine,
        kind="reduction",
        notes="|x| >= 0.1: norms well above eps (below it, by hand against torch)",
        forms=("last=int", "last=-int", "size-1"),
    ),
]
