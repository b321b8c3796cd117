"""Norms, pieces, sorting, new tensors, random factories and the vector functions, against
torch: ``Tensor.norm/chunk/split/repeat/sort/topk/new_zeros/new_ones/new_full``,
``am.randint/randperm/linspace``, ``F.normalize/cosine_similarity``.

The op-table rows (``op_cases_more.py``) check values against NumPy references and
gradients of first and second order against central differences; this file checks the
same calls against torch for the same inputs (values, indices, gradients, second
derivatives), the points a table keeps clear of (zero vectors, ties, norms below eps),
and the errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Tensor, functions
from autograd_mnist import functional as F

torch = pytest.importorskip("torch")

Fn = Callable[..., Any]
RNG = np.random.default_rng(7)


def _as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _np(t: Any) -> np.ndarray:
    """A copy of ours or torch's values (torch's ZeroTensor gradients included)."""
    return t.data.copy() if isinstance(t, Tensor) else t.detach().numpy(force=True)


def ours_and_torch(
    ours: Fn, theirs: Fn, arrays: list[np.ndarray], second: bool = True
) -> tuple[list[Any], list[Any]]:
    """Values, first derivatives of sum(w * out) and (if ``second``) the derivative of the
    gradients' squared sum, for ours and torch's on float64 copies of ``arrays``."""
    results = []
    for lib, fn in ((am, ours), (torch, theirs)):
        xs = [(Tensor if lib is am else torch.tensor)(a.copy(), requires_grad=True) for a in arrays]
        outs = [o for o in _as_list(fn(*xs)) if o.numel()]
        ws = [np.random.default_rng(1).standard_normal(tuple(o.shape)) for o in outs]
        wrap = Tensor if lib is am else torch.tensor
        total = sum((o * wrap(w)).sum() for o, w in zip(outs, ws))
        grad = am.grad if lib is am else torch.autograd.grad
        gs = grad(total, xs, create_graph=second)
        row = [[_np(o) for o in outs], [_np(g) for g in gs]]
        if second:  # zeros where the gradient is constant (p = 1: sign(x))
            sq = sum((g * g).sum() for g in gs)
            hs = grad(sq, xs, allow_unused=True) if sq.requires_grad else [None] * len(xs)
            row.append([np.zeros(a.shape) if h is None else _np(h) for h, a in zip(hs, arrays)])
        results.append(row)
    return results[0], results[1]


def assert_same(
    ours: list[Any], theirs: list[Any], rtol: float = 1e-10, atol: float = 1e-12
) -> None:
    for a, b in zip(ours, theirs, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


# ----- norm -----
ORDERS = ["fro", 2, 1, 3, 1.5, 0.5, math.inf, -math.inf]
DIMS = [None, 1, -1, (0, 2), (2, 0, 1)]


# torch refuses 'fro' over 3 dims (tested with the errors)
NORM_FORMS = [
    (p, dim)
    for p in ORDERS
    for dim in DIMS
    if not (p == "fro" and isinstance(dim, tuple) and len(dim) > 2)
]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize(("p", "dim"), NORM_FORMS, ids=str)
def test_norm_matches_torch(p: Any, dim: Any, keepdim: bool) -> None:
    x = RNG.uniform(0.2, 2.0, (2, 3, 4)) * RNG.choice([-1.0, 1.0], (2, 3, 4))
    ours, theirs = ours_and_torch(
        lambda t: t.norm(p, dim, keepdim), lambda t: t.norm(p, dim, keepdim), [x]
    )
    assert_same(ours, theirs, rtol=1e-9)


@pytest.mark.parametrize("p", ORDERS, ids=str)
def test_norm_gradient_at_zero_vectors_and_zero_elements_is_torchs(p: Any) -> None:
    """A zero group: gradient 0 for every p (torch masks 0/0); zero elements: sign(0) = 0."""
    x = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, -2.0], [3.0, 0.0, 0.5]])
    ours, theirs = ours_and_torch(lambda t: t.norm(p, 1), lambda t: t.norm(p, 1), [x], second=False)
    assert_same(ours, theirs)
    assert np.all(np.isfinite(ours[1][0]))
    z = Tensor(np.zeros(4), requires_grad=True)
    z.norm().backward()
    assert z.grad is not None and z.grad.tolist() == [0.0] * 4  # torch: zeros too


def test_norm_inf_ties_split_the_gradient_as_torch() -> None:
    x = np.array([[2.0, -2.0, 1.0], [0.5, 0.5, -0.5]])
    for p in (math.inf, -math.inf):
        ours, theirs = ours_and_torch(
            lambda t, p=p: t.norm(p, 1), lambda t, p=p: t.norm(p, 1), [x], second=False
        )
        assert_same(ours, theirs)


def test_norm_of_float32_and_of_empty_dims() -> None:
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    assert am.tensor(x).norm().dtype == np.float32
    np.testing.assert_allclose(
        am.tensor(x).norm(1, 0).data, torch.tensor(x).norm(1, 0).numpy(), rtol=1e-6
    )
    assert am.zeros(0, 3).norm(2, 0).tolist() == torch.zeros(0, 3).norm(2, 0).tolist()


# ----- chunk, split, repeat -----
PIECES: list[tuple[str, Fn, tuple[int, ...]]] = [
    ("chunk", lambda t: t.chunk(3, 1), (2, 7)),
    ("chunk[more than size]", lambda t: t.chunk(4, 0), (3, 2)),
    ("chunk[6 by 4]", lambda t: t.chunk(4), (6,)),
    ("chunk[-dim]", lambda t: t.chunk(2, -1), (2, 3, 5)),
    ("chunk[empty]", lambda t: t.chunk(3), (0, 2)),
    ("split[int]", lambda t: t.split(2, 1), (3, 5)),
    ("split[list]", lambda t: t.split([1, 0, 3], -1), (2, 4)),
    ("split[empty]", lambda t: t.split(2), (0,)),
    ("split[0 of empty]", lambda t: t.split(0), (0, 3)),
    ("repeat", lambda t: t.repeat(2, 1, 3), (2, 3)),
    ("repeat[tuple]", lambda t: t.repeat((3, 2)), (2,)),
    ("repeat[0-d]", lambda t: t.repeat(4), ()),
    ("repeat[zero]", lambda t: t.repeat(0, 2), (2, 3)),
    ("repeat[ones]", lambda t: t.repeat(1, 1), (2, 3)),
]


@pytest.mark.parametrize(("name", "fn", "shape"), PIECES, ids=[p[0] for p in PIECES])
def test_pieces_match_torch(name: str, fn: Fn, shape: tuple[int, ...]) -> None:
    x = RNG.standard_normal(shape)
    ours = _as_list(fn(Tensor(x)))
    theirs = _as_list(fn(torch.tensor(x)))
    assert [o.shape for o in ours] == [tuple(t.shape) for t in theirs]
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.data, t.numpy())
    if any(o.numel() for o in ours):
        a, b = ours_and_torch(lambda t: fn(t.pow(3)), lambda t: fn(t.pow(3)), [x])
        assert_same(a, b)


def test_repeat_is_a_new_tensor_and_keeps_integer_dtypes() -> None:
    x = am.tensor(np.arange(3.0))
    y = x.repeat(1)
    y.data[0] = 5.0
    assert x.data[0] == 0.0  # torch's repeat copies
    i = am.tensor(np.arange(3))
    assert i.repeat(2).dtype == np.int64 and i.repeat(2).tolist() == [0, 1, 2, 0, 1, 2]
    assert [p.dtype for p in i.split(2)] == [np.int64, np.int64]
    assert i.sort(descending=True).values.dtype == np.int64


# ----- sort, topk -----
SORTS: list[tuple[str, Fn]] = [
    ("sort", lambda t: t.sort()),
    ("sort[dim=0]", lambda t: t.sort(0)),
    ("sort[descending]", lambda t: t.sort(-2, descending=True)),
    ("sort[stable]", lambda t: t.sort(dim=1, stable=True)),
    ("topk", lambda t: t.topk(2)),
    ("topk[dim=0, smallest]", lambda t: t.topk(1, 0, largest=False)),
    ("topk[k=0]", lambda t: t.topk(0, 1)),
    ("topk[all]", lambda t: t.topk(4, -1, True, True)),
]


@pytest.mark.parametrize(("name", "fn"), SORTS, ids=[s[0] for s in SORTS])
def test_sort_and_topk_match_torch(name: str, fn: Fn) -> None:
    x = RNG.permutation(24).reshape(2, 3, 4) / 7.0 - 1.5  # distinct values
    ours, theirs = fn(Tensor(x)), fn(torch.tensor(x))
    assert ours.values.shape == tuple(theirs.values.shape)
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    assert ours.indices.dtype == np.int64 and not ours.indices.requires_grad
    values, indices = ours  # unpacks like torch's named tuple
    assert values is ours.values and indices is ours.indices
    if ours.values.numel():
        a, b = ours_and_torch(lambda t: fn(t).values, lambda t: fn(t).values, [x])
        assert_same(a, b)


def test_sort_ties_and_nans_give_torchs_stable_order() -> None:
    x = np.array([[1.0, 3.0, np.nan, 3.0, 2.0, 3.0, np.nan, 1.0]])
    for descending in (False, True):
        ours = Tensor(x).sort(descending=descending)
        theirs = torch.tensor(x).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())


def test_topk_ties_pick_the_lowest_index_and_route_the_gradient_there() -> None:
    """torch's CPU topk may pick other tied indices (here [2, 4]): the values agree."""
    x = Tensor(np.array([1.0, 3.0, 3.0, 2.0, 3.0]), requires_grad=True)
    values, indices = x.topk(2)
    theirs = torch.tensor(x.data).topk(2)
    np.testing.assert_array_equal(values.data, theirs.values.numpy())
    assert indices.tolist() == [1, 2]
    values.sum().backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]


