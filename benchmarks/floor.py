"""How much of R0's batch-1 training step is the engine's own bookkeeping?

R0's step at batch 1 (``models.cnn``, plain SGD) is small NumPy work plus about forty ops
recorded and walked back. This script times three steps of the same network on the same
images, interleaved in one process:

- ``numpy``: the step written by hand in NumPy, with no graph, no Tensor and no module:
  the same kernels the engine runs (im2col by one strided copy, the pairwise tiled
  max-pool, the outer product for the dense weight's gradient, ``p -= lr * g``), the small
  products on one BLAS thread as ours. What any engine on NumPy has to pay at least.
- ``ours``: the user loop (``model(x)``, ``F.cross_entropy``, ``zero_grad``,
  ``backward``, ``step``).
- ``torch`` (if installed): PyTorch's loop on the same network.

It checks first that the hand-written step gives the engine's weights after a few steps
(float32 rounding apart). It prints the number of ops the engine records and runs
backward per step, and what its cheapest op costs (``x * y`` on one element, recorded and
run backward). Then, per round and as medians: each step's time and ours minus the NumPy
floor (the engine's bookkeeping); and what that bookkeeping may cost per op for ours to
reach a given share of PyTorch's step.

    python benchmarks/floor.py                 # 5 rounds of 1,000 steps each
    python benchmarks/floor.py --rounds 3 --steps 300 --target 0.8
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import autograd_mnist as am
from autograd_mnist import function, models, optim, threads
from autograd_mnist import functional as F

LR = 0.03
IMAGES = 6_000
MATCH = 1e-4
"""The hand-written step must give the engine's weights within this share of the largest
change the steps made (float32 rounding; a learning rate 1% off is 1e-2)."""


class NumpyStep:
    """R0's training step by hand: Conv(1,32,3) -> MaxPool 2 -> Linear(5408,128) -> ReLU
    -> Linear(128,10), cross-entropy, SGD, at batch 1, on float32 copies of a model's
    weights."""

    def __init__(self, model: Any) -> None:
        conv, fc1, fc2 = model[0], model[3], model[5]
        self.wc = conv.weight.data.reshape(32, 9).copy()
        self.bc = conv.bias.data.copy()
        self.w1, self.b1 = fc1.weight.data.copy(), fc1.bias.data.copy()
        self.w2, self.b2 = fc2.weight.data.copy(), fc2.bias.data.copy()
        self.lr = np.float32(LR)
        self.later = np.empty((32, 13, 13), dtype=bool)
        self.candidate = np.empty((32, 13, 13), dtype=np.uint8)

    def params(self) -> list[np.ndarray]:
        return [self.wc, self.bc, self.w1, self.b1, self.w2, self.b2]

    def __call__(self, image: np.ndarray, label: int) -> None:
        cols = as_strided(image, (3, 3, 26, 26), image.strides * 2).reshape(9, 676)
        z = threads.on_one_blas_thread(np.matmul, self.wc, cols)
        z += self.bc[:, None]
        pooled, arg = self._pool(z.reshape(32, 26, 26))
        f = pooled.reshape(1, 5408)
        h = threads.on_one_blas_thread(np.matmul, f, self.w1.T)
        h += self.b1
        r = np.maximum(h, 0)
        o = threads.on_one_blas_thread(np.matmul, r, self.w2.T)
        o += self.b2
        e = np.exp(o - o.max())
        g = e / e.sum()
        g[0, label] -= 1
        gw2, gr = np.multiply(g.T, r), threads.on_one_blas_thread(np.matmul, g, self.w2)
        gh = gr * (h > 0)
        gw1, gf = np.multiply(gh.T, f), threads.on_one_blas_thread(np.matmul, gh, self.w1)
        gz = np.empty((32, 26, 26), dtype=np.float32)
        gp = gf.reshape(32, 13, 13)
        for k in range(4):
            np.multiply(gp, arg == k, out=gz[:, k // 2 :: 2, k % 2 :: 2])
        gz2 = gz.reshape(32, 676)
        gwc = threads.on_one_blas_thread(np.matmul, gz2, cols.T)
        grads = [gwc, gz2.sum(1), gw1, gh[0], gw2, g[0]]
        for p, gp_ in zip(self.params(), grads):
            p -= self.lr * gp_

    def _pool(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        views = [z[:, kh::2, kw::2] for kh in range(2) for kw in range(2)]
        out, arg = views[0].copy(), np.zeros((32, 13, 13), dtype=np.uint8)
        for k, v in enumerate(views[1:], start=1):
            np.greater(v, out, out=self.later)
            np.maximum(out, v, out=out)
            np.multiply(self.later, np.uint8(k), out=self.candidate)
            np.maximum(arg, self.candidate, out=arg)
        return out, arg


def our_step(images: np.ndarray, labels: np.ndarray) -> tuple[Any, Callable[[int], None]]:
    am.manual_seed(0)
    model = models.cnn()
    opt = optim.SGD(model.parameters(), lr=LR)

    def step(i: int) -> None:
        s = slice(i % IMAGES, i % IMAGES + 1)
        loss = F.cross_entropy(model(am.Tensor(images[s])), labels[s])
        opt.zero_grad()
        loss.backward()
        opt.step()

    return model, step


def torch_step(images: np.ndarray, labels: np.ndarray) -> Callable[[int], None] | None:
    try:
        import torch
        import torch.nn.functional as TF
        from torch import nn
    except ImportError:
        return None
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(5408, 128), nn.ReLU(), nn.Linear(128, 10),
    )  # fmt: skip
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step(i: int) -> None:
        s = slice(i % IMAGES, i % IMAGES + 1)
        x, y = torch.from_numpy(images[s]), torch.from_numpy(labels[s])
        loss = TF.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()

    return step


def check_same_weights(images: np.ndarray, labels: np.ndarray, steps: int = 20) -> float:
    """Largest difference between the engine's weights and the hand-written step's after
    ``steps`` steps from the same start, relative to the largest change the steps made."""
    model, step = our_step(images, labels)
    hand = NumpyStep(model)
    start = [p.copy() for p in hand.params()]
    for i in range(steps):
        step(i)
        hand(images[i, 0], int(labels[i]))
    ours = [p.data.reshape(h.shape) for p, h in zip(model.parameters(), hand.params())]
    moved = max(float(np.abs(p - p0).max()) for p, p0 in zip(ours, start))
    return max(float(np.abs(p - h).max()) for p, h in zip(ours, hand.params())) / moved


def ops_per_step(images: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """(ops recorded by the forward and the loss, ops run by backward and the step) in one
    step of the user loop."""
    model = models.cnn()
    opt = optim.SGD(model.parameters(), lr=LR)
    calls = [0]
    apply = function.Function.apply.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return apply(cls, *args, **kwargs)

    function.Function.apply = classmethod(counting)  # type: ignore[assignment,method-assign]
    try:
        loss = F.cross_entropy(model(am.Tensor(images[:1])), labels[:1])
        forward = calls[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    finally:
        function.Function.apply = classmethod(apply)  # type: ignore[assignment,method-assign]
    return forward, calls[0] - forward


def cheapest_op_us(chain: int = 200, repeats: int = 50) -> float:
    """The engine's cheapest op, recorded and run backward: ``z = z * y`` on one-element
    tensors, ``chain`` times, then ``backward``; the median over ``repeats`` chains, per
    op."""
    x = am.Tensor(np.ones(1, dtype=np.float32), requires_grad=True)
    y = am.Tensor(np.full(1, 0.5, dtype=np.float32))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        z = x
        for _ in range(chain):
            z = z * y
        z.backward()
        times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times) / chain


def median_us(step: Callable[[int], None], start: int, n: int) -> float:
    times = []
    for i in range(start, start + n):
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=1000, help="timed steps per round and way")
    p.add_argument("--target", type=float, default=0.8, help="ours/PyTorch step to reach")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    images = rng.random((IMAGES, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, IMAGES)
    diff = check_same_weights(images, labels)
    print(
        "hand-written step vs ours after 20 steps: largest weight difference "
        f"{diff:.1e} of the largest change"
    )
    if diff > MATCH:
        raise SystemExit("the hand-written step does not compute what the engine does")
    hand = NumpyStep(our_step(images, labels)[0])
    _, ours = our_step(images, labels)
    fwd, bwd = ops_per_step(images, labels)
    print(f"ops per step: {fwd} recorded by the forward, {bwd} run by backward and the step")
    cheapest = cheapest_op_us()
    print(
        f"the engine's cheapest op (x * y on one element, forward and backward): {cheapest:.1f} us"
    )
    ways: dict[str, Callable[[int], None]] = {
        "numpy": lambda i: hand(images[i % IMAGES, 0], int(labels[i % IMAGES])),
        "ours": ours,
    }
    torch = torch_step(images, labels)
    if torch is not None:
        ways["torch"] = torch
    else:
        print("torch not found: PyTorch's column is left out")
    for way in ways.values():  # warm up (and let the default thread count settle)
        median_us(way, 0, max(50, args.steps // 4))
    print(f"\nmedian step, us, {args.steps} steps per way per round, ways in turn")
    print(f"{'round':>5} " + " ".join(f"{w:>8}" for w in ways) + f" {'ours-numpy':>11}")
    rows: dict[str, list[float]] = {w: [] for w in ways}
    for r in range(args.rounds):
        for w, way in ways.items():
            rows[w].append(median_us(way, r * args.steps, args.steps))
        line = " ".join(f"{rows[w][-1]:8.0f}" for w in ways)
        print(f"{r + 1:>5} {line} {rows['ours'][-1] - rows['numpy'][-1]:11.0f}")
    med = {w: statistics.median(v) for w, v in rows.items()}
    over = med["ours"] - med["numpy"]
    print(f"{'med':>5} " + " ".join(f"{med[w]:8.0f}" for w in ways) + f" {over:11.0f}")
    print(
        f"\nengine bookkeeping: {over:.0f} us a step, {over / (fwd + bwd):.1f} us per op "
        f"over {fwd + bwd} ops; the NumPy floor is {med['numpy']:.0f} us"
    )
    if torch is not None:
        allowed = args.target * med["torch"] - med["numpy"]
        print(
            f"ours/torch {med['ours'] / med['torch']:.2f}, numpy/torch "
            f"{med['numpy'] / med['torch']:.2f}; reaching {args.target:g}x PyTorch leaves "
            f"{allowed:.0f} us of bookkeeping a step ({allowed / (fwd + bwd):.1f} us per op)"
        )


if __name__ == "__main__":
    main()
