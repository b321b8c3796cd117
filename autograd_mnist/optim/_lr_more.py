"""Warm-up, polynomial and restarting schedules (exported from
:mod:`~autograd_mnist.optim.lr_scheduler`, PyTorch's path): :class:`ConstantLR`,
:class:`LinearLR`, :class:`PolynomialLR` and :class:`CosineAnnealingWarmRestarts`.

ConstantLR, LinearLR and PolynomialLR step as PyTorch's do: each step multiplies every
group's current rate by the same ratio, in PyTorch's arithmetic (the same floats), so a
rate changed by hand or by a second schedule is kept. Their ``rate`` is PyTorch's closed
form (``_get_closed_form_lr``), for ``lr_at`` and for ``SequentialLR``'s milestones.
CosineAnnealingWarmRestarts sets the rate outright from the base rates, as PyTorch's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from autograd_mnist.optim._lr_base import LRScheduler, as_int, as_real, check_optimizer

if TYPE_CHECKING:
    from autograd_mnist.optim.optimizers import Optimizer

__all__ = ["ConstantLR", "CosineAnnealingWarmRestarts", "LinearLR", "PolynomialLR"]


def _real(
    name: str, arg: str, value: Any, low: float, high: float, low_open: bool = False
) -> float:
    """``value`` as a float in [low, high] (``(low, high]`` when ``low_open``)."""
    x = as_real(name, arg, value)
    if not (low < x if low_open else low <= x) or not x <= high:
        bounds = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"{name}: {arg} must be in {bounds}; got {value!r}")
    return x


class _Multiplicative(LRScheduler):
    """A schedule whose step multiplies every group's current rate by ``ratio(epoch)``
    (PyTorch's ``get_lr`` of ConstantLR, LinearLR and PolynomialLR). Building it takes the
    step at epoch 0, as PyTorch's."""

    chainable = False  # step() reads the current rates itself: a change is kept anyway

    def __init__(self, optimizer: Optimizer) -> None:
        check_optimizer(type(self).__name__, optimizer)
        super().__init__(optimizer)
        self._multiply(0)

    def ratio(self, epoch: int) -> float:
        """What step number ``epoch`` multiplies the rates by."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch: multiply every group's rate by ``ratio``."""
        self.last_epoch += 1
        self._multiply(self.last_epoch)

    def _multiply(self, epoch: int) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            self._set(epoch)  # raises, naming the schedule
        ratio = self.ratio(epoch)
        for group in groups:
            group["lr"] = group["lr"] * ratio
        self._last_set = [float(g["lr"]) for g in groups]

    def _start(self, closed_form: bool) -> None:
        self.last_epoch = 0
        if closed_form:
            self._set(0)
        else:
            self._multiply(0)

    def state_dict(self) -> dict[str, Any]:
        """As the base class's, with the rates set last (``last_lrs``), which a rate
        changed by hand may have moved off the closed form."""
        return {**super().state_dict(), "last_lrs": list(self._last_set)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """As the base class's, then the rates set last (when the state has them)."""
        super().load_state_dict(state)
        if "last_lrs" in state:
            self._last_set = [float(lr) for lr in state["last_lrs"]]
            for group, lr in zip(self.optimizer.param_groups, self._last_set, strict=True):
                group["lr"] = lr


class ConstantLR(_Multiplicative):
    """lr = base_lr * factor for the first ``total_iters`` steps, then base_lr.

    As PyTorch's, the step at ``total_iters`` divides the current rate by ``factor``
    (a rate changed meanwhile is kept, scaled back up). With ``factor`` 0, where PyTorch
    divides by zero, the rate goes back to ``base_lr``.
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5) -> None:
        self.factor = _real("ConstantLR", "factor", factor, 0.0, 1.0)
        self.total_iters = as_int("ConstantLR", "total_iters", total_iters, 0)
        super().__init__(optimizer)

    def ratio(self, epoch: int) -> float:
        if epoch == 0:
            return self.factor
        return 1.0 if epoch != self.total_iters else 1.0 / self.factor

    def _multiply(self, epoch: int) -> None:
        if epoch and epoch == self.total_iters and self.factor == 0:
            self._set(epoch)  # back to the base rates
        else:
            super()._multiply(epoch)

    def rate(self, base: float, epoch: int) -> float:
        return base * (self.factor + (epoch >= self.total_iters) * (1 - self.factor))


class LinearLR(_Multiplicative):
    """lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters)
    / total_iters): a linear warm-up (or decay) over ``total_iters`` steps, then constant.

    Each step multiplies the current rate by PyTorch's ratio of successive factors, so a
    rate changed meanwhile is kept.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        self.start_factor = _real("LinearLR", "start_factor", start_factor, 0.0, 1.0, True)
        self.end_factor = _real("LinearLR", "end_factor", end_factor, 0.0, 1.0)
        self.total_iters = as_int("LinearLR", "total_iters", total_iters, 0)
        super().__init__(optimizer)

    def ratio(self, epoch: int) -> float:
        if epoch == 0:
            return self.start_factor
        if epoch > self.total_iters:
            return 1.0
        start, end = self.start_factor, self.end_factor
        return 1.0 + (end - start) / (self.total_iters * start + (epoch - 1) * (end - start))

    def rate(self, base: float, epoch: int) -> float:
        start, end, total = self.start_factor, self.end_factor, self.total_iters
        if not total:  # PyTorch's steps keep start_factor (its closed form divides by 0)
            return base * start
        return base * (start + (end - start) * min(total, epoch) / total)


