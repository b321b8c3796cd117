"""Small matrix products on one BLAS thread (``threads.on_one_blas_thread``,
``ops.linalg.product``): the count inside and after, who uses it, and the claim that makes
it free: the same bits as on two threads for every small product the presets make."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist import threads
from autograd_mnist.ops import linalg


def _blas_counts() -> list[int]:
    return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]


def test_one_thread_inside_and_the_count_given_back_after() -> None:
    with threadpool_limits(2, user_api="blas"):
        seen: list[list[int]] = []
        result = threads.on_one_blas_thread(lambda a, b: seen.append(_blas_counts()) or a + b, 2, 3)
        assert result == 5
        assert seen == [[1] * len(_blas_counts())]
        assert _blas_counts() == [2] * len(seen[0])

        def boom() -> None:
            raise KeyError("inside")

        with pytest.raises(KeyError, match="inside"):
            threads.on_one_blas_thread(boom)
        assert set(_blas_counts()) == {2}  # given back on an error too
    with threadpool_limits(1, user_api="blas"):  # one thread already: the plain call
        assert threads.on_one_blas_thread(_blas_counts) == [1] * len(seen[0])


def test_product_runs_small_2d_products_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []  # the multiply-adds of each product sent to one thread

    def recorded(fn: Any, a: np.ndarray, b: np.ndarray) -> Any:
        calls.append(a.shape[0] * a.shape[1] * b.shape[1])
        return fn(a, b)

    monkeypatch.setattr(threads, "on_one_blas_thread", recorded)
    rng = np.random.default_rng(0)
    small = rng.standard_normal((1, 5408)).astype(np.float32)
    w = am.tensor(rng.standard_normal((128, 5408)).astype(np.float32), requires_grad=True)
    y = F.linear(am.tensor(small, requires_grad=True), w)  # 692K multiply-adds
    assert calls == [692_224]
    y.sum().backward()  # dx = g @ W: small too; dW is an outer product (no BLAS)
    assert calls == [692_224, 692_224]
    calls.clear()
    big = rng.standard_normal((256, 5408)).astype(np.float32)  # 177M: every thread
    F.linear(am.Tensor(big), w)
    batched = rng.standard_normal((2, 3, 4)).astype(np.float32)  # not 2-D: as np.matmul
    np.testing.assert_array_equal(linalg.product(batched, batched[0].T), batched @ batched[0].T)
    assert calls == []


# The small products of the presets' steps (forward and backward), as (a, b) shapes.
SMALL_PRODUCTS = [
    ((128, 256), (256, 10)),  # best's head, batch 128
    ((10, 128), (128, 256)),
    ((128, 10), (10, 256)),
    ((1, 5408), (5408, 128)),  # R0 at batch 1
    ((1, 128), (128, 5408)),
    ((32, 10), (10, 676)),
    ((1, 128), (128, 10)),
    ((256, 128), (128, 10)),  # fast's head, batch 256
    ((10, 256), (256, 128)),
    ((100, 50), (50, 10)),  # two-layer (R2's head, 1.3M, is over the line)
]


@pytest.mark.parametrize(("sa", "sb"), SMALL_PRODUCTS)
@pytest.mark.parametrize("layout", ["CC", "CF", "FC", "FF"])
def test_small_products_give_the_same_bits_on_one_thread_as_on_two(
    sa: tuple[int, int], sb: tuple[int, int], layout: str
) -> None:
    """What SMALL_MATMUL's docstring claims: holding these at one thread changes no
    result of a preset (if a BLAS update breaks this, the threshold must come down)."""
    assert sa[0] * sa[1] * sb[1] < threads.SMALL_MATMUL
    rng = np.random.default_rng(sum(sa) + sum(sb))
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32)
    a = np.asfortranarray(a) if layout[0] == "F" else a
    b = np.asfortranarray(b) if layout[1] == "F" else b
    with threadpool_limits(2, user_api="blas"):
        two = np.matmul(a, b)
        ours = linalg.product(a, b)
    with threadpool_limits(1, user_api="blas"):
        one = np.matmul(a, b)
    np.testing.assert_array_equal(ours, one)
    np.testing.assert_array_equal(two, one)
