"""More learning-rate schedules, against PyTorch: ReduceLROnPlateau, LinearLR, ConstantLR,
PolynomialLR, CosineAnnealingWarmRestarts and SequentialLR.

Long random runs (random hyper-parameters, several parameter groups, rates changed by hand
between steps, random metrics with plateaus and ties) give the same rates as
``torch.optim.lr_scheduler``; argument errors name the schedule and the argument; a state
saved mid-run and loaded into a fresh schedule goes on as the uninterrupted run."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import optim
from autograd_mnist.optim import lr_scheduler

NEW = (
    "ConstantLR CosineAnnealingWarmRestarts LinearLR PolynomialLR ReduceLROnPlateau SequentialLR"
).split()
RUNS = 40  # random runs per kind of schedule
STEPS = 70

Make = Callable[[Any, Any], Any]  # (lr_scheduler module, optimizer) -> schedule


def _sgd(lib: Any, lrs: list[float]) -> Any:
    """An SGD over one parameter per group, ours (``lib`` is am) or PyTorch's."""
    groups = [{"params": [lib.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return (optim if lib is am else lib.optim).SGD(groups, lr=lrs[0])


def _module(lib: Any) -> Any:
    return lr_scheduler if lib is am else lib.optim.lr_scheduler


class Plan:
    """One random run: the groups' rates, the rates changed by hand before each step
    (group -> factor) and, for ReduceLROnPlateau, the metric of each step."""

    def __init__(self, rng: np.random.Generator, hand: float = 0.15) -> None:
        self.lrs = [float(rng.choice([0.1, 1.0, 0.03])) * rng.uniform(0.5, 2) for _ in range(3)]
        self.lrs = self.lrs[: int(rng.integers(1, 4))]
        self.hand: list[dict[int, float]] = [
            {int(rng.integers(len(self.lrs))): float(rng.uniform(0.3, 3))}
            if rng.random() < hand
            else {}
            for _ in range(STEPS)
        ]
        self.metrics: list[float] = []
        self.as_tensor = [bool(rng.random() < 0.3) for _ in range(STEPS)]

    def run(self, lib: Any, make: Make, steps: int = STEPS) -> list[list[float]]:
        opt = _sgd(lib, self.lrs)
        sched = make(_module(lib), opt)
        return [sched.get_last_lr(), *self.go(lib, sched, opt, 0, steps)]

    def go(self, lib: Any, sched: Any, opt: Any, start: int, stop: int) -> list[list[float]]:
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's "step() before optimizer.step()" etc.
            for t in range(start, stop):
                for k, f in self.hand[t].items():
                    opt.param_groups[k]["lr"] *= f
                opt.step()
                if self.metrics:
                    m = self.metrics[t]
                    sched.step(lib.tensor(m) if self.as_tensor[t] else m)
                else:
                    sched.step()
                lrs = [float(g["lr"]) for g in opt.param_groups]
                assert [float(x) for x in sched.get_last_lr()] == lrs
                out.append(lrs)
        return out


def _compare(plan: Plan, make: Make, exact: bool) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = plan.run(am, make), plan.run(torch, make)
    if exact:
        assert ours == theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


# ----- random hyper-parameters -----


def _linear(rng: np.random.Generator, low: int = 0) -> Make:
    start, end = float(rng.uniform(0.01, 1)), float(rng.choice([0.0, 1.0, rng.uniform(0, 1)]))
    total = int(rng.integers(low, 30))
    return lambda ls, o: ls.LinearLR(o, start_factor=start, end_factor=end, total_iters=total)


def _constant(rng: np.random.Generator) -> Make:
    factor, total = float(rng.choice([1.0, rng.uniform(0.01, 1)])), int(rng.integers(0, 30))
    return lambda ls, o: ls.ConstantLR(o, factor=factor, total_iters=total)


def _poly(rng: np.random.Generator, low: int = 0) -> Make:
    total, power = int(rng.integers(low, 50)), float(rng.choice([1.0, 2.0, 0.0, rng.uniform(0, 4)]))
    return lambda ls, o: ls.PolynomialLR(o, total_iters=total, power=power)


def _restarts(rng: np.random.Generator) -> Make:
    t0, mult = int(rng.integers(1, 12)), int(rng.integers(1, 4))
    eta = float(rng.choice([0.0, rng.uniform(0, 0.01)]))
    return lambda ls, o: ls.CosineAnnealingWarmRestarts(o, T_0=t0, T_mult=mult, eta_min=eta)


def _plateau_make(rng: np.random.Generator, groups: int) -> Make:
    kw: dict[str, Any] = {
        "mode": str(rng.choice(["min", "max"])),
        "factor": float(rng.choice([0.1, 0.5, 0.0, rng.uniform(0, 0.99)])),
        "patience": int(rng.integers(0, 6)),
        "threshold": float(rng.choice([1e-4, 0.0, rng.uniform(0, 0.1)])),
        "threshold_mode": str(rng.choice(["rel", "abs"])),
        "cooldown": int(rng.integers(0, 4)),
        "eps": float(rng.choice([1e-8, 0.0, 1e-3])),
    }
    if rng.random() < 0.5:
        kw["min_lr"] = [float(rng.choice([0.0, rng.uniform(0, 0.05)])) for _ in range(groups)]
    else:
        kw["min_lr"] = float(rng.choice([0.0, rng.uniform(0, 0.05)]))
    return lambda ls, o: ls.ReduceLROnPlateau(o, **kw)


def _metrics(rng: np.random.Generator) -> list[float]:
    """A noisy curve with plateaus, exact ties with earlier values, a sign change and NaN."""
    m, out = float(rng.uniform(-1, 2)), []
    for _ in range(STEPS):
        r = rng.random()
        if r < 0.25 and out:
            m = out[-1]  # a plateau
        elif r < 0.4 and out:
            m = float(rng.choice(out))  # a tie with an earlier value (maybe the best)
        elif r < 0.42:
            m = math.nan
        else:
            m = (m if math.isfinite(m) else 1.0) * float(rng.uniform(0.85, 1.1)) + float(
                rng.normal(0, 0.01)
            )
        out.append(m)
    return out


# total_iters >= 1 here: at a milestone PyTorch's closed form divides by total_iters
_DECAYS: dict[str, Callable[[np.random.Generator], Make]] = {
    "poly": lambda rng: _poly(rng, 1),
    "restarts": _restarts,
    "linear": lambda rng: _linear(rng, 1),
    "cosine": lambda rng: (
        lambda ls, o, t=int(rng.integers(1, 40)), lo=float(rng.choice([0, rng.uniform(0, 0.01)])): (
            ls.CosineAnnealingLR(o, T_max=t, eta_min=lo)
        )
    ),
    "step": lambda rng: lambda ls, o, s=int(rng.integers(1, 8)): ls.StepLR(o, s, 0.5),
    "exp": lambda rng: lambda ls, o, g=float(rng.uniform(0.8, 1)): ls.ExponentialLR(o, g),
    "lambda": lambda rng: lambda ls, o: ls.LambdaLR(o, lambda e: 1 / (1 + e)),
}


def _sequential(rng: np.random.Generator, decays: tuple[str, ...]) -> Make:
    warm = _linear(rng, 1) if rng.random() < 0.5 else _constant(rng)
    rest = [_DECAYS[str(rng.choice(decays))](rng) for _ in range(int(rng.integers(1, 3)))]
    makes = [warm, *rest]
    marks = sorted(int(m) for m in rng.choice(np.arange(1, 40), len(rest), replace=False))

    def make(ls: Any, o: Any) -> Any:
        return ls.SequentialLR(o, [m(ls, o) for m in makes], milestones=marks)

    return make


# ----- against PyTorch -----

KINDS: dict[str, Callable[[np.random.Generator], Make]] = {
    "LinearLR": _linear,
    "ConstantLR": _constant,
    "PolynomialLR": _poly,
    "CosineAnnealingWarmRestarts": _restarts,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_random_runs_match_pytorch_exactly(kind: str) -> None:
    """PyTorch's arithmetic, step for step: the same floats, rates changed by hand kept
    (LinearLR, ConstantLR, PolynomialLR) or overwritten (warm restarts) as PyTorch's."""
    rng = np.random.default_rng(sum(map(ord, kind)))
    for _ in range(RUNS):
        _compare(Plan(rng), KINDS[kind](rng), exact=True)


def test_plateau_random_runs_match_pytorch_exactly() -> None:
    rng = np.random.default_rng(11)
    for _ in range(3 * RUNS):
        plan = Plan(rng)
        plan.metrics = _metrics(rng)
        _compare(plan, _plateau_make(rng, len(plan.lrs)), exact=True)


def test_sequential_random_runs_match_pytorch() -> None:
    """Exactly with schedules that compute as PyTorch's; to 1e-12 with ExponentialLR
    (ours is the closed form, PyTorch's recurses)."""
    rng = np.random.default_rng(12)
    for _ in range(RUNS):
        _compare(
            Plan(rng), _sequential(rng, ("poly", "restarts", "linear", "lambda", "step")), True
        )
    for _ in range(RUNS):
        _compare(Plan(rng), _sequential(rng, ("exp", "poly")), exact=False)


def test_sequential_warmup_then_cosine_matches_pytorch() -> None:
    """The usual recipe, left alone and with rates changed by hand (to 1e-12: PyTorch's
    cosine recurses, ours is the closed form)."""
    rng = np.random.default_rng(13)
    for hand in (0.0, 0.15):
        for _ in range(RUNS // 2):
            _compare(Plan(rng, hand), _sequential(rng, ("cosine",)), exact=False)


# ----- state -----


@pytest.mark.parametrize("kind", [*KINDS, "ReduceLROnPlateau", "SequentialLR"])
def test_state_round_trip_resumes_the_same_rates(kind: str) -> None:
    """A state saved mid-run (rates changed by hand included) and loaded into a fresh
    schedule, on an optimizer built with other rates, goes on exactly as the original."""
    rng = np.random.default_rng(sum(map(ord, kind)) + 1)
    for _ in range(RUNS // 4):
        plan = Plan(rng)
        if kind == "ReduceLROnPlateau":
            plan.metrics = _metrics(rng)
            make = _plateau_make(rng, len(plan.lrs))
        elif kind == "SequentialLR":
            make = _sequential(rng, tuple(_DECAYS))
        else:
            make = KINDS[kind](rng)
        whole = plan.run(am, make)
        cut = int(rng.integers(1, STEPS))
        opt = _sgd(am, plan.lrs)
        first = make(lr_scheduler, opt)
        plan.go(am, first, opt, 0, cut)
        state = first.state_dict()
        fresh_opt = _sgd(am, [lr * 7 for lr in plan.lrs])
        fresh = make(lr_scheduler, fresh_opt)
        fresh.load_state_dict(state)
        assert fresh.get_last_lr() == whole[cut]
        assert [g["lr"] for g in fresh_opt.param_groups] == whole[cut]
        assert plan.go(am, fresh, fresh_opt, cut, STEPS) == whole[cut + 1 :]


def test_closed_forms_left_alone() -> None:
    """``lr_at`` (PyTorch's closed form) against the run; warm restarts exactly."""
    opt = _sgd(am, [0.1])
    cases = [
        (optim.LinearLR(_sgd(am, [0.1]), 0.25, 1.0, 4), [0.025, 0.04375, 0.0625, 0.08125, 0.1]),
        (optim.ConstantLR(_sgd(am, [0.1]), 0.5, 3), [0.05, 0.05, 0.05, 0.1, 0.1]),
        (optim.PolynomialLR(_sgd(am, [0.1]), 4, 2.0), [0.1, 0.05625, 0.025, 0.00625, 0.0]),
    ]
    for sched, expected in cases:
        got = [sched.optimizer.lr]
        for _ in range(len(expected) - 1):
            sched.step()
            got.append(sched.optimizer.lr)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        np.testing.assert_allclose([sched.lr_at(e) for e in range(5)], expected, rtol=1e-12)
    sgdr = optim.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.0)
    run = [opt.lr]
    for _ in range(13):
        sgdr.step()
        run.append(opt.lr)
    assert run == [sgdr.lr_at(e) for e in range(14)]
    assert run[2] == run[6] == run[0] == 0.1  # restarts after 2, then 4, then 8 steps


def test_warm_restarts_fractional_epochs_match_pytorch() -> None:
    """``step(epoch + i / iters)`` once per batch, PyTorch's SGDR idiom."""
    torch = pytest.importorskip("torch")
    for mult in (1, 2, 3):
        ours, theirs = _sgd(am, [0.1, 0.5]), _sgd(torch, [0.1, 0.5])
        a = optim.CosineAnnealingWarmRestarts(ours, T_0=3, T_mult=mult, eta_min=0.001)
        b = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, 3, mult, 0.001)
        for epoch in range(20):
            for i in range(7):
                a.step(epoch + i / 7)
                b.step(epoch + i / 7)
                assert a.get_last_lr() == b.get_last_lr()
        a.step()
        b.step()
        assert a.get_last_lr() == b.get_last_lr()
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts.step: epoch must be >= 0"):
        a.step(-1)


# ----- ReduceLROnPlateau by hand -----


def test_plateau_cuts_after_patience_then_cools_down() -> None:
    a, b = am.zeros(1, requires_grad=True), am.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=1.0)
    s = optim.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=[0.3, 0.0])
    for _ in range(3):  # the first sets the best; two bad epochs are within patience
        s.step(am.tensor(1.0))
    assert s.get_last_lr() == [1.0, 0.01] and s.num_bad_epochs == 2
    s.step(1.0)  # a tie is not an improvement: the third bad epoch cuts
    assert s.get_last_lr() == [0.5, 0.005] and s.in_cooldown
    s.step(2.0)  # in the cooldown: not counted
    assert s.num_bad_epochs == 0 and not s.in_cooldown
    for _ in range(3):
        s.step(2.0)
    assert s.get_last_lr() == [0.3, 0.0025]  # floored at min_lr
    opt.param_groups[0]["lr"] = 0.9  # changed by hand: kept, and cut from there
    for _ in range(3):
        s.step(0.5)
    assert s.get_last_lr() == [0.9, 0.0025] and s.best == 0.5
    assert isinstance(s, optim.LRScheduler)


def test_plateau_skips_cuts_smaller_than_eps_and_follows_new_groups() -> None:
    opt = optim.SGD([am.zeros(1, requires_grad=True)], lr=1e-8)
    s = optim.ReduceLROnPlateau(opt, patience=0)
    s.step(1.0)
    s.step(1.0)
    assert opt.lr == 1e-8  # 1e-8 - 1e-9 is not more than eps
    s1 = optim.ReduceLROnPlateau(
        optim.SGD([am.zeros(1, requires_grad=True)], lr=1.0), factor=0.5, patience=0, eps=0.5
    )
    s1.step(1.0)
    s1.step(1.0)
    assert s1.get_last_lr() == [1.0]  # a cut of exactly eps is skipped, as PyTorch's
    s2 = optim.ReduceLROnPlateau(opt, patience=0, min_lr=0.0, eps=0.0)
    opt.add_param_group({"params": [am.zeros(1, requires_grad=True)], "lr": 1.0})
    s2.step(1.0)
    s2.step(1.0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1e-9, 0.1])
    s3 = optim.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [am.zeros(1, requires_grad=True)], "lr": 1.0})
    s3.step(1.0)
    with pytest.raises(RuntimeError, match="ReduceLROnPlateau: the optimizer has 3"):
        s3.step(1.0)


