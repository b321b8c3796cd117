"""Options shared by several commands: model preset, model config, dataset and data folder,
threads."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from autograd_mnist import models
from autograd_mnist.data import DATASETS
from autograd_mnist.errors import RunError

__all__ = [
    "PATHS",
    "add_data_args",
    "add_model_args",
    "add_threads_arg",
    "at_most",
    "check_paths",
    "model_config",
    "positive",
]

PATHS = {
    "run": "RUN_OR_CHECKPOINT",
    "resume": "--resume",
    "out": "--out",
    "output": "-o",
    "data_dir": "--data-dir",
}
"""Every path argument of the commands (argparse ``dest`` -> what the user typed)."""


def model_config(text: str) -> dict[str, Any]:
    """``--model-config``: a JSON object of the preset's keyword arguments."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"expected a JSON object such as '{{\"hidden\": [40]}}'; got {text!r}"
        )
    return value


def positive(text: str) -> int:
    """An integer >= 1 (argparse ``type``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {value}")
    return value


def at_most(limit: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer from 1 to ``limit``."""

    def parse(text: str) -> int:
        value = positive(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"expected an integer from 1 to {limit}; got {value}")
        return value

    return parse


def check_paths(args: argparse.Namespace) -> None:
    """Refuse an empty path argument: ``''`` would mean the working folder (or a data
    folder under it) without the user having named it.

    Raises:
        RunError: naming the argument.
    """
    for dest, name in PATHS.items():
        if getattr(args, dest, None) == "":
            raise RunError(f"{name}: got an empty path '', expected a file or folder path")


def add_model_args(p: argparse.ArgumentParser, default: str | None) -> None:
    """``--model`` (default ``default``; None: the model's own) and ``--model-config``."""
    shown = default or models.DEFAULT_MODEL
    p.add_argument(
        "--model",
        choices=sorted(models.MODELS),
        default=default,
        help=f"model preset (default {shown})",
    )
    p.add_argument(
        "--model-config",
        type=model_config,
        default=None,
        metavar="JSON",
        help="keyword arguments of the preset, e.g. '{\"hidden\": [40, 20]}'",
    )


def add_data_args(p: argparse.ArgumentParser, what: str) -> None:
    """``--dataset`` (its help naming the default ``what``) and ``--data-dir``."""
    p.add_argument(
        "--dataset", choices=sorted(DATASETS), default=None, help=f"dataset (default {what})"
    )
    p.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="folder holding <dataset>/ with the four IDX files "
        "(default $AUTOGRAD_MNIST_DATA, else the user cache)",
    )


def add_threads_arg(p: argparse.ArgumentParser) -> None:
    """``--threads N`` for a command that computes; :func:`autograd_mnist.cli.main` applies
    it (``autograd_mnist.set_num_threads``) before the command runs."""
    p.add_argument(
        "--threads",
        type=positive,
        metavar="N",
        help="threads for the BLAS and the optimizer (default: the cores other processes "
        "leave idle; a training run keeps the count it starts with, and --resume reuses it)",
    )
