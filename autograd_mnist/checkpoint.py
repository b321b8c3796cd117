"""A run's checkpoint: what it holds, how it is read back and checked, and Ctrl-C.

``<run>/checkpoint.npz`` is written (atomically, by :func:`autograd_mnist.serialization.save`)
after every epoch. It holds the latest epoch's model, optimizer, scheduler and package RNG
state, the average of the weights (``"ema"``: an ``AveragedModel``'s state, or None), the
model's name and config, the run config and the history: everything needed to
rebuild the model (:func:`restore_model`) or to continue the run bit for bit
(:func:`autograd_mnist.runs.resume`).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from autograd_mnist import nn, optim, serialization, train
from autograd_mnist import rng as _rng
from autograd_mnist.config import CONFIG, RunConfig
from autograd_mnist.errors import RunError
from autograd_mnist.io import PathLike
from autograd_mnist.models import config_for_weights, make_model

__all__ = [
    "CHECKPOINT",
    "FORMAT",
    "VERSION",
    "RunInterrupted",
    "bad_checkpoint",
    "check_hyper",
    "checkpoint_path",
    "checkpoint_state",
    "history_of",
    "load_checkpoint",
    "restore_model",
]

CHECKPOINT = "checkpoint.npz"
"""The checkpoint's file name in a run folder."""
FORMAT = "autograd_mnist.run"
"""The checkpoint's ``format`` entry, telling a run checkpoint from any other ``.npz``."""
VERSION = 1
"""The checkpoint layout's version; :func:`load_checkpoint` refuses any other."""

_REQUIRED = ("epoch", "model", "model_state", "optimizer", "rng", "config", "history")


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
                f"nothing to resume: run the same command again to start over in {run_dir}"
            )
        super().__init__(msg)


