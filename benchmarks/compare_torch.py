"""Train and run R0's and R2's CNNs with autograd_mnist and with PyTorch, side by side.

Both frameworks get the same network with the same initial float32 weights (copied from
ours), batch 128, Adam (lr 1e-3) and cross-entropy, and step through the same 60,000-image
float32 "epoch" array held in memory (synthetic random images by default, the real MNIST
with ``--mnist``), so every timed step includes slicing the next batch. Timings are
interleaved in rounds (ours, torch, ours, torch, ...) so that load from other processes
hits both alike: on a shared machine the ratios are the figures to trust, not the absolute
times. Sections:

- training step: slice + forward + loss + backward + optimizer step, median per round;
- inference: batches of 1000 test images (ours ``no_grad()`` + ``eval()``, torch
  ``inference_mode()``); the rounds together cover the 10,000 test images once;
- per-op breakdown of our step: self time of every ``Function`` subclass's forward and
  backward, the optimizer and the Python overhead around them;
- peak memory: R2 trained for ``--memory-steps`` steps in a fresh process per framework;
- FLOP lower bound: matmul/conv FLOPs of a step over this machine's NumPy matmul rate.

Without PyTorch installed only our figures are printed.

    python benchmarks/compare_torch.py [--rounds 5] [--steps 20] [--model r0|r2|both]
    python benchmarks/compare_torch.py --quick --no-memory     # smoke test, ~30 s
    python benchmarks/compare_torch.py --threads 1             # steadier on a busy machine
    PYTHONPATH=. python benchmarks/compare_torch.py            # from a bare checkout
"""

from __future__ import annotations

# isort: off
# autograd_mnist before numpy, as the CLI imports it: it sets OPENBLAS_THREAD_TIMEOUT (see
# its __init__), which OpenBLAS reads only when NumPy loads it.
import autograd_mnist as am

# isort: on
import argparse
import ctypes
import functools
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_mnist import functional as F
from autograd_mnist import nn
from autograd_mnist.autograd import Function, no_grad
from autograd_mnist.models import build_model
from autograd_mnist.tensor import Tensor
from autograd_mnist.train import make_optimizer, train_step

BATCH = 128
LR = 1e-3
EPOCH_IMAGES = 60_000
TEST_IMAGES = 10_000
INFER_BATCH = 1000
MODELS = {  # --model key -> (build_model name, description)
    "r0": ("cnn", "R0: Conv(1,32,3) -> MaxPool 2 -> Linear(5408,128) -> ReLU -> Linear(128,10)"),
    "r2": (
        "keras-cnn",
        (
            "R2: Conv(1,16,5,pad 2) -> ReLU -> MaxPool 2 -> Linear(3136,1024) -> ReLU "
            "-> Linear(1024,10)"
        ),
    ),
}
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Printed with the threads; autograd_mnist sets it (to 20) when importing before NumPy.
SPIN_VAR = "OPENBLAS_THREAD_TIMEOUT"


# ----- environment -----


def load_torch() -> tuple[Any, str]:
    """(torch module or None, a note saying why not)."""
    if importlib.util.find_spec("torch") is None:
        return None, "torch not found (pip install -e '.[bench]'): showing our figures only"
    try:
        import torch
    except Exception as e:  # a broken install counts as missing  # noqa: BLE001
        return None, f"torch not found (import failed: {e!r}): showing our figures only"
    return torch, ""


def _openblas(func: str) -> Any:
    """NumPy's OpenBLAS function ``func`` ('get_num_threads', ...), or None (best effort)."""
    try:
        with open("/proc/self/maps") as f:
            paths = [ln.split()[-1] for ln in f if "openblas" in ln.lower()]
        lib = ctypes.CDLL(paths[0])
    except (OSError, IndexError):
        return None
    for sym in (f"scipy_openblas_{func}64_", f"openblas_{func}64_", f"openblas_{func}"):
        if hasattr(lib, sym):
            return getattr(lib, sym)
    return None


def numpy_blas_threads() -> str:
    """Threads of NumPy's OpenBLAS, read from the loaded library."""
    get = _openblas("get_num_threads")
    return "?" if get is None else str(get())


