"""Would starting each parameter's optimizer update during backward, as soon as its
gradient is final, make a training step faster?

Issue 13 suggested measuring it: NumPy releases the GIL, so the update of the layers
backward has finished with (the dense layers, first) could run on another thread while
backward goes on through the convolutions. This script times, in interleaved rounds, a
plain step (``loss.backward()``, then ``opt.step()``) against the same step with the
updates started from gradient hooks (``Tensor.register_hook``: a leaf's hook gets its
total gradient) on one extra thread, and checks that both leave bit-identical weights.

    python benchmarks/overlap_update.py                    # R2 and best, 5 rounds
    python benchmarks/overlap_update.py --model keras-cnn --rounds 3 --steps 10

It prints one line per model: the median step of each way, their ratio, and whether the
weights after the same steps are identical. Nothing in the library changes: the hooks
are this script's.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist import models, optim, threads
from autograd_mnist.grad_mode import no_grad

BATCH = 128


class UpdateInBackward:
    """Adam's update of each parameter, run on one worker thread from the moment backward
    has the parameter's total gradient; :meth:`finish` waits for them and completes the
    step as ``Optimizer.step`` does (step count, versions)."""

    def __init__(self, opt: optim.Optimizer) -> None:
        self.opt = opt
        self.worker = ThreadPoolExecutor(1)
        self.pending: list[Future[None]] = []
        self.handles = [p.register_hook(self._hook(i, p)) for i, p in enumerate(opt.params)]

    def _hook(self, i: int, p: am.Tensor) -> Any:
        def hook(grad: am.Tensor) -> None:
            # Every op reading p ran its backward before p's gradient became final.
            self.pending.append(self.worker.submit(self._update, i, p, grad.data))

        return hook

    def _update(self, i: int, p: am.Tensor, g: np.ndarray) -> None:
        with no_grad():
            self.opt.update(i, p.data, g, self.opt.param_groups[0])

    def finish(self) -> None:
        for f in self.pending:
            f.result()
        self.pending.clear()
        threads.refresh()
        self.opt.steps += 1
        for p in self.opt.params:
            p._bump_version()

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        self.worker.shutdown()


def make(key: str) -> tuple[am.nn.Module, optim.Optimizer]:
    am.manual_seed(0)
    model = models.build_model(key)
    return model, optim.Adam(model.parameters(), lr=1e-3)


def run(key: str, rounds: int, steps: int, x: np.ndarray, y: np.ndarray) -> str:
    """Time both ways on models from the same initial weights, fed the same batches."""
    plain_model, plain_opt = make(key)
    over_model, over_opt = make(key)
    over = UpdateInBackward(over_opt)
    count = len(x) // BATCH

    def stepper(model: am.nn.Module, opt: optim.Optimizer, finish: Any) -> Any:
        def step(i: int) -> None:
            s = slice((i % count) * BATCH, (i % count + 1) * BATCH)
            loss = F.cross_entropy(model(am.Tensor(x[s])), y[s])
            opt.zero_grad()
            loss.backward()
            finish()  # opt.step(), or waiting for the updates started during backward

        return step

    plain = stepper(plain_model, plain_opt, plain_opt.step)
    overlapped = stepper(over_model, over_opt, over.finish)

    times: dict[str, list[float]] = {"plain": [], "overlapped": []}
    done = {"plain": 0, "overlapped": 0}
    for _ in range(rounds):
        for name, step in (("plain", plain), ("overlapped", overlapped)):
            am.manual_seed(done[name])  # dropout draws the same masks in both
            step(done[name])  # one untimed step: caches warm after the other's turn
            done[name] += 1
            start = time.perf_counter()
            for _ in range(steps):
                am.manual_seed(done[name])
                step(done[name])
                done[name] += 1
            times[name].append(1e3 * (time.perf_counter() - start) / steps)
    over.close()
    same = all(
        np.array_equal(a.data, b.data)
        for a, b in zip(plain_model.parameters(), over_model.parameters())
    )
    p, o = statistics.median(times["plain"]), statistics.median(times["overlapped"])
    per_round = ", ".join(f"{b / a:.2f}" for a, b in zip(times["plain"], times["overlapped"]))
    return (
        f"{key}: plain {p:.1f} ms, updates during backward {o:.1f} ms, ratio {o / p:.2f} "
        f"(rounds: {per_round}); weights after {done['plain']} steps identical: {same}"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", choices=sorted(models.MODELS))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=20, help="timed steps per round and way")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((6000, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 6000)
    print(f"threads: {am.get_num_threads()}, batch {BATCH}, Adam; synthetic images")
    for key in args.model or ["keras-cnn", "best"]:
        print(run(key, args.rounds, args.steps, x, y), flush=True)


if __name__ == "__main__":
    main()