def checkpoint_state(
    cfg: RunConfig,
    model: nn.Module,
    optimizer: optim.Optimizer,
    scheduler: optim.LRScheduler | None,
    history: list[train.EpochMetrics],
    trained_on: str | None = None,
    ema: optim.AveragedModel | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Everything a resume needs, as a tree :func:`serialization.save` can write.

    ``ema`` is the run's average of the weights, if it keeps one (``train.make_ema``).
    ``threads`` is the thread count the run computes with (``threads.fixed``): a resume
    uses it again, since another count can change the last bits of float32 results.

    ``trained_on`` says what the model was trained on (None: ``cfg.dataset``), e.g.
    ``"arrays passed from Python"``; ``evaluate`` warns when it differs from the data scored.
    """
    return {
        "format": FORMAT,
        "version": VERSION,
        "epoch": history[-1].epoch if history else 0,
        "model": {"name": cfg.model, "config": dict(cfg.model_config)},
        "model_state": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "ema": ema.state_dict() if ema is not None else None,
        "rng": _rng.get_rng_state(),
        "config": cfg.to_dict(),
        "history": [m.as_dict() for m in history],
        "trained_on": cfg.dataset if trained_on is None else trained_on,
        "threads": threads,
    }


def checkpoint_path(run_or_checkpoint: PathLike) -> Path:
    """``<run>/checkpoint.npz`` for a run folder, the path itself for a file.

    Raises:
        RunError: if neither exists, or the path is empty.
    """
    if os.fspath(run_or_checkpoint) == "":  # Path("") is the working folder: never that
        raise RunError("no run folder or checkpoint at '': expected a path (not empty)")
    path = Path(run_or_checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT
        if not path.is_file() and (path.parent / CONFIG).is_file():
            raise RunError(
                f"the run in {run_or_checkpoint} stopped before its first checkpoint: nothing "
                f"to resume; start it again in place with: autograd-mnist train --out "
                f"{run_or_checkpoint} (and its options)"
            )
        if not path.is_file():
            raise RunError(f"{run_or_checkpoint} has no {CHECKPOINT}: not a run folder")
    elif not path.is_file():
        raise RunError(f"no run folder or checkpoint at {run_or_checkpoint}")
    return path


def load_checkpoint(run_or_checkpoint: PathLike) -> dict[str, Any]:
    """Read and check a run's checkpoint (a run folder or the ``.npz`` itself).

    Returns:
        The saved tree (see :func:`checkpoint_state`) plus ``"path"``: the file read.

    Raises:
        RunError: if it is missing, unreadable, or not a run checkpoint.
    """
    path = checkpoint_path(run_or_checkpoint)
    try:
        ckpt = serialization.load(path)
    except (OSError, ValueError) as exc:
        raise RunError(f"bad checkpoint {path}: {exc}") from None
    if ckpt.get("format") != FORMAT:
        raise RunError(f"bad checkpoint {path}: not an autograd-mnist run checkpoint")
    if ckpt.get("version") != VERSION:
        raise RunError(
            f"bad checkpoint {path}: version {ckpt.get('version')!r}, expected {VERSION}"
        )
    missing = [k for k in _REQUIRED if k not in ckpt]
    if missing:
        raise RunError(f"bad checkpoint {path}: missing entries {missing}")
    _check_entries(ckpt, path)
    ckpt["path"] = str(path)
    return ckpt


_METRIC_FIELDS = {f.name for f in fields(train.EpochMetrics)}


def _check_entries(ckpt: dict[str, Any], path: Path) -> None:
    """Check the types of a checkpoint's entries (a tampered file fails here, by name)."""
    epoch, model, history = ckpt["epoch"], ckpt["model"], ckpt["history"]
    checks = [
        ("epoch", _is_count(epoch), "an int >= 0"),
        (
            "model",
            isinstance(model, dict)
            and isinstance(model.get("name"), str)
            and isinstance(model.get("config") or {}, dict),
            "{'name': str, 'config': dict}",
        ),
        ("model_state", isinstance(ckpt["model_state"], dict), "a dict of arrays"),
        ("optimizer", isinstance(ckpt["optimizer"], dict), "a dict"),
        ("scheduler", isinstance(ckpt.get("scheduler") or {}, dict), "a dict or None"),
        ("ema", isinstance(ckpt.get("ema") or {}, dict), "a dict of arrays or None"),
        (
            "threads",
            ckpt.get("threads") is None or (_is_count(ckpt["threads"]) and ckpt["threads"] >= 1),
            "an int >= 1",
        ),
        ("config", isinstance(ckpt["config"], dict), "a dict of run settings"),
        (
            "history",
            isinstance(history, list)
            and all(_is_metrics(h) for h in history)
            and [h["epoch"] for h in history] == list(range(1, len(history) + 1))
            and len(history) == epoch,
            f"a list of {epoch!r} dicts of epoch metrics, epochs 1, 2, ...",
        ),
    ]
    for name, ok, expected in checks:
        if not ok:
            got = type(ckpt[name]).__name__
            raise RunError(
                f"bad checkpoint {path}: entry {name!r}: got a {got}, expected {expected}"
            )
    problem = _model_config_differs(model, ckpt["config"]) or _non_finite(ckpt)
    if problem:
        raise RunError(f"bad checkpoint {path}: {problem}")


def _model_config_differs(model: dict[str, Any], config: dict[str, Any]) -> str | None:
    """Why the run settings' model differs from the entry ``model`` the weights are
    loaded into (None: they agree); a resume would record the wrong model."""
    name, options = model["name"], model.get("config") or {}
    said, said_options = config.get("model", RunConfig.model), config.get("model_config") or {}
    if not isinstance(said, str) or said != name:
        return f"entry 'config': model {said!r}, but the weights are of model {name!r}"
    try:
        same = bool(said_options == options)
    except (ValueError, TypeError):  # arrays where a config has numbers
        same = False
    if not same:
        return f"entry 'config': model_config {said_options!r}, but the model's is {options!r}"
    return None


def _non_finite(ckpt: dict[str, Any]) -> str | None:
    """The first weight or buffer of the model (or its average) holding nan or inf; a run
    never saves one (training stops first)."""
    for entry in ("model_state", "ema"):
        for key, value in (ckpt.get(entry) or {}).items():
            if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
                if not np.isfinite(value).all():
                    return f"entry {entry!r}: {key} holds nan or inf values"
    return None


_NUMBER = (int, float, np.integer, np.floating)


def _kind(value: Any) -> str | None:
    """What a hyper-parameter like ``value`` must be, or None for anything."""
    if isinstance(value, bool | np.bool_):
        return "true or false"
    if isinstance(value, _NUMBER):
        return "a finite number"
    if isinstance(value, tuple | list) and all(isinstance(v, _NUMBER) for v in value):
        return f"a list of {len(value)} finite numbers"
    return None


def _fits(value: Any, like: Any) -> bool:
    if isinstance(like, bool | np.bool_):
        return isinstance(value, bool | np.bool_)
    if isinstance(like, tuple | list):
        return (
            isinstance(value, tuple | list)
            and len(value) == len(like)
            and all(_fits(v, w) for v, w in zip(value, like))
        )
    if not isinstance(value, _NUMBER) or isinstance(value, bool | np.bool_):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int too large for a float
        return False


def check_hyper(fresh: list[dict[str, Any]], loaded: list[dict[str, Any]]) -> None:
    """Check an optimizer's hyper-parameters after loading a checkpoint's state: each
    value a fresh optimizer has as a number, a flag or a tuple of numbers must still be one
    (a tampered ``lr`` of ``"x"`` fails here, not in the first step).

    Args:
        fresh: each parameter group's hyper-parameters before the load (a copy).
        loaded: the same after it.

    Raises:
        ValueError: naming the group, the hyper-parameter, what it got and what it expects.
    """
    for i, (before, after) in enumerate(zip(fresh, loaded)):
        for key, like in before.items():
            expected = _kind(like)
            if expected is not None and not _fits(after.get(key), like):
                raise ValueError(
                    f"optimizer group {i}: {key}: got {after.get(key)!r}, expected {expected}"
                )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_metrics(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and set(entry) == _METRIC_FIELDS
        and _is_count(entry["epoch"])
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in entry.values())
    )


