"""The memory-layout helpers of autograd_mnist._layout (values never depend on layout)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from autograd_mnist import _layout as L


def test_batch_last_pads_and_views_round_trip(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    b = L.batch_last(x)
    assert b.shape == (3, 4, 5, 2) and b.flags.c_contiguous
    y = L.nchw_view(b)
    assert L.is_batch_last(y) and not L.is_batch_last(x)
    np.testing.assert_array_equal(y, x)
    assert np.shares_memory(L.batch_last(y), y)  # batch-last already: a view
    p = L.batch_last(x, (1, 2))
    assert p.shape == (3, 6, 9, 2) and p.flags.c_contiguous
    np.testing.assert_array_equal(L.nchw_view(p), np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2))))


def test_allocations_keep_the_axis_order(rng: np.random.Generator) -> None:
    y = L.nchw_view(L.batch_last(rng.standard_normal((2, 3, 4, 5))))
    assert L.is_batch_last(L.empty_as(y, (2, 3, 6, 7)))
    z = L.zeros_as(y, (2, 3, 6, 7))
    assert L.is_batch_last(z) and not z.any()
    c = L.copy_as(y[:, :, ::2, ::2])
    assert L.is_batch_last(c)
    np.testing.assert_array_equal(c, y[:, :, ::2, ::2])


@pytest.mark.parametrize(
    ("make", "dense"),
    [
        (lambda a: a, True),
        (lambda a: a.T, True),
        (lambda a: a.transpose(1, 0, 2), True),
        (lambda a: a[:, ::2], False),
        (lambda a: a[::-1], False),
        (lambda a: np.broadcast_to(a[:1], a.shape), False),
    ],
)
def test_is_dense(make: Callable[[np.ndarray], np.ndarray], dense: bool) -> None:
    a = np.zeros((3, 4, 2))
    assert L.is_dense(make(a)) is dense


def test_column_major() -> None:
    a = np.zeros((3, 4))
    assert L.column_major(a.T) and not L.column_major(a)
    assert not L.column_major(np.zeros((3, 1)).T)  # both orders: not "column-major only"


def test_leaf_grad_keeps_dense_arrays_and_copies_shared_or_strided_ones() -> None:
    like = np.zeros((3, 4))
    given: set[int] = set()
    a = np.ones((3, 4))
    assert L.leaf_grad(a, like, given) is a and id(a) in given
    again = L.leaf_grad(a, like, given)  # already handed out: copied
    assert again is not a and again.strides == like.strides
    t = np.ones((4, 3)).T  # dense but in the other order than like: copied into like's
    assert L.leaf_grad(t, like, given).flags.c_contiguous
    b = np.broadcast_to(np.ones(4), (3, 4))
    out = L.leaf_grad(b, like, given)
    assert out.flags.writeable and out.flags.c_contiguous
    np.testing.assert_array_equal(out, 1.0)


def test_flat_views() -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.zeros((2, 3))
    views = L.flat_views([a, b])
    assert views is not None and all(v.shape == (6,) for v in views)
    assert np.shares_memory(views[0], a) and np.shares_memory(views[1], b)
    assert L.flat_views([a, b.T.copy().T]) is None
