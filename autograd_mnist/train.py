"""Training and evaluation loops shared by the CLI and the examples.

``fit`` trains a model for some epochs and reports each epoch's metrics; ``evaluate``
computes loss, accuracy and predictions on a dataset; ``train_step`` is one optimiser step
on one mini-batch. ``SCHEDULES`` is the table of learning-rate schedules by name,
``make_ema`` the exponential moving average of the weights a run may evaluate, and
``format_epoch`` the one-line report of an epoch. Everything runs in float32.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from autograd_mnist import functional as F
from autograd_mnist import nn, optim
from autograd_mnist.data.loader import DataLoader
from autograd_mnist.errors import TrainingDiverged
from autograd_mnist.grad_mode import no_grad
from autograd_mnist.io import ProgressBar, progress_bar
from autograd_mnist.tensor import Tensor


@dataclass
class EpochMetrics:
    """What one epoch of :func:`fit` measured."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    lr: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


@dataclass
class Evaluation:
    """Result of :func:`evaluate`: mean loss, accuracy (a fraction) and per-sample outputs."""

    loss: float
    accuracy: float
    predictions: np.ndarray  # (N,) int64
    probabilities: np.ndarray  # (N, K) float32

    def confusion_matrix(self, targets: np.ndarray, num_classes: int = 10) -> np.ndarray:
        """(K, K) counts: row = true class, column = predicted class."""
        cm = np.zeros((num_classes, num_classes), dtype=np.int64)
        np.add.at(cm, (np.asarray(targets), self.predictions), 1)
        return cm


def make_optimizer(
    name: str, params: list[Any], lr: float, weight_decay: float = 0.0
) -> optim.Optimizer:
    """An optimizer by name ('sgd', 'momentum', 'adagrad', 'rmsprop', 'adam', 'adamw').

    Raises:
        ValueError: for an unknown name.
    """
    key = name.lower()
    if key not in optim.OPTIMIZERS:
        raise ValueError(f"optimizer: unknown {name!r}; expected one of {sorted(optim.OPTIMIZERS)}")
    return optim.OPTIMIZERS[key](params, lr=lr, weight_decay=weight_decay)


def _no_schedule(optimizer: optim.Optimizer, epochs: int, steps: int) -> None:
    return None


def _step_schedule(optimizer: optim.Optimizer, epochs: int, steps: int) -> optim.LRScheduler:
    return optim.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)


def _cosine_schedule(optimizer: optim.Optimizer, epochs: int, steps: int) -> optim.LRScheduler:
    return optim.CosineAnnealingLR(optimizer, T_max=max(1, epochs))


def _onecycle_schedule(optimizer: optim.Optimizer, epochs: int, steps: int) -> optim.LRScheduler:
    return optim.OneCycleLR(optimizer, optimizer.lr, epochs=epochs, steps_per_epoch=max(1, steps))


SCHEDULES: dict[str, Callable[[optim.Optimizer, int, int], optim.LRScheduler | None]] = {
    "none": _no_schedule,
    "step": _step_schedule,  # x0.1 after each third of the run
    "cosine": _cosine_schedule,  # cosine from lr down to 0 over the run
    "onecycle": _onecycle_schedule,  # per batch: up to lr over 30% of the run, then down
}
"""Schedule name -> ``factory(optimizer, epochs, steps_per_epoch)`` returning the
scheduler (None: constant)."""


def make_scheduler(
    name: str, optimizer: optim.Optimizer, epochs: int, steps_per_epoch: int = 1
) -> optim.LRScheduler | None:
    """A scheduler from :data:`SCHEDULES`: 'none', 'step' (x0.1 every third of the run),
    'cosine' (to 0 over ``epochs``) or 'onecycle' (:class:`~autograd_mnist.optim.OneCycleLR`
    peaking at the optimizer's rate, over ``epochs * steps_per_epoch`` optimizer steps).

    Raises:
        ValueError: for an unknown name.
    """
    if name not in SCHEDULES:
        raise ValueError(f"schedule: unknown {name!r}; expected one of {list(SCHEDULES)}")
    return SCHEDULES[name](optimizer, epochs, steps_per_epoch)