@contextlib.contextmanager
def bad_checkpoint(path: PathLike, what: str) -> Iterator[None]:
    """Turn any error while using a checkpoint's ``what`` into one :class:`RunError` line.

    A checkpoint is a user's file: whatever a tampered one makes the code raise is reported
    as ``bad checkpoint <path>: <what>: <error>``.
    """
    try:
        yield
    except RunError as exc:
        if str(path) in str(exc):
            raise
        raise RunError(f"bad checkpoint {path}: {what}: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as exc:
        raise RunError(f"bad checkpoint {path}: {what}: {type(exc).__name__}: {exc}") from None


def history_of(ckpt: dict[str, Any]) -> list[train.EpochMetrics]:
    """The checkpoint's per-epoch metrics, oldest first."""
    return [train.EpochMetrics(**h) for h in ckpt["history"]]


def restore_model(ckpt: dict[str, Any], averaged: bool = True) -> nn.Module:
    """Rebuild the checkpoint's model and load its weights (in eval mode).

    Args:
        ckpt: a checkpoint from :func:`load_checkpoint`.
        averaged: load the average of the weights (the run's result, what it evaluated)
            when the run kept one (an EMA); False: the trained weights themselves (what a
            resumed run trains on).

    Raises:
        RunError: if the weights do not fit the model, naming the keys and shapes.
    """
    name, config = ckpt["model"]["name"], dict(ckpt["model"].get("config") or {})
    state = ckpt["model_state"]
    if averaged and ckpt.get("ema"):  # AveragedModel's state: module.<name>, n_averaged
        state = {k[7:]: v for k, v in ckpt["ema"].items() if k.startswith("module.")}
    config = config_for_weights(name, config, state)
    with bad_checkpoint(ckpt.get("path", ""), "model"):
        model = make_model(name, config, weights=state)  # a config too big for them: refused
    try:
        model.load_state_dict(state)
    except (ValueError, TypeError) as exc:
        raise RunError(
            f"checkpoint {ckpt.get('path', '')} does not fit model {name!r}: {exc}"
        ) from None
    model.eval()
    return model
