"""Run folders: train a preset model into one folder, checkpoint every epoch, resume.

A run folder (``runs/<YYYYmmdd-HHMMSS>`` unless ``out`` is given) holds:

- ``config.json``: the run's settings, defaults filled in from ``models.TRAIN_DEFAULTS``;
- ``metrics.csv``: one row per epoch (:class:`autograd_mnist.train.EpochMetrics` fields);
- ``checkpoint.npz``: the latest epoch's model, optimizer, scheduler and RNG state, the
  model's name and config, the run config and the history (see :func:`checkpoint_state`);
- ``summary.json``: final accuracy and loss, time, peak memory;
- ``loss.png``, ``accuracy.png``: train/test curves (when matplotlib is installed).

The checkpoint is rewritten atomically after every epoch, so an interrupted run loses at
most the epoch in progress, and :func:`resume` continues it bit-for-bit: same weights as a
run that was never interrupted.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from autograd_mnist import models, nn, optim, serialization, train
from autograd_mnist import rng as _rng
from autograd_mnist.data import load_fashion_mnist, load_mnist, random_shift
from autograd_mnist.data.idx import atomic_open

__all__ = [
    "DATASETS",
    "INSTALL_HINT",
    "RunConfig",
    "RunError",
    "RunInterrupted",
    "RunResult",
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

Split = tuple[np.ndarray, np.ndarray]
Data = tuple[Split, Split]
PathLike = str | os.PathLike[str]

#: Dataset name -> loader (called with ``normalize=True, flatten=False, data_dir=...``).
DATASETS: dict[str, Callable[..., Data]] = {"mnist": load_mnist, "fashion": load_fashion_mnist}
SCHEDULES = ("none", "step", "cosine")
CHECKPOINT = "checkpoint.npz"
CONFIG = "config.json"
METRICS = "metrics.csv"
SUMMARY = "summary.json"
INSTALL_HINT = 'pip install "autograd-mnist[train]"'

_FORMAT = "autograd_mnist.run"
_VERSION = 1
# Used when a model has no entry in models.TRAIN_DEFAULTS.
_FALLBACK: dict[str, Any] = {
    "optimizer": "adam",
    "lr": 1e-3,
    "batch_size": 128,
    "epochs": 1,
    "schedule": "none",
    "augment": 0,
}


class RunError(Exception):
    """A problem the user can fix: a missing run folder, a bad checkpoint, a bad option."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``str()`` says where the checkpoint is and how to resume."""

    def __init__(self, run_dir: Path, epochs_done: int, epochs: int) -> None:
        self.run_dir, self.epochs_done, self.epochs = run_dir, epochs_done, epochs
        if epochs_done:
            msg = (
                f"interrupted in epoch {epochs_done + 1}/{epochs}; the checkpoint after epoch "
                f"{epochs_done} is {run_dir / CHECKPOINT}; resume with: "
                f"autograd-mnist train --resume {run_dir} --epochs {epochs}"
            )
        else:
            msg = (
                f"interrupted in epoch 1/{epochs}, before any checkpoint was written; "
                f"nothing to resume in {run_dir}: start the run again"
            )
        super().__init__(msg)


