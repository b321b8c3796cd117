"""Smoke tests of the benchmark scripts: they run, exit 0 and print their tables.

``benchmarks/compare_torch.py --quick --no-memory`` runs in a subprocess with one BLAS
thread, once as installed and once with ``import torch`` made to fail, since torch is an
optional extra (``.[bench]``): without it the script must still print our own figures.
``benchmarks/torch_recipes.py`` trains each recipe's PyTorch twin on 64 random images for
one epoch (skipped without torch) and, with torch blocked, must exit 2 saying it needs it.
``benchmarks/ops.py`` has no quick mode, so it is not run here.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from helpers import ROOT, run_python

COMPARE = ROOT / "benchmarks" / "compare_torch.py"
HEADERS = [
    "== training step",
    "round   ours ms  torch ms ours/torch",
    "median ms",
    "== inference",
    "== per-op breakdown of our R0 training step",
    "== per-op breakdown of our R2 training step",
    "Function.method / part of the step",
    "optimizer.step",
    "heaviest calls by input shapes",
    "== FLOP lower bound",
    "== summary",
    "threads: numpy OpenBLAS",
    "command: ",
]
# Run the script as __main__ with torch unimportable (sys.modules[name] = None makes
# `import torch` raise ImportError and find_spec return None), with the script's folder
# first on sys.path as `python script.py` puts it (the script imports its sibling modules).
WITHOUT_TORCH = (
    "import os, runpy, sys; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; "
    "sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0]))); "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def run_compare(*args: str, block_torch: bool = False) -> str:
    env = {"OPENBLAS_NUM_THREADS": "1"}
    if block_torch:
        # Already set, so the script does not re-execute itself to set it (a new process
        # would not inherit the torch block).
        env["OPENBLAS_THREAD_TIMEOUT"] = "20"
    prefix = ["-c", WITHOUT_TORCH] if block_torch else []
    proc = run_python([*prefix, str(COMPARE), *args], cwd=ROOT, env=env, timeout=900)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def assert_headers(out: str) -> None:
    missing = [h for h in HEADERS if h not in out]
    assert not missing, f"missing {missing} in:\n{out}"


def test_compare_torch_quick() -> None:
    out = run_compare("--quick", "--no-memory")
    assert_headers(out)
    if importlib.util.find_spec("torch") is not None:
        assert "same initial weights" in out
        assert "ratio ours/torch" in out
    else:
        assert "torch not found" in out


def test_compare_torch_quick_without_torch() -> None:
    out = run_compare("--quick", "--no-memory", block_torch=True)
    assert_headers(out)
    assert "torch not found" in out
    assert "ratio ours/torch" not in out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS read from /proc")
def test_compare_torch_memory_runs() -> None:
    out = run_compare("--quick", "--model", "cnn", "--no-breakdown", "--memory-steps", "2")
    assert "== peak memory" in out
    assert "peak RSS MiB" in out
    assert "failed" not in out


RECIPES = ROOT / "benchmarks" / "torch_recipes.py"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
@pytest.mark.parametrize("model", ["cnn", "keras-cnn"])
def test_torch_recipes_smoke(model: str) -> None:
    args = ["--synthetic", "--limit", "64", "--epochs", "1", "--model", model, "--log-every", "1"]
    proc = run_python(
        [str(RECIPES), *args, "--adam-steps", "2", "--threads", "1"],
        cwd=ROOT,
        env={"OPENBLAS_NUM_THREADS": "1"},
        timeout=300,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    for line in (
        "command: ",
        "same initial weights",
        "step 1: last 1 steps",
        "epoch 1/1: train loss",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert "64 training images shuffled by our generator (seed 0)" in out
    assert "== one Adam step on" in out and "ours/torch" in out


def test_torch_recipes_without_torch() -> None:
    env = {"OPENBLAS_NUM_THREADS": "1", "OPENBLAS_THREAD_TIMEOUT": "20"}
    proc = run_python(
        ["-c", WITHOUT_TORCH, str(RECIPES), "--synthetic", "--limit", "8"], cwd=ROOT, env=env
    )
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "torch not found" in proc.stdout and "needs PyTorch" in proc.stdout


def test_overlap_update_gives_the_plain_steps_weights() -> None:
    """benchmarks/overlap_update.py: updates started from gradient hooks during backward
    leave the same weights, bit for bit, as ``opt.step()`` after it (R2's and fast's
    networks, dropout included)."""
    script = str(ROOT / "benchmarks" / "overlap_update.py")
    args = ["--model", "keras-cnn", "--model", "fast", "--rounds", "2", "--steps", "1"]
    proc = run_python([script, *args], cwd=ROOT, env={"OPENBLAS_NUM_THREADS": "2"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("threads: 2, batch 128, Adam")
    assert [line.split(":")[0] for line in lines[1:]] == ["keras-cnn", "fast"]
    assert all(line.endswith("weights after 4 steps identical: True") for line in lines[1:])
