""":class:`ReduceLROnPlateau`: cut the learning rate when a metric stops improving
(exported from :mod:`~autograd_mnist.optim.lr_scheduler`, PyTorch's path)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from autograd_mnist.optim._lr_base import LRScheduler, as_int, as_real, check_optimizer

if TYPE_CHECKING:
    from autograd_mnist.optim.optimizers import Optimizer

__all__ = ["ReduceLROnPlateau"]

_NAME = "ReduceLROnPlateau"
_HYPERS = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps")
_STATE = ("best", "num_bad_epochs", "cooldown_counter", "min_lrs", "default_min_lr")


class ReduceLROnPlateau(LRScheduler):
    """Multiply every group's rate by ``factor`` (down to its ``min_lr``) once the metric
    given to ``step(metrics)`` has not improved for more than ``patience`` steps, then wait
    ``cooldown`` steps before counting again; PyTorch's rule, step for step.

    A metric improves on the best so far when it is below ``best * (1 - threshold)``
    (``mode='min'``, ``threshold_mode='rel'``), below ``best - threshold`` ('abs'), or
    above ``best * (1 + threshold)`` / ``best + threshold`` with ``mode='max'``. A cut
    smaller than ``eps`` is skipped. The rates are only ever multiplied, so a rate changed
    by hand is kept. ``min_lr`` is one floor or a list of one per group.

    Raises:
        ValueError: for ``factor >= 1``, an unknown ``mode`` or ``threshold_mode``, a
            ``min_lr`` list of the wrong length, or a negative ``patience``/``cooldown``.
        TypeError: for an optimizer without parameter groups, or a metric that is not a
            number (a float, or a Tensor of one element).
    """

    chainable = False

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: list[float] | float = 0,
        eps: float = 1e-8,
    ) -> None:
        check_optimizer(_NAME, optimizer)
        factor = as_real(_NAME, "factor", factor)
        if not factor < 1.0:
            raise ValueError(f"{_NAME}: factor must be < 1.0; got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"{_NAME}: mode must be 'min' or 'max'; got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{_NAME}: threshold_mode must be 'rel' or 'abs'; got {threshold_mode!r}"
            )
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, list | tuple):
            if len(min_lr) != groups:
                raise ValueError(f"{_NAME}: min_lr has {len(min_lr)} values; expected {groups}")
            self.default_min_lr: float | None = None
            self.min_lrs = [as_real(_NAME, "min_lr", m) for m in min_lr]
        else:
            self.default_min_lr = as_real(_NAME, "min_lr", min_lr)
            self.min_lrs = [self.default_min_lr] * groups
        # not LRScheduler.__init__: as PyTorch's, this schedule does not record initial_lr
        self.optimizer = optimizer
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self._last_set = list(self.base_lrs)
        self.last_epoch = 0
        self.mode, self.factor = mode, factor
        self.threshold = as_real(_NAME, "threshold", threshold)
        self.threshold_mode, self.eps = threshold_mode, as_real(_NAME, "eps", eps)
        self.patience = as_int(_NAME, "patience", patience, 0)
        self.cooldown = as_int(_NAME, "cooldown", cooldown, 0)
        self.best = self.mode_worse
        self.num_bad_epochs = self.cooldown_counter = 0

    @property
    def mode_worse(self) -> float:
        """The best metric before any step: +inf for 'min', -inf for 'max'."""
        return math.inf if self.mode == "min" else -math.inf

    @property
    def in_cooldown(self) -> bool:
        """Whether the steps after a cut are still being waited out."""
        return self.cooldown_counter > 0

    def rate(self, base: float, epoch: int) -> float:
        raise NotImplementedError(f"{_NAME}: the rates follow the metrics, not the epoch")

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Count one epoch with this value of the metric (a float or a 0-d Tensor), and
        cut the rates if it has not improved for more than ``patience`` epochs."""
        try:
            current = float(metrics)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{_NAME}.step: metrics must be a number or a one-element Tensor; got {metrics!r}"
            ) from err
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_set = [float(g["lr"]) for g in self.optimizer.param_groups]

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"{_NAME}: the optimizer has {len(groups)} parameter groups, "
                    f"min_lr has {len(self.min_lrs)} (a group was added): set min_lrs to match"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, floor in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:
                group["lr"] = new

    def state_dict(self) -> dict[str, Any]:
        """The counters, the best metric, the hyper-parameters (as PyTorch's) and the rates
        set last (``last_lrs``)."""
        out = {k: getattr(self, k) for k in (*_HYPERS, *_STATE)}
        out["min_lrs"] = list(self.min_lrs)
        return {
            **out,
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "last_lrs": list(self._last_set),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (hyper-parameters included, as PyTorch's) and the
        rates it had set."""
        last = [float(lr) for lr in state["last_lrs"]]
        if len(last) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{_NAME}.load_state_dict: state has {len(last)} groups; "
                f"the optimizer has {len(self.optimizer.param_groups)}"
            )
        for key in (*_HYPERS, *_STATE):
            setattr(self, key, state[key])
        self.min_lrs = list(self.min_lrs)
        self.last_epoch, self.base_lrs = int(state["last_epoch"]), list(state["base_lrs"])
        self._last_set = last
        for group, lr in zip(self.optimizer.param_groups, last, strict=True):
            group["lr"] = lr
