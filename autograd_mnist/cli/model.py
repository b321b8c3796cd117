"""``graph`` and ``summary``: a model preset's computation graph and its layers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from autograd_mnist import functional as F
from autograd_mnist import models, viz
from autograd_mnist.cli._options import add_model_args, positive
from autograd_mnist.errors import RunError
from autograd_mnist.models import make_model
from autograd_mnist.rng import manual_seed
from autograd_mnist.tensor import Tensor

__all__ = ["cmd_graph", "cmd_summary", "register"]


def register(sub: Any) -> None:
    """Add the ``graph`` and ``summary`` sub-parsers to ``sub``."""
    p = sub.add_parser(
        "graph",
        help="draw one training step's computation graph",
        description="Draw one training step's computation graph into -o (default graph.svg "
        "in the working folder); an existing file is never overwritten without --force.",
    )
    add_model_args(p, models.DEFAULT_MODEL)
    p.add_argument("-o", "--output", default="graph.svg", help=".svg, .png, .pdf or .dot")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--batch-size", type=positive, default=2)
    p.add_argument("--collapse", type=int, choices=range(10), metavar="D", help="boxes at depth D")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("summary", help="print a model's layers, output shapes and parameters")
    add_model_args(p, models.DEFAULT_MODEL)
    p.set_defaults(func=cmd_summary)


def cmd_graph(args: argparse.Namespace) -> int:
    """``graph``: forward + loss of a batch of zeros, drawn before backward, by module."""
    out = Path(args.output)
    if out.exists() and not args.force:
        raise RunError(f"{out} exists; pass --force to overwrite it, or -o to write elsewhere")
    manual_seed(0)
    model = make_model(args.model, args.model_config or {})
    for pname, p in model.named_parameters():
        p.name = pname
    n = args.batch_size
    images = Tensor(np.zeros((n, 1, 28, 28), dtype=np.float32), name="images")
    loss = F.cross_entropy(model(images), np.zeros(n, dtype=np.int64))
    path = viz.draw(loss, out, collapse=args.collapse)
    print(f"graph of one training step of {args.model} (batch {n}) written to {path}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """``summary``: the model's layers, output shapes and parameter counts."""
    model = make_model(args.model, args.model_config or {})
    print(f"model {args.model}")
    print(model.summary((1, 1, 28, 28)))
    return 0
