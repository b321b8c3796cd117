"""The benchmark's settings, environment (threads, torch, command line) and data."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shlex
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

import autograd_mnist as am

BATCH = 128
LR = 1e-3
EPOCH_IMAGES = 60_000
TEST_IMAGES = 10_000
INFER_BATCH = 1000
# --model key (a build_model name) -> (label in the report: the reference experiment of
# docs/reference_experiments.md, description)
MODELS = {
    "cnn": ("r0", "R0: Conv(1,32,3) -> MaxPool 2 -> Linear(5408,128) -> ReLU -> Linear(128,10)"),
    "keras-cnn": (
        "r2",
        (
            "R2: Conv(1,16,5,pad 2) -> ReLU -> MaxPool 2 -> Linear(3136,1024) -> ReLU "
            "-> Linear(1024,10)"
        ),
    ),
}
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Printed with the threads; autograd_mnist.runtime.ensure_blas_thread_timeout sets it (to 20).
SPIN_VAR = "OPENBLAS_THREAD_TIMEOUT"


def load_torch() -> tuple[Any, str]:
    """(torch module or None, a note saying why not)."""
    if importlib.util.find_spec("torch") is None:
        return None, "torch not found (pip install -e '.[bench]'): showing our figures only"
    try:
        import torch
    except Exception as e:  # a broken install counts as missing  # noqa: BLE001
        return None, f"torch not found (import failed: {e!r}): showing our figures only"
    return torch, ""


def numpy_blas_threads() -> str:
    """Threads of NumPy's BLAS now, as threadpoolctl reads them from the loaded library."""
    libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    return str(libs[0].get_num_threads()) if libs else "?"


def set_threads(n: int | None, torch: Any) -> None:
    """Set our threads (``am.set_num_threads``: NumPy's BLAS and our update's pool) and
    torch's intra-op threads to ``n`` (None: leave each library's default)."""
    if n is None:
        return
    am.set_num_threads(n)
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
