"""Time the ops an MNIST CNN spends its time in, against a NumPy matmul of equal FLOPs.

Each case is timed forward (with recording on, as in training) and forward+backward
(``y.backward(g)`` with a random upstream gradient), float32, median of ``--repeat`` runs
after ``--warmup`` runs. Beside each time is a plain ``np.matmul`` (float32) doing the same
number of floating-point operations, so the ratio shows the engine's overhead over the
BLAS-bound ideal. For conv the input batch does not require grad (a first layer), so its
backward is one weight-gradient matmul (2x forward FLOPs); matmul's backward has two (3x).
Pool and cross-entropy count one FLOP per element read and a few per logit: they are memory
and interpreter bound, so their ratio is large by nature. On a busy machine, multi-threaded
BLAS stalls make small matmuls erratic: ``OPENBLAS_NUM_THREADS=1`` gives steadier numbers.

    python benchmarks/ops.py [--repeat 5] [--warmup 2]   # after `pip install -e .`
    PYTHONPATH=. python benchmarks/ops.py                 # or from a bare checkout
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist.runtime import ensure_blas_thread_timeout

N = 128


@dataclass
class Case:
    """One benchmark: ``forward()`` builds the output from fresh leaves' graph."""

    name: str
    forward: Callable[[], am.Tensor]
    params: list[am.Tensor]
    flops_fwd: float
    flops_bwd: float


def timeit(fn: Callable[[], object], repeat: int, warmup: int, budget: float = 0.1) -> float:
    """Median wall time of ``fn`` in milliseconds.

    At least ``repeat`` timed runs; fast functions run more often (about ``budget`` seconds,
    at most 1000 runs), so that sub-millisecond timings are not single noisy samples.
    """
    for _ in range(warmup):
        fn()
    times: list[float] = []
    while len(times) < repeat or (sum(times) < budget and len(times) < 1000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def matmul_equivalent(flops: float, repeat: int, warmup: int) -> float:
    """Time of a float32 (s, k) @ (k, s) matmul doing ``flops`` = 2 s^2 k operations."""
    s = max(1, round((flops / 2) ** (1 / 3)))
    k = max(1, round(flops / (2 * s * s)))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((s, k), dtype=np.float32)
    b = rng.standard_normal((k, s), dtype=np.float32)
    return timeit(lambda: np.matmul(a, b), repeat, warmup)


def cases(rng: np.random.Generator) -> list[Case]:
    def param(*shape: int) -> am.Tensor:
        return am.Tensor(0.1 * rng.standard_normal(shape, dtype=np.float32), requires_grad=True)

    def data(*shape: int, grad: bool = False) -> am.Tensor:
        return am.Tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=grad)

    def batch_last(*shape: int) -> am.Tensor:
        """Images as conv2d returns them: NCHW, stored as a (C, H, W, N) buffer."""
        n, c, h, w = shape
        buf = rng.standard_normal((c, h, w, n), dtype=np.float32)
        return am.Tensor(buf.transpose(3, 0, 1, 2), requires_grad=True)

    x = data(N, 1, 28, 28)
    w3, b3 = param(32, 1, 3, 3), param(32)
    w5, b5 = param(16, 1, 5, 5), param(16)
    p1, p2 = batch_last(N, 32, 26, 26), batch_last(N, 16, 28, 28)
    p1c = data(N, 32, 26, 26, grad=True)  # C order, as a user's own array would be
    logits, target = data(N, 10, grad=True), rng.integers(0, 10, N)
    a, b = data(N, 3136, grad=True), param(3136, 1024)
    conv3 = 2.0 * N * 26 * 26 * 32 * 1 * 3 * 3
    conv5 = 2.0 * N * 28 * 28 * 16 * 1 * 5 * 5
    pool1, pool2 = float(p1.numel()), float(p2.numel())
    mm = 2.0 * N * 3136 * 1024
    ce = 5.0 * N * 10  # max, subtract, exp, sum, log per logit
    return [
        Case("conv2d 1->32 3x3, 28x28", lambda: F.conv2d(x, w3, b3), [w3, b3], conv3, conv3),
        Case(
            "conv2d 1->16 5x5 pad 2",
            lambda: F.conv2d(x, w5, b5, padding=2),
            [w5, b5],
            conv5,
            conv5,
        ),
        Case("max_pool2d 2x2 (128,32,26,26)", lambda: F.max_pool2d(p1, 2), [p1], pool1, pool1),
        Case("max_pool2d 2x2 (128,16,28,28)", lambda: F.max_pool2d(p2, 2), [p2], pool2, pool2),
        Case("max_pool2d, same, C order", lambda: F.max_pool2d(p1c, 2), [p1c], pool1, pool1),
        Case(
            "log_softmax+cross_entropy 128x10",
            lambda: F.cross_entropy(logits, target),
            [logits],
            ce,
            ce,
        ),
        Case("matmul 128x3136 @ 3136x1024", lambda: a @ b, [a, b], mm, 2 * mm),
    ]


def run(case: Case, repeat: int, warmup: int) -> list[tuple[str, float, float]]:
    y = case.forward()
    # The upstream gradient in y's memory layout, as the next op's backward would give it
    # (a batch-last conv output gets a batch-last gradient).
    g = np.empty_like(y.data)
    g[...] = np.random.default_rng(1).standard_normal(y.shape)

    def step() -> None:
        for p in case.params:
            p.zero_grad()
        case.forward().backward(g)

    fwd = timeit(case.forward, repeat, warmup)
    both = timeit(step, repeat, warmup)
    return [
        ("fwd", fwd, matmul_equivalent(case.flops_fwd, repeat, warmup)),
        ("fwd+bwd", both, matmul_equivalent(case.flops_fwd + case.flops_bwd, repeat, warmup)),
    ]


def main(argv: list[str] | None = None) -> int:
    ensure_blas_thread_timeout()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (median reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    args = parser.parse_args(argv)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    print(
        f"numpy {np.__version__}, python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS={threads}; "
        f"float32, batch {N}; "
        f"median of {args.repeat} after {args.warmup} warmup"
    )
    header = f"{'op':34} {'pass':8} {'op ms':>9} {'mm-eq ms':>9} {'ratio':>7} {'GFLOP':>7}"
    print(header)
    print("-" * len(header))
    start = time.perf_counter()
    for case in cases(np.random.default_rng(0)):
        for (label, t_op, t_mm), flops in zip(
            run(case, args.repeat, args.warmup),
            (case.flops_fwd, case.flops_fwd + case.flops_bwd),
        ):
            print(
                f"{case.name:34} {label:8} {t_op:9.2f} {t_mm:9.2f} "
                f"{t_op / t_mm:7.1f} {flops / 1e9:7.3f}"
            )
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
