"""Hypothesis strategies: shapes, dims and targets, and float arrays clear of kinks.

Arrays are small (sides 1-5, 0-4 dimensions) so full Jacobians stay cheap, finite, and by
default in [-3, 3]. See :mod:`autograd_mnist.testing` for when to use which.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from autograd_mnist.tensor import FLOAT_DTYPES

__all__ = [
    "Shape",
    "ShapeLike",
    "away_from_zero",
    "broadcast_sources",
    "broadcastable_shapes",
    "class_targets",
    "distinct_arrays",
    "float_arrays",
    "matmul_shapes",
    "pad_widths",
    "positive_arrays",
    "one_dim",
    "reduction_dims",
    "reshape_targets",
    "shapes",
]

Shape = tuple[int, ...]
#: A fixed shape, a side length for 1-D arrays, or a strategy of shapes.
ShapeLike = int | Sequence[int] | st.SearchStrategy[Shape] | None


# ----- shapes -----
def shapes(
    min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 5
) -> st.SearchStrategy[Shape]:
    """Array shapes with ``min_dims..max_dims`` dimensions of ``min_side..max_side`` each.

    Example:
        >>> shapes(min_dims=2, max_dims=2).example()  # doctest: +SKIP
        (3, 1)
    """
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2,
    min_dims: int = 0,
    max_dims: int = 4,
    min_side: int = 1,
    max_side: int = 5,
) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``num_shapes`` shapes that broadcast together (NumPy rules), e.g. ((3, 1), (4, 1, 5)).

    Built on ``hypothesis.extra.numpy.mutually_broadcastable_shapes``; returns only the
    input shapes (the result is ``np.broadcast_shapes(*shapes)``).
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda s: s.input_shapes)


def matmul_shapes(
    min_batch_dims: int = 0,
    max_batch_dims: int = 2,
    min_side: int = 1,
    max_side: int = 5,
    allow_1d: bool = True,
) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Shape pairs valid for ``a @ b``: (..., n, k) and (..., k, m), batch dims broadcasting.

    With ``allow_1d`` the signature is NumPy's own ``(n?,k),(k,m?)->(n?,m?)``, so either
    operand may be 1-D; otherwise ``(n,k),(k,m)->(n,m)``. ``min_batch_dims`` and
    ``max_batch_dims`` bound the broadcast (loop) dimensions.

    Example:
        >>> matmul_shapes(allow_1d=False).example()  # doctest: +SKIP
        ((2, 1, 3, 4), (5, 4, 2))
    """
    signature = "(n?,k),(k,m?)->(n?,m?)" if allow_1d else "(n,k),(k,m)->(n,m)"
    return hnp.mutually_broadcastable_shapes(
        signature=signature,
        min_dims=min_batch_dims,
        max_dims=max_batch_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda s: (s.input_shapes[0], s.input_shapes[1]))


def _shape_strategy(shape: ShapeLike) -> st.SearchStrategy[Shape]:
    if shape is None:
        return shapes()
    if isinstance(shape, st.SearchStrategy):
        return shape
    if isinstance(shape, (int, np.integer)):
        return st.just((int(shape),))
    return st.just(tuple(int(s) for s in shape))


Dim = int | tuple[int, ...] | None


def one_dim(ndim: int) -> st.SearchStrategy[int]:
    """One valid int ``dim`` for an ``ndim``-D tensor, non-negative or negative (half each).

    A 0-d tensor gets 0 or -1, which PyTorch accepts there.
    """
    n = max(ndim, 1)
    return st.integers(0, n - 1) | st.integers(-n, -1)