# ----- SequentialLR by hand -----


def test_sequential_warmup_then_cosine() -> None:
    opt = _sgd(am, [0.1])
    warm = optim.LinearLR(opt, start_factor=0.1, total_iters=4)
    cos = optim.CosineAnnealingLR(opt, T_max=6, eta_min=0.0)
    s = optim.SequentialLR(opt, [warm, cos], milestones=[4])
    got = [opt.lr]
    for _ in range(10):
        s.step()
        got.append(opt.lr)
    warmup = [0.1 * (0.1 + 0.9 * e / 4) for e in range(4)]
    cosine = [0.05 * (1 + math.cos(math.pi * e / 6)) for e in range(7)]
    np.testing.assert_allclose(got, warmup + cosine, rtol=1e-12)
    assert s.base_lrs == cos.base_lrs == [0.1] and not s.per_batch
    np.testing.assert_allclose([s.lr_at(e) for e in range(11)], got, rtol=1e-12)


# ----- errors -----


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: optim.LinearLR(o, start_factor=0), ValueError, "LinearLR: start_factor"),
        (lambda o: optim.LinearLR(o, end_factor=1.5), ValueError, "LinearLR: end_factor"),
        (lambda o: optim.LinearLR(o, total_iters=2.0), TypeError, "LinearLR: total_iters"),
        (lambda o: optim.LinearLR(o, total_iters=-1), ValueError, "LinearLR: total_iters"),
        (lambda o: optim.LinearLR(o, start_factor="a"), TypeError, "LinearLR: start_factor"),
        (lambda o: optim.ConstantLR(o, factor=1.5), ValueError, "ConstantLR: factor"),
        (lambda o: optim.ConstantLR(o, factor=-0.1), ValueError, "ConstantLR: factor"),
        (lambda o: optim.ConstantLR(o, total_iters=-2), ValueError, "ConstantLR: total_iters"),
        (lambda o: optim.PolynomialLR(o, power=-1), ValueError, "PolynomialLR: power"),
        (lambda o: optim.PolynomialLR(o, total_iters=None), TypeError, "PolynomialLR: total_"),
        (lambda o: optim.CosineAnnealingWarmRestarts(o, 0), ValueError, "Restarts: T_0"),
        (lambda o: optim.CosineAnnealingWarmRestarts(o, 2.0), ValueError, "Restarts: T_0"),
        (lambda o: optim.CosineAnnealingWarmRestarts(o, 2, 0), ValueError, "Restarts: T_mult"),
        (lambda o: optim.CosineAnnealingWarmRestarts(o, 2, 1.5), ValueError, "Restarts: T_mult"),
        (lambda o: optim.CosineAnnealingWarmRestarts(o, 2, eta_min="0"), ValueError, "eta_min"),
        (lambda o: optim.ReduceLROnPlateau(o, factor=1.0), ValueError, "Plateau: factor"),
        (lambda o: optim.ReduceLROnPlateau(o, factor="x"), TypeError, "Plateau: factor"),
        (lambda o: optim.ReduceLROnPlateau(o, mode="mn"), ValueError, "Plateau: mode"),
        (lambda o: optim.ReduceLROnPlateau(o, threshold_mode="r"), ValueError, "threshold_mode"),
        (lambda o: optim.ReduceLROnPlateau(o, min_lr=[0, 0, 0]), ValueError, "Plateau: min_lr"),
        (lambda o: optim.ReduceLROnPlateau(o, patience=-1), ValueError, "Plateau: patience"),
        (lambda o: optim.ReduceLROnPlateau(o, cooldown=0.5), TypeError, "Plateau: cooldown"),
        (lambda o: optim.ReduceLROnPlateau(o).step("x"), TypeError, "Plateau.step: metrics"),
        (lambda o: optim.ReduceLROnPlateau([0.1]), TypeError, "Plateau: optimizer"),
        (lambda o: optim.LinearLR(None), TypeError, "LinearLR: optimizer"),
        (lambda o: optim.SequentialLR(o, [], []), ValueError, "SequentialLR: schedulers"),
        (
            lambda o: optim.SequentialLR(o, [optim.StepLR(o, 2)], [3]),
            ValueError,
            "SequentialLR: milestones must hold one fewer",
        ),
        (
            lambda o: optim.SequentialLR(o, [optim.StepLR(o, 2), optim.StepLR(o, 2)], [0]),
            ValueError,
            "SequentialLR: milestones must be increasing",
        ),
        (
            lambda o: optim.SequentialLR(o, [optim.StepLR(o, 2), optim.StepLR(o, 2)], [1.5]),
            TypeError,
            "SequentialLR: milestones must be ints",
        ),
        (
            lambda o: optim.SequentialLR(o, [optim.ReduceLROnPlateau(o)], []),
            ValueError,
            "SequentialLR: schedulers\\[0\\] is a ReduceLROnPlateau",
        ),
        (
            lambda o: optim.SequentialLR(o, [optim.StepLR(_sgd(am, [0.1, 0.1]), 2)], []),
            ValueError,
            "SequentialLR: schedulers\\[0\\] steps another optimizer",
        ),
        (lambda o: optim.SequentialLR(o, ["x"], []), TypeError, "schedulers\\[0\\] is not"),
    ],
)
def test_bad_arguments_name_the_schedule_and_argument(
    make: Callable[[Any], Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make(_sgd(am, [0.1, 0.2]))


def test_names_and_paths() -> None:
    """Exported from ``optim`` and from ``optim.lr_scheduler`` (PyTorch's path), as the
    other schedules; every one is an LRScheduler, as PyTorch's."""
    from autograd_mnist.optim.lr_scheduler import ReduceLROnPlateau

    assert ReduceLROnPlateau is optim.ReduceLROnPlateau
    for name in NEW:
        assert name in optim.__all__ and name in lr_scheduler.__all__
        assert getattr(optim, name) is getattr(lr_scheduler, name)
        assert issubclass(getattr(optim, name), optim.LRScheduler)
    torch = pytest.importorskip("torch")
    for name in NEW:
        assert hasattr(torch.optim.lr_scheduler, name)
