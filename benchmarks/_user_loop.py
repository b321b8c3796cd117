"""compare_torch.py's user-loop mode: a plain PyTorch-style training loop, as a user writes
it, in a fresh process per framework and import order, and a busy process for ``--contend``.

The loop (both frameworks alike): ``x = Tensor(images[s])`` (``torch.from_numpy`` for
PyTorch) from a NumPy slice, ``model(x)``, ``cross_entropy``, ``zero_grad``, ``backward``,
``step``. R0 is ``models.cnn`` at batch 1 with SGD (lr 0.03), R2 ``models.keras_cnn`` at
batch 128 with Adam (lr 1e-3), as in docs/reference_experiments.md. Each child warms up
for ``WARMUP_SECONDS`` (so that the default thread count has settled), then times steps
for ``TIMED_SECONDS`` and prints one JSON line: the median step in ms and its thread count.

Run as a script, this file is the child:
``python _user_loop.py CASE MODEL [WARMUP_SECONDS TIMED_SECONDS]`` with CASE one of
:data:`CASES`.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

WARMUP_SECONDS = 1.0
TIMED_SECONDS = 2.0
IMAGES = 6_000  # synthetic (N, 1, 28, 28) float32 in [0, 1): the loop slices batches from it
SETUP = {"r0": ("cnn", 1, "sgd", 0.03), "r2": ("keras_cnn", 128, "adam", 1e-3)}
"""model label -> (models function, batch, optimizer, lr)."""
CASES = {
    "ours": "ours, import numpy first, default threads",
    "ours-pkg-first": "ours, import autograd_mnist first, default threads",
    "ours-1": "ours, import numpy first, am.set_num_threads(1)",
    "ours-all": "ours, import numpy first, am.set_num_threads(every core): the old default",
    "ours-spin": "ours, import numpy first, idle BLAS threads left spinning (the old way)",
    "torch": "PyTorch, default threads",
    "torch-1": "PyTorch, torch.set_num_threads(1)",
}
"""case -> what it runs. Every case is a fresh process."""


def _time_loop(
    step: Callable[[int], None], warmup: float = WARMUP_SECONDS, timed: float = TIMED_SECONDS
) -> tuple[float, int]:
    """Warm up for ``warmup`` s, then (median ms, steps) of ``step(i)`` over ``timed`` s."""
    i, start = 0, time.perf_counter()
    while i < 3 or time.perf_counter() - start < warmup:
        step(i)
        i += 1
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < timed:
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
        i += 1
    return 1e3 * statistics.median(times), len(times)


def _data(np: Any) -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    return rng.random((IMAGES, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, IMAGES)


def run_ours(case: str, model_label: str, seconds: tuple[float, float]) -> dict[str, Any]:
    """Our loop; the imports happen here, in the case's order."""
    first = ["autograd_mnist", "numpy"] if case == "ours-pkg-first" else ["numpy", "autograd_mnist"]
    for name in first:  # the case's import order (the imports below only bind names)
        importlib.import_module(name)
    import numpy as np

    import autograd_mnist as am
    from autograd_mnist import runtime, threads

    if case == "ours-spin":  # what a script importing NumPy first got before: no run-time fix
        runtime.make_idle_blas_threads_sleep = lambda: False
    if case in ("ours-1", "ours-all"):
        am.set_num_threads(1 if case == "ours-1" else threads.max_threads())
    x, y = _data(np)
    _, step = our_loop(model_label, x, y)
    ms, n = _time_loop(step, *seconds)
    return {"ms": ms, "steps": n, "threads": am.get_num_threads()}


def our_loop(model_label: str, x: Any, y: Any) -> tuple[Any, Callable[[int], None]]:
    """(model, step): the user loop of ``model_label`` (a :data:`SETUP` key) on images
    ``x`` and labels ``y``, step ``i`` taking the ``i``-th batch (cycling)."""
    import autograd_mnist as am
    from autograd_mnist import functional as F
    from autograd_mnist import models, optim

    fn, batch, opt_name, lr = SETUP[model_label]
    am.manual_seed(0)
    model = getattr(models, fn)()
    opt = (
        optim.SGD(model.parameters(), lr=lr)
        if opt_name == "sgd"
        else optim.Adam(model.parameters(), lr=lr)
    )
    count = len(x) // batch

    def step(i: int) -> None:
        s = slice((i % count) * batch, (i % count + 1) * batch)
        loss = F.cross_entropy(model(am.Tensor(x[s])), y[s])
        opt.zero_grad()
        loss.backward()
        opt.step()

    return model, step


def run_torch(case: str, model_label: str, seconds: tuple[float, float]) -> dict[str, Any]:
    """PyTorch's loop on the same network (its own initial weights: only time matters)."""
    import numpy as np
    import torch

    if case == "torch-1":
        torch.set_num_threads(1)
    x, y = _data(np)
    ms, n = _time_loop(torch_loop(model_label, x, y), *seconds)
    return {"ms": ms, "steps": n, "threads": torch.get_num_threads()}


