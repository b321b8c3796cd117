"""Hypothesis strategies and a one-call property test for ops (public: test your own ops).

Everything here builds on :mod:`hypothesis.extra.numpy`. Arrays are small (sides 1-5,
0-4 dimensions) so full Jacobians stay cheap, finite, and by default in [-3, 3]. Inputs
near a non-differentiable point are never shifted by a constant; instead the strategies
below generate valid inputs directly:

- :func:`away_from_zero`: |x| >= 1e-3 (relu, abs), or >= 1e-2 for denominators;
- :func:`positive_arrays`: x >= 1e-2 (log, sqrt, fractional powers);
- :func:`distinct_arrays`: values spaced >= 1e-3 apart (max, max-pooling), made as a
  scaled permutation plus a small jitter.

:func:`check_op` runs one Hypothesis test in a single call: the forward against a NumPy
reference, :func:`~autograd_mnist.gradcheck.gradcheck` and
:func:`~autograd_mnist.gradcheck.gradgradcheck`.

Example:
    >>> import numpy as np
    >>> from autograd_mnist import functional as F
    >>> from autograd_mnist.testing import check_op, float_arrays
    >>> check_op(F.tanh, float_arrays(), reference=np.tanh, max_examples=5)

Hypothesis is a test extra: this module is imported only by tests and by users who have it
(``import autograd_mnist`` does not import it).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "autograd_mnist.testing needs Hypothesis; install it with `pip install hypothesis` "
        "(or the test extra: `pip install autograd-mnist[dev]`)"
    ) from e

from autograd_mnist.gradcheck import gradcheck, gradgradcheck
from autograd_mnist.ops.conv import out_size
from autograd_mnist.tensor import Tensor

__all__ = [
    "ConvGeometry",
    "PoolGeometry",
    "away_from_zero",
    "broadcast_sources",
    "broadcastable_shapes",
    "check_forward",
    "check_op",
    "class_targets",
    "conv2d_geometries",
    "distinct_arrays",
    "float_arrays",
    "matmul_shapes",
    "pad_widths",
    "pool2d_geometries",
    "positive_arrays",
    "reduction_dims",
    "reshape_targets",
    "shapes",
]

Shape = tuple[int, ...]
#: A fixed shape, a side length for 1-D arrays, or a strategy of shapes.
ShapeLike = int | Sequence[int] | st.SearchStrategy[Shape] | None

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


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


def reduction_dims(
    ndim: int, allow_tuple: bool = True
) -> st.SearchStrategy[int | tuple[int, ...] | None]:
    """A valid ``dim`` argument for an ``ndim``-D tensor: None, one axis, or distinct axes.

    Axes may be negative. A 0-d tensor only gets None (NumPy rejects axes on scalars).
    With ``allow_tuple=False`` (for ``max``), only None or a single axis.
    """
    if ndim == 0:
        return st.none()
    one = st.integers(-ndim, ndim - 1)
    choices: list[st.SearchStrategy[Any]] = [st.none(), one]
    if allow_tuple:
        many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
        choices.append(
            st.tuples(many, st.booleans()).map(
                lambda mn: tuple(d - ndim if mn[1] else d for d in mn[0])
            )
        )
    return st.one_of(*choices)


@st.composite
def _reshape_target(draw: st.DrawFn, shape: Shape) -> Shape:
    n = math.prod(shape)
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
    """Shapes with as many elements as ``shape`` (ones and one -1 entry may appear).

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
    if d not in _FLOAT_DTYPES:
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

    Use for relu and abs (margin 1e-3, far above gradcheck's eps = 1e-6) and for
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
    # differ by at least step - (step - spacing) = spacing; the largest is <= hi.
    widest = (hi - lo + spacing) / n
    if widest < spacing:
        raise InvalidArgument(
            f"distinct_arrays: {n} values spaced {spacing} do not fit in [{lo}, {hi}]"
        )
    step = draw(st.floats(spacing, widest))
    off = draw(st.floats(0.0, max(0.0, (hi - lo + spacing) - n * step)))
    ranks = np.asarray(draw(st.permutations(range(n))), dtype=np.float64)
    jitter = draw(
        hnp.arrays(np.float64, n, elements=st.floats(0.0, max(0.0, (step - spacing) * 0.99)))
    )
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


# ----- convolution and pooling geometries -----
class ConvGeometry(NamedTuple):
    """A valid conv2d configuration: x (N, C, H, W), weight (OC, C, KH, KW)."""

    N: int
    C: int
    H: int
    W: int
    OC: int
    KH: int
    KW: int
    stride: tuple[int, int]
    padding: tuple[int, int]

    @property
    def input_shape(self) -> Shape:
        """(N, C, H, W)."""
        return (self.N, self.C, self.H, self.W)

    @property
    def weight_shape(self) -> Shape:
        """(OC, C, KH, KW)."""
        return (self.OC, self.C, self.KH, self.KW)

    @property
    def output_shape(self) -> Shape:
        """(N, OC, OH, OW), OH = (H + 2 PH - KH) // SH + 1 (OW likewise)."""
        (SH, SW), (PH, PW) = self.stride, self.padding
        return (
            self.N,
            self.OC,
            out_size(self.H, self.KH, SH, PH),
            out_size(self.W, self.KW, SW, PW),
        )


class PoolGeometry(NamedTuple):
    """A valid pooling configuration on x (N, C, H, W); padding <= half the kernel."""

    N: int
    C: int
    H: int
    W: int
    KH: int
    KW: int
    stride: tuple[int, int]
    padding: tuple[int, int]

    @property
    def input_shape(self) -> Shape:
        """(N, C, H, W)."""
        return (self.N, self.C, self.H, self.W)

    @property
    def output_shape(self) -> Shape:
        """(N, C, OH, OW), OH = (H + 2 PH - KH) // SH + 1 (OW likewise)."""
        (SH, SW), (PH, PW) = self.stride, self.padding
        return (
            self.N,
            self.C,
            out_size(self.H, self.KH, SH, PH),
            out_size(self.W, self.KW, SW, PW),
        )


@st.composite
def _side(
    draw: st.DrawFn, max_kernel: int, max_stride: int, max_pad: int, max_side: int, pool: bool
) -> tuple[int, int, int, int]:
    """One spatial axis: (size, kernel, stride, padding) with kernel <= size + 2 padding."""
    k = draw(st.integers(1, max_kernel))
    p = draw(st.integers(0, min(max_pad, k // 2) if pool else max_pad))
    size = draw(st.integers(max(1, k - 2 * p), max(max_side, k - 2 * p)))
    s = draw(st.integers(1, max_stride))
    return size, k, s, p


@st.composite
def _conv(
    draw: st.DrawFn,
    max_batch: int,
    max_channels: int,
    max_out_channels: int,
    max_side: int,
    max_kernel: int,
    max_stride: int,
    max_padding: int,
) -> ConvGeometry:
    H, KH, SH, PH = draw(_side(max_kernel, max_stride, max_padding, max_side, False))
    W, KW, SW, PW = draw(_side(max_kernel, max_stride, max_padding, max_side, False))
    N = draw(st.integers(1, max_batch))
    C = draw(st.integers(1, max_channels))
    OC = draw(st.integers(1, max_out_channels))
    return ConvGeometry(N, C, H, W, OC, KH, KW, (SH, SW), (PH, PW))


def conv2d_geometries(
    max_batch: int = 2,
    max_channels: int = 3,
    max_out_channels: int = 3,
    max_side: int = 5,
    max_kernel: int = 3,
    max_stride: int = 2,
    max_padding: int = 2,
) -> st.SearchStrategy[ConvGeometry]:
    """Valid conv2d configurations (N, C, H, W, OC, KH, KW, stride, padding).

    Kernels, inputs, strides (SH, SW) and paddings (PH, PW) are drawn per axis, so they are
    often non-square; the kernel never exceeds the padded input, so OH, OW >= 1. Batch size
    1 is included (and is what failures shrink to).

    Example:
        >>> g = conv2d_geometries().example()
        >>> all(s >= 1 for s in g.output_shape)
        True
    """
    return _conv(
        max_batch, max_channels, max_out_channels, max_side, max_kernel, max_stride, max_padding
    )


@st.composite
def _pool(
    draw: st.DrawFn,
    max_batch: int,
    max_channels: int,
    max_side: int,
    max_kernel: int,
    max_stride: int,
) -> PoolGeometry:
    H, KH, SH, PH = draw(_side(max_kernel, max_stride, max_kernel // 2, max_side, True))
    W, KW, SW, PW = draw(_side(max_kernel, max_stride, max_kernel // 2, max_side, True))
    N = draw(st.integers(1, max_batch))
    C = draw(st.integers(1, max_channels))
    return PoolGeometry(N, C, H, W, KH, KW, (SH, SW), (PH, PW))


def pool2d_geometries(
    max_batch: int = 2,
    max_channels: int = 3,
    max_side: int = 5,
    max_kernel: int = 3,
    max_stride: int = 3,
) -> st.SearchStrategy[PoolGeometry]:
    """Valid pooling configurations (N, C, H, W, KH, KW, stride, padding).

    Padding is at most half the kernel on each axis (PyTorch's rule) and the kernel never
    exceeds the padded input. Strides may be smaller than the kernel (overlapping windows)
    or larger (skipped pixels).
    """
    return _pool(max_batch, max_channels, max_side, max_kernel, max_stride)


# ----- the one-call property test -----
def _is_float_array(v: Any) -> bool:
    return isinstance(v, np.ndarray) and v.dtype in _FLOAT_DTYPES


def _raw(v: Any) -> Any:
    return v.data if isinstance(v, Tensor) else v


def _name(fn: Callable[..., Any]) -> str:
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # MyOp.apply
        return f"{owner.__qualname__}.{fn.__name__}"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return str(name) if name else repr(fn)


def check_forward(
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    *args: Any,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> None:
    """Assert ``fn(*tensors)`` equals ``reference(*arrays)`` in shape, dtype and value.

    Float arrays in ``args`` become Tensors; other arguments pass through. The reference
    gets copies of the same values as NumPy arrays. When all float inputs share one dtype,
    the output must have it too (float32 in, float32 out).

    Args:
        fn: the op on Tensors.
        reference: the same computation on NumPy arrays.
        *args: the arguments (float arrays become Tensors).
        rtol: relative tolerance.
        atol: absolute tolerance.

    Raises:
        AssertionError: naming the function and the mismatch.
    """
    name = _name(fn)
    arrays = [np.array(a) if _is_float_array(a) else _raw(a) for a in args]
    ins = [Tensor(np.array(a)) if _is_float_array(a) else a for a in args]
    result = fn(*ins)
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    expected = reference(*arrays)
    exps = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    if len(outs) != len(exps):
        raise AssertionError(f"{name}: {len(outs)} outputs, reference gives {len(exps)}")
    dtypes = {a.dtype for a in args if _is_float_array(a)}
    for k, (o, e) in enumerate(zip(outs, exps)):
        o_arr, e_arr = np.asarray(_raw(o)), np.asarray(e)
        if o_arr.shape != e_arr.shape:
            raise AssertionError(
                f"{name}: output {k} has shape {o_arr.shape}; reference {e_arr.shape}"
            )
        if len(dtypes) == 1 and o_arr.dtype not in dtypes:
            raise AssertionError(
                f"{name}: output {k} has dtype {o_arr.dtype}; inputs are {dtypes.pop()}"
            )
        np.testing.assert_allclose(
            o_arr, e_arr, rtol=rtol, atol=atol, err_msg=f"{name}: output {k} vs reference"
        )


def check_op(
    fn: Callable[..., Any],
    *inputs: st.SearchStrategy[Any],
    args: st.SearchStrategy[Sequence[Any]] | None = None,
    reference: Callable[..., Any] | None = None,
    grad: bool = True,
    gradgrad: bool = True,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    grad_rtol: float = 1e-3,
    grad_atol: float = 1e-5,
    eps: float = 1e-6,
    max_examples: int | None = None,
    seed: int = 0,
) -> None:
    """Property-test an op in one call (no ``@given`` needed): forward, gradient, Hessian.

    For every example Hypothesis draws, it checks (in float64, the dtype the strategies
    produce by default):

    1. ``fn`` against the NumPy ``reference`` (shape, dtype, values within rtol/atol),
       if a reference is given;
    2. :func:`~autograd_mnist.gradcheck.gradcheck` (if ``grad``);
    3. :func:`~autograd_mnist.gradcheck.gradgradcheck` (if ``gradgrad``).

    Float arrays drawn become the differentiated Tensor inputs; anything else (dims, index
    arrays, integer targets, strides, arrays inside tuples) is passed to ``fn`` and
    ``reference`` unchanged. Call it from a plain test function (or a script), not from
    inside another ``@given`` test: Hypothesis does not nest. The active Hypothesis
    profile (``settings.load_profile``) sets the example count unless ``max_examples``
    is given.

    Args:
        fn: the op, called as ``fn(*drawn)`` on Tensors; returns a Tensor (or a tuple).
        *inputs: one strategy per positional argument of ``fn``.
        args: instead of ``inputs``, one strategy drawing the whole argument tuple (use it
            when arguments depend on each other, e.g. an array and a valid ``dim``).
        reference: NumPy forward taking the same arguments as arrays, or None.
        grad: run gradcheck.
        gradgrad: run gradgradcheck (only meaningful if ``fn`` is twice differentiable).
        rtol: forward tolerance, relative (STYLE: 1e-10 for float64).
        atol: forward tolerance, absolute (STYLE: 1e-12 for float64).
        grad_rtol: gradcheck relative tolerance (default 1e-3).
        grad_atol: gradcheck absolute tolerance (default 1e-5).
        eps: finite-difference step (default 1e-6).
        max_examples: override the active Hypothesis profile's example count.
        seed: seed of gradcheck's random cotangent.

    Raises:
        AssertionError: forward mismatch; GradcheckError: gradient mismatch. Hypothesis
        shrinks the failing example and prints it.

    Example:
        >>> import numpy as np
        >>> from autograd_mnist.testing import check_op, float_arrays, positive_arrays
        >>> check_op(lambda a, b: a / b, float_arrays((2, 3)), positive_arrays((3,)),
        ...          reference=np.divide, max_examples=5)
    """
    if (args is None) == (not inputs):
        if args is None:
            raise InvalidArgument("check_op: give input strategies or args=, not neither")
        raise InvalidArgument("check_op: give input strategies or args=, not both")
    strategy: st.SearchStrategy[Sequence[Any]] = args if args is not None else st.tuples(*inputs)

    def run(values: Sequence[Any]) -> None:
        values = tuple(values)
        if reference is not None:
            check_forward(fn, reference, *values, rtol=rtol, atol=atol)
        ins = [Tensor(np.array(v), requires_grad=True) if _is_float_array(v) else v for v in values]
        if grad:
            gradcheck(fn, *ins, eps=eps, atol=grad_atol, rtol=grad_rtol, seed=seed)
        if gradgrad:
            gradgradcheck(fn, *ins, eps=eps, atol=grad_atol, rtol=grad_rtol, seed=seed)

    test = given(strategy)(run)
    if max_examples is not None:
        test = settings(max_examples=max_examples)(test)
    test()