def test_sort_and_topk_of_a_0d_tensor_as_torch() -> None:
    x = Tensor(np.asarray(2.5), requires_grad=True)
    for ours, theirs in [
        (x.sort(), torch.tensor(2.5).sort()),
        (x.topk(1), torch.tensor(2.5).topk(1)),
    ]:
        assert ours.values.shape == () and ours.values.item() == theirs.values.item() == 2.5
        assert ours.indices.item() == theirs.indices.item() == 0
    x.sort(-1).values.backward()
    assert x.grad is not None and x.grad.item() == 1.0


# ----- new tensors, random factories -----
def test_new_zeros_ones_full_take_the_tensors_dtype_as_torch() -> None:
    for dtype, tdtype in [
        (np.float64, torch.float64),
        (np.float32, torch.float32),
        (np.int64, torch.int64),
    ]:
        x, tx = am.tensor(np.zeros(2, dtype=dtype)), torch.zeros(2, dtype=tdtype)
        for ours, theirs in [
            (x.new_zeros(2, 3), tx.new_zeros(2, 3)),
            (x.new_ones((3,)), tx.new_ones((3,))),
            (x.new_full((2, 2), 7), tx.new_full((2, 2), 7)),
            (x.new_zeros(()), tx.new_zeros(())),
        ]:
            assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()
            assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    y = am.zeros(2).new_ones(3, dtype=am.float64, requires_grad=True)
    assert y.dtype == np.float64 and y.requires_grad and y.is_leaf
    assert am.tensor(np.arange(2)).new_full((2,), 1.7).tolist() == [1, 1]  # torch truncates too