@dataclass
class RunConfig:
    """Settings of one training run; ``None`` means "the model's default".

    Attributes:
        model: a preset name from ``models.MODELS``.
        model_config: keyword arguments for the preset (e.g. ``{"hidden": [40, 20]}``).
        dataset: ``'mnist'`` or ``'fashion'``.
        epochs, batch_size, optimizer, lr, schedule, augment: from
            ``models.TRAIN_DEFAULTS[model]`` when None; ``schedule`` is ``'none'``,
            ``'step'`` or ``'cosine'``; ``augment`` is the largest random shift of the
            training images in pixels (0: none).
        weight_decay: L2 coefficient passed to the optimizer.
        seed: seeds the package generator (initial weights, shuffling, dropout).
        limit: train on the first ``limit`` training images only (the test set stays whole).
        data_dir: where the IDX files are (None: ``$AUTOGRAD_MNIST_DATA`` or the user cache).
        out: the run folder (None: ``runs/<YYYYmmdd-HHMMSS>``).
        progress: show a progress bar per epoch.
    """

    model: str = models.DEFAULT_MODEL
    model_config: dict[str, Any] = field(default_factory=dict)
    dataset: str = "mnist"
    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    weight_decay: float = 0.0
    schedule: str | None = None
    augment: int | None = None
    seed: int = 0
    limit: int | None = None
    data_dir: str | None = None
    out: str | None = None
    progress: bool = True

    def resolved(self) -> RunConfig:
        """A copy with every default filled in and every value checked.

        Raises:
            RunError: naming the bad option, its value and what is allowed.
        """
        if self.model not in models.MODELS:
            raise RunError(f"unknown model {self.model!r}; expected one of {sorted(models.MODELS)}")
        defaults = {**_FALLBACK, **models.TRAIN_DEFAULTS.get(self.model, {})}
        filled = {k: defaults[k] for k in _FALLBACK if getattr(self, k) is None}
        cfg = replace(self, **filled)
        cfg.model_config = dict(cfg.model_config)
        if cfg.out is None:
            cfg.out = str(_fresh_run_dir(Path("runs")))
        if cfg.data_dir is not None:
            cfg.data_dir = os.fspath(cfg.data_dir)
        cfg.out = os.fspath(cfg.out)
        cfg._check()
        return cfg

    def _check(self) -> None:
        checks: list[tuple[str, Any, bool, str]] = [
            ("dataset", self.dataset, self.dataset in DATASETS, f"one of {sorted(DATASETS)}"),
            ("epochs", self.epochs, _is_int(self.epochs) and self.epochs >= 1, "an int >= 1"),
            (
                "batch_size",
                self.batch_size,
                _is_int(self.batch_size) and self.batch_size >= 1,
                "an int >= 1",
            ),
            (
                "optimizer",
                self.optimizer,
                str(self.optimizer).lower() in optim.OPTIMIZERS,
                f"one of {sorted(optim.OPTIMIZERS)}",
            ),
            ("lr", self.lr, isinstance(self.lr, int | float) and self.lr >= 0, "a number >= 0"),
            (
                "weight_decay",
                self.weight_decay,
                isinstance(self.weight_decay, int | float) and self.weight_decay >= 0,
                "a number >= 0",
            ),
            ("schedule", self.schedule, self.schedule in SCHEDULES, f"one of {list(SCHEDULES)}"),
            (
                "augment",
                self.augment,
                _is_int(self.augment) and 0 <= self.augment <= 8,
                "an int from 0 to 8 (pixels)",
            ),
            ("seed", self.seed, _is_int(self.seed) and self.seed >= 0, "an int >= 0"),
            (
                "limit",
                self.limit,
                self.limit is None or (_is_int(self.limit) and self.limit >= 1),
                "None or an int >= 1",
            ),
        ]
        for name, value, ok, rule in checks:
            if not ok:
                raise RunError(f"bad {name}: got {value!r}, expected {rule}")

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain (JSON-ready) dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        kwargs["model_config"] = dict(kwargs.get("model_config") or {})
        return cls(**kwargs)


@dataclass
class RunResult:
    """What :func:`train_run` and :func:`resume` return."""

    run_dir: Path
    model: nn.Module
    history: list[train.EpochMetrics]
    summary: dict[str, Any]
    plots: list[Path]