def set_threads(n: int | None, torch: Any) -> None:
    """Set NumPy's OpenBLAS and torch's intra-op threads to ``n`` (None: leave defaults)."""
    if n is None:
        return
    put = _openblas("set_num_threads")
    if put is None:
        print(f"warning: cannot set NumPy's BLAS threads; use OPENBLAS_NUM_THREADS={n}")
    else:
        put(n)
    if torch is not None:
        torch.set_num_threads(n)


def command_line() -> str:
    """The exact command, with any thread variables that were set, for citing results."""
    env = [f"{k}={os.environ[k]}" for k in THREAD_VARS if k in os.environ]
    return " ".join(env + ["python", shlex.join(sys.argv)])


def torch_version() -> str | None:
    """torch's version from its metadata, without importing it (None if not installed)."""
    if importlib.util.find_spec("torch") is None:
        return None
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "?"


def print_header(args: argparse.Namespace) -> None:
    print("== autograd_mnist vs PyTorch: R0 and R2 CNNs, float32, batch 128, Adam lr 1e-3")
    print(f"command: {command_line()}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"torch {torch_version() or 'not installed'}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    data = "real MNIST (load_mnist)" if args.mnist else "synthetic uniform [0,1) float32"
    print(
        f"data: {data}, {EPOCH_IMAGES} training images (N,1,28,28) in memory, "
        f"{TEST_IMAGES} test images"
    )
    print(f"rounds {args.rounds} x {args.steps} timed steps after {args.warmup} warm-up steps")


def print_threads(torch: Any, note: str) -> None:
    env = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in (*THREAD_VARS, SPIN_VAR))
    torch_threads = torch.get_num_threads() if torch is not None else "-"
    print(f"threads: numpy OpenBLAS {numpy_blas_threads()}, torch {torch_threads} ({env})")
    if note:
        print(note)


# ----- data and models -----


@dataclass
class Data:
    x_train: np.ndarray  # (60000, 1, 28, 28) float32
    y_train: np.ndarray  # (60000,) int64
    x_test: np.ndarray  # (10000, 1, 28, 28) float32
    y_test: np.ndarray  # (10000,) int64


def load_data(mnist: bool) -> Data:
    """Real MNIST, or random images and labels of the same shapes and dtypes."""
    if mnist:
        from autograd_mnist.data import load_mnist

        (x, y), (xt, yt) = load_mnist(flatten=False)
        return Data(
            x.astype(np.float32, copy=False),
            y.astype(np.int64),
            xt.astype(np.float32, copy=False),
            yt.astype(np.int64),
        )
    rng = np.random.default_rng(0)
    return Data(
        rng.random((EPOCH_IMAGES, 1, 28, 28), dtype=np.float32),
        rng.integers(0, 10, EPOCH_IMAGES),
        rng.random((TEST_IMAGES, 1, 28, 28), dtype=np.float32),
        rng.integers(0, 10, TEST_IMAGES),
    )


class Cursor:
    """Walks an array in consecutive batches, wrapping around (the last partial is dropped)."""

    def __init__(self, n: int, batch: int) -> None:
        self.batch, self.count, self.i = batch, n // batch, 0

    def next(self) -> slice:
        s = slice(self.i * self.batch, (self.i + 1) * self.batch)
        self.i = (self.i + 1) % self.count
        return s


