"""Op-table rows for the PyTorch surface of issue #9: dimension ops, copies and casts,
selection ops, sin and cos.

``SURFACE_CASES`` has the same ``OpCase`` rows as ``op_cases.CASES`` (the generic checks of
``test_ops_forward.py`` and ``test_ops_grad.py`` run over it in ``test_ops_surface.py``);
each row draws its argument forms: dims as int and negative int (a tuple too for squeeze),
0-d tensors where the op allows them, size-1 dimensions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_cases import ANY_SHAPE, SHAPE_FORMS, Args, OpCase, binary, unary

from autograd_mnist import ops
from autograd_mnist.testing import (
    broadcast_sources,
    broadcastable_shapes,
    float_arrays,
    positive_arrays,
    shapes,
)

# Sides up to 3: a third of the dimensions have size 1 (what squeeze and expand act on).
SMALL = shapes(max_dims=4, max_side=3)
# The same with an empty dimension at times (sides 0-3): PyTorch's dim ops take those too.
SMALL_OR_EMPTY = SMALL | shapes(max_dims=3, min_side=0, max_side=3)


def _dim(n: int) -> st.SearchStrategy[int]:
    """A dimension of an n-d tensor, non-negative or negative."""
    return st.integers(-n, n - 1)


def unsqueeze_args() -> st.SearchStrategy[Args]:
    return SMALL_OR_EMPTY.flatmap(lambda s: st.tuples(float_arrays(s), _dim(len(s) + 1)))


def squeeze_dims(n: int) -> st.SearchStrategy[Any]:
    """None, an int (negative too; 0 and -1 for a 0-d tensor) or a tuple of distinct dims."""
    one = _dim(max(n, 1))
    if n == 0:
        return st.none() | one | st.tuples(one)
    several = st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)
    signed = several.flatmap(
        lambda ds: st.tuples(*[st.sampled_from([d, d - n]) for d in ds]).map(tuple)
    )
    return st.none() | one | signed


def squeeze_args() -> st.SearchStrategy[Args]:
    return SMALL_OR_EMPTY.flatmap(lambda s: st.tuples(float_arrays(s), squeeze_dims(len(s))))


def ref_squeeze(x: np.ndarray, dim: Any) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    dims = range(x.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
    return np.squeeze(x, axis=tuple(d for d in dims if x.shape[d] == 1))


@st.composite
def expand_args(draw: st.DrawFn) -> Args:
    """(x, *sizes): x broadcasts to the target; sizes are the target with -1 for some of
    x's own dimensions (never the new leading ones)."""
    target = draw(SMALL)
    source = draw(broadcast_sources(target))
    x = draw(float_arrays(source))
    lead = len(target) - len(source)
    keep = draw(st.lists(st.booleans(), min_size=len(source), max_size=len(source)))
    sizes = list(target[:lead]) + [-1 if k else t for k, t in zip(keep, target[lead:])]
    return (x, *sizes)


def ref_expand(x: np.ndarray, *sizes: int) -> np.ndarray:
    lead = len(sizes) - x.ndim
    full = sizes[:lead] + tuple(s if t == -1 else t for t, s in zip(sizes[lead:], x.shape))
    return np.broadcast_to(x, full).copy()


@st.composite
def stack_args(draw: st.DrawFn) -> Args:
    """Three arrays of one shape (0-d too) and a dim of the result, negative at times."""
    shape = draw(shapes(max_dims=3, max_side=3) | shapes(max_dims=2, min_side=0, max_side=2))
    arrays = [draw(float_arrays(shape)) for _ in range(3)]
    return (*arrays, draw(_dim(len(shape) + 1)))


# Bounds that Hypothesis does not favour, and inputs at least 1e-3 from each: the gradient
# of clamp jumps there.
CLAMP_BOUNDS = [(-1.3, 0.71), (0.27, None), (None, -0.45), (-2.2, 1.9)]


def clamp_args() -> st.SearchStrategy[Args]:
    def clear(x: np.ndarray, bounds: tuple[float | None, float | None]) -> bool:
        return all(b is None or bool((np.abs(x - b) >= 1e-3).all()) for b in bounds)

    return st.sampled_from(CLAMP_BOUNDS).flatmap(
        lambda b: st.tuples(
            float_arrays(ANY_SHAPE).filter(lambda x: clear(x, b)), st.just(b[0]), st.just(b[1])
        )
    )