def torch_loop(model_label: str, x: Any, y: Any) -> Callable[[int], None]:
    """PyTorch's user loop of ``model_label`` (its own initial weights), as :func:`our_loop`."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(0)
    _, batch, opt_name, lr = SETUP[model_label]
    if model_label == "r0":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(5408, 128), nn.ReLU(), nn.Linear(128, 10),
        )  # fmt: skip
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(3136, 1024), nn.ReLU(), nn.Linear(1024, 10),
        )  # fmt: skip
    opt: Any = (torch.optim.SGD if opt_name == "sgd" else torch.optim.Adam)(
        model.parameters(), lr=lr
    )
    count = len(x) // batch

    def step(i: int) -> None:
        s = slice((i % count) * batch, (i % count + 1) * batch)
        loss = F.cross_entropy(model(torch.from_numpy(x[s])), torch.from_numpy(y[s]))
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()

    return step


def run_case(case: str, model_label: str, seconds: tuple[float, float]) -> dict[str, Any]:
    """``python _user_loop.py case model *seconds`` in a fresh process; its JSON result."""
    cmd = [sys.executable, os.path.abspath(__file__), case, model_label, *map(str, seconds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"user loop {case} {model_label} failed: {proc.stderr[-800:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


class Busy:
    """A process spinning on one core (the last this process may use), while in ``with``."""

    CODE = "import os, sys; os.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass"

    def __init__(self) -> None:
        self.core = max(os.sched_getaffinity(0))
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Busy:
        self.proc = subprocess.Popen([sys.executable, "-c", self.CODE, str(self.core)])
        time.sleep(0.5)  # let it start spinning
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


def report(
    rounds: int,
    model_labels: list[str],
    contend: bool,
    with_torch: bool,
    seconds: tuple[float, float] = (WARMUP_SECONDS, TIMED_SECONDS),
) -> None:
    """Run every case of every model ``rounds`` times in turn; print each round's times and
    ratios (both sides of a ratio from the same round), then the medians over rounds. Each
    child warms up for ``seconds[0]`` and times for ``seconds[1]``."""
    cases = [c for c in CASES if with_torch or not c.startswith("torch")]
    # Under contention the default runs one thread, which never wakes the BLAS's others.
    cases = [c for c in cases if c != ("ours-spin" if contend else "torch-1")]
    ratios = [("ours", "torch"), ("ours-pkg-first", "torch"), ("ours", "ours-1")]
    ratios += [("ours-all", "ours-1"), ("ours", "ours-spin"), ("ours", "torch-1")]
    ratios = [(a, b) for a, b in ratios if a in cases and b in cases]
    busy = "with a busy process pinned to one core" if contend else "quiet"
    print(
        f"\n== user loop ({busy}): ms per training step, median over {seconds[1]:g} s after "
        f"{seconds[0]:g} s of warm-up, one fresh process per case, cases in turn"
    )
    for case in cases:
        print(f"  {case:15} {CASES[case]}")
    names = [f"{a}/{b}" for a, b in ratios]
    print(f"{'model':5} {'round':>5} " + " ".join(f"{c:>14}" for c in cases))
    print(f"{'':5} {'':>5} " + " ".join(f"{n:>21}" for n in names))
    for label in model_labels:
        times: dict[str, list[float]] = {c: [] for c in cases}
        threads: dict[str, set[int]] = {c: set() for c in cases}
        rat: list[list[float]] = []
        for i in range(rounds):
            for case in cases:
                result = run_case(case, label, seconds)
                times[case].append(result["ms"])
                threads[case].add(int(result["threads"]))
            rat.append([times[a][-1] / times[b][-1] for a, b in ratios])
            print(f"{label:5} {i + 1:>5} " + " ".join(f"{times[c][-1]:14.2f}" for c in cases))
            print(f"{'':5} {'':>5} " + " ".join(f"{r:21.2f}" for r in rat[-1]), flush=True)
        meds = [statistics.median(times[c]) for c in cases]
        print(f"{label:5} {'med':>5} " + " ".join(f"{m:14.2f}" for m in meds))
        rmeds = [statistics.median(col) for col in zip(*rat)]
        print(f"{'':5} {'':>5} " + " ".join(f"{r:21.2f}" for r in rmeds))
        shown = ", ".join(f"{c} {sorted(threads[c])}" for c in cases)
        print(f"{label:5} threads at the end of each child: {shown}")


def main(argv: list[str]) -> int:
    case, model_label, *seconds = argv
    run = run_torch if case.startswith("torch") else run_ours
    times = (float(seconds[0]), float(seconds[1])) if seconds else (WARMUP_SECONDS, TIMED_SECONDS)
    print(json.dumps(run(case, model_label, times)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
