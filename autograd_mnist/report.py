"""What a run reports in its folder: ``metrics.csv``, ``summary.json`` and the curves.

- ``metrics.csv``: one row per epoch (:class:`autograd_mnist.train.EpochMetrics` fields),
  rewritten after every epoch (:func:`write_metrics`);
- ``summary.json``: final and best accuracy and loss, time, peak memory, the settings and
  versions (:func:`run_summary`);
- ``loss.png``, ``accuracy.png``: train/test curves, when matplotlib is installed
  (:func:`write_plots`).

It also formats the text tables of ``autograd-mnist evaluate`` (:func:`format_per_class`,
:func:`format_confusion`).
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

import autograd_mnist
from autograd_mnist import nn, plots, train
from autograd_mnist.checkpoint import history_of, load_checkpoint
from autograd_mnist.config import RunConfig
from autograd_mnist.io import PathLike, write_csv
from autograd_mnist.plots import INSTALL_HINT

__all__ = [
    "CURVES",
    "INSTALL_HINT",
    "METRICS",
    "SUMMARY",
    "format_confusion",
    "format_per_class",
    "peak_memory_mib",
    "run_summary",
    "write_metrics",
    "write_plots",
]

METRICS = "metrics.csv"
"""The run folder's per-epoch metrics file."""
SUMMARY = "summary.json"
"""The run folder's summary file, written when the run ends."""
CURVES = ("loss.png", "accuracy.png")
"""The run folder's curves, drawn by :func:`write_plots` (``plots.plot_curves``)."""


def write_metrics(path: PathLike, history: list[train.EpochMetrics]) -> None:
    """Write ``history`` as CSV, one row per epoch, atomically."""
    names = [f.name for f in fields(train.EpochMetrics)]
    write_csv(path, names, ([getattr(m, k) for k in names] for m in history))


def peak_memory_mib() -> float | None:
    """The process's peak resident memory in MiB (``getrusage`` maxrss), None if unknown."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def run_summary(
    cfg: RunConfig, model: nn.Module, history: list[train.EpochMetrics], n_train: int, n_test: int
) -> dict[str, Any]:
    """The contents of ``summary.json`` for a run that has done ``history`` (not empty)."""
    last = history[-1]
    seconds = sum(m.seconds for m in history)
    best = max(history, key=lambda m: m.test_accuracy)
    return {
        "model": cfg.model,
        "model_config": cfg.model_config,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "dataset": cfg.dataset,
        "epochs": last.epoch,
        "train_images": n_train,
        "test_images": n_test,
        "test_accuracy": last.test_accuracy,
        "test_loss": last.test_loss,
        "train_accuracy": last.train_accuracy,
        "train_loss": last.train_loss,
        "best_test_accuracy": best.test_accuracy,
        "best_epoch": best.epoch,
        "train_seconds": seconds,
        "seconds_per_epoch": seconds / len(history),
        "peak_memory_mib": peak_memory_mib(),
        "seed": cfg.seed,
        "optimizer": cfg.optimizer,
        "lr": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "batch_size": cfg.batch_size,
        "schedule": cfg.schedule,
        "augment": cfg.augment,
        "limit": cfg.limit,
        "finished": datetime.now().isoformat(timespec="seconds"),
        "versions": {
            "autograd_mnist": autograd_mnist.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }


def write_plots(
    run_dir: PathLike, history: list[train.EpochMetrics] | None = None, verbose: bool = True
) -> list[Path]:
    """Draw ``loss.png`` and ``accuracy.png`` of a run; skip (with a message) without matplotlib.

    Args:
        run_dir: the run folder.
        history: the epochs to plot (None: read them from the folder's checkpoint).
        verbose: print what was written or why plots were skipped.

    Returns:
        The files written (empty when matplotlib is missing).
    """
    run_dir = Path(run_dir)
    if history is None:
        history = history_of(load_checkpoint(run_dir))
    try:
        paths = plots.plot_curves([m.as_dict() for m in history], run_dir)
    except plots.MissingMatplotlib:
        if verbose:
            print(f"plots skipped: matplotlib is not installed; to get them: {INSTALL_HINT}")
        return []
    if verbose:
        print("plots: " + ", ".join(str(p) for p in paths))
    return paths


# ----- text tables -----
def format_per_class(cm: np.ndarray, names: Sequence[str]) -> str:
    """Per-class accuracy table from a confusion matrix (rows = answers)."""
    width = max([5, *(len(n) for n in names)])  # max(5, *()) would be max(5): TypeError
    lines = ["per-class accuracy:", f"  {'class':<{width}}  images  correct  accuracy"]
    for k, name in enumerate(names[: len(cm)]):
        total, right = int(cm[k].sum()), int(cm[k, k])
        acc = f"{right / total:.2%}" if total else "-"
        lines.append(f"  {name:<{width}}  {total:>6}  {right:>7}  {acc:>8}")
    return "\n".join(lines)


def format_confusion(cm: np.ndarray) -> str:
    """The confusion matrix as a text table: rows = answer, columns = prediction."""
    width = max(4, len(str(int(cm.max()))) + 1) if cm.size else 4
    k = len(cm)
    lines = [
        "confusion matrix (rows: answer, columns: prediction):",
        "      " + "".join(f"{c:>{width}}" for c in range(k)),
    ]
    for r in range(k):
        lines.append(f"  {r:>2}  " + "".join(f"{int(v):>{width}}" for v in cm[r]))
    return "\n".join(lines)