def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _fresh_run_dir(parent: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, k = parent / stamp, 1
    while path.exists():
        k += 1
        path = parent / f"{stamp}-{k}"
    return path


# ----- data -----
def load_data(dataset: str, data_dir: PathLike | None = None) -> Data:
    """The dataset as float32 images ``(N, 1, 28, 28)`` in [0, 1] and int64 labels ``(N,)``.

    Runs and the CLI get their data through this function, so tests can replace it
    (``monkeypatch.setattr(runs, "load_data", ...)``) and never touch the network.

    Args:
        dataset: ``'mnist'`` or ``'fashion'``.
        data_dir: the data directory (None: ``$AUTOGRAD_MNIST_DATA`` or the user cache).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: 60,000 and 10,000 images.

    Raises:
        RunError: for an unknown dataset.
        RuntimeError: if the data is neither in the data folder nor downloadable.
    """
    if dataset not in DATASETS:
        raise RunError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    return DATASETS[dataset](normalize=True, flatten=False, data_dir=data_dir)


def synthetic_data(n_train: int = 64, n_test: int = 32, seed: int = 0) -> Data:
    """A small learnable stand-in for MNIST: each class is a fixed random pattern plus noise.

    Shapes and dtypes match :func:`load_data` (float32 ``(N, 1, 28, 28)`` in [0, 1], int64
    labels), so examples and tests run offline in seconds.
    """
    gen = np.random.default_rng(seed)
    prototypes = (gen.random((10, 1, 28, 28)) < 0.25).astype(np.float32)  # (10, 1, 28, 28)

    def split(n: int) -> Split:
        y = gen.integers(0, 10, size=n).astype(np.int64)
        noise = gen.random((n, 1, 28, 28), dtype=np.float32)
        x = np.clip(0.7 * prototypes[y] + 0.3 * noise, 0.0, 1.0).astype(np.float32)
        return x, y

    return split(n_train), split(n_test)


def check_data(data: Data) -> Data:
    """Check ``((x_train, y_train), (x_test, y_test))``; images become float32 ``(N, 1, 28, 28)``.

    Raises:
        RunError: naming the shapes and dtypes found.
    """
    try:
        (x_train, y_train), (x_test, y_test) = data
    except (TypeError, ValueError):
        raise RunError("data must be ((x_train, y_train), (x_test, y_test))") from None
    out = []
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim == 2 and x.shape[1] == 784:
            x = x.reshape(len(x), 1, 28, 28)  # (N, 784) -> (N, 1, 28, 28)
        if x.shape[1:] != (1, 28, 28) or y.shape != (len(x),) or y.dtype.kind not in "iu":
            raise RunError(
                f"bad {name} data: got images {x.shape} {x.dtype}, labels {y.shape} {y.dtype}; "
                "expected images (N, 1, 28, 28) and integer labels (N,)"
            )
        out.append((x.astype(np.float32, copy=False), y.astype(np.int64, copy=False)))
    return out[0], out[1]


def _get_data(cfg: RunConfig, data: Data | None) -> Data:
    if data is None:
        data = load_data(cfg.dataset, cfg.data_dir)
    (x_train, y_train), test = check_data(data)
    if cfg.limit is not None:
        x_train, y_train = x_train[: cfg.limit], y_train[: cfg.limit]
    return (x_train, y_train), test


# ----- models and checkpoints -----
def make_model(name: str, config: dict[str, Any]) -> nn.Module:
    """``models.build_model(name, **config)``, its errors turned into :class:`RunError`."""
    try:
        return models.build_model(name, **config)
    except (TypeError, ValueError, KeyError) as exc:
        raise RunError(f"cannot build model {name!r} with config {config}: {exc}") from None


def checkpoint_state(
    cfg: RunConfig,
    model: nn.Module,
    optimizer: optim.Optimizer,
    scheduler: optim.LRScheduler | None,
    history: list[train.EpochMetrics],
) -> dict[str, Any]:
    """Everything :func:`resume` needs, as a tree :func:`serialization.save` can write."""
    return {
        "format": _FORMAT,
        "version": _VERSION,
        "epoch": history[-1].epoch if history else 0,
        "model": {"name": cfg.model, "config": dict(cfg.model_config)},
        "model_state": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": _rng.get_rng_state(),
        "config": cfg.to_dict(),
        "history": [m.as_dict() for m in history],
    }


def checkpoint_path(run_or_checkpoint: PathLike) -> Path:
    """``<run>/checkpoint.npz`` for a run folder, the path itself for a file.

    Raises:
        RunError: if neither exists.
    """
    path = Path(run_or_checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT
        if not path.is_file():
            raise RunError(
                f"{run_or_checkpoint} has no {CHECKPOINT}: not a run folder, or no epoch finished"
            )
    elif not path.is_file():
        raise RunError(f"no run folder or checkpoint at {run_or_checkpoint}")
    return path


def load_checkpoint(run_or_checkpoint: PathLike) -> dict[str, Any]:
    """Read and check a run's checkpoint (a run folder or the ``.npz`` itself).

    Raises:
        RunError: if it is missing, unreadable, or not a run checkpoint.
    """
    path = checkpoint_path(run_or_checkpoint)
    try:
        ckpt = serialization.load(path)
    except (OSError, ValueError) as exc:
        raise RunError(f"bad checkpoint {path}: {exc}") from None
    if ckpt.get("format") != _FORMAT:
        raise RunError(f"bad checkpoint {path}: not an autograd-mnist run checkpoint")
    if ckpt.get("version") != _VERSION:
        raise RunError(
            f"bad checkpoint {path}: version {ckpt.get('version')!r}, expected {_VERSION}"
        )
    missing = [
        k
        for k in ("epoch", "model", "model_state", "optimizer", "rng", "config", "history")
        if k not in ckpt
    ]
    if missing:
        raise RunError(f"bad checkpoint {path}: missing entries {missing}")
    ckpt["path"] = str(path)
    return ckpt


def restore_model(ckpt: dict[str, Any]) -> nn.Module:
    """Rebuild the checkpoint's model and load its weights (in eval mode).

    Raises:
        RunError: if the weights do not fit the model, naming the keys and shapes.
    """
    name, config = ckpt["model"]["name"], dict(ckpt["model"].get("config") or {})
    model = make_model(name, config)
    try:
        model.load_state_dict(ckpt["model_state"])
    except ValueError as exc:
        raise RunError(
            f"checkpoint {ckpt.get('path', '')} does not fit model {name!r}: {exc}"
        ) from None
    model.eval()
    return model


# ----- files -----
def _write_text(path: Path, text: str) -> None:
    with atomic_open(path) as f:
        f.write(text.encode("utf-8"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    _write_text(path, json.dumps(_jsonable(obj), indent=2) + "\n")


def _write_metrics(path: Path, history: list[train.EpochMetrics]) -> None:
    buf = io.StringIO()
    names = [f.name for f in fields(train.EpochMetrics)]
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    for m in history:
        writer.writerow([getattr(m, k) for k in names])
    _write_text(path, buf.getvalue())


def peak_memory_mib() -> float | None:
    """The process's peak resident memory in MiB (``getrusage`` maxrss), None if unknown."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def _summary(
    cfg: RunConfig, model: nn.Module, history: list[train.EpochMetrics], n_train: int, n_test: int
) -> dict[str, Any]:
    import autograd_mnist

    last = history[-1]
    seconds = sum(m.seconds for m in history)
    best = max(history, key=lambda m: m.test_accuracy)
    return {
        "model": cfg.model,
        "model_config": cfg.model_config,
        "parameters": int(sum(p.size for p in model.parameters())),
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
    from autograd_mnist import plots

    run_dir = Path(run_dir)
    if history is None:
        history = [train.EpochMetrics(**h) for h in load_checkpoint(run_dir)["history"]]
    try:
        paths = plots.plot_curves([m.as_dict() for m in history], run_dir)
    except plots.MissingMatplotlib:
        if verbose:
            print(f"plots skipped: matplotlib is not installed; to get them: {INSTALL_HINT}")
        return []
    if verbose:
        print("plots: " + ", ".join(str(p) for p in paths))
    return paths


# ----- training -----
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
        RunError: for a bad option, or an ``out`` folder that already holds a run.
        RunInterrupted: on Ctrl-C (a ``KeyboardInterrupt`` saying how to resume).
        RuntimeError: if the dataset cannot be found or downloaded.
    """
    cfg = replace(config or RunConfig(), **overrides).resolved()
    run_dir = Path(cfg.out or "")
    if (run_dir / CHECKPOINT).exists() or (run_dir / CONFIG).exists():
        raise RunError(
            f"{run_dir} already holds a run; continue it with --resume {run_dir}, "
            "or choose another --out"
        )
    train_xy, test_xy = _get_data(cfg, data)
    _rng.manual_seed(cfg.seed)
    model = make_model(cfg.model, cfg.model_config)
    assert cfg.optimizer is not None and cfg.lr is not None and cfg.epochs is not None
    assert cfg.schedule is not None
    optimizer = train.make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay)
    scheduler = train.make_scheduler(cfg.schedule, optimizer, cfg.epochs)
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(run_dir / CONFIG, {**cfg.to_dict(), "created": _now(), "resumed": []})
    print(
        f"run folder: {run_dir}  (model {cfg.model}, {len(train_xy[0])} training images, "
        f"{cfg.epochs} epochs)"
    )
    return _run(cfg, run_dir, model, optimizer, scheduler, train_xy, test_xy, [])


def resume(
    run_dir: PathLike,
    epochs: int | None = None,
    data: Data | None = None,
    data_dir: PathLike | None = None,
    progress: bool | None = None,
) -> RunResult:
    """Continue a run from its checkpoint up to ``epochs`` in total, in the same folder.

    The model is rebuilt after ``manual_seed(seed)`` and the model, optimizer, scheduler
    and package RNG states are restored, so the result equals a run that was never
    interrupted, bit for bit. With more epochs than first planned, the schedule is
    recomputed for the new total (epochs already run keep the rates they had).

    Args:
        run_dir: the run folder (or its ``checkpoint.npz``).
        epochs: total epochs wanted (None: the run's configured number).
        data: arrays to use instead of loading the run's dataset (as in :func:`train_run`).
        data_dir: where the IDX files are, if not where the run first found them.
        progress: show progress bars (None: as the run did).

    Raises:
        RunError: for a missing or bad checkpoint (including weights that do not fit the
            model: the message names the keys and shapes), or ``epochs`` below those done.
        RunInterrupted: on Ctrl-C.
    """
    ckpt = load_checkpoint(run_dir)
    folder = Path(ckpt["path"]).parent
    cfg = RunConfig.from_dict(ckpt["config"])
    done = int(ckpt["epoch"])
    total = int(cfg.epochs or done) if epochs is None else epochs
    if not _is_int(total) or total < done:
        raise RunError(f"bad epochs: got {epochs!r}, expected an int >= {done} (epochs done)")
    cfg = replace(
        cfg,
        epochs=total,
        out=str(folder),
        data_dir=os.fspath(data_dir) if data_dir is not None else cfg.data_dir,
        progress=cfg.progress if progress is None else progress,
    ).resolved()
    train_xy, test_xy = _get_data(cfg, data)
    _rng.manual_seed(cfg.seed)
    model = restore_model(ckpt)
    assert cfg.optimizer is not None and cfg.lr is not None and cfg.schedule is not None
    optimizer = train.make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay)
    scheduler = train.make_scheduler(cfg.schedule, optimizer, total)
    try:
        optimizer.load_state_dict(ckpt["optimizer"])
        if scheduler is not None and ckpt.get("scheduler") is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RunError(f"bad checkpoint {ckpt['path']}: optimizer state: {exc}") from None
    _rng.set_rng_state(ckpt["rng"])
    history = [train.EpochMetrics(**h) for h in ckpt["history"]]
    config_path = folder / CONFIG
    try:
        stored = json.loads(config_path.read_text())
    except (OSError, ValueError):
        stored = {}
    resumed = [*stored.get("resumed", []), {"from_epoch": done, "to_epoch": total, "at": _now()}]
    _write_json(config_path, {**stored, **cfg.to_dict(), "resumed": resumed})
    print(f"resuming {folder} at epoch {done}/{total}")
    return _run(cfg, folder, model, optimizer, scheduler, train_xy, test_xy, history)


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _augmenter(shift: int) -> Callable[[np.ndarray], np.ndarray] | None:
    """Random shifts of up to ``shift`` pixels (package generator), or None."""
    if not shift:
        return None
    return functools.partial(random_shift, max_shift=shift)


def _run(
    cfg: RunConfig,
    run_dir: Path,
    model: nn.Module,
    optimizer: optim.Optimizer,
    scheduler: optim.LRScheduler | None,
    train_xy: Split,
    test_xy: Split,
    history: list[train.EpochMetrics],
) -> RunResult:
    assert cfg.epochs is not None and cfg.batch_size is not None
    saved = history[-1].epoch if history else 0

    def on_epoch_end(m: train.EpochMetrics) -> None:
        nonlocal saved
        history.append(m)
        serialization.save(
            checkpoint_state(cfg, model, optimizer, scheduler, history), run_dir / CHECKPOINT
        )
        saved = m.epoch
        _write_metrics(run_dir / METRICS, history)
        if not cfg.progress:
            print(
                f"epoch {m.epoch}/{cfg.epochs}: train loss {m.train_loss:.4f} "
                f"acc {m.train_accuracy:.4f} | test loss {m.test_loss:.4f} "
                f"acc {m.test_accuracy:.4f} | {m.seconds:.1f} s",
                flush=True,
            )

    try:
        train.fit(
            model,
            optimizer,
            train_xy,
            test_xy,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            scheduler=scheduler,
            start_epoch=saved,
            progress=cfg.progress,
            on_epoch_end=on_epoch_end,
            augment=_augmenter(cfg.augment or 0),
        )
    except KeyboardInterrupt:
        raise RunInterrupted(run_dir, saved, cfg.epochs) from None
    if not history:  # nothing trained and nothing before (cannot happen with epochs >= 1)
        raise RunError(f"{run_dir}: no epoch was run")
    _write_metrics(run_dir / METRICS, history)
    summary = _summary(cfg, model, history, len(train_xy[0]), len(test_xy[0]))
    _write_json(run_dir / SUMMARY, summary)
    paths = write_plots(run_dir, history)
    return RunResult(run_dir, model, history, summary, paths)
