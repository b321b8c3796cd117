"""A run's inputs, checked: its settings (:class:`RunConfig`) and its data.

``RunConfig.resolved()`` fills every setting left at None from the model's row of
``models.TRAIN_DEFAULTS`` and checks every value against the tables it names
(``models.MODELS``, ``optim.OPTIMIZERS``, ``train.SCHEDULES``, ``data.DATASETS``), so a
bad option fails before anything is trained or written. :func:`load_data` and
:func:`check_data` give the arrays a run trains on. Problems raise
:class:`~autograd_mnist.errors.RunError`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from autograd_mnist import models, optim, train
from autograd_mnist._args import is_int
from autograd_mnist.data import DATASETS, Data, load_dataset
from autograd_mnist.errors import RunError
from autograd_mnist.io import PathLike

__all__ = [
    "CONFIG",
    "RunConfig",
    "RunError",
    "check_data",
    "load_data",
    "resume_epochs",
]

CONFIG = "config.json"
"""The run folder's file of settings (``RunConfig.to_dict()`` plus creation and resumes)."""


@dataclass
class RunConfig:
    """Settings of one training run; ``None`` means "the model's default".

    Attributes:
        model: a preset name from ``models.MODELS``.
        model_config: keyword arguments for the preset (e.g. ``{"hidden": [40, 20]}``).
        dataset: a name from ``data.DATASETS``: ``'mnist'`` or ``'fashion'``.
        epochs, batch_size, optimizer, lr, schedule, augment, rotation, scale, ema,
            label_smoothing: from ``models.TRAIN_DEFAULTS[model]`` when None.
            ``schedule`` is a name from ``train.SCHEDULES`` (``'none'``, ``'step'``,
            ``'cosine'``, ``'onecycle'``); ``augment`` is the largest random shift of the
            training images in pixels (0: none); ``rotation`` the largest random rotation
            in degrees and ``scale`` the largest random zoom, as a fraction (0.1: zoom
            factors from 0.9 to 1.1): with either set, each training image is rotated,
            zoomed and shifted (by up to ``augment`` pixels, not rounded) by
            ``data.random_affine``, else shifted by whole pixels by ``data.random_shift``;
            ``ema`` is the decay per optimizer step of an exponential moving average of
            the weights (with a warm-up: ``train.make_ema``), which is then what is
            evaluated and saved as the result (0: no average); ``label_smoothing`` is the
            cross-entropy's (PyTorch's), in [0, 1].
        weight_decay: L2 coefficient passed to the optimizer.
        seed: seeds the package generator (initial weights, shuffling, dropout).
        limit: train on the first ``limit`` training images only (the test set stays whole).
        data_dir: where the IDX files are (None: ``$AUTOGRAD_MNIST_DATA`` or the user cache).
        out: the run folder (None: ``runs/<YYYYmmdd-HHMMSS>``, or ``<...>-2``... when a run
            started in the same second took it: ``rundir.claim_fresh``).
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
    rotation: float | None = None
    scale: float | None = None
    ema: float | None = None
    label_smoothing: float | None = None
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
        if not isinstance(self.model, str) or self.model not in models.MODELS:
            raise RunError(f"unknown model {self.model!r}; expected one of {sorted(models.MODELS)}")
        defaults = models.TRAIN_DEFAULTS[self.model]
        cfg = replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})
        if cfg.out is None:
            cfg.out = str(_fresh_run_dir(Path("runs")))
        for name in ("out", "data_dir"):  # paths become str; anything else fails _check
            value = getattr(cfg, name)
            if isinstance(value, os.PathLike):
                setattr(cfg, name, os.fspath(value))
        cfg._check()
        cfg.model_config = dict(cfg.model_config)
        return cfg

    def _check(self) -> None:
        checks: list[tuple[str, Any, bool, str]] = [
            (
                "model_config",
                self.model_config,
                isinstance(self.model_config, dict) and all(map(_is_str, self.model_config)),
                "a dict of keyword arguments (str keys)",
            ),
            (
                "dataset",
                self.dataset,
                _is_str(self.dataset) and self.dataset in DATASETS,
                f"one of {sorted(DATASETS)}",
            ),
            ("epochs", self.epochs, is_int(self.epochs) and self.epochs >= 1, "an int >= 1"),
            (
                "batch_size",
                self.batch_size,
                is_int(self.batch_size) and self.batch_size >= 1,
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
            (
                "schedule",
                self.schedule,
                _is_str(self.schedule) and self.schedule in train.SCHEDULES,
                f"one of {list(train.SCHEDULES)}",
            ),
            (
                "augment",
                self.augment,
                is_int(self.augment) and 0 <= self.augment <= 8,
                "an int from 0 to 8 (pixels)",
            ),
            (
                "rotation",
                self.rotation,
                _is_number(self.rotation) and 0 <= self.rotation <= 180,
                "a number from 0 to 180 (degrees)",
            ),
            (
                "scale",
                self.scale,
                _is_number(self.scale) and 0 <= self.scale < 1,
                "a number >= 0 and < 1 (zoom factors 1 - scale to 1 + scale)",
            ),
            ("ema", self.ema, _is_number(self.ema) and 0 <= self.ema < 1, "a number in [0, 1)"),
            (
                "label_smoothing",
                self.label_smoothing,
                _is_number(self.label_smoothing) and 0 <= self.label_smoothing <= 1,
                "a number in [0, 1]",
            ),
            ("seed", self.seed, is_int(self.seed) and self.seed >= 0, "an int >= 0"),
            (
                "limit",
                self.limit,
                self.limit is None or (is_int(self.limit) and self.limit >= 1),
                "None or an int >= 1",
            ),
            ("out", self.out, _is_str(self.out) and self.out != "", "a folder path (not empty)"),
            (
                "data_dir",
                self.data_dir,
                self.data_dir is None or (_is_str(self.data_dir) and self.data_dir != ""),
                "None or a folder path (not empty)",
            ),
            ("progress", self.progress, isinstance(self.progress, bool), "True or False"),
        ]
        for name, value, ok, rule in checks:
            if not ok:
                raise RunError(f"bad {name}: got {value!r}, expected {rule}")

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain (JSON-ready) dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """Rebuild from :meth:`to_dict` output; unknown keys are ignored.

        A setting added after the run was made (see :data:`ADDED_SETTINGS`) gets the value
        that means "off", as the run had it, not today's default.
        """
        known = {f.name for f in fields(cls)}
        kwargs = {**ADDED_SETTINGS, **{k: v for k, v in d.items() if k in known}}
        kwargs["model_config"] = dict(kwargs.get("model_config") or {})
        return cls(**kwargs)


ADDED_SETTINGS: dict[str, Any] = {"rotation": 0, "scale": 0, "ema": 0, "label_smoothing": 0}
"""Settings newer than the first run configs, with the value an older run had (off)."""


def resume_epochs(config: RunConfig, epochs: int | None, done: int) -> int:
    """The total epochs of a resumed run: ``epochs`` (``--epochs``), else the run's own.

    Raises:
        RunError: if the total is not an int or is below ``done``, the epochs already run;
            for ``epochs`` given, the message names ``--epochs``.
    """
    if epochs is None:
        total = done if config.epochs is None else config.epochs
        if not is_int(total) or total < done:
            raise RunError(f"bad epochs: got {total!r}, expected an int >= {done} (epochs done)")
        return int(total)
    if not is_int(epochs) or epochs < done:
        raise RunError(
            f"bad --epochs: got {epochs!r}, expected an int >= {done}: the run has done {done} "
            "epochs, and --epochs is the total to train up to, not epochs to add"
        )
    return int(epochs)


def _is_str(v: Any) -> TypeGuard[str]:
    return isinstance(v, str)


def _is_number(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v  # not nan


def _fresh_run_dir(parent: Path) -> Path:
    """``parent/<YYYYmmdd-HHMMSS>``: the default run folder's first choice; the run
    creates it exclusively, or the next free ``<stamp>-2``... (``rundir.claim_fresh``)."""
    return parent / datetime.now().strftime("%Y%m%d-%H%M%S")


# ----- data -----
def load_data(dataset: str, data_dir: PathLike | None = None) -> Data:
    """The dataset as float32 images ``(N, 1, 28, 28)`` in [0, 1] and int64 labels ``(N,)``.

    Runs and the CLI get their data through this function (looked up here at call time),
    so tests can replace it (``monkeypatch.setattr(config, "load_data", ...)``) and never
    touch the network.

    Args:
        dataset: a name from ``data.DATASETS``: ``'mnist'`` or ``'fashion'``.
        data_dir: the data directory (None: ``$AUTOGRAD_MNIST_DATA`` or the user cache).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: 60,000 and 10,000 images.

    Raises:
        RunError: for an unknown dataset.
        RuntimeError: if the data is neither in the data folder nor downloadable.
    """
    if dataset not in DATASETS:
        raise RunError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    return load_dataset(dataset, normalize=True, flatten=False, data_dir=data_dir)


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
