"""Score a training recipe on a validation split held out from MNIST's training set.

The test set is never loaded for scoring: the model trains on the first 50,000 training
images and is evaluated after every epoch on the last 10,000 (``--holdout``). This is how
the ``best`` and ``fast`` presets' recipes were chosen (docs/training.md, "How the recipe
was chosen"); the test set is used only for the final runs of the chosen recipe.

Any ``RunConfig`` field can be set with ``--set key=value`` (value parsed as JSON, else a
string), on top of the model's defaults, e.g.::

    python benchmarks/validate_recipe.py --model best
    python benchmarks/validate_recipe.py --model best --set ema=0 --set rotation=0
    python benchmarks/validate_recipe.py --model fast --set epochs=3 --seed 1
    python benchmarks/validate_recipe.py --synthetic --set epochs=1   # smoke test, offline

It prints the command line, one line per epoch (validation loss and accuracy as the
"test" columns) and the final validation accuracy and wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from autograd_mnist.config import RunConfig, load_data
from autograd_mnist.data import synthetic_data
from autograd_mnist.runs import train_run


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: list[str] | None = None) -> None:
    """Parse the options, train on the training split, print validation figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="best")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--holdout", type=int, default=10_000, help="validation images (the last)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--synthetic", action="store_true", help="160 synthetic images (offline)")
    args = p.parse_args(argv)
    print("command:", " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), flush=True)
    overrides = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    if args.synthetic:  # only checks that the script runs: no score means anything
        (x, y), _ = synthetic_data(n_train=160, n_test=1, seed=0)
        args.holdout = min(args.holdout, 32)
    else:
        (x, y), _ = load_data("mnist")  # the training set only: the test set is not read
    n = len(x) - args.holdout
    data = ((x[:n], y[:n]), (x[n:], y[n:]))  # the "test" columns are validation figures
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(model=args.model, seed=args.seed, out=str(Path(tmp) / "run"))
        start = time.perf_counter()
        result = train_run(cfg, data=data, progress=False, **overrides)
        wall = time.perf_counter() - start
    last = result.history[-1]
    print(
        f"validation accuracy {last.test_accuracy:.4f} after {last.epoch} epochs; "
        f"{wall:.0f} s wall; settings {json.dumps(overrides)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