def no_tie_pair() -> st.SearchStrategy[Args]:
    """Two broadcastable arrays whose elements differ by >= 1e-3 everywhere (a tie is a
    kink of maximum/minimum; ties are tested by hand)."""
    return binary().filter(lambda ab: bool((np.abs(ab[0] - ab[1]) >= 1e-3).all()))


def where_args() -> st.SearchStrategy[Args]:
    triples = broadcastable_shapes(3) | broadcastable_shapes(3, min_side=0, max_dims=3)
    return triples.flatmap(
        lambda s: st.tuples(hnp.arrays(np.bool_, s[0]), float_arrays(s[1]), float_arrays(s[2]))
    )


def cast_round_trip(x: Any) -> Any:
    """To float64 and back to the input's dtype: both directions in the float32 forward
    run; in float64 (gradcheck) each cast is a copy through the same ``Cast`` op."""
    return ops.cast(ops.cast(x, np.float64), x.dtype)


SURFACE_CASES: list[OpCase] = [
    OpCase(
        "unsqueeze",
        lambda x, d: x.unsqueeze(d),
        unsqueeze_args(),
        np.expand_dims,
        notes="dim in [-ndim - 1, ndim], 0-d included",
    ),
    OpCase(
        "squeeze",
        lambda x, d: x.squeeze(d),
        squeeze_args(),
        ref_squeeze,
        notes="dim None, int (negative too) or tuple; named dims of size != 1 are kept",
    ),
    OpCase("expand", lambda x, *s: x.expand(*s), expand_args(), ref_expand),
    OpCase(
        "stack",
        lambda a, b, c, d: ops.stack([a, b, c], d),
        stack_args(),
        lambda a, b, c, d: np.stack([a, b, c], axis=d),
    ),
    OpCase("clone", lambda x: x.clone(), unary(float_arrays(ANY_SHAPE)), np.copy),
    OpCase("cast[float64 and back]", cast_round_trip, unary(float_arrays(ANY_SHAPE)), np.copy),
    OpCase(
        "clamp",
        lambda x, lo, hi: x.clamp(lo, hi),
        clamp_args(),
        np.clip,
        notes="inputs >= 1e-3 from each bound (the gradient jumps there)",
    ),
    OpCase("sin", lambda x: x.sin(), unary(float_arrays(ANY_SHAPE)), np.sin),
    OpCase("cos", lambda x: x.cos(), unary(float_arrays(ANY_SHAPE)), np.cos),
    OpCase("pow[method]", lambda x: x.pow(3), unary(float_arrays(ANY_SHAPE)), lambda x: x**3),
    OpCase(
        "pow[tensor exponent]",
        lambda a, b: a**b,
        binary(left=lambda s: positive_arrays(s, min_value=0.5)),
        np.power,
        notes="base >= 0.5: ln(base) and base ** (b - 1) stay moderate",
    ),
    OpCase("rpow[scalar base]", lambda x: 2.5**x, unary(float_arrays(ANY_SHAPE)), lambda x: 2.5**x),
    OpCase("where", ops.where, where_args(), np.where),
    OpCase(
        "maximum",
        ops.maximum,
        no_tie_pair(),
        np.maximum,
        notes="|a - b| >= 1e-3: a tie is a kink (ties split the gradient, tested by hand)",
    ),
    OpCase(
        "minimum",
        ops.minimum,
        no_tie_pair(),
        np.minimum,
        notes="|a - b| >= 1e-3: a tie is a kink",
    ),
]

# The argument forms each row draws (checked by test_ops_forward.py): every row takes 0-d,
# size-1 and size-0 arrays; the dim ops their dims as int and negative int.
_FORMS: dict[str, tuple[str, ...]] = {
    "unsqueeze": ("dim=int", "dim=-int", *SHAPE_FORMS),
    "squeeze": ("dim=None", "dim=int", "dim=-int", "dim=tuple", *SHAPE_FORMS),
    "expand": ("size=-1", "0-d", "size-1"),
    "stack": ("last=int", "last=-int", *SHAPE_FORMS),
}
SURFACE_CASES = [replace(c, forms=_FORMS.get(c.name, SHAPE_FORMS)) for c in SURFACE_CASES]

SURFACE_CASE_IDS = [c.name for c in SURFACE_CASES]
assert len(set(SURFACE_CASE_IDS)) == len(SURFACE_CASE_IDS), "duplicate OpCase names"