def torch_mirror(torch: Any, model: nn.Module) -> Any:
    """The same layers in torch, holding copies of ``model``'s float32 weights."""
    tnn = torch.nn
    layers = []
    for m in model.children():
        if isinstance(m, nn.Conv2d):
            layers.append(
                tnn.Conv2d(
                    m.in_channels,
                    m.out_channels,
                    m.kernel_size,
                    m.stride,
                    m.padding,
                    bias=m.bias is not None,
                )
            )
        elif isinstance(m, nn.MaxPool2d) and not isinstance(m, nn.AvgPool2d):
            layers.append(tnn.MaxPool2d(m.kernel_size, m.stride, m.padding))
        elif isinstance(m, nn.Linear):
            layers.append(tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None))
        elif isinstance(m, nn.Flatten):
            layers.append(tnn.Flatten(m.start_dim, m.end_dim))
        elif isinstance(m, nn.ReLU):
            layers.append(tnn.ReLU())
        else:
            raise TypeError(f"torch_mirror: no torch counterpart for {type(m).__name__}")
    tmodel = tnn.Sequential(*layers)
    ours = dict(model.named_parameters())
    theirs = tmodel.state_dict()
    if sorted(ours) != sorted(theirs):
        raise RuntimeError(f"torch_mirror: parameters differ: {sorted(ours)} vs {sorted(theirs)}")
    with torch.no_grad():
        for name, p in ours.items():
            theirs[name].copy_(torch.from_numpy(np.array(p.data, dtype=np.float32)))
    return tmodel


# ----- the two frameworks, behind the same three calls -----


class Ours:
    name = "ours"

    def __init__(self, key: str, data: Data) -> None:
        am.manual_seed(0)
        self.model = build_model(MODELS[key][0])
        self.opt = make_optimizer("adam", self.model.parameters(), LR)
        self.data = data
        self.cursor, self.test_cursor = (
            Cursor(EPOCH_IMAGES, BATCH),
            Cursor(TEST_IMAGES, INFER_BATCH),
        )

    def step(self) -> None:
        s = self.cursor.next()
        train_step(self.model, self.opt, self.data.x_train[s], self.data.y_train[s])

    def infer(self) -> None:
        s = self.test_cursor.next()
        with no_grad():
            logits = self.model(Tensor(self.data.x_test[s]))
        np.argmax(logits.data, axis=1)

    def eval(self, on: bool) -> None:
        self.model.train(not on)

    def logits(self, x: np.ndarray) -> np.ndarray:
        with no_grad():
            return np.asarray(self.model(Tensor(x)).data)


