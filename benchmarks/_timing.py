"""Timing (interleaved rounds, medians), the matmul rate, and peak memory in child
processes."""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _env import load_data, set_threads
from _torch_models import Ours, Torch


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
    ours = Ours("keras-cnn", d)
    runner: Any = ours if torch is None else Torch(torch, ours, d)
    if torch is not None:
        del ours  # torch holds its own copy of the weights
    for _ in range(steps):
        runner.step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    data_mib = (d.x_train.nbytes + d.x_test.nbytes) / 2**20
    print(json.dumps({"peak": peak, "hwm": hwm_mib(), "base": base, "data": data_mib}))
    return 0


def print_memory(args: argparse.Namespace, with_torch: bool, script: str) -> None:
    """Run ``script --memory-child ours`` (and ``torch``) at once; print their peaks."""
    print(
        f"\n== peak memory: R2 trained {args.memory_steps} steps, one fresh process each "
        "(both at once: memory only, no timing)"
    )
    print(
        f"{'':6} {'peak RSS MiB':>12} {'after import':>12} {'peak-import':>12} {'dataset MiB':>11}"
    )
    procs = {}
    for fw in ("ours", "torch") if with_torch else ("ours",):
        cmd = [sys.executable, script, "--memory-child", fw]
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
