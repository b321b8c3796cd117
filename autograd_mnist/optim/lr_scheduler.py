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
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the annotations only: a schedule needs just ``optimizer.lr``
    from autograd_mnist.optim.optimizers import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "MultiStepLR",
    "OneCycleLR",
    "StepLR",
]


class LRScheduler:
    """Base of the learning-rate schedules; call ``step()`` once per epoch, or once per
    optimizer step when ``per_batch`` is True. ``last_epoch`` counts the calls so far."""

    per_batch: bool = False
    """True for a schedule stepped after every optimizer step (``train.fit`` reads it)."""

    chainable: bool = True
    """Whether a rate changed by someone else rescales the group's base (see above)."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self.last_epoch = 0
        self._last_set = list(self.base_lrs)  # what this schedule last set, per group

    @property
    def base_lr(self) -> float:
        """The first group's base rate."""
        return self.base_lrs[0]

    def lr_at(self, epoch: int) -> float:
        """The first group's learning rate after ``epoch`` calls of :meth:`step` (0: the
        start)."""
        return self.rate(self.base_lrs[0], epoch)

    def rate(self, base: float, epoch: int) -> float:
        """The rate of a group whose base rate is ``base``, after ``epoch`` steps."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The rates this schedule set last, one per group (PyTorch's name)."""
        return list(self._last_set)

    def step(self) -> None:
        """Advance one epoch (or batch) and set every group's learning rate."""
        prev, self.last_epoch = self.last_epoch, self.last_epoch + 1
        for k, group in enumerate(self.optimizer.param_groups):
            now = float(group["lr"])
            if self.chainable and self._moved(k, now, prev):  # changed since: keep it
                self.base_lrs[k] = self._rebase(k, now, prev)
        self._set(self.last_epoch)

    def _moved(self, k: int, now: float, epoch: int) -> bool:
        """Whether group ``k``'s rate ``now`` is not what this schedule last set."""
        return now != self._last_set[k]

    def _rebase(self, k: int, now: float, epoch: int) -> float:
        """Group ``k``'s new base: the one whose schedule is at ``now`` after ``epoch`` steps,
        so that it goes on from ``now`` as PyTorch's chained step does (``rate`` is ``base``
        times a factor here; the base is kept where that factor is 0)."""
        factor = self.rate(1.0, epoch)
        return now / factor if factor else self.base_lrs[k]

    def _set(self, epoch: int) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                f"{type(self).__name__}: the optimizer has {len(groups)} parameter groups; "
                f"the schedule was built for {len(self.base_lrs)}"
            )
        self._last_set = self._rates(epoch)
        for group, lr in zip(groups, self._last_set):
            group["lr"] = lr

    def _rates(self, epoch: int) -> list[float]:
        """Every group's rate after ``epoch`` steps."""
        return [self.rate(base, epoch) for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and base rates (``base_lr``: the first group's)."""
        return {"last_epoch": self.last_epoch, "base_lr": self.base_lr, "base_lrs": self.base_lrs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (also one saved before groups, with ``base_lr``
        only) and the optimizer's rates for that epoch."""
        bases = [float(b) for b in state.get("base_lrs", [state["base_lr"]])]
        if len(bases) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: state has {len(bases)} groups; "
                f"the optimizer has {len(self.optimizer.param_groups)}"
            )
        self.last_epoch, self.base_lrs = int(state["last_epoch"]), bases
        self._set(self.last_epoch)


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
