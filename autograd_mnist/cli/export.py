"""``export``: a run's model as a file other tools load (safetensors weights, ONNX)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from autograd_mnist import nn, weights
from autograd_mnist import onnx as am_onnx
from autograd_mnist.checkpoint import load_checkpoint, restore_model
from autograd_mnist.cli._options import positive
from autograd_mnist.errors import RunError

__all__ = ["FORMATS", "cmd_export", "model_to_export", "register"]

FORMATS = {"onnx": "model.onnx", "safetensors": weights.WEIGHTS}
"""Each format and its default file name (in the run folder)."""
EXAMPLE_SHAPE = (2, 1, 28, 28)
"""The input traced for ONNX: every preset takes (N, 1, 28, 28) images; N is dynamic."""


def register(sub: Any) -> None:
    """Add the ``export`` sub-parser to ``sub``."""
    p = sub.add_parser(
        "export",
        help="write a run's model as safetensors (PyTorch, JAX, ...) or ONNX",
        description="Write a run's model as safetensors weights (PyTorch's state-dict names) "
        "or as an ONNX model (dynamic batch; needs the onnx extra). An existing file is "
        "never overwritten without --force.",
    )
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    p.add_argument("--format", choices=sorted(FORMATS), required=True)
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="the file to write (default: model.onnx / model.safetensors in the run folder)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument(
        "--opset",
        type=positive,
        default=am_onnx.DEFAULT_OPSET,
        help=f"ONNX opset (default {am_onnx.DEFAULT_OPSET})",
    )
    p.set_defaults(func=cmd_export)


def model_to_export(ckpt: dict[str, Any]) -> nn.Module:
    """The model a run exports (in eval mode): the checkpoint's result, i.e. the average
    of the weights when the run kept one (an EMA), else the trained weights."""
    return restore_model(ckpt)


def cmd_export(args: argparse.Namespace) -> int:
    """``export``: write the run's model in ``--format`` to ``-o`` (or into the run folder)."""
    ckpt = load_checkpoint(args.run)
    if args.format == "onnx":
        am_onnx.onnx_module()  # a missing extra fails here, naming the install command
    folder = Path(ckpt["path"]).parent
    out = Path(args.output) if args.output else folder / FORMATS[args.format]
    if out.is_dir():  # before --force, which cannot help
        raise RunError(f"{out} is a folder; expected a file path for -o")
    if out.exists() and not args.force:
        raise RunError(f"{out} exists; pass --force to overwrite it, or -o to write elsewhere")
    model = model_to_export(ckpt)
    name, config = ckpt["model"]["name"], ckpt["model"].get("config") or {}
    if args.format == "safetensors":
        weights.save_weights(model, out, weights.preset_metadata(name, config))
        print(f"wrote {out} (safetensors, model {name}, {len(model.state_dict())} arrays)")
        return 0
    example = np.zeros(EXAMPLE_SHAPE, dtype=np.float32)
    am_onnx.export(model, example, out, opset=args.opset)
    print(f"wrote {out} (ONNX opset {args.opset}, model {name}, input (batch, 1, 28, 28))")
    return 0