def reduction_dims(
    ndim: int | Sequence[int],
    allow_tuple: bool = True,
    *,
    allow_none: bool = True,
    allow_empty_tuple: bool = False,
) -> st.SearchStrategy[Dim]:
    """A valid ``dim`` argument: every form a PyTorch reduction takes, each drawn often.

    The forms: None (all dimensions), a non-negative int, a negative int, and (with
    ``allow_tuple``) a tuple of distinct dims of mixed signs. A 0-d tensor takes 0, -1,
    (0,) and (-1,), as in PyTorch. ``allow_empty_tuple`` adds ``()``, which PyTorch's
    ``sum``, ``mean``, ``amax``, ``var`` read as "every dimension" (NumPy as "none").

    Args:
        ndim: the tensor's number of dimensions, or its shape: given a shape, only
            dimensions of non-zero size are drawn (and None only if there are no empty
            dimensions), for ops that cannot reduce an empty dimension (max, amax, argmax).
        allow_tuple: draw tuples (False for max(dim), argmax, softmax: one int only).
        allow_none: draw None.
        allow_empty_tuple: draw ``()``.

    Example:
        >>> reduction_dims(0).example() in (None, 0, -1, (0,), (-1,))
        True
        >>> reduction_dims((2, 0, 3), allow_tuple=False).example() in (0, 2, -1, -3)
        True
    """
    shape: Shape | None = None
    if isinstance(ndim, (int, np.integer)):
        n = int(ndim)
    else:
        shape = tuple(int(s) for s in ndim)
        n = len(shape)
    axes = [a for a in range(max(n, 1)) if shape is None or n == 0 or shape[a] > 0]
    choices: list[st.SearchStrategy[Any]] = []
    if allow_none and (shape is None or 0 not in shape):
        choices.append(st.none())
    if axes:
        nonneg, neg = st.sampled_from(axes), st.sampled_from([a - max(n, 1) for a in axes])
        choices += [nonneg, neg]
        if allow_tuple:
            signed = st.sampled_from(axes).flatmap(lambda a: st.sampled_from([a, a - max(n, 1)]))
            many = st.lists(
                signed, min_size=1, max_size=len(axes), unique_by=lambda d: d % max(n, 1)
            )
            choices.append(many.map(tuple))
    if allow_tuple and allow_empty_tuple and (shape is None or 0 not in shape):
        choices.append(st.just(()))
    if not choices:
        raise InvalidArgument(f"reduction_dims: no valid dim for shape {shape}")
    return st.one_of(*choices)


@st.composite
def _reshape_target(draw: st.DrawFn, shape: Shape) -> Shape:
    n = math.prod(shape)
    if n == 0:  # any shape with an empty side (a -1 would be ambiguous: PyTorch refuses it)
        sides = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
        sides[draw(st.integers(0, len(sides) - 1))] = 0
        return tuple(sides)
    factors = [p for p in range(2, n + 1) for _ in range(_multiplicity(n, p))]
    factors = list(draw(st.permutations(factors)))
    cuts = sorted(draw(st.lists(st.integers(0, len(factors)), max_size=4)))
    bounds = [0, *cuts, len(factors)]
    target = [math.prod(factors[a:b]) for a, b in itertools.pairwise(bounds)]
    if draw(st.booleans()) and target:
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


def _multiplicity(n: int, p: int) -> int:
    """How often the prime ``p`` divides ``n`` (0 for a composite ``p``)."""
    if any(p % q == 0 for q in range(2, int(p**0.5) + 1)):
        return 0
    k = 0
    while n % p == 0:
        n //= p
        k += 1
    return k


def reshape_targets(shape: Sequence[int]) -> st.SearchStrategy[Shape]:
    """Shapes with as many elements as ``shape`` (ones and one -1 entry may appear; for an
    empty ``shape``, shapes with an empty side and no -1).

    Example:
        >>> import numpy as np
        >>> np.zeros((2, 6)).reshape(reshape_targets((2, 6)).example()).size
        12
    """
    return _reshape_target(tuple(int(s) for s in shape))


def broadcast_sources(shape: Sequence[int]) -> st.SearchStrategy[Shape]:
    """Shapes that broadcast to ``shape``: leading axes dropped, some sides set to 1.

    Use one pair both ways: ``broadcast_to(x, shape)`` for x of such a shape, and
    ``sum_to(y, source)`` for y of ``shape``.
    """
    full = tuple(int(s) for s in shape)

    @st.composite
    def draw_source(draw: st.DrawFn) -> Shape:
        lead = draw(st.integers(0, len(full)))
        ones = draw(st.lists(st.booleans(), min_size=len(full), max_size=len(full)))
        return tuple(1 if one else s for s, one in zip(full[lead:], ones[lead:]))

    return draw_source()


def class_targets(n: int, num_classes: int) -> st.SearchStrategy[np.ndarray]:
    """int64 class indices of shape (n,), each in [0, num_classes)."""
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, num_classes - 1))


def pad_widths(ndim: int, max_width: int = 2) -> st.SearchStrategy[tuple[tuple[int, int], ...]]:
    """``np.pad``-style widths: one (before, after) pair per axis, each in [0, max_width]."""
    side = st.integers(0, max_width)
    return st.tuples(*[st.tuples(side, side) for _ in range(ndim)])


