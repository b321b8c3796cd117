"""How much of a training step is the engine's own bookkeeping, and how much is the
NumPy work any engine on NumPy has to do?

For R0 (``models.cnn`` at batch 1, SGD) and R2 (``models.keras_cnn`` at batch 128, Adam),
this script times three steps of the same network on the same images, in turns within
one process:

- ``numpy``: the step written by hand in NumPy, with no graph, no Tensor and no module,
  using the kernels the engine uses (im2col by one strided copy into a batch-last layout,
  the bias as a column of the conv's weight, the pairwise tiled max-pool, the outer
  product for a dense weight's gradient at batch 1, the small products on one BLAS
  thread). The update is R0's ``p -= lr * g`` written out, and for R2 the library's own
  Adam kernel (``Adam.update`` on the arrays: cache-sized blocks on two threads), already
  at the memory floor. This is what an engine on NumPy pays at least, give or take its
  elementwise passes: the engine shares a large one out to two threads, the floor does not,
  so at R2's batch ours can come out faster than the floor.
- ``ours``: the user loop (``model(x)``, ``F.cross_entropy``, ``zero_grad``,
  ``backward``, ``step``), as ``compare_torch.py --user-loop`` runs it.
- ``torch`` (if installed): PyTorch's loop on the same network.

It checks first that each hand-written step gives the engine's weights after a few steps
(float32 rounding apart). It prints the number of ops the engine records and runs
backward per step, and what its cheapest op costs (``x * y`` on one element, recorded and
run backward). Then, per round and as medians: each step's time and ours minus the NumPy
floor (the engine's bookkeeping); and what that bookkeeping may cost per op for ours to
reach a given share of PyTorch's step.

    python benchmarks/floor.py                          # R0 and R2, 5 rounds each
    python benchmarks/floor.py --model r2 --rounds 3 --target 0.8
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _user_loop import IMAGES, SETUP, our_loop, torch_loop
from numpy.lib.stride_tricks import as_strided

import autograd_mnist as am
from autograd_mnist import function, optim, threads

MATCH = 1e-4
"""A hand-written step must give the engine's weights within this share of the change
the steps made (norms over all weights; float32 rounding; a learning rate 1% off is
1e-2)."""
STEPS = {"r0": 1000, "r2": 20}
"""Timed steps per round and way, by default."""


def _pool(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max-pool of z (C, H, W, ...) over H and W: (max, argmax in [0, 4)), the first
    maximum in row-major window order (the engine's pairwise kernel)."""
    views = [z[:, kh::2, kw::2] for kh in range(2) for kw in range(2)]
    out, arg = views[0].copy(), np.zeros(views[0].shape, dtype=np.uint8)
    later = np.empty(out.shape, dtype=bool)
    candidate = np.empty(out.shape, dtype=np.uint8)
    for k, v in enumerate(views[1:], start=1):
        np.greater(v, out, out=later)
        np.maximum(out, v, out=out)
        np.multiply(later, np.uint8(k), out=candidate)
        np.maximum(arg, candidate, out=arg)
    return out, arg


