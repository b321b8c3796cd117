"""The base class of the learning-rate schedules (:class:`LRScheduler`), shared by
:mod:`~autograd_mnist.optim.lr_scheduler` (where it is exported, PyTorch's path),
:mod:`~autograd_mnist.optim._lr_more` and :mod:`~autograd_mnist.optim.plateau`.

It also keeps, per optimizer, the rates its groups had when the first schedule was built
on it (:func:`initial_lrs`): PyTorch keeps them in ``group["initial_lr"]``, and
``SequentialLR`` starts every schedule it holds from them.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

if TYPE_CHECKING:  # for the annotations only: a schedule needs just ``optimizer.lr``
    from autograd_mnist.optim.optimizers import Optimizer

__all__ = ["LRScheduler", "as_int", "as_real", "check_optimizer", "initial_lrs"]

_INITIAL_LRS: WeakKeyDictionary[Any, list[float]] = WeakKeyDictionary()


def initial_lrs(optimizer: Optimizer) -> list[float]:
    """Every group's rate when the first schedule was built on ``optimizer`` (a group
    added since: its rate now), as PyTorch's ``group["initial_lr"]``."""
    first = _INITIAL_LRS.get(optimizer, [])
    return [*first, *(float(g["lr"]) for g in optimizer.param_groups[len(first) :])]


def check_optimizer(name: str, optimizer: Any) -> None:
    """Raise TypeError, naming the schedule, unless ``optimizer`` has parameter groups."""
    if not isinstance(getattr(optimizer, "param_groups", None), list):
        raise TypeError(f"{name}: optimizer must be an Optimizer; got {type(optimizer).__name__}")


def as_int(name: str, arg: str, value: Any, low: int) -> int:
    """``value`` as an int >= ``low``: TypeError for a non-int, ValueError below ``low``
    (both naming the schedule ``name`` and the argument ``arg``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {arg} must be an int; got {value!r}")
    if value < low:
        raise ValueError(f"{name}: {arg} must be >= {low}; got {value!r}")
    return int(value)


def as_real(name: str, arg: str, value: Any) -> float:
    """``value`` as a float: TypeError, naming the schedule and argument, for a non-number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {arg} must be a number; got {value!r}")
    return float(value)


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
        first = _INITIAL_LRS.setdefault(optimizer, [])  # torch's group['initial_lr']:
        first.extend(self.base_lrs[len(first) :])  # the rates the first schedule found

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

    def _start(self, closed_form: bool) -> None:
        """Go back to epoch 0, for ``SequentialLR``: PyTorch's first step (which keeps the
        rates, for a chainable schedule), or its closed form at 0 (``closed_form``)."""
        self.last_epoch = 0
        if self.chainable and not closed_form:
            self._last_set = [float(g["lr"]) for g in self.optimizer.param_groups]
        else:
            self._set(0)

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
