"""The ``autograd-mnist`` command (also ``python -m autograd_mnist``).

Subcommands: ``train`` (into a run folder, or ``--resume`` one), ``evaluate``, ``predict``,
``show`` (filters, feature maps, mistakes as PNGs), ``graph`` (one training step's
computation graph) and ``summary`` (a model's layers). :func:`main` returns the exit code:
0 on success, 2 for a usage error or a problem such as a missing run folder or a bad
checkpoint (one message on stderr, no traceback; set ``AUTOGRAD_MNIST_DEBUG=1`` for the
traceback), 130 when interrupted with Ctrl-C. Run as a program (``main()`` with no
``argv``), it first makes sure OpenBLAS's idle threads do not spin
(:func:`autograd_mnist.runtime.ensure_blas_thread_timeout`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np

from autograd_mnist import config, models, nn, optim, plots, runs, runtime, train, viz
from autograd_mnist import functional as F
from autograd_mnist.checkpoint import RunInterrupted, load_checkpoint, restore_model
from autograd_mnist.config import RunConfig
from autograd_mnist.data import DATASETS, Split
from autograd_mnist.errors import RunError
from autograd_mnist.models import make_model
from autograd_mnist.report import format_confusion, format_per_class
from autograd_mnist.rng import manual_seed
from autograd_mnist.tensor import Tensor

__all__ = ["build_parser", "format_confusion", "format_per_class", "main"]

PROG = "autograd-mnist"
_EXPECTED = (
    RunError,
    ImportError,
    OSError,
    RuntimeError,
    ValueError,
    MemoryError,  # a user's file or option asking for more than there is: one line, rc 2
    RecursionError,
)
_SIGPIPE_EXIT = 128 + 13  # what a shell reports for a process ended by SIGPIPE
# The `train` options a run keeps for good: --resume refuses them.
_FIXED = tuple(
    "model model_config dataset batch_size optimizer lr weight_decay schedule augment seed limit "
    "out".split()
)


def _model_config(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"expected a JSON object such as '{{\"hidden\": [40]}}'; got {text!r}"
        )
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {value}")
    return value


def _add_model_args(p: argparse.ArgumentParser, default: str | None) -> None:
    shown = default or models.DEFAULT_MODEL
    p.add_argument(
        "--model",
        choices=sorted(models.MODELS),
        default=default,
        help=f"model preset (default {shown})",
    )
    p.add_argument(
        "--model-config",
        type=_model_config,
        default=None,
        metavar="JSON",
        help="keyword arguments of the preset, e.g. '{\"hidden\": [40, 20]}'",
    )


def _add_data_args(p: argparse.ArgumentParser, what: str) -> None:
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


def _defaults(key: str) -> str:
    """Help text giving each model's default for ``key``, read from ``TRAIN_DEFAULTS``."""
    values = ", ".join(f"{m} {d[key]}" for m, d in models.TRAIN_DEFAULTS.items())
    return f"default per model: {values}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Train and inspect MNIST classifiers built on autograd_mnist."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "train",
        help="train a model into a run folder (or --resume one)",
        description="Train a model; everything goes into one run folder. Unset --epochs, "
        "--batch-size, --optimizer, --lr, --schedule and --augment come from the model's defaults "
        "(models.TRAIN_DEFAULTS).",
    )
    _add_model_args(p, None)
    _add_data_args(p, RunConfig.dataset)
    p.add_argument(
        "--epochs",
        type=_positive,
        metavar="N",
        help="total epochs (with --resume: train up to N); " + _defaults("epochs"),
    )
    p.add_argument("--batch-size", type=_positive, metavar="N", help=_defaults("batch_size"))
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
    p.add_argument("--seed", type=int, help=f"random seed (default {RunConfig.seed})")
    p.add_argument("--limit", type=_positive, metavar="N", help="train on the first N images")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<YYYYmmdd-HHMMSS>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix")
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    _add_data_args(p, "the run's")
    p.add_argument("--limit", type=_positive, metavar="N", help="only the first N test images")
    p.add_argument("--batch-size", type=_positive, default=500)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="predict one test image")
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    p.add_argument("--index", type=int, default=0, help="test image index (default 0)")
    _add_data_args(p, "the run's")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("show", help="PNGs: conv filters, feature maps, misclassified images")
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    p.add_argument("--out", metavar="DIR", help="where to write (default: the run folder)")
    p.add_argument(
        "--images",
        type=_positive,
        default=3,
        help="test images whose feature maps are drawn (default 3)",
    )
    _add_data_args(p, "the run's")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("graph", help="draw one training step's computation graph")
    _add_model_args(p, models.DEFAULT_MODEL)
    p.add_argument("-o", "--output", default="graph.svg", help=".svg, .png, .pdf or .dot")
    p.add_argument("--batch-size", type=_positive, default=2)
    p.add_argument("--collapse", type=int, choices=range(10), metavar="D", help="boxes at depth D")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("summary", help="print a model's layers, output shapes and parameters")
    _add_model_args(p, models.DEFAULT_MODEL)
    p.set_defaults(func=cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Without ``argv`` (the program's own command line: the console script, ``python -m
    autograd_mnist``), :func:`~autograd_mnist.runtime.ensure_blas_thread_timeout` runs
    first and may re-execute the process once; with ``argv`` (a call from Python) the
    process is never re-executed.
    """
    if argv is None:
        runtime.ensure_blas_thread_timeout()
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe fails here, not in Python's final flush
        return code
    except KeyboardInterrupt as exc:
        message = str(exc) if isinstance(exc, RunInterrupted) else "interrupted"
        print(f"{PROG}: {message}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `autograd-mnist evaluate RUN | head`: stop quietly, as Unix tools
        _silence_stdout()
        return _SIGPIPE_EXIT
    except _EXPECTED as exc:
        if os.environ.get("AUTOGRAD_MNIST_DEBUG"):
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    """The error as one line; errors that are not ours say what kind they are."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, MemoryError | RecursionError):
        return f"{type(exc).__name__} (an input too large or too deeply nested?) {text}"
    return text


def _silence_stdout() -> None:
    """Point stdout at the null device so that Python's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (e.g. captured by a test)
        pass


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM: exit through ``SystemExit`` so that locks and temporary files are cleaned."""
    raise SystemExit(128 + signum)


# ----- train -----
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
                "(only --epochs, --data-dir and --no-progress apply)"
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


# ----- evaluate / predict / show -----
def _load_for_inspection(
    args: argparse.Namespace,
) -> tuple[dict[str, Any], nn.Module, str, Split]:
    """The checkpoint, its model (eval mode), the dataset name and the test split."""
    ckpt = load_checkpoint(args.run)
    model = restore_model(ckpt)
    dataset = args.dataset or ckpt["config"].get("dataset", RunConfig.dataset)
    # the data folder comes from the command line or the environment, never from the file
    _, test = config.check_data(config.load_data(dataset, args.data_dir))  # patchable lookups
    trained_on = ckpt.get("trained_on", dataset)
    if trained_on != dataset:
        print(
            f"note: this model was trained on {trained_on}, not on {dataset}; "
            f"the figures below are on the {dataset} test set"
        )
    return ckpt, model, dataset, test


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``evaluate``: accuracy, loss, per-class accuracy and the confusion matrix."""
    ckpt, model, dataset, (x, y) = _load_for_inspection(args)
    if args.limit is not None:
        x, y = x[: args.limit], y[: args.limit]
    ev = train.evaluate(model, x, y, batch_size=args.batch_size)
    cm = ev.confusion_matrix(y)
    names = DATASETS[dataset].class_names()
    print(f"checkpoint: {ckpt['path']} (model {ckpt['model']['name']}, epoch {ckpt['epoch']})")
    print(f"test set: {len(y)} images ({dataset})")
    print(f"test accuracy: {ev.accuracy:.2%}   test loss: {ev.loss:.4f}")
    print()
    print(format_per_class(cm, names))
    print()
    print(format_confusion(cm))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``predict``: R0's "answer is 9 / prediction is 9" and the class probabilities."""
    _, model, dataset, (x, y) = _load_for_inspection(args)
    i = args.index
    if not 0 <= i < len(x):
        raise RunError(
            f"--index {i} is out of range: the {dataset} test set has {len(x)} images "
            f"(0..{len(x) - 1})"
        )
    ev = train.evaluate(model, x[i : i + 1], y[i : i + 1])
    probs, pred, answer = ev.probabilities[0], int(ev.predictions[0]), int(y[i])
    info = DATASETS[dataset]
    names = info.class_names()
    if info.classes:  # named classes: show the names too
        print(f"answer is {answer} ({names[answer]}) / prediction is {pred} ({names[pred]})")
    else:
        print(f"answer is {answer} / prediction is {pred}")
    print(f"class probabilities of test image {i}:")
    width = max(len(n) for n in names)
    for k, p in enumerate(probs):
        mark = "  <- prediction" if k == pred else ""
        print(f"  {names[k]:>{width}}  {p:.4f}  {'#' * round(40 * float(p))}{mark}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``show``: filters.png, feature_maps.png and misclassified.png."""
    plots.require_matplotlib()
    ckpt, model, dataset, (x, y) = _load_for_inspection(args)
    out = Path(args.out) if args.out else Path(ckpt["path"]).parent
    names = DATASETS[dataset].classes
    paths, notes = plots.model_figures(
        model, x, y, out, images=args.images, class_names=names, name=ckpt["model"]["name"]
    )
    for note in notes:
        print(note)
    for path in paths:
        print(f"wrote {path}")
    return 0


# ----- graph / summary -----
def cmd_graph(args: argparse.Namespace) -> int:
    """``graph``: forward + loss of a batch of zeros, drawn before backward, by module."""
    manual_seed(0)
    model = make_model(args.model, args.model_config or {})
    for pname, p in model.named_parameters():
        p.name = pname
    n = args.batch_size
    images = Tensor(np.zeros((n, 1, 28, 28), dtype=np.float32), name="images")
    loss = F.cross_entropy(model(images), np.zeros(n, dtype=np.int64))
    path = viz.draw(loss, args.output, collapse=args.collapse)
    print(f"graph of one training step of {args.model} (batch {n}) written to {path}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """``summary``: the model's layers, output shapes and parameter counts."""
    model = make_model(args.model, args.model_config or {})
    print(f"model {args.model}")
    print(model.summary((1, 1, 28, 28)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