def test_randint_forms_ranges_and_seeding() -> None:
    am.manual_seed(3)
    a = am.randint(10, (4, 5))
    assert a.shape == (4, 5) and a.dtype == np.int64 and 0 <= a.data.min() and a.data.max() < 10
    b = am.randint(-3, 3, (1000,))
    assert set(b.tolist()) == set(range(-3, 3))
    assert am.randint(5, size=(2,)).shape == (2,) and am.randint(high=5, size=(3,)).shape == (3,)
    assert am.randint(0, 2, (3,), dtype=am.float32).dtype == np.float32
    am.manual_seed(3)
    assert am.randint(10, (4, 5)).tolist() == a.tolist()  # the package generator
    r1 = am.randint(100, (5,), rng=np.random.default_rng(0))
    r2 = am.randint(100, (5,), rng=np.random.default_rng(0))
    assert r1.tolist() == r2.tolist()


def test_randperm_and_linspace_as_torch() -> None:
    p = am.randperm(10)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(10))
    assert am.randperm(0).shape == (0,)
    q1, q2 = (am.randperm(6, rng=np.random.default_rng(1)) for _ in range(2))
    assert q1.tolist() == q2.tolist()
    for start, end, steps in [(0, 1, 7), (-3, 2.5, 11), (5, -5, 33), (2, 9, 1), (0, 1, 0)]:
        ours, theirs = am.linspace(start, end, steps), torch.linspace(start, end, steps)
        assert ours.dtype == np.float32 and ours.shape == tuple(theirs.shape)
        # torch computes in float32, we in float64 and round once: within one float32 step
        np.testing.assert_allclose(
            ours.data, theirs.numpy(), rtol=0, atol=2.4e-7 * max(abs(start), abs(end), 1)
        )
        exact = torch.linspace(start, end, steps, dtype=torch.float64).numpy()
        np.testing.assert_allclose(
            am.linspace(start, end, steps, dtype=am.float64).data, exact, rtol=1e-15, atol=1e-15
        )
    ints = am.linspace(-3.3, 2.7, 7, dtype=am.int64)
    assert ints.tolist() == torch.linspace(-3.3, 2.7, 7, dtype=torch.int64).tolist()