class PolynomialLR(_Multiplicative):
    """lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power: a polynomial
    decay to 0 over ``total_iters`` steps (then 0, or a rate set since, kept)."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0) -> None:
        self.total_iters = as_int("PolynomialLR", "total_iters", total_iters, 0)
        self.power = _real("PolynomialLR", "power", power, 0.0, math.inf)
        super().__init__(optimizer)

    def ratio(self, epoch: int) -> float:
        if epoch == 0 or epoch > self.total_iters:
            return 1.0
        total = self.total_iters
        return float(((1.0 - epoch / total) / (1.0 - (epoch - 1) / total)) ** self.power)

    def rate(self, base: float, epoch: int) -> float:
        if not self.total_iters:
            return base
        return base * float((1.0 - min(self.total_iters, epoch) / self.total_iters) ** self.power)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov and Hutter, 2016): lr = eta_min + (base_lr - eta_min) *
    (1 + cos(pi * T_cur / T_i)) / 2, where ``T_cur`` counts the steps since the last
    restart and the period ``T_i`` starts at ``T_0`` and is multiplied by ``T_mult`` at
    each restart. The rate is set outright (a change by hand lasts one step), as PyTorch's.

    ``step(epoch)`` takes a fractional epoch too (``epoch + i / iters`` once per batch),
    as PyTorch's.
    """

    chainable = False

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # noqa: N803
        T_mult: int = 1,  # noqa: N803
        eta_min: float = 0.0,
    ) -> None:
        name = "CosineAnnealingWarmRestarts"
        check_optimizer(name, optimizer)
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"{name}: T_0 must be a positive int; got {T_0!r}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"{name}: T_mult must be an int >= 1; got {T_mult!r}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, float | int):
            raise ValueError(f"{name}: eta_min must be a float or an int; got {eta_min!r}")
        super().__init__(optimizer)
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur: float = 0
        self._set(0)

    def rate(self, base: float, epoch: int) -> float:
        t_cur, t_i = epoch, self.T_0
        if self.T_mult == 1:
            t_cur = epoch % self.T_0
        while t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_i * self.T_mult
        return self._cosine(base, t_cur, t_i)

    def _cosine(self, base: float, t_cur: float, t_i: int) -> float:
        return self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    def _rates(self, epoch: int) -> list[float]:  # from the state, as PyTorch's
        return [self._cosine(base, self.T_cur, self.T_i) for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one step, or go to ``epoch`` (a float: a fraction of the way through)."""
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur, self.T_i = self.T_cur % self.T_i, self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be >= 0; got {epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:
                n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult**n
        else:
            self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        self._set(self.last_epoch)

    def state_dict(self) -> dict[str, Any]:
        """As the base class's, with the place in the period (``T_cur``, ``T_i``)."""
        return {**super().state_dict(), "T_cur": self.T_cur, "T_i": self.T_i}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """As the base class's, with the place in the period."""
        self.T_cur, self.T_i = state["T_cur"], int(state["T_i"])
        super().load_state_dict(state)