# ----- arrays -----
def _floats(lo: float, hi: float, dtype: np.dtype[Any]) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi], representable in ``dtype`` (bounds rounded inwards)."""
    if dtype == np.float32:
        lo32, hi32 = np.float32(lo), np.float32(hi)
        lo = float(lo32 if lo32 >= lo else np.nextafter(lo32, np.float32(np.inf)))
        hi = float(hi32 if hi32 <= hi else np.nextafter(hi32, np.float32(-np.inf)))
    if dtype == np.float32:
        return st.floats(
            lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32
        )
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _float_dtype(dtype: Any) -> np.dtype[Any]:
    d: np.dtype[Any] = np.dtype(dtype)
    if d not in FLOAT_DTYPES:
        raise InvalidArgument(f"dtype must be float32 or float64; got {d}")
    return d


def float_arrays(
    shape: ShapeLike = None,
    *,
    min_value: float = -3.0,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Finite float arrays with values in [min_value, max_value].

    Args:
        shape: a shape, an int (1-D), a strategy of shapes, or None for :func:`shapes`.
        min_value: smallest value.
        max_value: largest value.
        dtype: float64 (default, for gradient checks) or float32.

    Example:
        >>> float_arrays((2, 3)).example().shape
        (2, 3)
    """
    d = _float_dtype(dtype)
    return hnp.arrays(d, _shape_strategy(shape), elements=_floats(min_value, max_value, d))


def away_from_zero(
    shape: ShapeLike = None,
    *,
    margin: float = 1e-3,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of either sign with margin <= |x| <= max_value: clear of a kink at 0.

    Use for relu and abs (margin 1e-3, ten times gradcheck's largest step eps = 1e-4) and for
    denominators (margin 1e-2).

    Example:
        >>> bool((abs(away_from_zero((4,)).example()) >= 1e-3).all())
        True
    """
    d = _float_dtype(dtype)
    elements = _floats(margin, max_value, d) | _floats(-max_value, -margin, d)
    return hnp.arrays(d, _shape_strategy(shape), elements=elements)


def positive_arrays(
    shape: ShapeLike = None,
    *,
    min_value: float = 1e-2,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays in [min_value, max_value], min_value > 0: arguments of log, sqrt, x**0.5.

    Example:
        >>> bool((positive_arrays((4,)).example() >= 1e-2).all())
        True
    """
    if min_value <= 0:
        raise InvalidArgument(f"positive_arrays: min_value must be > 0; got {min_value}")
    d = _float_dtype(dtype)
    return hnp.arrays(d, _shape_strategy(shape), elements=_floats(min_value, max_value, d))


@st.composite
def _distinct(
    draw: st.DrawFn, shape: ShapeLike, spacing: float, lo: float, hi: float, dtype: Any
) -> np.ndarray:
    shp = draw(_shape_strategy(shape))
    n = math.prod(shp)
    if n == 0:
        return np.zeros(shp, dtype=dtype)
    # Sorted values lo + off + r*step + jitter_r, jitter in [0, step - spacing]: neighbours
    # differ by at least step - (step - spacing) = spacing; the largest is <= hi. A few ulps
    # more room keep that true after the sums and the cast round.
    gap = spacing + 4 * float(np.spacing(np.asarray(max(abs(lo), abs(hi)), dtype=dtype)))
    widest = (hi - lo + gap) / n
    if widest < gap:
        raise InvalidArgument(
            f"distinct_arrays: {n} values spaced {spacing} do not fit in [{lo}, {hi}]"
        )
    step = draw(st.floats(gap, widest))
    off = draw(st.floats(0.0, max(0.0, (hi - lo + gap) - n * step)))
    ranks = np.asarray(draw(st.permutations(range(n))), dtype=np.float64)
    jitter = draw(hnp.arrays(np.float64, n, elements=st.floats(0.0, max(0.0, (step - gap) * 0.99))))
    values: np.ndarray = lo + off + ranks * step + jitter
    return values.reshape(shp).astype(dtype)


def distinct_arrays(
    shape: ShapeLike = None,
    *,
    spacing: float = 1e-3,
    min_value: float = -3.0,
    max_value: float = 3.0,
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays whose values are pairwise at least ``spacing`` apart: no ties for max/max-pool.

    Built as a permutation of ranks, scaled by a drawn step (>= spacing) and shifted, plus a
    jitter smaller than ``step - spacing``; values lie in about [min_value, max_value].

    Example:
        >>> a = np.sort(distinct_arrays((10,)).example())
        >>> bool((np.diff(a) >= 1e-3 * (1 - 1e-9)).all())
        True
    """
    return _distinct(shape, spacing, min_value, max_value, _float_dtype(dtype))