# ----- F.normalize, F.cosine_similarity -----
def test_normalize_matches_torch_including_zero_and_tiny_vectors() -> None:
    x = RNG.standard_normal((3, 4, 5))
    x[0, :, 0] = 0.0
    x[1, :, 1] = 1e-14  # norm below eps: divided by eps, flat clamp
    for p, dim in [(2.0, 1), (1, -1), (math.inf, (0, 2)), (3, 0)]:
        ours, theirs = ours_and_torch(
            lambda t, p=p, dim=dim: F.normalize(t, p, dim),
            lambda t, p=p, dim=dim: torch.nn.functional.normalize(t, p, dim),
            [x],
            second=False,
        )
        assert_same(ours, theirs, rtol=1e-9, atol=1e-6)
    x = RNG.uniform(0.3, 2.0, (3, 4))
    ours, theirs = ours_and_torch(F.normalize, torch.nn.functional.normalize, [x])
    assert_same(ours, theirs, rtol=1e-9)


def test_cosine_similarity_matches_torch_broadcasting_and_small_norms() -> None:
    """Below eps torch still differentiates through the norm (it clamps in place with
    gradients off): our gradient is the same."""
    x1, x2 = RNG.standard_normal((3, 1, 5)), RNG.standard_normal((4, 5))
    x1[0] = 0.0
    x1[1] *= 1e-10
    for dim in (-1, 2, 0, 1):
        ours, theirs = ours_and_torch(
            lambda a, b, d=dim: F.cosine_similarity(a, b, d),
            lambda a, b, d=dim: torch.nn.functional.cosine_similarity(a, b, d),
            [x1, x2],
            second=False,
        )
        assert_same(ours, theirs, rtol=1e-8, atol=1e-12)
    a, b = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 3))
    ours, theirs = ours_and_torch(
        F.cosine_similarity, torch.nn.functional.cosine_similarity, [a, b]
    )
    assert_same(ours, theirs, rtol=1e-8)
    assert F.cosine_similarity(am.tensor([1.0, 0.0]), am.tensor([1.0, 1.0]), 0).shape == ()


