"""Averaged copies of a model's weights (PyTorch's ``torch.optim.swa_utils``).

:class:`AveragedModel` keeps a copy of a model whose weights follow a running average of
the model's: an exponential moving average (EMA) with
``multi_avg_fn=get_ema_multi_avg_fn(decay)``, or the plain mean of every update (SWA, the
default). Training updates it after every optimizer step; evaluation and export use
``averaged.module``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np

from autograd_mnist.nn.module import Module

__all__ = ["AveragedModel", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn"]

MultiAvgFn = Callable[[Sequence[np.ndarray], Sequence[np.ndarray], int], None]
"""``fn(averaged_arrays, model_arrays, n_averaged)``: updates the averaged arrays in place."""


def get_ema_multi_avg_fn(decay: float = 0.999, warmup: bool = False) -> MultiAvgFn:
    """The exponential moving average: ``avg <- decay * avg + (1 - decay) * current``.

    As PyTorch's: the first update copies the model (see :class:`AveragedModel`), later
    ones move each averaged array ``1 - decay`` of the way towards the model's.

    ``warmup`` is not PyTorch's: the n-th update (n = ``n_averaged``, 1 for the update
    after the copy) uses ``min(decay, (1 + n) / (10 + n))``, TensorFlow's
    ``ExponentialMovingAverage(num_updates=n)`` rule, so that the first weights of a run
    (random, then quickly changing) fade out of the average after a few hundred updates
    instead of lingering for ``1 / (1 - decay)`` of them. Short runs need it: with
    ``decay=0.999`` and no warm-up, the initial random weights still hold
    ``0.999 ** 1000 = 37%`` of the average after 1000 steps.

    Args:
        decay: in [0, 1].
        warmup: use the smaller decay above while ``(1 + n) / (10 + n) < decay``.

    Raises:
        ValueError: for a decay outside [0, 1].
    """
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"get_ema_multi_avg_fn: decay must be in [0, 1]; got {decay!r}")

    def ema_update(
        averaged: Sequence[np.ndarray], current: Sequence[np.ndarray], n_averaged: int
    ) -> None:
        d = min(decay, (1 + n_averaged) / (10 + n_averaged)) if warmup else decay
        weight = 1.0 - d
        for a, c in zip(averaged, current, strict=True):
            if a.dtype.kind == "f":
                a += weight * (c - a)
            else:  # an integer buffer (a count): torch's formula, truncated as its copy_
                a[...] = a * d + c * weight

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """The plain mean of every update: ``avg <- avg + (current - avg) / (n_averaged + 1)``."""

    def swa_update(
        averaged: Sequence[np.ndarray], current: Sequence[np.ndarray], n_averaged: int
    ) -> None:
        for a, c in zip(averaged, current, strict=True):
            if a.dtype.kind == "f":
                a += (c - a) / (n_averaged + 1)
            else:  # an integer buffer: the mean truncated, as torch's copy_
                a[...] = a + (c - a) / (n_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose weights are a running average of the model's.

    Example (an EMA of the weights, buffers such as BatchNorm's running statistics
    averaged too):
        >>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999),
        ...                     use_buffers=True)  # doctest: +SKIP
        >>> ...; optimizer.step(); ema.update_parameters(model)  # doctest: +SKIP
        >>> evaluate(ema.module, x_test, y_test)  # doctest: +SKIP

    ``state_dict()`` holds the averaged weights (``module.<name>``) and ``n_averaged``, so
    a checkpoint that saves it resumes the average exactly. Unlike PyTorch there is no
    ``device`` argument (the engine runs on the CPU only) and no per-array ``avg_fn``
    (``multi_avg_fn`` does the same job on all arrays at once).

    Args:
        model: the model to average (deep-copied: the average starts as its weights when
            :meth:`update_parameters` is first called).
        multi_avg_fn: how to average (None: the plain mean, :func:`get_swa_multi_avg_fn`).
        use_buffers: average the buffers too (True), or copy the model's buffers at each
            update (False), as PyTorch.
    """

    def __init__(
        self, model: Module, multi_avg_fn: MultiAvgFn | None = None, use_buffers: bool = False
    ) -> None:
        super().__init__()
        self.module = copy.deepcopy(model)
        self.module.requires_grad_(False)
        self.n_averaged: np.ndarray
        self.register_buffer("n_averaged", np.array(0, dtype=np.int64))
        self.multi_avg_fn = multi_avg_fn if multi_avg_fn is not None else get_swa_multi_avg_fn()
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The averaged model's output."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (the first call copies them).

        Raises:
            ValueError: if ``model`` does not have the averaged model's arrays and shapes.
        """
        mine, theirs = (
            list(_arrays(self.module, self.use_buffers)),
            list(_arrays(model, self.use_buffers)),
        )
        if len(mine) != len(theirs) or any(a.shape != b.shape for a, b in zip(mine, theirs)):
            raise ValueError(
                "AveragedModel.update_parameters: the model's arrays do not match the "
                f"averaged model's; got {len(theirs)} arrays, expected {len(mine)} of the "
                "same shapes"
            )
        n = int(self.n_averaged)
        if n == 0:
            for a, b in zip(mine, theirs):
                a[...] = b
        else:
            self.multi_avg_fn(mine, theirs, n)
        if not self.use_buffers:
            for (_, a), (_, b) in zip(self.module.named_buffers(), model.named_buffers()):
                a[...] = b
        self.n_averaged = np.array(n + 1, dtype=np.int64)


def _arrays(model: Module, use_buffers: bool) -> Iterator[np.ndarray]:
    """The model's parameter arrays (then its buffers, if ``use_buffers``), in order."""
    params = (p.data for p in model.parameters())
    if not use_buffers:
        return params
    return chain(params, (b for _, b in model.named_buffers()))
