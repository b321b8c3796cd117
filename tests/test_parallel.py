"""Intra-op parallelism (``_parallel``): how work is split, when it is not, and that every
threaded kernel (batch norm, im2col/col2im, max-pool and its scatter, relu) gives results
bit-identical to one thread and equal to a plain NumPy reference, on tensors large enough
to be split. Two threads are forced, so the split runs even on a one-core machine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Tensor, _parallel, gradcheck, gradgradcheck, threads
from autograd_mnist import functional as F
from autograd_mnist._layout import is_batch_last, nchw_view


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """``workers(n)``: our kernels may use n threads from now on (whatever the machine)."""

    def use(n: int) -> None:
        monkeypatch.setattr(threads, "kernel_threads", lambda: n)
        monkeypatch.setattr(_parallel, "cores", lambda: n)

    yield use


def test_parallel_for_covers_the_range_once_in_contiguous_pieces(
    workers: Callable[[int], None],
) -> None:
    workers(3)
    seen: list[tuple[int, int, str]] = []
    lock = threading.Lock()

    def body(lo: int, hi: int) -> None:
        with lock:
            seen.append((lo, hi, threading.current_thread().name))

    _parallel.parallel_for(10, body, 10 * _parallel.GRAIN)
    pieces = sorted(seen)
    assert [(lo, hi) for lo, hi, _ in pieces] == [(0, 3), (3, 6), (6, 10)]
    caller = threading.current_thread().name  # takes the first piece; the pool the rest
    assert [name == caller for _, _, name in pieces] == [True, False, False]


@pytest.mark.parametrize(
    ("n", "elements", "kernel_threads"),
    [(10, _parallel.GRAIN, 2), (10, 10 * _parallel.GRAIN, 1), (1, 10 * _parallel.GRAIN, 2)],
    ids=["small work", "one thread", "one item"],
)
def test_parallel_for_runs_in_the_caller_when_splitting_cannot_pay(
    workers: Callable[[int], None], n: int, elements: int, kernel_threads: int
) -> None:
    workers(kernel_threads)
    seen: list[tuple[int, int, str]] = []
    _parallel.parallel_for(
        n, lambda lo, hi: seen.append((lo, hi, threading.current_thread().name)), elements
    )
    assert seen == [(0, n, threading.current_thread().name)]


def test_parallel_for_raises_the_error_of_a_worker(workers: Callable[[int], None]) -> None:
    workers(2)

    def body(lo: int, hi: int) -> None:
        if lo:
            raise ValueError(f"piece {lo}-{hi} failed")

    with pytest.raises(ValueError, match="piece 5-10 failed"):
        _parallel.parallel_for(10, body, 10 * _parallel.GRAIN)


def test_elementwise_declines_what_it_cannot_split(workers: Callable[[int], None]) -> None:
    workers(2)
    big = np.ones((4, 2 * _parallel.GRAIN // 4), np.float32)
    out = np.empty_like(big)
    never = lambda *a: pytest.fail("ran")  # noqa: E731
    assert not _parallel.elementwise(never, big[:, :8], out[:, :8])  # small
    assert not _parallel.elementwise(never, big, np.empty_like(big, order="F"))  # layouts
    assert not _parallel.elementwise(never, big[:, ::2], out[:, ::2])  # not dense
    assert _parallel.elementwise(lambda a, o: np.add(a, 1, out=o), big, out)
    assert np.all(out == 2)


def _batch_last(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    N, C, H, W = shape
    a = nchw_view(rng.standard_normal((C, H, W, N)).astype(np.float32) * 3 + 1)
    assert is_batch_last(a)
    return a


def _step(x: np.ndarray, fn: Callable[[Tensor], Tensor]) -> tuple[np.ndarray, ...]:
    """fn's output and x's gradient (for a fixed random output gradient), as arrays."""
    t = Tensor(x, requires_grad=True)
    y = fn(t)
    g = np.empty_like(y.data)  # y's layout, as a gradient flowing back in training has
    g[...] = np.random.default_rng(7).standard_normal(y.shape)
    y.backward(Tensor(g))
    assert t.grad is not None
    return np.array(y.data), np.array(t.grad.data), g


def _pool_ref(x: np.ndarray) -> np.ndarray:
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


def _bn_ref(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64)
    mu = x64.mean(axis=(0, 2, 3), keepdims=True)
    return (x64 - mu) / np.sqrt(x64.var(axis=(0, 2, 3), keepdims=True) + 1e-5)


CASES: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[np.ndarray], np.ndarray]]] = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "max_pool2d": (lambda t: F.max_pool2d(t, 2), _pool_ref),
    "batch_norm": (lambda t: F.batch_norm(t, None, None, training=True), _bn_ref),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_threaded_kernels_are_bit_identical_to_one_thread_and_correct(
    workers: Callable[[int], None], case: str
) -> None:
    fn, ref = CASES[case]
    x = _batch_last(np.random.default_rng(0), (64, 16, 32, 32))  # 1M elements: split
    workers(1)
    one = _step(x, fn)
    workers(2)
    two = _step(x, fn)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(two[0], ref(x), rtol=1e-4, atol=1e-4)
    assert is_batch_last(two[0]) and is_batch_last(two[1])  # the layout is kept


def test_threaded_relu_gradient_is_the_masked_output_gradient(
    workers: Callable[[int], None],
) -> None:
    workers(2)
    x = _batch_last(np.random.default_rng(1), (64, 16, 32, 32))
    _, dx, g = _step(x, F.relu)
    np.testing.assert_array_equal(dx, g * (x > 0))


def test_threaded_pool_scatter_routes_each_gradient_to_its_window_maximum(
    workers: Callable[[int], None],
) -> None:
    workers(2)
    x = _batch_last(np.random.default_rng(2), (64, 16, 32, 32))
    _, dx, g = _step(x, lambda t: F.max_pool2d(t, 2))
    expected = np.zeros_like(x)
    N, C, H, W = x.shape
    win = (
        x.reshape(N, C, H // 2, 2, W // 2, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(N, C, H // 2, W // 2, 4)
    )
    k = win.argmax(axis=-1)
    n, c, i, j = np.indices(k.shape)
    expected[n, c, 2 * i + k // 2, 2 * j + k % 2] = g
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize(("padding", "stride"), [(0, 1), (1, 1), (1, 2)])
def test_threaded_conv2d_is_bit_identical_to_one_thread(
    workers: Callable[[int], None], padding: int, stride: int
) -> None:
    """im2col splits output rows and col2im channels; the matmul between them is BLAS's."""
    rng = np.random.default_rng(3)
    x = _batch_last(rng, (64, 16, 24, 24))
    w = Tensor(rng.standard_normal((8, 16, 3, 3)).astype(np.float32), requires_grad=True)
    out: list[Any] = []
    for n in (1, 2):
        workers(n)
        w.grad = None
        y, dx, _ = _step(x, lambda t: F.conv2d(t, w, stride=stride, padding=padding))
        assert w.grad is not None
        out.append((y, dx, np.array(w.grad.data)))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)
    # and the threaded conv is the convolution: against a float64 correlation
    x64, w64 = x.astype(np.float64), w.data.astype(np.float64)
    xp = np.pad(x64, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    ref = np.einsum("nchwij,ocij->nohw", windows[:, :, ::stride, ::stride], w64)
    np.testing.assert_allclose(out[1][0], ref, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads_", [1, 2])
def test_batch_norm_per_channel_path_equals_the_whole_array_path(
    workers: Callable[[int], None], dtype: Any, threads_: int
) -> None:
    """A batch-last input takes the per-channel kernels, a C-order one whole-array calls."""
    workers(threads_)
    rng = np.random.default_rng(5)
    x_bl = _batch_last(rng, (64, 16, 32, 32)).astype(dtype, order="K")
    assert is_batch_last(x_bl)
    x_c = np.ascontiguousarray(x_bl)
    w = rng.standard_normal(16).astype(dtype)
    b = rng.standard_normal(16).astype(dtype)
    got = []
    for x in (x_bl, x_c):
        running = [np.zeros(16, dtype), np.ones(16, dtype)]
        wt, bt = Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
        y, dx, _ = _step(x, lambda t: F.batch_norm(t, *running, wt, bt, training=True))
        assert wt.grad is not None and bt.grad is not None
        got.append((y, dx, wt.grad.data, bt.grad.data, *running))
    tol = dict(rtol=2e-4, atol=2e-3) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    for a, c in zip(*got):
        np.testing.assert_allclose(a, c, **tol)


def test_batch_norm_between_convs_passes_gradcheck_and_gradgradcheck() -> None:
    """conv2d's output is batch-last, and so is the gradient conv2d sends back to its
    input: batch norm's per-channel kernels, forward and backward, are checked here against
    central differences (float64), and its second order (the composite) too."""
    rng = np.random.default_rng(6)
    x = Tensor(rng.standard_normal((3, 2, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    gamma = Tensor(rng.standard_normal(4), requires_grad=True)
    beta = Tensor(rng.standard_normal(4), requires_grad=True)

    w2 = Tensor(rng.standard_normal((2, 4, 3, 3)), requires_grad=True)
    seen: list[bool] = []

    def fn(x: Tensor, w: Tensor, gamma: Tensor, beta: Tensor, w2: Tensor) -> Tensor:
        h = F.conv2d(x, w, padding=1)
        h = F.batch_norm(h, None, None, gamma, beta, training=True)
        h.register_hook(lambda g: seen.append(is_batch_last(g.data)))
        return F.conv2d(h, w2, padding=1)

    assert gradcheck(fn, x, w, gamma, beta, w2)
    assert seen and all(seen)  # the per-channel backward ran
    assert gradgradcheck(fn, x, w, gamma, beta, w2)


@pytest.mark.parametrize("layout", ["batch-last", "C order", "(N, C)"])
def test_batch_norm_in_evaluation_is_the_recorded_affine_map_bit_for_bit(
    workers: Callable[[int], None], layout: str
) -> None:
    """Inference takes the per-channel kernel; with a gradient wanted, the recorded
    ``x * scale + shift`` runs instead: both give the same bits."""
    workers(2)
    rng = np.random.default_rng(8)
    x = _batch_last(rng, (64, 16, 32, 32))
    if layout != "batch-last":
        x = np.ascontiguousarray(x)
    if layout == "(N, C)":
        x = x.reshape(-1, 16)
    mean, var = rng.standard_normal(16).astype(np.float32), rng.random(16).astype(np.float32)
    w, b = (
        Tensor(rng.standard_normal(16).astype(np.float32), requires_grad=True),
        Tensor(rng.standard_normal(16).astype(np.float32)),
    )
    with am.no_grad():
        fast = F.batch_norm(Tensor(x), mean, var, w, b, training=False)
    recorded = F.batch_norm(Tensor(x), mean, var, w, b, training=False)
    assert not fast.requires_grad and recorded.requires_grad
    np.testing.assert_array_equal(fast.data, recorded.data)
    if layout == "batch-last":
        assert is_batch_last(fast.data)
    recorded.sum().backward()  # the recorded map still carries the weight's gradient
    assert w.grad is not None and np.all(np.isfinite(w.grad.data))


def test_parallel_for_waits_for_every_range_before_raising(
    workers: Callable[[int], None],
) -> None:
    """An error in the caller's own range still lets the workers' ranges finish first."""
    workers(2)
    done: list[int] = []

    def body(lo: int, hi: int) -> None:
        if lo == 0:
            raise RuntimeError("first range failed")
        time.sleep(0.05)
        done.append(lo)

    with pytest.raises(RuntimeError, match="first range failed"):
        _parallel.parallel_for(2, body, 10 * _parallel.GRAIN)
    assert done == [1]