def make_ema(model: nn.Module, decay: float) -> optim.AveragedModel | None:
    """An exponential moving average of ``model``'s weights and buffers (BatchNorm's
    running statistics too): PyTorch's
    ``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)``
    with the warm-up of :func:`~autograd_mnist.optim.get_ema_multi_avg_fn` (the decay of
    update n is ``min(decay, (1 + n) / (10 + n))``); None when ``decay`` is 0."""
    if not decay:
        return None
    avg = optim.get_ema_multi_avg_fn(decay, warmup=True)
    return optim.AveragedModel(model, multi_avg_fn=avg, use_buffers=True)


def eval_model(model: nn.Module, ema: optim.AveragedModel | None) -> nn.Module:
    """The model a run evaluates, checkpoints as its result and exports: the average's
    ``module`` when the run keeps an EMA, else ``model`` itself."""
    return ema.module if ema is not None else model


def format_epoch(m: EpochMetrics, epochs: int) -> str:
    """The one-line report of an epoch, e.g. ``epoch 2/10: train loss 0.1234 acc ... | 3.2 s``."""
    return (
        f"epoch {m.epoch}/{epochs}: train loss {m.train_loss:.4f} "
        f"acc {m.train_accuracy:.4f} | test loss {m.test_loss:.4f} "
        f"acc {m.test_accuracy:.4f} | {m.seconds:.1f} s"
    )


