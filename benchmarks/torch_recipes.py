"""Train a reference recipe in PyTorch from our initial weights, in our run's batch order.

``autograd-mnist train --model KEY`` seeds the package generator (``--seed``, default 0),
builds the model (its initial weights drawn from that generator) and then draws each
epoch's shuffle from the same generator. This script does exactly the same, copies the
weights into a PyTorch twin (``_torch_models.torch_mirror``), and trains the twin with
the model's own recipe (``models.TRAIN_DEFAULTS``: R0's ``cnn`` plain SGD 0.03 at batch 1,
R2's ``keras-cnn`` Adam 1e-3 at batch 128), feeding it the very batches our ``fit``
would. After every epoch it prints the training loss and accuracy, the test loss and
accuracy (batches of 1000, ``inference_mode``) and the epoch's training seconds, like
our CLI's epoch line. A loss that is not finite stops the run with the step where it
happened, as ``fit`` stops ours.

``--adam-steps N`` also times one optimizer step of PyTorch's Adam and of ours on the
model's parameters (gradients from one real batch), interleaved, medians of N.

    python benchmarks/torch_recipes.py --model keras-cnn             # R2: 10 epochs
    python benchmarks/torch_recipes.py --model cnn --log-every 2000  # R0: one epoch
    python benchmarks/torch_recipes.py --model keras-cnn --epochs 0 --adam-steps 50
    python benchmarks/torch_recipes.py --synthetic --limit 256 --epochs 1   # smoke test
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from _env import MODELS, command_line, load_torch, numpy_blas_threads, set_threads
from _env import load_data as synthetic_or_mnist
from _torch_models import torch_mirror

from autograd_mnist import nn
from autograd_mnist.config import load_data
from autograd_mnist.data.loader import DataLoader
from autograd_mnist.grad_mode import no_grad
from autograd_mnist.models import TRAIN_DEFAULTS, make_model
from autograd_mnist.rng import manual_seed
from autograd_mnist.runtime import ensure_blas_thread_timeout
from autograd_mnist.tensor import Tensor
from autograd_mnist.train import make_optimizer, train_step

EVAL_BATCH = 1000  # as autograd_mnist.train.evaluate
Split = tuple[np.ndarray, np.ndarray]


@dataclass
class Recipe:
    """A model's training recipe, as ``autograd-mnist train --model KEY`` resolves it."""

    optimizer: str
    lr: float
    batch_size: int
    epochs: int

    @classmethod
    def of(cls, key: str, epochs: int | None) -> Recipe:
        """The recipe of model ``key`` from ``TRAIN_DEFAULTS``, ``epochs`` overriding.

        Raises:
            ValueError: for a recipe with a schedule or augmentation (not mirrored here).
        """
        d = TRAIN_DEFAULTS[key]
        if d["schedule"] != "none" or d["augment"]:
            raise ValueError(
                f"torch_recipes: model {key!r} has schedule {d['schedule']!r} and augment "
                f"{d['augment']}; expected 'none' and 0 (only those are mirrored)"
            )
        return cls(
            d["optimizer"], d["lr"], d["batch_size"], d["epochs"] if epochs is None else epochs
        )


def torch_optimizer(torch: Any, recipe: Recipe, params: Any) -> Any:
    """PyTorch's optimizer for ``recipe`` (our 'sgd' is plain SGD, 'adam' PyTorch's Adam)."""
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr)
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr)
    raise ValueError(f"torch_recipes: optimizer {recipe.optimizer!r}; expected 'sgd' or 'adam'")


def get_data(synthetic: bool, limit: int | None) -> tuple[Split, Split]:
    """MNIST as the CLI loads it (or random images of the same shapes), the training set cut
    to its first ``limit`` images as ``--limit`` does."""
    if synthetic:
        d = synthetic_or_mnist(False)
        (x, y), test = (d.x_train, d.y_train), (d.x_test, d.y_test)
    else:
        (x, y), test = load_data("mnist")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return (x, y), test


