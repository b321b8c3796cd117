"""Tensor constructors: arange, full, eye and the *_like family, against torch's dtypes
and values; the dtype names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Tensor

TORCH_DTYPES = {"int64": np.int64, "float32": np.float32, "float64": np.float64, "bool": np.bool_}


def same_as_torch(ours: Tensor, theirs: Any) -> None:
    assert ours.dtype == TORCH_DTYPES[str(theirs.dtype).removeprefix("torch.")]
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((5,), {}),
        ((2, 7), {}),
        ((7, 2, -2), {}),
        ((0.0, 1.0, 0.1), {}),
        ((1, 2.5, 0.5), {}),
        ((-1.0, 1.0, 0.3), {}),
        ((4,), {"dtype": "float64"}),
        ((0, 1, 0.25), {"dtype": "float64"}),
        ((3, 3), {}),
    ],
)
def test_arange_matches_torch(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    ours = am.arange(*args, **{k: getattr(am, v) for k, v in kwargs.items()})
    same_as_torch(ours, torch.arange(*args, **{k: getattr(torch, v) for k, v in kwargs.items()}))


def test_arange_errors_and_requires_grad() -> None:
    with pytest.raises(ValueError, match=r"arange: step must be nonzero"):
        am.arange(0, 3, 0)
    with pytest.raises(ValueError, match=r"arange: upper bound and step sign are inconsistent"):
        am.arange(0, 3, -1)
    with pytest.raises(ValueError, match=r"arange: bounds must be finite"):
        am.arange(0, float("inf"))
    t = am.arange(0.0, 1.0, 0.5, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.dtype == np.float32


@pytest.mark.parametrize("value", [3, 2.5, True, -1])
def test_full_infers_the_dtype_as_torch(value: Any) -> None:
    torch = pytest.importorskip("torch")
    same_as_torch(am.full((2, 3), value), torch.full((2, 3), value))
    same_as_torch(am.full([4], value), torch.full([4], value))
    assert am.full((2,), value, dtype=am.float64).dtype == np.float64
    assert am.full(3, 1.0).shape == (3,)


@pytest.mark.parametrize(("n", "m"), [(3, None), (2, 4), (4, 2), (0, None), (1, 1)])
def test_eye_matches_torch(n: int, m: int | None) -> None:
    torch = pytest.importorskip("torch")
    same_as_torch(am.eye(n, m), torch.eye(n) if m is None else torch.eye(n, m))
    assert am.eye(2, dtype=am.float64).dtype == np.float64
    with pytest.raises(ValueError, match=r"eye: n and m must be >= 0; got n=-1"):
        am.eye(-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_like_constructors_keep_shape_dtype_and_layout(dtype: Any) -> None:
    x = Tensor(np.asfortranarray(np.ones((3, 4), dtype=dtype)))
    for t, value in [
        (am.zeros_like(x), 0),
        (am.ones_like(x), 1),
        (am.full_like(x, 7), 7),
        (am.zeros_like(x.data), 0),
    ]:
        assert t.shape == (3, 4) and t.dtype == dtype and t.data.flags.f_contiguous
        assert (t.data == value).all() and not np.shares_memory(t.data, x.data)
    assert am.zeros_like(x, dtype=am.float64).dtype == np.float64
    assert am.ones_like(am.zeros(2), requires_grad=True).requires_grad


def test_random_like_constructors() -> None:
    x = am.zeros(3, 4, dtype=np.float64)
    for make in (am.randn_like, am.rand_like):
        a = make(x, rng=np.random.default_rng(3))
        b = make(x, rng=np.random.default_rng(3))
        assert a.shape == (3, 4) and a.dtype == np.float64
        np.testing.assert_array_equal(a.data, b.data)
        am.manual_seed(5)
        c = make(x)
        am.manual_seed(5)
        np.testing.assert_array_equal(c.data, make(x).data)
        assert make(x, dtype=am.float32).dtype == np.float32
        with pytest.raises(
            TypeError, match=r"_like: needs a float dtype; got int64 \(shape \(2,\)\)"
        ):
            make(Tensor(np.arange(2)))
    r = am.rand_like(x)
    assert ((r.data >= 0) & (r.data < 1)).all()


def test_dtype_names_are_numpys() -> None:
    assert am.float32 is np.float32 and am.float64 is np.float64
    assert am.int64 is np.int64 and am.bool is np.bool_
    assert am.zeros(2, dtype=am.float64).dtype == am.float64
