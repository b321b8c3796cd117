"""Run folders: train a preset model into one folder, checkpoint every epoch, resume.

A run folder (``runs/<YYYYmmdd-HHMMSS>`` unless ``out`` is given) holds:

- ``config.json``: the run's settings, defaults filled in from ``models.TRAIN_DEFAULTS``
  (:mod:`autograd_mnist.config`);
- ``checkpoint.npz``: the latest epoch's model, optimizer, scheduler and RNG state, the
  average of the weights (when the run keeps an EMA), the model's name and config, the
  run config and the history (:mod:`autograd_mnist.checkpoint`);
- ``model.safetensors``: the model's weights alone (the averaged ones when the run keeps
  an EMA), rewritten with the checkpoint, in the
  format PyTorch and ONNX tools read (:mod:`autograd_mnist.weights`; older runs lack it);
- ``metrics.csv``, ``summary.json``, ``loss.png``, ``accuracy.png``: per-epoch metrics,
  final results and curves (:mod:`autograd_mnist.report`).

This module only orchestrates: :func:`train_run` starts a run, :func:`resume` continues
one. The checkpoint is rewritten atomically after every epoch, so an interrupted run loses
at most the epoch in progress, and :func:`resume` continues it bit-for-bit: same weights as
a run that was never interrupted. The names that lived here before the split (``RunConfig``,
``load_checkpoint``, ``synthetic_data``, ...) are still importable from here.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from autograd_mnist import config as _config
from autograd_mnist import nn, optim, rundir, serialization, threads, train, weights
from autograd_mnist import rng as _rng
from autograd_mnist.checkpoint import (
    CHECKPOINT,
    FORMAT,
    RunInterrupted,
    bad_checkpoint,
    check_hyper,
    checkpoint_path,
    checkpoint_state,
    history_of,
    load_checkpoint,
    restore_model,
)
from autograd_mnist.config import CONFIG, RunConfig, check_data, resume_epochs
from autograd_mnist.data import DATASETS, Data, Split, random_affine, random_shift, synthetic_data
from autograd_mnist.errors import RunError, TrainingDiverged
from autograd_mnist.io import PathLike, write_json
from autograd_mnist.models import make_model
from autograd_mnist.plots import INSTALL_HINT
from autograd_mnist.report import (
    METRICS,
    SUMMARY,
    peak_memory_mib,
    run_summary,
    write_metrics,
    write_plots,
)
from autograd_mnist.train import SCHEDULES

GIVEN_DATA = "arrays passed from Python"
"""What a run records as its training data when ``data`` was given instead of a dataset."""

load_data = _config.load_data  # re-exported; runs call config.load_data (patch it there)

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "DATASETS",
    "INSTALL_HINT",
    "METRICS",
    "SCHEDULES",
    "SUMMARY",
    "Data",
    "RunConfig",
    "RunError",
    "RunInterrupted",
    "RunResult",
    "Split",
    "check_data",
    "checkpoint_path",
    "checkpoint_state",
    "load_checkpoint",
    "load_data",
    "make_model",
    "peak_memory_mib",
    "restore_model",
    "resume",
    "synthetic_data",
    "train_run",
    "write_plots",
]


@dataclass
class RunResult:
    """What :func:`train_run` and :func:`resume` return; ``model`` is the run's result,
    the one it evaluates and exports: the averaged weights when the run keeps an EMA
    (``train.eval_model``)."""

    run_dir: Path
    model: nn.Module
    history: list[train.EpochMetrics]
    summary: dict[str, Any]
    plots: list[Path]


def train_run(
    config: RunConfig | None = None, data: Data | None = None, **overrides: Any
) -> RunResult:
    """Train a preset model into a new run folder.

    Example:
        >>> result = train_run(RunConfig(model="cnn", epochs=1, limit=300))  # doctest: +SKIP
        >>> result.summary["test_accuracy"], result.run_dir  # doctest: +SKIP

    Args:
        config: the settings (None: all defaults); ``overrides`` replace single fields.
        data: ``((x_train, y_train), (x_test, y_test))`` to use instead of loading
            ``config.dataset`` (images ``(N, 1, 28, 28)`` or ``(N, 784)``, labels int).

    Returns:
        The run folder, trained model, per-epoch history, summary and plot files.

    Raises:
        RunError: for a bad option, or an ``out`` folder a new run may not use (a folder of
            other files, a file, a run with a checkpoint, a run in use by another process:
            see :mod:`autograd_mnist.rundir`); nothing is written into such a folder.
        TrainingDiverged: (a ``RunError``) when a loss or weight stops being finite; the
            last good checkpoint, if any, is kept and the message says where.
        RunInterrupted: on Ctrl-C (a ``KeyboardInterrupt`` saying how to resume).
        RuntimeError: if the dataset cannot be found or downloaded.
    """
    given = replace(config or RunConfig(), **overrides)
    cfg = given.resolved()
    run_dir = Path(cfg.out or "")
    fresh = given.out is None  # the default, runs/<stamp>: created exclusively when claimed
    if not fresh:
        rundir.check_new(run_dir)  # before loading data; claim_new checks again under the lock
    train_xy, test_xy = _get_data(cfg, data)
    trained_on = cfg.dataset if data is None else GIVEN_DATA
    _rng.manual_seed(cfg.seed)
    model = make_model(cfg.model, cfg.model_config)
    assert cfg.optimizer is not None and cfg.lr is not None and cfg.epochs is not None
    assert cfg.schedule is not None
    optimizer = train.make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay)
    scheduler = train.make_scheduler(cfg.schedule, optimizer, cfg.epochs, _steps(cfg, train_xy))
    ema = train.make_ema(model, cfg.ema or 0.0)
    lock = rundir.claim_fresh(run_dir) if fresh else rundir.claim_new(run_dir)
    run_dir = lock.folder  # the default may have become runs/<stamp>-2
    cfg = replace(cfg, out=str(run_dir))
    with lock:
        config_doc = {"format": FORMAT, **cfg.to_dict(), "trained_on": trained_on}
        write_json(run_dir / CONFIG, {**config_doc, "created": _now(), "resumed": []})
        print(
            f"run folder: {run_dir}  (model {cfg.model}, {len(train_xy[0])} training images, "
            f"{cfg.epochs} epochs)"
        )
        state = _RunState(cfg, run_dir, model, optimizer, scheduler, [], trained_on, ema)
        with threads.fixed() as state.threads:
            return _run(state, train_xy, test_xy)


def resume(
    run_dir: PathLike,
    epochs: int | None = None,
    data: Data | None = None,
    data_dir: PathLike | None = None,
    progress: bool | None = None,
) -> RunResult:
    """Continue a run from its checkpoint up to ``epochs`` in total, in the same folder.

    The model is rebuilt after ``manual_seed(seed)`` and the model, optimizer, scheduler,
    weight average (EMA) and package RNG states are restored, so the result equals a run
    that was never interrupted, bit for bit. With more epochs than first planned, the schedule is
    recomputed for the new total (epochs already run keep the rates they had).

    Args:
        run_dir: the run folder (or its ``checkpoint.npz``).
        epochs: total epochs wanted (None: the run's configured number).
        data: arrays to use instead of loading the run's dataset (as in :func:`train_run`).
        data_dir: where the IDX files are (None: ``$AUTOGRAD_MNIST_DATA`` or the user
            cache; the folder the checkpoint records is never used).
        progress: show progress bars (None: as the run did).

    Raises:
        RunError: for a missing or bad checkpoint (including weights that do not fit the
            model: the message names the keys and shapes), a damaged ``config.json``, a
            checkpoint not named ``checkpoint.npz``, a folder that is not a run folder of
            ours (see :func:`autograd_mnist.rundir.check_resumable`), a run in use by
            another process, a run trained on arrays resumed without ``data``, or
            ``epochs`` below those done or an empty ``data_dir`` (naming the option).
        TrainingDiverged: as :func:`train_run`.
        RunInterrupted: on Ctrl-C.
    """
    path = checkpoint_path(run_dir)
    if path.name != CHECKPOINT:  # the run's files go beside it: only into a run folder
        raise RunError(
            f"cannot resume {path}: a run continues in its own folder, from its {CHECKPOINT}; "
            f"copy the file as {CHECKPOINT} into a new empty folder and resume that folder"
        )
    folder = path.parent
    with rundir.claim_existing(folder):
        ckpt = load_checkpoint(path)
        path = ckpt["path"]
        with bad_checkpoint(path, "run settings"):
            cfg = replace(RunConfig.from_dict(ckpt["config"]), out=str(folder), data_dir=None)
            cfg = cfg.resolved()
            done = int(ckpt["epoch"])
            own = resume_epochs(cfg, None, done)  # the run's own number of epochs
        total = own if epochs is None else resume_epochs(cfg, epochs, done)
        cfg = replace(  # the caller's options, outside: an error names them, not the file
            cfg,
            epochs=total,
            data_dir=os.fspath(data_dir) if data_dir is not None else None,
            progress=cfg.progress if progress is None else progress,
        ).resolved()
        stored = rundir.read_config(folder / CONFIG)
        trained_on = str(ckpt.get("trained_on", cfg.dataset)) if data is None else GIVEN_DATA
        if trained_on == GIVEN_DATA and data is None:
            raise RunError(
                f"the run in {folder} was trained on {GIVEN_DATA}, not on a dataset; resume it "
                "from Python with the same arrays: runs.resume(folder, data=...)"
            )
        train_xy, test_xy = _get_data(cfg, data)
        _rng.manual_seed(cfg.seed)
        model = restore_model(ckpt, averaged=False)
        assert cfg.optimizer is not None and cfg.lr is not None and cfg.schedule is not None
        with bad_checkpoint(path, "optimizer, scheduler, average and random state"):
            optimizer = train.make_optimizer(
                cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay
            )
            steps = _steps(cfg, train_xy)
            scheduler = train.make_scheduler(cfg.schedule, optimizer, total, steps)
            fresh_groups = copy.deepcopy(_hyper(optimizer))
            optimizer.load_state_dict(ckpt["optimizer"])
            check_hyper(fresh_groups, _hyper(optimizer))
            if scheduler is not None and ckpt.get("scheduler") is not None:
                scheduler.load_state_dict(ckpt["scheduler"])
            check_hyper(fresh_groups, _hyper(optimizer))  # a scheduler's state sets the lr
            ema = train.make_ema(model, cfg.ema or 0.0)
            if ema is not None:
                ema.load_state_dict(ckpt["ema"])
            _rng.set_rng_state(ckpt["rng"])
        history = history_of(ckpt)
        this_resume = {"from_epoch": done, "to_epoch": total, "at": _now()}
        resumed = [*stored.get("resumed", []), this_resume]
        config_doc = {**stored, "format": FORMAT, **cfg.to_dict(), "trained_on": trained_on}
        write_json(folder / CONFIG, {**config_doc, "resumed": resumed})
        print(f"resuming {folder} at epoch {done}/{total}")
        state = _RunState(cfg, folder, model, optimizer, scheduler, history, trained_on, ema)
        recorded = ckpt.get("threads")
        with threads.fixed(recorded) as state.threads:
            if recorded is not None and state.threads != recorded:
                print(
                    f"note: the run computed on {recorded} threads, this resume on "
                    f"{state.threads}: the last bits of the results may differ"
                )
            return _run(state, train_xy, test_xy)


def _hyper(optimizer: optim.Optimizer) -> list[dict[str, Any]]:
    """Each parameter group's hyper-parameters (without its parameters)."""
    return [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]


def _get_data(cfg: RunConfig, data: Data | None) -> Data:
    if data is None:
        data = _config.load_data(cfg.dataset, cfg.data_dir)  # looked up now: patchable
    (x_train, y_train), test = check_data(data)
    if cfg.limit is not None:
        x_train, y_train = x_train[: cfg.limit], y_train[: cfg.limit]
    return (x_train, y_train), test


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _steps(cfg: RunConfig, train_xy: Split) -> int:
    """Optimizer steps per epoch (the last batch may be short)."""
    return -(-len(train_xy[0]) // (cfg.batch_size or 1))


def _augmenter(cfg: RunConfig) -> Callable[[np.ndarray], np.ndarray] | None:
    """The run's augmentation (package generator): random affine transforms when
    ``rotation`` or ``scale`` is set, else whole-pixel shifts of up to ``augment`` pixels,
    or None."""
    shift, degrees, zoom = cfg.augment or 0, cfg.rotation or 0, cfg.scale or 0
    if degrees or zoom:
        return functools.partial(_affine, degrees=degrees, shift=shift, zoom=zoom)
    if not shift:
        return None
    return functools.partial(random_shift, max_shift=shift)


def _affine(images: np.ndarray, degrees: float, shift: float, zoom: float) -> np.ndarray:
    """``random_affine`` with the translation given in pixels and the zoom as 1 +- zoom."""
    H, W = images.shape[-2:]
    out: np.ndarray = random_affine(images, degrees, (shift / W, shift / H), (1 - zoom, 1 + zoom))
    return out


@dataclass
class _RunState:
    """What :func:`_run` trains and checkpoints."""

    cfg: RunConfig
    run_dir: Path
    model: nn.Module
    optimizer: optim.Optimizer
    scheduler: optim.LRScheduler | None
    history: list[train.EpochMetrics]
    trained_on: str
    ema: optim.AveragedModel | None = None
    threads: int | None = None  # the count the run computes with (threads.fixed)


def _run(state: _RunState, train_xy: Split, test_xy: Split) -> RunResult:
    cfg, run_dir, model, history = state.cfg, state.run_dir, state.model, state.history
    assert cfg.epochs is not None and cfg.batch_size is not None
    saved = history[-1].epoch if history else 0

    def on_epoch_end(m: train.EpochMetrics) -> None:
        nonlocal saved
        history.append(m)
        ckpt = checkpoint_state(
            cfg,
            model,
            state.optimizer,
            state.scheduler,
            history,
            state.trained_on,
            state.ema,
            state.threads,
        )
        serialization.save(ckpt, run_dir / CHECKPOINT)
        exported = train.eval_model(model, state.ema)  # the averaged weights, if kept
        weights.save_run_weights(run_dir, exported, cfg.model, cfg.model_config)
        saved = m.epoch
        write_metrics(run_dir / METRICS, history)
        if not cfg.progress:  # with progress, fit prints the same line after each bar
            print(train.format_epoch(m, cfg.epochs or 0), flush=True)

    try:
        train.fit(
            model,
            state.optimizer,
            train_xy,
            test_xy,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            scheduler=state.scheduler,
            start_epoch=saved,
            progress=cfg.progress,
            on_epoch_end=on_epoch_end,
            augment=_augmenter(cfg),
            ema=state.ema,
            label_smoothing=cfg.label_smoothing or 0.0,
        )
    except KeyboardInterrupt:
        raise RunInterrupted(run_dir, saved, cfg.epochs) from None
    except TrainingDiverged as exc:
        if saved:
            kept = f"the last good checkpoint (epoch {saved}) is kept: {run_dir / CHECKPOINT}"
        else:
            kept = f"no checkpoint was written; start again in place with --out {run_dir}"
        raise TrainingDiverged(f"{exc}; {kept}", exc.epoch, exc.step, exc.loss) from None
    if not history:  # nothing trained and nothing before (cannot happen with epochs >= 1)
        raise RunError(f"{run_dir}: no epoch was run")
    write_metrics(run_dir / METRICS, history)
    result = train.eval_model(model, state.ema)
    summary = run_summary(cfg, result, history, len(train_xy[0]), len(test_xy[0]))
    write_json(run_dir / SUMMARY, summary)
    paths = write_plots(run_dir, history)
    return RunResult(run_dir, result, history, summary, paths)
