"""Learning-rate schedules, with the module name, names and formulas of PyTorch's.

:class:`StepLR` and :class:`CosineAnnealingLR` are stepped once per epoch;
:class:`OneCycleLR` once per optimizer step (its ``per_batch`` is True, which tells
``train.fit`` where to call ``step()``). Each schedule sets every parameter group's rate
from that group's own base rate (``base_lrs``).

StepLR and CosineAnnealingLR compute the closed form of PyTorch's schedule, and they
chain as PyTorch's do: when a group's rate is not what the schedule last set (you changed
it, or a second schedule on the same optimizer did), the schedule moves that group's base
rate to the one whose schedule passes through the new rate (``_rebase``) before its next
step, so the change is kept. Left alone, the rates are exactly the closed form.
OneCycleLR sets the rate outright, as PyTorch's.

Also here, from their own modules: the base class :class:`LRScheduler` (``_lr_base``);
the warm-ups :class:`LinearLR` and :class:`ConstantLR`, :class:`PolynomialLR` and
:class:`CosineAnnealingWarmRestarts` (``_lr_more``); :class:`ReduceLROnPlateau`
(``plateau``), stepped with the metric, ``step(val_loss)``. :class:`SequentialLR`, which
runs schedules one after another (a warm-up, then a decay), is defined below.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autograd_mnist.optim._lr_base import LRScheduler, check_optimizer, initial_lrs
from autograd_mnist.optim._lr_more import (
    ConstantLR,
    CosineAnnealingWarmRestarts,
    LinearLR,
    PolynomialLR,
)
from autograd_mnist.optim.plateau import ReduceLROnPlateau

if TYPE_CHECKING:  # for the annotations only: a schedule needs just ``optimizer.lr``
    from autograd_mnist.optim.optimizers import Optimizer

__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1; got {step_size}")
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def rate(self, base: float, epoch: int) -> float:
        return base * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (the number of ``milestones`` <= epoch)."""

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1) -> None:
        if list(milestones) != sorted(milestones) or any(m < 1 for m in milestones):
            raise ValueError(
                f"MultiStepLR: milestones must be increasing ints >= 1; got {milestones!r}"
            )
        super().__init__(optimizer)
        self.milestones, self.gamma = list(milestones), gamma

    def rate(self, base: float, epoch: int) -> float:
        return base * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = gamma

    def rate(self, base: float, epoch: int) -> float:
        return base * self.gamma**epoch


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), set outright (not chained), as PyTorch's.

    ``lr_lambda`` is one function for every group or a list of one per group. Like
    PyTorch's, its ``state_dict`` does not hold the functions: build it with the same ones.
    """

    chainable = False

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Any]) -> None:
        groups = len(optimizer.param_groups)
        fns = list(lr_lambda) if isinstance(lr_lambda, list | tuple) else [lr_lambda] * groups
        if len(fns) != groups or not all(callable(f) for f in fns):
            raise ValueError(
                f"LambdaLR: expected one function or a list of {groups} (one per group); "
                f"got {lr_lambda!r}"
            )
        super().__init__(optimizer)
        self.lr_lambdas = fns
        self._set(0)

    def rate(self, base: float, epoch: int) -> float:  # with the first group's function
        return base * float(self.lr_lambdas[0](epoch))

    def _rates(self, epoch: int) -> list[float]:  # each group with its own function
        return [b * float(f(epoch)) for b, f in zip(self.base_lrs, self.lr_lambdas, strict=True)]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    Past ``T_max`` the cosine goes on (back up to ``base_lr`` at ``2 * T_max``), as PyTorch's
    schedule does.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1; got {T_max}")
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min
        self._initial_lrs = list(self.base_lrs)  # PyTorch's base_lrs, for _rebase

    def rate(self, base: float, epoch: int) -> float:
        return self.eta_min + (base - self.eta_min) * self._factor(epoch)

    def _factor(self, epoch: int) -> float:
        return (1 + math.cos(math.pi * epoch / self.T_max)) / 2

    def state_dict(self) -> dict[str, Any]:
        """As the base class's, with the initial rates (``initial_lrs``) a change resets to."""
        return {**super().state_dict(), "initial_lrs": list(self._initial_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """As the base class's; a state without ``initial_lrs`` takes its base rates."""
        saved = state.get("initial_lrs", state.get("base_lrs", [state["base_lr"]]))
        self._initial_lrs = [float(b) for b in saved]
        super().load_state_dict(state)

    def _at_minimum(self, epoch: int) -> bool:
        return (epoch - self.T_max) % (2 * self.T_max) == 0

    def _moved(self, k: int, now: float, epoch: int) -> bool:
        # From a minimum PyTorch climbs with the initial rate's amplitude again: a base
        # moved by an earlier change must be moved back then.
        moved_base = self.base_lrs[k] != self._initial_lrs[k]
        return super()._moved(k, now, epoch) or (self._at_minimum(epoch) and moved_base)

    def _rebase(self, k: int, now: float, epoch: int) -> float:
        """PyTorch's chained step is affine about ``eta_min``: ``now - eta_min`` scaled by
        the ratio of factors, or, from a minimum (factor 0), ``now`` plus the first step up
        from the initial rate (``(initial - eta_min) * factor``)."""
        lo = self.eta_min
        if self._at_minimum(epoch):
            return lo + (now - lo) / self._factor(epoch + 1) + self._initial_lrs[k] - lo
        return lo + (now - lo) / self._factor(epoch)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2017), stepped after every optimizer step.

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of the ``total_steps``, then anneals down to
    ``max_lr / div_factor / final_div_factor`` (with ``three_phase``: back down to the
    initial rate over the same number of steps, then to the minimum). PyTorch's formula,
    phases and arguments; unlike PyTorch, momentum (or Adam's beta1) is not cycled: there
    is no ``cycle_momentum``, and the optimizer's momentum stays as it was built. Building
    the schedule sets the optimizer's rate to the initial rate.

    Args:
        optimizer: the rate of each of its groups is set at every step.
        max_lr: the peak learning rate.
        total_steps: the number of ``step()`` calls in the cycle; or give ``epochs`` and
            ``steps_per_epoch`` (their product).
        epochs: epochs in the cycle (with ``steps_per_epoch``).
        steps_per_epoch: optimizer steps per epoch.
        pct_start: the fraction of the cycle spent rising, in [0, 1].
        anneal_strategy: 'cos' or 'linear'.
        div_factor: initial rate = max_lr / div_factor.
        final_div_factor: minimum rate = initial rate / final_div_factor.
        three_phase: the three-phase variant (see above).

    Raises:
        ValueError: for a bad argument, and from ``step()`` past ``total_steps``.
    """

    per_batch = True
    chainable = False

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None or epochs < 1 or steps_per_epoch < 1:
                raise ValueError(
                    "OneCycleLR: give total_steps, or epochs and steps_per_epoch (ints >= 1); "
                    f"got total_steps=None, epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}"
                )
            total_steps = epochs * steps_per_epoch
        if total_steps < 1:
            raise ValueError(f"OneCycleLR: total_steps must be >= 1; got {total_steps!r}")
        if not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1]; got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy must be 'cos' or 'linear'; got {anneal_strategy!r}"
            )
        super().__init__(optimizer)
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        self.max_lr = float(max_lr)
        self.initial_lr = self.max_lr / div_factor
        self.min_lr = self.initial_lr / final_div_factor
        rise = float(pct_start * total_steps) - 1
        if three_phase:
            self._phases = [
                (rise, self.initial_lr, self.max_lr),
                (float(2 * pct_start * total_steps) - 2, self.max_lr, self.initial_lr),
                (total_steps - 1.0, self.initial_lr, self.min_lr),
            ]
        else:
            self._phases = [
                (rise, self.initial_lr, self.max_lr),
                (total_steps - 1.0, self.max_lr, self.min_lr),
            ]
        self._set(0)

    def rate(self, base: float, epoch: int) -> float:  # the same for every group
        return self.lr_at(epoch)

    def lr_at(self, epoch: int) -> float:
        if epoch > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {epoch} times; got more than total_steps {self.total_steps}"
            )
        start = 0.0
        for i, (end, lr_from, lr_to) in enumerate(self._phases):
            if epoch <= end or i == len(self._phases) - 1:
                pct = (epoch - start) / (end - start)
                if self.anneal_strategy == "linear":
                    return (lr_to - lr_from) * pct + lr_from
                return lr_to + (lr_from - lr_to) / 2.0 * (math.cos(math.pi * pct) + 1)
            start = end
        raise AssertionError("unreachable")  # pragma: no cover


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another: the first up to ``milestones[0]`` steps, the
    next from there, and so on (e.g. a ``LinearLR`` warm-up, then ``CosineAnnealingLR``).

    As PyTorch's: building it puts every group back to the rate it had when the first
    schedule was built on the optimizer, and starts every schedule from those rates; at a
    milestone the next schedule starts from its closed form at epoch 0 (a rate changed by
    hand is dropped there), and between milestones it steps as it would alone (so it
    chains). ``ReduceLROnPlateau`` cannot be held (its ``step`` needs the metric), nor
    another ``SequentialLR``.
    """

    chainable = False

    def __init__(
        self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int]
    ) -> None:
        check_optimizer("SequentialLR", optimizer)
        scheds, marks = list(schedulers), list(milestones)
        if not scheds:
            raise ValueError("SequentialLR: schedulers must hold at least one schedule; got none")
        for i, s in enumerate(scheds):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"SequentialLR: schedulers[{i}] is not a schedule; got {s!r}")
            if isinstance(s, ReduceLROnPlateau | SequentialLR):
                raise ValueError(
                    f"SequentialLR: schedulers[{i}] is a {type(s).__name__}, which it cannot "
                    "hold (ReduceLROnPlateau's step needs the metric)"
                )
            if s.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: schedulers[{i}] steps another optimizer")
        if len(marks) != len(scheds) - 1:
            raise ValueError(
                f"SequentialLR: milestones must hold one fewer than the {len(scheds)} "
                f"schedulers; got {len(marks)}"
            )
        if any(isinstance(m, bool) or not isinstance(m, int) for m in marks):
            raise TypeError(f"SequentialLR: milestones must be ints; got {milestones!r}")
        if marks != sorted(marks) or any(m < 1 for m in marks):
            raise ValueError(
                f"SequentialLR: milestones must be increasing ints >= 1; got {milestones!r}"
            )
        super().__init__(optimizer)
        self._schedulers, self._milestones = scheds, marks
        self.per_batch = any(s.per_batch for s in scheds)
        self.base_lrs = initial_lrs(optimizer)
        for group, lr in zip(optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = lr
        for s in scheds:
            s.base_lrs = list(self.base_lrs)  # PyTorch's: every one from initial_lr
            if isinstance(s, CosineAnnealingLR):
                s._initial_lrs = list(self.base_lrs)
        first = scheds[bisect.bisect_right(marks, 0)]
        first._start(closed_form=False)
        self._last_set = first.get_last_lr()

    def _current(self, epoch: int) -> tuple[int, int]:
        """The index of the schedule running at ``epoch``, and the epoch it started."""
        idx = bisect.bisect_right(self._milestones, epoch)
        return idx, self._milestones[idx - 1] if idx else 0

    def rate(self, base: float, epoch: int) -> float:
        idx, start = self._current(epoch)
        return self._schedulers[idx].rate(base, epoch - start)

    def step(self) -> None:
        """Advance one epoch: start the next schedule at a milestone, else step this one."""
        self.last_epoch += 1
        idx, start = self._current(self.last_epoch)
        sched = self._schedulers[idx]
        if idx and start == self.last_epoch:
            sched._start(closed_form=True)
        else:
            sched.step()
        self._last_set = sched.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """Its epoch and rates, and each schedule's state (``schedulers``)."""
        return {
            **super().state_dict(),
            "milestones": list(self._milestones),
            "last_lrs": list(self._last_set),
            "schedulers": [s.state_dict() for s in self._schedulers],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore every schedule's state, then the rates set last."""
        saved = state["schedulers"]
        if len(saved) != len(self._schedulers):
            raise ValueError(
                f"SequentialLR.load_state_dict: state has {len(saved)} schedulers; "
                f"this one holds {len(self._schedulers)}"
            )
        for s, sub in zip(self._schedulers, saved, strict=True):
            s.load_state_dict(sub)
        self.last_epoch, self.base_lrs = int(state["last_epoch"]), list(state["base_lrs"])
        self._last_set = [float(lr) for lr in state["last_lrs"]]
        for group, lr in zip(self.optimizer.param_groups, self._last_set, strict=True):
            group["lr"] = lr
        self._schedulers[self._current(self.last_epoch)[0]]._last_set = list(self._last_set)
