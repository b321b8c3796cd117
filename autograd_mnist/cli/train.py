"""``autograd-mnist train``: a new run into a run folder, or ``--resume`` one."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from autograd_mnist import models, optim, runs, train
from autograd_mnist.cli._options import add_data_args, add_model_args, add_threads_arg, positive
from autograd_mnist.config import RunConfig
from autograd_mnist.errors import RunError

__all__ = ["cmd_train", "register"]

# The `train` options a run keeps for good: --resume refuses them.
_FIXED = tuple(
    "model model_config dataset batch_size optimizer lr weight_decay schedule augment rotation "
    "scale ema label_smoothing seed limit out".split()
)


def _defaults(key: str) -> str:
    """Help text giving each model's default for ``key``, read from ``TRAIN_DEFAULTS``."""
    values = ", ".join(f"{m} {d[key]}" for m, d in models.TRAIN_DEFAULTS.items())
    return f"default per model: {values}"


def register(sub: Any) -> None:
    """Add the ``train`` sub-parser to ``sub`` (argparse's subparsers action)."""
    p = sub.add_parser(
        "train",
        help="train a model into a run folder (or --resume one)",
        description="Train a model; everything goes into one run folder. Unset --epochs, "
        "--batch-size, --optimizer, --lr, --schedule, --augment, --rotation, --scale, --ema and "
        "--label-smoothing come from the model's defaults (models.TRAIN_DEFAULTS).",
    )
    add_model_args(p, None)
    add_data_args(p, RunConfig.dataset)
    p.add_argument(
        "--epochs",
        type=positive,
        metavar="N",
        help="total epochs (with --resume: train up to N); " + _defaults("epochs"),
    )
    p.add_argument("--batch-size", type=positive, metavar="N", help=_defaults("batch_size"))
    p.add_argument("--optimizer", choices=sorted(optim.OPTIMIZERS), help=_defaults("optimizer"))
    p.add_argument("--lr", type=float, help="learning rate; " + _defaults("lr"))
    p.add_argument(
        "--weight-decay",
        type=float,
        metavar="WD",
        help=f"L2 weight decay (default {RunConfig.weight_decay:g})",
    )
    p.add_argument(
        "--schedule",
        choices=list(train.SCHEDULES),
        help="learning-rate schedule; " + _defaults("schedule"),
    )
    p.add_argument(
        "--augment",
        type=int,
        metavar="PX",
        help="shift training images by up to PX pixels at random (0: none); "
        + _defaults("augment"),
    )
    p.add_argument(
        "--rotation",
        type=float,
        metavar="DEG",
        help="also rotate them by up to DEG degrees at random (0: none); " + _defaults("rotation"),
    )
    p.add_argument(
        "--scale",
        type=float,
        metavar="F",
        help="and zoom them by a factor in [1-F, 1+F] at random (0: none); " + _defaults("scale"),
    )
    p.add_argument(
        "--ema",
        type=float,
        metavar="DECAY",
        help="evaluate and keep an exponential moving average of the weights with this decay "
        "per step (0: none); " + _defaults("ema"),
    )
    p.add_argument(
        "--label-smoothing",
        type=float,
        metavar="E",
        help="cross-entropy label smoothing, in [0, 1]; " + _defaults("label_smoothing"),
    )
    p.add_argument("--seed", type=int, help=f"random seed (default {RunConfig.seed})")
    p.add_argument("--limit", type=positive, metavar="N", help="train on the first N images")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<YYYYmmdd-HHMMSS>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_threads_arg(p)
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    """``train``: a new run, or ``--resume`` an old one.

    NumPy's overflow warnings are silenced: a run that overflows ends in a non-finite loss
    or weight, which stops it with one line saying where (``TrainingDiverged``).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    if args.resume:
        given = ["--" + k.replace("_", "-") for k in _FIXED if getattr(args, k) is not None]
        if given:
            raise RunError(
                f"--resume continues a run with its own settings; drop {' '.join(given)} "
                "(only --epochs, --data-dir, --no-progress and --threads apply)"
            )
        result = runs.resume(
            args.resume, epochs=args.epochs, data_dir=args.data_dir, progress=not args.no_progress
        )
    else:
        # options not given keep RunConfig's defaults (None: the model's TRAIN_DEFAULTS)
        names = (*_FIXED, "epochs", "data_dir")
        given_options = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
        result = runs.train_run(RunConfig(**given_options, progress=not args.no_progress))
    s = result.summary
    print(
        f"test accuracy {s['test_accuracy']:.2%} (loss {s['test_loss']:.4f}) after "
        f"{s['epochs']} epochs, {s['train_seconds']:.1f} s of training; "
        f"run folder: {result.run_dir}"
    )
    return 0
