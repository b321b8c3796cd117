"""Smoke test of compare_torch.py's user-loop mode (benchmarks/_user_loop.py): one quick
round of R0 under --contend, PyTorch blocked (our cases only), each case a fresh process."""

from __future__ import annotations

import sys

import pytest
from helpers import ROOT, run_python
from test_benchmarks import COMPARE, WITHOUT_TORCH


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the busy process pins a core")
def test_user_loop_quick_under_contention() -> None:
    args = [str(COMPARE), "--user-loop", "--contend", "--quick", "--model", "cnn"]
    env = {"OPENBLAS_THREAD_TIMEOUT": "20"}  # set: the parent does not re-execute itself
    proc = run_python(["-c", WITHOUT_TORCH, *args], cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    for line in (
        "== user loop (with a busy process pinned to one core)",
        "ours-pkg-first  ours, import autograd_mnist first",
        "ours/ours-1",
        "r0        1 ",
        "r0      med ",
        "threads at the end of each child",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert "PyTorch, default threads" not in out and "torch-1" not in out  # torch blocked