def test_metrics(torch: Any, model: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on (x, y), in eval mode, batches of 1000."""
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.inference_mode():
        for lo in range(0, len(x), EVAL_BATCH):
            xb, yb = (
                torch.from_numpy(x[lo : lo + EVAL_BATCH]),
                torch.from_numpy(y[lo : lo + EVAL_BATCH]),
            )
            logits = model(xb)
            loss_sum += float(torch.nn.functional.cross_entropy(logits, yb, reduction="sum"))
            correct += int((logits.argmax(1) == yb).sum())
    model.train()
    n = max(len(x), 1)
    return loss_sum / n, correct / n


def train_epoch(
    torch: Any, model: Any, opt: Any, loader: DataLoader, log_every: int
) -> tuple[float, float, int | None]:
    """One epoch over ``loader`` (our generator's shuffle): (mean loss, accuracy, the step
    whose loss was not finite or None). With ``log_every``, prints the running figures of
    each window of that many steps."""
    total_loss, total_correct, seen = 0.0, 0, 0
    win_loss, win_correct, win_seen = 0.0, 0, 0
    F = torch.nn.functional
    for step, (xb, yb) in enumerate(loader, 1):
        xt, yt = torch.from_numpy(xb), torch.from_numpy(yb)
        logits = model(xt)
        loss = F.cross_entropy(logits, yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            print(f"  step {step}: the loss is {value}; stopping, as our fit does")
            return total_loss / max(seen, 1), total_correct / max(seen, 1), step
        correct = int((logits.detach().argmax(1) == yt).sum())
        total_loss += value * len(yb)
        total_correct += correct
        seen += len(yb)
        win_loss, win_correct, win_seen = (
            win_loss + value * len(yb),
            win_correct + correct,
            win_seen + len(yb),
        )
        if log_every and step % log_every == 0:
            print(
                f"  step {step}: last {log_every} steps loss {win_loss / win_seen:.4f} "
                f"acc {win_correct / win_seen:.4f}",
                flush=True,
            )
            win_loss, win_correct, win_seen = 0.0, 0, 0
    return total_loss / max(seen, 1), total_correct / max(seen, 1), None


def check_twin(torch: Any, ours: nn.Module, theirs: Any, x: np.ndarray) -> float:
    """Largest |difference| of the two networks' logits on ``x`` (about 1e-6 expected)."""
    with no_grad():
        a = np.asarray(ours(Tensor(x)).data)
    with torch.inference_mode():
        b = theirs(torch.from_numpy(x)).numpy()
    return float(np.max(np.abs(a - b)))


def time_adam(torch: Any, key: str, seed: int, train: Split, steps: int) -> None:
    """Median time of one Adam step (lr 1e-3), PyTorch's and ours, on model ``key``'s
    parameters with gradients from one batch of 128, interleaved step by step."""
    manual_seed(seed)
    ours = make_model(key, {})
    theirs = torch_mirror(torch, ours)
    x, y = train[0][:128], train[1][:128]
    our_opt = make_optimizer("adam", ours.parameters(), 1e-3)
    train_step(ours, our_opt, x, y)  # fills .grad (and one step of state)
    their_opt = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    n_params = sum(p.numel() for p in theirs.parameters())
    times: dict[str, list[float]] = {"ours": [], "torch": []}
    for i in range(steps + 3):  # 3 warm-up steps
        for name, opt in (("ours", our_opt), ("torch", their_opt)):
            t = time.perf_counter()
            opt.step()
            if i >= 3:
                times[name].append((time.perf_counter() - t) * 1e3)
    o, p = (float(np.median(times[k])) for k in ("ours", "torch"))
    label = MODELS[key][0].upper()
    print(f"\n== one Adam step on {label}'s {n_params:,} parameters, median of {steps}")
    print(f"ours {o:.2f} ms, torch {p:.2f} ms, ours/torch {o / p:.2f}")


def run(args: argparse.Namespace, torch: Any) -> int:
    recipe = Recipe.of(args.model, args.epochs)
    train, test = get_data(args.synthetic, args.limit)
    manual_seed(args.seed)  # as train_run: the seed, then the model, then each epoch's shuffle
    ours = make_model(args.model, {})
    model = torch_mirror(torch, ours)
    diff = check_twin(torch, ours, model, test[0][:8])
    print(f"same initial weights: max |logits ours - torch| {diff:.1e}")
    opt = torch_optimizer(torch, recipe, model.parameters())
    print(
        f"recipe: {recipe.optimizer} lr {recipe.lr:g}, batch {recipe.batch_size}, "
        f"{recipe.epochs} epochs, {len(train[0])} training images shuffled by our generator "
        f"(seed {args.seed})"
    )
    loader = DataLoader(*train, batch_size=recipe.batch_size, shuffle=True)
    start = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        t = time.perf_counter()
        loss, acc, bad = train_epoch(torch, model, opt, loader, args.log_every)
        seconds = time.perf_counter() - t
        if bad is not None:
            print(
                f"diverged: the loss is not finite at step {bad} of epoch {epoch} ({seconds:.1f} s)"
            )
            break
        test_loss, test_acc = test_metrics(torch, model, *test)
        print(
            f"epoch {epoch}/{recipe.epochs}: train loss {loss:.4f} acc {acc:.4f} | "
            f"test loss {test_loss:.4f} acc {test_acc:.4f} | {seconds:.1f} s",
            flush=True,
        )
    if args.adam_steps:
        time_adam(torch, args.model, args.seed, train, args.adam_steps)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--model", choices=list(MODELS), default="keras-cnn", help="R0's cnn or R2's keras-cnn"
    )
    p.add_argument("--epochs", type=int, help="epochs (default: the model's, as the CLI)")
    p.add_argument("--seed", type=int, default=0, help="as autograd-mnist train --seed (default 0)")
    p.add_argument("--limit", type=int, metavar="N", help="train on the first N images")
    p.add_argument("--synthetic", action="store_true", help="random images instead of MNIST")
    p.add_argument(
        "--log-every", type=int, default=0, metavar="N", help="running figures every N steps"
    )
    p.add_argument("--adam-steps", type=int, default=0, metavar="N", help="time N Adam steps")
    p.add_argument("--threads", type=int, help="NumPy's and torch's threads (default: theirs)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    ensure_blas_thread_timeout()
    args = parse_args(argv)
    torch, note = load_torch()
    if torch is None:
        print(note.split(":")[0] + ": this script needs PyTorch")
        return 2
    set_threads(args.threads, torch)
    print(f"== PyTorch trains {MODELS[args.model][0].upper()}'s recipe from our initial weights")
    print(f"command: {command_line()}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs; threads: numpy OpenBLAS {numpy_blas_threads()}, "
        f"torch {torch.get_num_threads()}"
    )
    return run(args, torch)


if __name__ == "__main__":
    raise SystemExit(main())