def train_step(
    model: nn.Module,
    optimizer: optim.Optimizer,
    xb: np.ndarray,
    yb: np.ndarray,
    label_smoothing: float = 0.0,
) -> tuple[float, int]:
    """One step: forward, cross-entropy (targets smoothed by ``label_smoothing``),
    backward, update. Returns (loss, correct count)."""
    logits = model(Tensor(xb))
    loss = F.cross_entropy(logits, yb, label_smoothing=label_smoothing)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    correct = int(np.count_nonzero(np.argmax(logits.data, axis=1) == yb))
    return float(loss.data), correct


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> Evaluation:
    """Loss, accuracy and predictions of ``model`` on (x, y), in eval mode, without a graph.

    The model's train/eval mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    losses, probs = [], []
    try:
        with no_grad():
            for start in range(0, len(x), batch_size):
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
                logp = F.log_softmax(model(Tensor(xb)), 1)
                losses.append(float(F.nll_loss(logp, yb, reduction="sum").data))
                probs.append(np.exp(logp.data))
    finally:
        model.train(was_training)
    p = np.concatenate(probs) if probs else np.zeros((0, 10), np.float32)
    pred = np.argmax(p, axis=1).astype(np.int64)
    n = max(len(x), 1)
    return Evaluation(sum(losses) / n, float(np.mean(pred == y)) if len(x) else 0.0, pred, p)


def _diverged(
    optimizer: optim.Optimizer, epoch: int, step: int | None, loss: float | None
) -> TrainingDiverged:
    where = f"step {step} of epoch {epoch}" if step is not None else f"the end of epoch {epoch}"
    what = f"the loss is {loss}" if loss is not None else "a weight is not finite"
    return TrainingDiverged(
        f"training diverged: {what} at {where} (learning rate {optimizer.lr:g}); "
        "try a lower learning rate",
        epoch,
        step,
        loss,
    )


def _batches(
    loader: DataLoader, progress: ProgressBar | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for xb, yb in loader:
        yield xb, yb
        if progress is not None:
            progress.update(1)


def fit(
    model: nn.Module,
    optimizer: optim.Optimizer,
    train_data: tuple[np.ndarray, np.ndarray],
    test_data: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 1,
    batch_size: int = 128,
    scheduler: optim.LRScheduler | None = None,
    start_epoch: int = 0,
    progress: bool = True,
    on_epoch_end: Callable[[EpochMetrics], None] | None = None,
    augment: Callable[[np.ndarray], np.ndarray] | None = None,
    ema: optim.AveragedModel | None = None,
    label_smoothing: float = 0.0,
) -> list[EpochMetrics]:
    """Train ``model`` from epoch ``start_epoch`` up to ``epochs`` (in total).

    Shuffling and dropout draw from the package generator (``manual_seed``), so a run is
    reproducible, and a resumed run continues bit-for-bit when that generator's state is
    restored with the checkpoint.

    Args:
        model: the network (logits out).
        optimizer: its optimizer.
        train_data: (x, y) arrays; x float32 in the model's input shape, y int64.
        test_data: (x, y) evaluated after every epoch (or None).
        epochs: total number of epochs (the run stops after epoch ``epochs``).
        batch_size: mini-batch size.
        scheduler: a learning-rate schedule stepped after every epoch (after every
            optimizer step when its ``per_batch`` is True, e.g. ``OneCycleLR``).
        start_epoch: epochs already done (when resuming).
        progress: show a progress bar (tqdm, when installed) with running loss and accuracy.
        on_epoch_end: called with each epoch's metrics (e.g. to save a checkpoint).
        augment: applied to each training batch of images before the step (e.g.
            ``lambda x: random_shift(x, 2)``); it should draw from the package generator
            so that resuming stays reproducible.
        ema: an :class:`~autograd_mnist.optim.AveragedModel` of ``model`` (see
            :func:`make_ema`), updated after every optimizer step; the epochs are then
            evaluated with its averaged weights (``ema.module``).
        label_smoothing: the cross-entropy's label smoothing (PyTorch's), in [0, 1].

    Returns:
        The metrics of the epochs run.

    Raises:
        TrainingDiverged: (a ``ValueError``) as soon as a step's loss is nan or inf, or when
            an epoch ends with a non-finite weight; ``on_epoch_end`` is not called for that
            epoch, so a checkpoint it writes is never replaced by non-finite weights.
    """
    x, y = train_data
    loader = DataLoader(x, y, batch_size=batch_size, shuffle=True)
    history = []
    for epoch in range(start_epoch + 1, epochs + 1):
        model.train()
        bar = None
        if progress:
            desc = f"epoch {epoch}/{epochs}"
            bar = progress_bar(len(loader), desc, leave=False, dynamic_ncols=True, mininterval=0.5)
        start = time.perf_counter()
        total_loss, total_correct, seen = 0.0, 0, 0
        lr = optimizer.lr  # the epoch's rate (its first step's, for a per-batch schedule)
        for step, (xb, yb) in enumerate(_batches(loader, bar), 1):
            if augment is not None:
                xb = augment(xb)
            loss, correct = train_step(model, optimizer, xb, yb, label_smoothing)
            if not math.isfinite(loss):
                if bar is not None:
                    bar.close()
                raise _diverged(optimizer, epoch, step, loss)
            if scheduler is not None and scheduler.per_batch:
                scheduler.step()
            if ema is not None:
                ema.update_parameters(model)
            total_loss += loss * len(yb)
            total_correct += correct
            seen += len(yb)
            if bar is not None:
                bar.set_postfix(
                    loss=f"{total_loss / seen:.4f}",
                    acc=f"{total_correct / seen:.4f}",
                    refresh=False,
                )
        seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
        if not all(np.isfinite(p.data).all() for p in model.parameters()):
            raise _diverged(optimizer, epoch, None, None)
        if scheduler is not None and not scheduler.per_batch:
            scheduler.step()
        scored = eval_model(model, ema)
        test = evaluate(scored, *test_data) if test_data is not None else None
        metrics = EpochMetrics(
            epoch=epoch,
            train_loss=total_loss / max(seen, 1),
            train_accuracy=total_correct / max(seen, 1),
            test_loss=test.loss if test else float("nan"),
            test_accuracy=test.accuracy if test else float("nan"),
            lr=lr,
            seconds=seconds,
        )
        history.append(metrics)
        if progress:  # the bar is gone (leave=False): one line stays per epoch
            print(format_epoch(metrics, epochs), flush=True)
        if on_epoch_end is not None:
            on_epoch_end(metrics)
    return history