# ----- the top-level names -----
def test_top_level_functions_are_the_methods() -> None:
    x = RNG.standard_normal((3, 4))
    t = am.tensor(x)
    assert am.norm(x, 1, 0).tolist() == t.norm(1, 0).tolist()
    assert [c.shape for c in am.chunk(x, 2, 1)] == [(3, 2), (3, 2)]
    assert [c.shape for c in am.split(x, [1, 2])] == [(1, 4), (2, 4)]
    assert am.topk(x, 2).indices.tolist() == torch.topk(torch.tensor(x), 2).indices.tolist()
    assert (
        am.sort(x, 0, True).indices.tolist()
        == torch.sort(torch.tensor(x), 0, True).indices.tolist()
    )
    for name in ("norm", "chunk", "split", "topk", "sort"):
        assert name in functions.__all__ and getattr(am, name) is getattr(functions, name)
    for name in ("randint", "randperm", "linspace", "norm", "topk"):
        assert name in am.__all__
    for name in ("normalize", "cosine_similarity"):
        assert name in F.__all__


# ----- errors: the op and the argument named, ValueError for values, TypeError for types -----
X = np.zeros((2, 3))
ERRORS: list[tuple[str, Fn, type[Exception], str]] = [
    (
        "norm[nuc]",
        lambda m, x: x.norm("nuc", (0, 1, 0)),
        ValueError,
        r"norm: p='nuc' is not supported",
    ),
    (
        "norm[fro 3 dims]",
        lambda m, x: m.zeros(2, 2, 2).norm("fro", (0, 1, 2)),
        ValueError,
        r"norm: p='fro' is not supported with dim=\(0, 1, 2\)",
    ),
    (
        "norm[p type]",
        lambda m, x: x.norm([2]),
        TypeError,
        r"norm: p must be a number or 'fro'; got \[2\]",
    ),
    (
        "norm[dim]",
        lambda m, x: x.norm(2, 2),
        ValueError,
        r"norm: dimension out of range; got 2 for a 2-d tensor",
    ),
    (
        "norm[inf empty]",
        lambda m, x: m.zeros(0, 3).norm(math.inf, 0),
        ValueError,
        r"norm: reduction over an empty dimension; got shape \(0, 3\)",
    ),
    (
        "chunk[0]",
        lambda m, x: x.chunk(0),
        ValueError,
        r"chunk: chunks must be >= 1; got 0 \(tensor \(2, 3\)\)",
    ),
    (
        "chunk[0-d]",
        lambda m, x: m.tensor(1.0).chunk(2),
        ValueError,
        r"chunk: expects at least a 1-dimensional tensor; got shape \(\)",
    ),
    (
        "chunk[float]",
        lambda m, x: x.chunk(1.5),
        TypeError,
        r"chunk: chunks must be an int; got 1.5",
    ),
    (
        "chunk[dim]",
        lambda m, x: x.chunk(2, 2),
        (ValueError, IndexError),
        r"chunk: dimension 2 out of range; got shape \(2, 3\)",
    ),
    (
        "split[sum]",
        lambda m, x: x.split([1, 1], 1),
        ValueError,
        r"split: sizes \[1, 1\] must be non-negative and sum to 3, the size of dim 1 of "
        r"shape \(2, 3\)",
    ),
    (
        "split[0]",
        lambda m, x: x.split(0),
        ValueError,
        r"split: split_size must be positive \(0 only for an empty dim\); got 0",
    ),
    (
        "split[negative]",
        lambda m, x: x.split(-1),
        ValueError,
        r"split: split_size must be positive",
    ),
    (
        "split[type]",
        lambda m, x: x.split(1.5),
        TypeError,
        r"split: split_size_or_sections must be an int or a list of ints; got 1.5",
    ),
    (
        "repeat[few]",
        lambda m, x: x.repeat(2),
        ValueError,
        r"repeat: got repeats \(2,\) for shape \(2, 3\); expected at least 2",
    ),
    (
        "repeat[negative]",
        lambda m, x: x.repeat(1, -1),
        ValueError,
        r"repeat: got repeats \(1, -1\) for shape \(2, 3\)",
    ),
    (
        "topk[k]",
        lambda m, x: x.topk(4),
        ValueError,
        r"topk: k out of range; got k=4 for dim -1 of shape \(2, 3\), expected 0 <= k <= 3",
    ),
    ("topk[k type]", lambda m, x: x.topk(1.0), TypeError, r"topk: k must be an int; got 1.0"),
    (
        "topk[dim]",
        lambda m, x: x.topk(1, 2),
        (ValueError, IndexError),
        r"topk: dimension 2 out of range; got shape \(2, 3\)",
    ),
    (
        "sort[dim]",
        lambda m, x: x.sort(-3),
        (ValueError, IndexError),
        r"sort: dimension -3 out of range; got shape \(2, 3\), expected a dim in \[-2, 1\]",
    ),
    (
        "sort[dim type]",
        lambda m, x: x.sort((0,)),
        TypeError,
        r"sort: dim must be an int; got \(0,\)",
    ),
    (
        "new_full[size]",
        lambda m, x: x.new_full((2, -1), 0.0),
        (ValueError, RuntimeError),
        r"new_full: sizes must be >= 0; got \(2, -1\)",
    ),
    (
        "randint[low>=high]",
        lambda m, x: m.randint(5, 5, (2,)),
        (ValueError, RuntimeError),
        r"randint: got low=5, high=5, size=\(2,\); expected low < high",
    ),
    ("randint[no size]", lambda m, x: m.randint(5, 6), TypeError, r"randint: missing size"),
    (
        "randperm[-1]",
        lambda m, x: m.randperm(-1),
        (ValueError, RuntimeError),
        r"randperm: n must be >= 0; got -1",
    ),
    (
        "linspace[steps]",
        lambda m, x: m.linspace(0, 1, -1),
        (ValueError, RuntimeError),
        r"linspace: got start=0, end=1, steps=-1; expected finite bounds",
    ),
    (
        "linspace[steps type]",
        lambda m, x: m.linspace(0, 1, 2.5),
        TypeError,
        r"linspace: steps must be an int; got 2.5",
    ),
    (
        "normalize[dim]",
        lambda m, x: (F if m is am else torch.nn.functional).normalize(x, dim=2),
        (ValueError, IndexError),
        r"normalize: dimension out of range; got 2 for a 2-d tensor",
    ),
    (
        "cosine[shapes]",
        lambda m, x: (F if m is am else torch.nn.functional).cosine_similarity(
            x, m.ones(4, dtype=m.float64)
        ),
        (ValueError, RuntimeError),
        r"cosine_similarity: shapes do not broadcast; got x1 \(2, 3\) and x2 \(4,\)",
    ),
    (
        "cosine[dim]",
        lambda m, x: (F if m is am else torch.nn.functional).cosine_similarity(x, x, 2),
        (ValueError, IndexError),
        r"cosine_similarity: dimension 2 out of range; got shape \(2, 3\)",
    ),
]


def test_norm_refuses_p_zero_and_negative_p_which_torch_takes() -> None:
    """A deliberate difference (docs/pytorch.md): torch counts non-zeros for p = 0 and
    takes negative p; here both are a ValueError."""
    for p in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match=r"norm: p must be positive, inf or -inf; got"):
            am.tensor(X).norm(p)


@pytest.mark.parametrize(("name", "call", "error", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_arguments_raise_clear_errors_where_torch_raises(
    name: str, call: Fn, error: Any, message: str
) -> None:
    ours = error[0] if isinstance(error, tuple) else error
    with pytest.raises(ours, match=message):
        call(am, am.tensor(X))
    with pytest.raises(Exception):  # noqa: B017, PT011 - torch's types vary (RuntimeError, IndexError...)
        call(torch, torch.tensor(X))