class Torch:
    name = "torch"

    def __init__(self, torch: Any, ours: Ours, data: Data) -> None:
        self.torch = torch
        self.model = torch_mirror(torch, ours.model)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)
        # Zero-copy views of the same arrays: slicing a batch is a view, as with NumPy.
        self.x, self.y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
        self.xt = torch.from_numpy(data.x_test)
        self.cursor, self.test_cursor = (
            Cursor(EPOCH_IMAGES, BATCH),
            Cursor(TEST_IMAGES, INFER_BATCH),
        )

    def step(self) -> None:
        # Mirrors train_step: forward, loss, zero_grad, backward, step, (loss, correct) out.
        s = self.cursor.next()
        xb, yb = self.x[s], self.y[s]
        logits = self.model(xb)
        loss = self.torch.nn.functional.cross_entropy(logits, yb)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        loss.item()
        int((logits.detach().argmax(1) == yb).sum())

    def infer(self) -> None:
        s = self.test_cursor.next()
        with self.torch.inference_mode():
            self.model(self.xt[s]).argmax(1)

    def eval(self, on: bool) -> None:
        self.model.train(not on)

    def logits(self, x: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            return np.asarray(self.model(self.torch.from_numpy(x)).numpy())


def timed(fn: Callable[[], None], n: int) -> list[float]:
    """Wall time of each of ``n`` calls, in seconds."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def med_ms(times: list[float]) -> float:
    return 1e3 * statistics.median(times)


def fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


@dataclass
class Result:
    """Median times (ms) of one model; torch's are None without torch."""

    key: str
    train: dict[str, float] = field(default_factory=dict)
    infer: dict[str, float] = field(default_factory=dict)


def interleaved(
    runners: list[Any], action: str, rounds: int, n: int, warmup: int, settle: float
) -> dict[str, float]:
    """Time ``action`` of each runner in turn, ``rounds`` times; print rounds and medians.

    Before each runner's turn the process sleeps ``settle`` seconds when there are two:
    idle BLAS threads spin-wait after their last call (NumPy's OpenBLAS for about 0.1 s, at
    100% of a core), and the other library's spinning threads would take a core from this
    one's turn.
    """
    for r in runners:
        for _ in range(warmup):
            getattr(r, action)()
    samples: dict[str, list[float]] = {r.name: [] for r in runners}
    print(f"{'round':>5} {'ours ms':>9} {'torch ms':>9} {'ours/torch':>10}")
    for i in range(rounds):
        meds = {}
        for r in runners:
            if len(runners) > 1 and settle > 0:
                time.sleep(settle)
            t = timed(getattr(r, action), n)
            samples[r.name] += t
            meds[r.name] = med_ms(t)
        tm = meds.get("torch")
        ratio = meds["ours"] / tm if tm else None
        print(f"{i + 1:>5} {meds['ours']:9.1f} {fmt(tm, '9.1f'):>9} {fmt(ratio, '10.2f'):>10}")
    return {name: med_ms(t) for name, t in samples.items()}


def print_medians(meds: dict[str, float], per: int, unit: str, total: int, total_name: str) -> None:
    """Overall medians, throughput and the time for ``total`` images."""
    print(f"{'':6} {'median ms':>10} {unit + '/s':>10} {total_name:>12}")
    for name in ("ours", "torch"):
        if name in meds:
            ms = meds[name]
            print(f"{name:6} {ms:10.1f} {per / ms * 1e3:10.0f} {ms * total / per / 1e3:12.1f}")
    if "torch" in meds:
        print(f"ratio ours/torch: {meds['ours'] / meds['torch']:.2f}")


# ----- per-op breakdown -----


class OpProfiler:
    """Times every Function subclass's forward and backward while installed.

    A frame's self time excludes the ops it calls (a backward builds its gradient from
    ops, whose forwards are timed on their own), so self times add up to op time without
    double counting. ``phase`` tags each frame with the part of the step it ran in.
    """

    def __init__(self) -> None:
        # (label, phase) and (label, phase, input shapes) -> [calls, inclusive s, self s]
        self.stats: dict[tuple[str, ...], list[float]] = {}
        self.by_shape: dict[tuple[str, ...], list[float]] = {}
        self.phase = "forward"
        self._stack: list[float] = []  # time spent in children, per open frame
        self._saved: list[tuple[type, str, Any]] = []

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap the ops' staticmethods for the duration of the block, then restore them."""
        classes = _function_subclasses()
        # Resolve every original first, so a subclass never wraps its parent's wrapper.
        plan = [
            (c, m, c.__dict__.get(m), getattr(c, m))
            for c in classes
            for m in ("forward", "backward")
            if _is_own_staticmethod(c, m)
        ]
        try:
            for cls, meth, raw, fn in plan:
                self._saved.append((cls, meth, raw))
                setattr(cls, meth, staticmethod(self._wrap(f"{cls.__name__}.{meth}", fn)))
            yield
        finally:
            for cls, meth, raw in reversed(self._saved):
                if raw is None:
                    delattr(cls, meth)
                else:
                    setattr(cls, meth, raw)
            self._saved.clear()

    def _wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timer(ctx: Any, *args: Any, **kwargs: Any) -> Any:
            self._stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return fn(ctx, *args, **kwargs)
            finally:
                self.record(label, args, time.perf_counter() - t0)

        return timer

    def record(self, label: str, args: tuple[Any, ...], dt: float) -> None:
        """Close the innermost frame: it took ``dt`` seconds in all."""
        child = self._stack.pop()
        if self._stack:
            self._stack[-1] += dt
        shapes = " ".join("x".join(map(str, a.shape)) or "()" for a in args if hasattr(a, "shape"))
        for table, key in (
            (self.stats, (label, self.phase)),
            (self.by_shape, (label, self.phase, shapes)),
        ):
            row = table.setdefault(key, [0, 0.0, 0.0])
            row[0] += 1
            row[1] += dt
            row[2] += dt - child


def _function_subclasses() -> list[type]:
    """Every subclass of Function, recursively, each once."""
    seen: dict[type, None] = {}
    stack = list(Function.__subclasses__())
    while stack:
        c = stack.pop()
        if c not in seen:
            seen[c] = None
            stack.extend(c.__subclasses__())
    return list(seen)


def _is_own_staticmethod(cls: type, meth: str) -> bool:
    """True if ``cls.meth`` resolves to a staticmethod other than Function's stub."""
    for klass in cls.__mro__:
        if meth in klass.__dict__:
            return klass is not Function and isinstance(klass.__dict__[meth], staticmethod)
    return False


PHASES = ("slice", "forward", "zero_grad", "backward", "optimizer", "readout")


def profiled_steps(ours: Ours, steps: int) -> tuple[OpProfiler, dict[str, float]]:
    """Run ``steps`` train_step-equivalent steps with op timers; (profiler, phase seconds)."""
    prof = OpProfiler()
    phases = dict.fromkeys(PHASES, 0.0)
    model, opt, d = ours.model, ours.opt, ours.data
    with prof.installed():
        for _ in range(steps):
            t = [time.perf_counter()]
            prof.phase = "slice"
            s = ours.cursor.next()
            xb, yb = Tensor(d.x_train[s]), d.y_train[s]
            t.append(time.perf_counter())
            prof.phase = "forward"
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            t.append(time.perf_counter())
            prof.phase = "zero_grad"
            opt.zero_grad()
            t.append(time.perf_counter())
            prof.phase = "backward"
            loss.backward()
            t.append(time.perf_counter())
            prof.phase = "optimizer"
            opt.step()
            t.append(time.perf_counter())
            prof.phase = "readout"
            float(loss.data)
            int(np.count_nonzero(np.argmax(logits.data, axis=1) == yb))
            t.append(time.perf_counter())
            for name, a, b in zip(PHASES, t, t[1:]):
                phases[name] += b - a
    return prof, phases


OVERHEAD = {
    "forward": "other: Python in forward (modules, F.*, Tensor wrapping)",
    "backward": "other: engine in backward (topo order, grad dicts, checks)",
    "optimizer": "optimizer.step (Adam: NumPy, in place)",
}
SMALL = 0.002  # op rows under this fraction of the step are summed into one line


def print_breakdown(ours: Ours, steps: int) -> None:
    """Per-phase and per-op tables of our training step (per-step means over ``steps``)."""
    prof, phases = profiled_steps(ours, steps)
    total = sum(phases.values()) / steps
    per = {k: v / steps for k, v in phases.items()}
    op_in: dict[str, float] = dict.fromkeys(PHASES, 0.0)
    for (_, phase), (_, _, own) in prof.stats.items():
        op_in[phase] += own / steps
    print(f"{steps} profiled steps: {1e3 * total:.1f} ms per step (with timers)")
    print(f"{'phase':10} {'ms':>8} {'% step':>6} {'in ops ms':>9}")
    for name in PHASES:
        print(
            f"{name:10} {1e3 * per[name]:8.2f} {100 * per[name] / total:6.1f} "
            f"{1e3 * op_in[name]:9.2f}"
        )
    if not prof.stats:
        print(
            "(no Function.forward/backward call was seen: the engine no longer calls them "
            "through the class attributes, so ops cannot be timed this way)"
        )
    rows = [
        (label, phase, c / steps, incl / steps, own / steps)
        for (label, phase), (c, incl, own) in prof.stats.items()
    ]
    for phase, label in OVERHEAD.items():
        rows.append((label, phase, 0.0, 0.0, per[phase] - op_in[phase]))
    misc = sum(per[p] - op_in[p] for p in PHASES if p not in OVERHEAD)
    rows.append(("other: batch slice, zero_grad, loss/accuracy readout", "-", 0.0, 0.0, misc))
    small = [r for r in rows if r[4] < SMALL * total and r[2]]
    print(
        f"\n{'Function.method / part of the step':58} {'phase':9} {'calls':>5} "
        f"{'incl ms':>8} {'self ms':>8} {'% step':>6}"
    )
    for label, phase, calls, incl, own in sorted(rows, key=lambda r: -r[4]):
        if (label, phase, calls, incl, own) in small:
            continue
        c, i = (f"{calls:5.0f}", f"{1e3 * incl:8.2f}") if calls else ("    -", "       -")
        print(f"{label:58} {phase:9} {c} {i} {1e3 * own:8.2f} {100 * own / total:6.1f}")
    if small:
        own = sum(r[4] for r in small)
        print(
            f"{f'({len(small)} smaller op rows, each < {100 * SMALL:.1f}%)':58} {'':9} "
            f"{sum(r[2] for r in small):5.0f} {'':8} {1e3 * own:8.2f} {100 * own / total:6.1f}"
        )
    ops = sum(op_in.values())
    opt = per["optimizer"] - op_in["optimizer"]
    other = total - ops - opt
    print(
        f"total: ops {1e3 * ops:.1f} ms ({100 * ops / total:.0f}%), optimizer {1e3 * opt:.1f} "
        f"ms ({100 * opt / total:.0f}%), other {1e3 * other:.1f} ms ({100 * other / total:.0f}%)"
    )
    print(
        f"\n{'heaviest calls by input shapes':58} {'phase':9} {'calls':>5} {'self ms':>8} "
        f"{'% step':>6}"
    )
    top = sorted(prof.by_shape.items(), key=lambda kv: -kv[1][2])[:8]
    for (label, phase, shapes), (n, _, own) in top:
        print(
            f"{(label + ' ' + shapes)[:58]:58} {phase:9} {n / steps:5.0f} "
            f"{1e3 * own / steps:8.2f} {100 * own / steps / total:6.1f}"
        )


# ----- FLOPs -----


def step_flops(model: nn.Module, batch: int) -> tuple[float, float]:
    """(forward, backward) matmul/conv FLOPs of one training step of a Sequential CNN.

    Backward counts the weights' gradients and the inputs' gradients, except the first
    layer's input gradient, which no one needs. Elementwise ops, pooling and biases are
    left out: they are memory bound and small.
    """
    C, H, W = 1, 28, 28
    fwd = bwd = 0.0
    first = True
    for m in model.children():
        if isinstance(m, nn.Conv2d):
            (KH, KW), (SH, SW), (PH, PW) = m.kernel_size, m.stride, m.padding
            OH, OW = (H + 2 * PH - KH) // SH + 1, (W + 2 * PW - KW) // SW + 1
            f = 2.0 * batch * m.out_channels * OH * OW * C * KH * KW
            C, H, W = m.out_channels, OH, OW
        elif isinstance(m, nn.Linear):
            f = 2.0 * batch * m.in_features * m.out_features
        elif isinstance(m, nn.MaxPool2d):
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            H, W = H // k, W // k
            continue
        else:
            continue
        fwd += f
        bwd += f if first else 2 * f
        first = False
    return fwd, bwd


def matmul_rate(repeat: int = 10) -> tuple[float, list[tuple[str, float]]]:
    """Best float32 np.matmul rate in GFLOP/s over a few shapes, and each shape's rate."""
    rng = np.random.default_rng(0)
    rates = []
    for m, k, n, what in (
        (1024, 1024, 1024, "square"),
        (128, 3136, 1024, "R2 dense fwd"),
        (1024, 128, 3136, "R2 dense dW"),
    ):
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        np.matmul(a, b)
        best = min(timed(functools.partial(np.matmul, a, b), repeat))
        rates.append((f"{m}x{k} @ {k}x{n} ({what})", 2.0 * m * k * n / best / 1e9))
    return max(r for _, r in rates), rates


# ----- peak memory (in child processes) -----


def rss_mib() -> float:
    """Current resident set size, MiB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def hwm_mib() -> float:
    """This address space's peak RSS (VmHWM), MiB: unlike ru_maxrss, not inherited."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory_child(framework: str, steps: int, mnist: bool, threads: int | None) -> int:
    """Train R2 for ``steps`` steps over the full dataset and print a JSON line of MiB."""
    torch: Any = importlib.import_module("torch") if framework == "torch" else None
    set_threads(threads, torch)
    base = rss_mib()
    d = load_data(mnist)
    ours = Ours("r2", d)
    runner: Any = ours if torch is None else Torch(torch, ours, d)
    if torch is not None:
        del ours  # torch holds its own copy of the weights
    for _ in range(steps):
        runner.step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    data_mib = (d.x_train.nbytes + d.x_test.nbytes) / 2**20
    print(json.dumps({"peak": peak, "hwm": hwm_mib(), "base": base, "data": data_mib}))
    return 0


def print_memory(args: argparse.Namespace, with_torch: bool) -> None:
    print(
        f"\n== peak memory: R2 trained {args.memory_steps} steps, one fresh process each "
        "(both at once: memory only, no timing)"
    )
    print(
        f"{'':6} {'peak RSS MiB':>12} {'after import':>12} {'peak-import':>12} {'dataset MiB':>11}"
    )
    procs = {}
    for fw in ("ours", "torch") if with_torch else ("ours",):
        cmd = [sys.executable, os.path.abspath(__file__), "--memory-child", fw]
        cmd += ["--memory-steps", str(args.memory_steps)]
        cmd += ["--mnist"] if args.mnist else []
        cmd += ["--threads", str(args.threads)] if args.threads else []
        procs[fw] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got = {}
    for fw, proc in procs.items():
        out, err = proc.communicate()
        if proc.returncode != 0:
            print(f"{fw:6} failed (exit {proc.returncode}): {err.strip()[-400:]}")
            continue
        r = got[fw] = json.loads(out.strip().splitlines()[-1])
        print(
            f"{fw:6} {r['peak']:12.0f} {r['base']:12.0f} {r['peak'] - r['base']:12.0f} "
            f"{r['data']:11.0f}"
        )
        if abs(r["hwm"] - r["peak"]) > 0.05 * r["peak"]:
            print(f"       (VmHWM says {r['hwm']:.0f} MiB: ru_maxrss may hold the parent's peak)")
    if "ours" in got and "torch" in got:
        o, t = got["ours"], got["torch"]
        print(
            f"ratio ours/torch: peak {o['peak'] / t['peak']:.2f}, "
            f"peak-import {(o['peak'] - o['base']) / (t['peak'] - t['base']):.2f}"
        )


# ----- main -----


QUICK = {
    "rounds": 1,
    "steps": 3,
    "warmup": 1,
    "infer_batches": 1,
    "memory_steps": 10,
    "breakdown_steps": 2,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--steps", type=int, default=20, help="timed training steps per round")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps/batches first")
    p.add_argument(
        "--infer-batches",
        type=int,
        default=2,
        help="inference batches of 1000 per round (default 2: 5 rounds = 10,000)",
    )
    p.add_argument("--breakdown-steps", type=int, default=5, help="profiled steps per model")
    p.add_argument("--memory-steps", type=int, default=100, help="steps of the memory runs")
    p.add_argument("--model", choices=("r0", "r2", "both"), default="both")
    p.add_argument("--mnist", action="store_true", help="real MNIST instead of random images")
    p.add_argument(
        "--threads",
        type=int,
        help="set NumPy's OpenBLAS and torch's threads to N (default: each library's own)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=0.3,
        help="seconds of sleep before each framework's turn, so that the other's idle BLAS "
        "threads have stopped spinning (default 0.3; 0: none)",
    )
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    p.add_argument("--no-breakdown", action="store_true", help="skip the per-op breakdown")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1 round of 3 steps, 1 warm-up, 1 inference batch, "
        "memory 10 steps, breakdown 2 steps",
    )
    p.add_argument("--memory-child", choices=("ours", "torch"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:  # new defaults: options given explicitly still win
        p.set_defaults(**QUICK)
        args = p.parse_args(argv)
    for name in ("rounds", "steps", "infer_batches", "breakdown_steps", "memory_steps", "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.settle < 0:
        p.error("--settle must be >= 0")
    return args


def bench_model(key: str, args: argparse.Namespace, data: Data, torch: Any) -> Result:
    print(f"\n######## {key.upper()}  {MODELS[key][1]}")
    ours = Ours(key, data)
    runners: list[Any] = [ours]
    if torch is not None:
        theirs = Torch(torch, ours, data)
        x = data.x_train[:BATCH]
        diff = float(np.max(np.abs(ours.logits(x) - theirs.logits(x))))
        print(f"same initial weights: max |logits ours - torch| on a batch = {diff:.1e}")
        runners.append(theirs)
    res = Result(key)
    print(
        f"\n== training step (ms per step: slice + forward + loss + backward + Adam step; "
        f"median of {args.steps} per round)"
    )
    res.train = interleaved(runners, "step", args.rounds, args.steps, args.warmup, args.settle)
    print_medians(res.train, BATCH, "samples", EPOCH_IMAGES, "s/epoch")
    print(
        f"\n== inference (ms per batch of {INFER_BATCH}, median of {args.infer_batches} "
        f"per round; ours no_grad + eval, torch inference_mode)"
    )
    for r in runners:
        r.eval(True)
    res.infer = interleaved(
        runners, "infer", args.rounds, args.infer_batches, min(args.warmup, 1), args.settle
    )
    for r in runners:
        r.eval(False)
    print_medians(res.infer, INFER_BATCH, "images", TEST_IMAGES, "s/10k test")
    if not args.no_breakdown:
        print(
            f"\n== per-op breakdown of our {key.upper()} training step "
            f"(time per step, sorted by self time)"
        )
        print_breakdown(ours, args.breakdown_steps)
    return res


def print_flops(results: list[Result], rate: float) -> None:
    print(f"\n== FLOP lower bound of a training step (batch {BATCH}, at {rate:.1f} GFLOP/s)")
    print(
        f"{'model':5} {'fwd GFLOP':>9} {'bwd GFLOP':>9} {'bound ms':>8} {'ours ms':>8} "
        f"{'x bound':>7} {'torch ms':>8} {'x bound':>7}"
    )
    for res in results:
        fwd, bwd = step_flops(build_model(MODELS[res.key][0]), BATCH)
        bound = 1e3 * (fwd + bwd) / (rate * 1e9)
        o, t = res.train.get("ours"), res.train.get("torch")
        print(
            f"{res.key:5} {fwd / 1e9:9.3f} {bwd / 1e9:9.3f} {bound:8.1f} {fmt(o, '8.1f')} "
            f"{fmt(o and o / bound, '7.1f')} {fmt(t, '8.1f'):>8} "
            f"{fmt(t and t / bound, '7.1f'):>7}"
        )


def print_summary(results: list[Result]) -> None:
    print("\n== summary (medians; ratio > 1 means ours is slower)")
    print(
        f"{'model':5} {'train ours ms':>13} {'torch ms':>8} {'ours/torch':>10} "
        f"{'infer ours ms':>13} {'torch ms':>8} {'ours/torch':>10}"
    )
    for r in results:
        to, tt = r.train["ours"], r.train.get("torch")
        io, it = r.infer["ours"], r.infer.get("torch")
        print(
            f"{r.key:5} {to:13.1f} {fmt(tt, '8.1f'):>8} {fmt(tt and to / tt, '10.2f'):>10} "
            f"{io:13.1f} {fmt(it, '8.1f'):>8} {fmt(it and io / it, '10.2f'):>10}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child, args.memory_steps, args.mnist, args.threads)
    start = time.perf_counter()
    set_threads(args.threads, None)
    print_header(args)
    rate, rates = matmul_rate()
    print(
        "numpy float32 matmul: "
        + ", ".join(f"{s} {r:.1f}" for s, r in rates)
        + f" GFLOP/s; best {rate:.1f}"
    )
    if not args.no_memory:
        # Before torch and the data load here: a child's ru_maxrss starts at its parent's
        # peak (Linux carries it across fork/exec), so the parent must still be small.
        print_memory(args, torch_version() is not None)
    torch, note = load_torch()
    set_threads(args.threads, torch)
    print_threads(torch, note)
    data = load_data(args.mnist)
    keys = ["r0", "r2"] if args.model == "both" else [args.model]
    results = [bench_model(k, args, data, torch) for k in keys]
    print_flops(results, rate)
    print_summary(results)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
