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

``--user-loop`` instead times a plain PyTorch-style loop as a user writes it, in a fresh
process per framework and import order (``_user_loop.py``): ours with NumPy imported first
and with the package first, ours on one thread, and PyTorch. ``--contend`` keeps a busy
process pinned to one core during every turn of both frameworks (either mode), to show
what a shared machine does to each; the user-loop mode then adds PyTorch on one thread.

Without PyTorch installed only our figures are printed. R0 and R2 are the reference
experiments of docs/reference_experiments.md; their networks are ``cnn`` and ``keras-cnn``.
This file is the command line and the report; beside it are ``_env.py`` (settings,
threads, data), ``_torch_models.py`` (our network and its PyTorch twin), ``_timing.py``
(rounds, medians, matmul rate, peak-memory children), ``_profile.py`` (the per-op
breakdown) and ``_user_loop.py`` (the user-loop children and the busy process).

    python benchmarks/compare_torch.py [--rounds 5] [--steps 20] [--model cnn|keras-cnn|both]
    python benchmarks/compare_torch.py --quick --no-memory     # smoke test, ~30 s
    python benchmarks/compare_torch.py --threads 1             # steadier on a busy machine
    python benchmarks/compare_torch.py --user-loop [--contend] [--rounds 3]
    PYTHONPATH=. python benchmarks/compare_torch.py            # from a bare checkout
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from _env import (
    BATCH,
    EPOCH_IMAGES,
    INFER_BATCH,
    MODELS,
    SPIN_VAR,
    TEST_IMAGES,
    THREAD_VARS,
    Data,
    command_line,
    load_data,
    load_torch,
    numpy_blas_threads,
    set_threads,
    torch_version,
)
from _profile import print_breakdown
from _timing import fmt, interleaved, matmul_rate, memory_child, print_medians, print_memory
from _torch_models import Ours, Torch
from _user_loop import TIMED_SECONDS, WARMUP_SECONDS, Busy, report

import autograd_mnist as am
from autograd_mnist import nn
from autograd_mnist.models import build_model
from autograd_mnist.runtime import ensure_blas_thread_timeout


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


def print_threads(torch: Any, note: str, explicit: bool) -> None:
    env = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in (*THREAD_VARS, SPIN_VAR))
    torch_threads = torch.get_num_threads() if torch is not None else "-"
    print(
        f"threads: numpy OpenBLAS {numpy_blas_threads()}, ours {am.get_num_threads()} "
        f"({'set' if explicit else 'default: the idle cores, re-checked as it runs'}), "
        f"torch {torch_threads} ({env})"
    )
    if note:
        print(note)


@dataclass
class Result:
    """Median times (ms) of one model (``key``: its build_model name); torch's are None
    without torch."""

    key: str
    train: dict[str, float] = field(default_factory=dict)
    infer: dict[str, float] = field(default_factory=dict)


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
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            H, W = H // k, W // k
            continue
        else:
            continue
        fwd += f
        bwd += f if first else 2 * f
        first = False
    return fwd, bwd


# ----- main -----


QUICK = {
    "rounds": 1,
    "steps": 3,
    "warmup": 1,
    "infer_batches": 1,
    "memory_steps": 10,
    "breakdown_steps": 2,
}


QUICK_USER_LOOP = (0.2, 0.3)
"""--quick --user-loop: each child's warm-up and timed seconds."""


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
    p.add_argument(
        "--model",
        choices=(*MODELS, "both"),
        default="both",
        help="cnn (R0's network), keras-cnn (R2's) or both (default)",
    )
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
    p.add_argument(
        "--user-loop",
        action="store_true",
        help="time a user's own PyTorch-style loop, fresh process per case (see above)",
    )
    p.add_argument(
        "--contend",
        action="store_true",
        help="a busy process pinned to one core runs during every turn of both frameworks",
    )
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    p.add_argument("--no-breakdown", action="store_true", help="skip the per-op breakdown")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1 round of 3 steps, 1 warm-up, 1 inference batch, "
        "memory 10 steps, breakdown 2 steps (--user-loop: 0.2 s warm-up, 0.3 s timed)",
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
    label, description = MODELS[key]
    print(f"\n######## {label.upper()}  {description}")
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
            f"\n== per-op breakdown of our {label.upper()} training step "
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
        fwd, bwd = step_flops(build_model(res.key), BATCH)
        bound = 1e3 * (fwd + bwd) / (rate * 1e9)
        o, t = res.train.get("ours"), res.train.get("torch")
        label = MODELS[res.key][0]
        print(
            f"{label:5} {fwd / 1e9:9.3f} {bwd / 1e9:9.3f} {bound:8.1f} {fmt(o, '8.1f')} "
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
        label = MODELS[r.key][0]
        print(
            f"{label:5} {to:13.1f} {fmt(tt, '8.1f'):>8} {fmt(tt and to / tt, '10.2f'):>10} "
            f"{io:13.1f} {fmt(it, '8.1f'):>8} {fmt(it and io / it, '10.2f'):>10}"
        )


def main(argv: list[str] | None = None) -> int:
    ensure_blas_thread_timeout()
    args = parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child, args.memory_steps, args.mnist, args.threads)
    start = time.perf_counter()
    if args.user_loop:
        print(f"== user loop: ours vs PyTorch\ncommand: {command_line()}")
        labels = [MODELS[k][0] for k in (list(MODELS) if args.model == "both" else [args.model])]
        with Busy() if args.contend else contextlib.nullcontext():
            seconds = QUICK_USER_LOOP if args.quick else (WARMUP_SECONDS, TIMED_SECONDS)
            report(args.rounds, labels, args.contend, torch_version() is not None, seconds)
        print(f"\ntotal wall time {time.perf_counter() - start:.0f} s")
        return 0
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
        print_memory(args, torch_version() is not None, os.path.abspath(__file__))
    torch, note = load_torch()
    set_threads(args.threads, torch)
    print_threads(torch, note, args.threads is not None)
    data = load_data(args.mnist)
    keys = list(MODELS) if args.model == "both" else [args.model]
    with Busy() if args.contend else contextlib.nullcontext():
        if args.contend:
            print("a busy process is pinned to one core during every turn (--contend)")
        results = [bench_model(k, args, data, torch) for k in keys]
    print_flops(results, rate)
    print_summary(results)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
