"""``evaluate``, ``predict`` and ``show``: a trained run's checkpoint on the test set."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from autograd_mnist import config, nn, plots, rundir, train
from autograd_mnist.checkpoint import load_checkpoint, restore_model
from autograd_mnist.cli._options import add_data_args, add_threads_arg, at_most, positive
from autograd_mnist.config import RunConfig
from autograd_mnist.data import DATASETS, Split
from autograd_mnist.errors import RunError
from autograd_mnist.report import format_confusion, format_per_class

__all__ = [
    "FIGURES",
    "MAX_IMAGES",
    "cmd_evaluate",
    "cmd_predict",
    "cmd_show",
    "figure_files",
    "load_for_inspection",
    "register",
]

FIGURES = ("filters.png", "feature_maps.png", "misclassified.png")
"""The files ``show`` writes (``plots.model_figures``), the last one for any model."""
MAX_IMAGES = 16
"""``show --images`` at most: the feature maps of 16 images make a figure 5,000 pixels tall."""


def register(sub: Any) -> None:
    """Add the ``evaluate``, ``predict`` and ``show`` sub-parsers to ``sub``."""
    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix")
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    add_data_args(p, "the run's")
    add_threads_arg(p)
    p.add_argument("--limit", type=positive, metavar="N", help="only the first N test images")
    p.add_argument("--batch-size", type=positive, default=500)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="predict one test image")
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    p.add_argument("--index", type=int, default=0, help="test image index (default 0)")
    add_data_args(p, "the run's")
    add_threads_arg(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "show",
        help="PNGs: conv filters, feature maps, misclassified images",
        description="Write filters.png, feature_maps.png and misclassified.png. In a run "
        "folder they are the run's own and are replaced; anywhere else (--out, or beside a "
        "checkpoint outside a run folder) an existing file is never overwritten without "
        "--force.",
    )
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    p.add_argument("--out", metavar="DIR", help="where to write (default: the run folder)")
    p.add_argument(
        "--images",
        type=at_most(MAX_IMAGES),
        default=3,
        metavar="N",
        help=f"test images whose feature maps are drawn, 1 to {MAX_IMAGES} (one figure: two "
        "strips of maps per image) (default 3)",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    add_data_args(p, "the run's")
    add_threads_arg(p)
    p.set_defaults(func=cmd_show)


def load_for_inspection(
    args: argparse.Namespace,
) -> tuple[dict[str, Any], nn.Module, str, Split]:
    """The checkpoint of ``args.run``, its model (eval mode), the dataset name and the test
    split (from ``--data-dir``, the environment or the cache; never from the checkpoint)."""
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
    ckpt, model, dataset, (x, y) = load_for_inspection(args)
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
    _, model, dataset, (x, y) = load_for_inspection(args)
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


def figure_files(model: nn.Module) -> tuple[str, ...]:
    """The files ``show`` may write for ``model`` (``plots.model_figures``'s names): only
    ``misclassified.png`` for a model without conv layers."""
    has_conv = any(isinstance(m, nn.Conv2d) for m in model.modules())
    return FIGURES if has_conv else FIGURES[-1:]


def _check_overwrite(out: Path, names: tuple[str, ...], force: bool) -> None:
    """Refuse to replace a file in ``out`` that is not a run folder's own, unless ``force``.

    Raises:
        RunError: naming the first such file, as ``export`` does.
    """
    if force or rundir.is_run_folder(out):
        return
    existing = [out / name for name in names if (out / name).exists()]
    if existing:
        raise RunError(
            f"{existing[0]} exists; pass --force to overwrite it, or --out to write elsewhere"
        )


def cmd_show(args: argparse.Namespace) -> int:
    """``show``: filters.png, feature_maps.png and misclassified.png."""
    plots.require_matplotlib()
    ckpt, model, dataset, (x, y) = load_for_inspection(args)
    out = Path(args.out) if args.out is not None else Path(ckpt["path"]).parent
    _check_overwrite(out, figure_files(model), args.force)
    names = DATASETS[dataset].classes
    paths, notes = plots.model_figures(
        model, x, y, out, images=args.images, class_names=names, name=ckpt["model"]["name"]
    )
    for note in notes:
        print(note)
    for path in paths:
        print(f"wrote {path}")
    return 0