def _unpool(g: np.ndarray, arg: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The gradient of :func:`_pool`: ``g`` at each window's argmax, zero elsewhere."""
    out = np.empty(shape, dtype=g.dtype)
    for k in range(4):
        np.multiply(g, arg == k, out=out[:, k // 2 :: 2, k % 2 :: 2])
    return out


def _im2col(xt: np.ndarray, k: int, out: tuple[int, int]) -> np.ndarray:
    """xt (C, H, W, N) batch-last and padded -> (C*k*k + 1, OH*OW*N), a row of ones last."""
    C, N = xt.shape[0], xt.shape[3]
    OH, OW = out
    sc, sh, sw, sn = xt.strides
    cells = as_strided(xt, (C, k, k, OH, OW, N), (sc, sh, sw, sh, sw, sn), writeable=False)
    cols = np.empty((C * k * k + 1, OH * OW * N), dtype=xt.dtype)
    cols[:-1].reshape(C, k, k, OH, OW, N)[...] = cells
    cols[-1] = 1
    return cols


def _xent_grad(o: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """d(mean cross-entropy)/d(logits) for logits ``o`` (N, classes)."""
    e = np.exp(o - o.max(axis=1, keepdims=True))
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(len(labels)), labels] -= 1
    g /= np.float32(len(labels))
    return np.asarray(g)


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` by the engine's rules: an outer product (inner size 1) as a broadcast
    multiply, a small product on one BLAS thread."""
    if a.shape[1] == 1:
        return np.asarray(np.multiply(a, b))
    if a.shape[0] * a.shape[1] * b.shape[1] < threads.SMALL_MATMUL:
        return np.asarray(threads.on_one_blas_thread(np.matmul, a, b))
    return np.asarray(np.matmul(a, b))


def _dense_head(
    f: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, labels: Any
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Linear(w1, b1) -> ReLU -> Linear(w2, b2) -> mean cross-entropy on features ``f``
    (N, in), forward and backward: (the gradient of ``f``, [gw1, gb1, gw2, gb2])."""
    h = _mm(f, w1.T)
    h += b1
    r = np.maximum(h, 0)
    o = _mm(r, w2.T)
    o += b2
    g = _xent_grad(o, labels)
    gw2, gr = _mm(g.T, r), _mm(g, w2)
    gh = gr * (h > 0)
    gw1, gf = _mm(gh.T, f), _mm(gh, w1)
    return gf, [gw1, gh.sum(0), gw2, g.sum(0)]


class NumpyR0:
    """R0's step by hand: Conv(1,32,3) -> MaxPool 2 -> Linear(5408,128) -> ReLU ->
    Linear(128,10), cross-entropy, SGD, batch 1, on float32 copies of a model's weights."""

    def __init__(self, model: Any) -> None:
        conv, fc1, fc2 = model[0], model[3], model[5]
        self.wc = np.concatenate([conv.weight.data.reshape(32, 9), conv.bias.data[:, None]], 1)
        self.w1, self.b1 = fc1.weight.data.copy(), fc1.bias.data.copy()
        self.w2, self.b2 = fc2.weight.data.copy(), fc2.bias.data.copy()
        self.lr = np.float32(SETUP["r0"][3])

    def params(self) -> list[np.ndarray]:
        """The weights in ``model.parameters()`` order and shapes (conv's flattened)."""
        return [self.wc[:, :9], self.wc[:, 9], self.w1, self.b1, self.w2, self.b2]

    def __call__(self, images: np.ndarray, labels: np.ndarray) -> None:
        cols = _im2col(images.transpose(1, 2, 3, 0), 3, (26, 26))  # (10, 676)
        z = _mm(self.wc, cols).reshape(32, 26, 26)
        pooled, arg = _pool(z)
        f = pooled.reshape(1, 5408)
        gf, head = _dense_head(f, self.w1, self.b1, self.w2, self.b2, labels)
        gz = _unpool(gf.reshape(32, 13, 13), arg, (32, 26, 26)).reshape(32, 676)
        gwc = _mm(gz, cols.T)
        for p, gp in zip((self.wc, self.w1, self.b1, self.w2, self.b2), (gwc, *head)):
            p -= self.lr * gp


class NumpyR2:
    """R2's step by hand: Conv(1,16,5,pad 2) -> ReLU -> MaxPool 2 -> Linear(3136,1024) ->
    ReLU -> Linear(1024,10), cross-entropy, Adam, batch 128, on float32 copies of a
    model's weights; the update is the library's Adam kernel on the arrays."""

    def __init__(self, model: Any) -> None:
        conv, fc1, fc2 = model[0], model[4], model[6]
        self.wc = np.concatenate([conv.weight.data.reshape(16, 25), conv.bias.data[:, None]], 1)
        self.w1, self.b1 = fc1.weight.data.copy(), fc1.bias.data.copy()
        self.w2, self.b2 = fc2.weight.data.copy(), fc2.bias.data.copy()
        # Adam over the same arrays; the conv's weight and bias are one array here, so
        # their update is one call (the same elementwise operations).
        owned = (self.wc, self.w1, self.b1, self.w2, self.b2)
        self.tensors = [am.Tensor(p, requires_grad=True) for p in owned]
        self.wc, self.w1, self.b1, self.w2, self.b2 = (t.data for t in self.tensors)
        self.opt = optim.Adam(self.tensors, lr=SETUP["r2"][3])

    def params(self) -> list[np.ndarray]:
        """The weights in ``model.parameters()`` order and shapes (conv's flattened)."""
        return [self.wc[:, :25], self.wc[:, 25], self.w1, self.b1, self.w2, self.b2]

    def __call__(self, images: np.ndarray, labels: np.ndarray) -> None:
        N = len(images)
        xt = np.zeros((1, 32, 32, N), dtype=np.float32)
        xt[:, 2:30, 2:30] = images.transpose(1, 2, 3, 0)
        cols = _im2col(xt, 5, (28, 28))  # (26, 784 N)
        z = _mm(self.wc, cols).reshape(16, 28, 28, N)
        r = np.maximum(z, 0)
        pooled, arg = _pool(r)  # (16, 14, 14, N)
        f = pooled.reshape(3136, N).T  # (N, 3136), each image's (c, h, w) order
        gf, head = _dense_head(f, self.w1, self.b1, self.w2, self.b2, labels)
        gp = gf.reshape(N, 16, 14, 14).transpose(1, 2, 3, 0)
        gz = _unpool(gp, arg, (16, 28, 28, N))
        gz *= z > 0
        gwc = _mm(gz.reshape(16, -1), cols.T)
        for t, gt in zip(self.tensors, (gwc, *head)):
            t.grad = am.Tensor(gt)
        self.opt.step()


HAND: dict[str, Any] = {"r0": NumpyR0, "r2": NumpyR2}


def _batches(label: str, images: np.ndarray, labels: np.ndarray) -> Callable[[int], Any]:
    batch = SETUP[label][1]
    count = len(images) // batch
    return lambda i: slice((i % count) * batch, (i % count + 1) * batch)


def check_same_weights(label: str, images: np.ndarray, labels: np.ndarray, steps: int) -> float:
    """Norm of the difference between the engine's weights and the hand-written step's
    after ``steps`` steps from the same start, over the norm of the change the steps made
    (both over all the weights)."""
    model, step = our_loop(label, images, labels)
    hand = HAND[label](model)
    start = [p.copy() for p in hand.params()]
    batch = _batches(label, images, labels)
    for i in range(steps):
        step(i)
        hand(images[batch(i)], labels[batch(i)])
    ours = [p.data.reshape(h.shape) for p, h in zip(model.parameters(), hand.params())]
    moved = sum(float(np.sum((p - p0).astype(np.float64) ** 2)) for p, p0 in zip(ours, start))
    diff = sum(float(np.sum((p - h).astype(np.float64) ** 2)) for p, h in zip(ours, hand.params()))
    return float((diff / moved) ** 0.5)


def ops_per_step(label: str, images: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """(ops recorded by the forward and the loss, ops run by backward and the step) in one
    step of the user loop."""
    _, step = our_loop(label, images, labels)
    calls = {"fwd": 0, "bwd": 0}
    mode = function._mode  # type: ignore[attr-defined]
    apply = function.Function.apply.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, *args: Any, **kwargs: Any) -> Any:
        calls["bwd" if mode.in_backward or not mode.enabled else "fwd"] += 1
        return apply(cls, *args, **kwargs)

    function.Function.apply = classmethod(counting)  # type: ignore[assignment,method-assign]
    try:
        step(0)
    finally:
        function.Function.apply = classmethod(apply)  # type: ignore[assignment,method-assign]
    return calls["fwd"], calls["bwd"]


def cheapest_op_us(chain: int = 200, repeats: int = 50) -> float:
    """The engine's cheapest op, recorded and run backward: ``z = z * y`` on one-element
    tensors, ``chain`` times, then ``backward``; the median over ``repeats`` chains (after
    as many to warm up), per op."""
    x = am.Tensor(np.ones(1, dtype=np.float32), requires_grad=True)
    y = am.Tensor(np.full(1, 0.5, dtype=np.float32))
    times = []
    for k in range(2 * repeats):  # the first half warms up
        t0 = time.perf_counter()
        z = x
        for _ in range(chain):
            z = z * y
        z.backward()
        if k >= repeats:
            times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times) / chain


def median_us(step: Callable[[int], None], start: int, n: int) -> float:
    times = []
    for i in range(start, start + n):
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times)


def measure(label: str, rounds: int, steps: int, target: float) -> None:
    """Check, count and time one network's three steps; print the report."""
    rng = np.random.default_rng(0)
    images = rng.random((IMAGES, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, IMAGES)
    print(f"\n== {label}: {SETUP[label][0]}, batch {SETUP[label][1]}, {SETUP[label][2]}")
    diff = check_same_weights(label, images, labels, 5)
    print(f"hand-written step vs ours after 5 steps: weights differ by {diff:.1e} of the change")
    if diff > MATCH:
        raise SystemExit(f"{label}: the hand-written step does not compute what the engine does")
    fwd, bwd = ops_per_step(label, images, labels)
    print(f"ops per step: {fwd} recorded by the forward, {bwd} run by backward and the step")
    model, ours = our_loop(label, images, labels)
    hand, batch = HAND[label](model), _batches(label, images, labels)
    ways: dict[str, Callable[[int], None]] = {
        "numpy": lambda i: hand(images[batch(i)], labels[batch(i)]),
        "ours": ours,
    }
    try:
        ways["torch"] = torch_loop(label, images, labels)
    except ImportError:
        print("torch not found: PyTorch's column is left out")
    for way in ways.values():  # warm up (and let the default thread count settle)
        median_us(way, 0, max(5, steps // 4))
    print(f"median step, us, {steps} steps per way per round, ways in turn")
    print(f"{'round':>5} " + " ".join(f"{w:>8}" for w in ways) + f" {'ours-numpy':>11}")
    rows: dict[str, list[float]] = {w: [] for w in ways}
    for r in range(rounds):
        for w, way in ways.items():
            rows[w].append(median_us(way, r * steps, steps))
        line = " ".join(f"{rows[w][-1]:8.0f}" for w in ways)
        print(f"{r + 1:>5} {line} {rows['ours'][-1] - rows['numpy'][-1]:11.0f}")
    med = {w: statistics.median(v) for w, v in rows.items()}
    over = med["ours"] - med["numpy"]
    print(f"{'med':>5} " + " ".join(f"{med[w]:8.0f}" for w in ways) + f" {over:11.0f}")
    if over > 0:
        print(
            f"engine bookkeeping: {over:.0f} us a step, {over / (fwd + bwd):.1f} us per op "
            f"over {fwd + bwd} ops; the NumPy floor is {med['numpy']:.0f} us"
        )
    else:  # the engine's threaded elementwise kernels beat the floor's single-threaded ones
        print(f"ours is {-over:.0f} us faster than the NumPy floor ({med['numpy']:.0f} us)")
    if "torch" in med:
        allowed = target * med["torch"] - med["numpy"]
        ratios = [med["ours"] / med["torch"], med["numpy"] / med["torch"]]
        print("ours/torch {:.2f}, numpy/torch {:.2f}".format(*ratios))
        if allowed > 0:
            print(
                f"reaching {target:g}x PyTorch leaves {allowed:.0f} us of bookkeeping a step "
                f"({allowed / (fwd + bwd):.1f} us per op)"
            )
        else:
            print(
                f"reaching {target:g}x PyTorch needs a step {-allowed:.0f} us shorter than "
                "the NumPy floor"
            )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", choices=sorted(SETUP))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, help="timed steps per round and way (R0 1000, R2 20)")
    p.add_argument("--target", type=float, default=0.8, help="ours/PyTorch step to reach")
    args = p.parse_args(argv)
    cheapest = cheapest_op_us()
    print(
        f"the engine's cheapest op (x * y on one element, forward and backward): {cheapest:.1f} us"
    )
    for label in args.model or sorted(SETUP):
        measure(label, args.rounds, args.steps or STEPS[label], args.target)


if __name__ == "__main__":
    main()
