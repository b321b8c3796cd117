"""Parameter groups and chained learning-rate schedules, against PyTorch: a dict per group
with its own hyper-parameters, ``add_param_group``, state that round-trips (and old
single-group state that still loads), and schedules that keep a rate changed by hand or by
a second schedule, as PyTorch's chainable schedules do."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import optim

torch = pytest.importorskip("torch")


def _pair(rng: np.random.Generator, shapes: list[tuple[int, ...]]) -> tuple[list[Any], list[Any]]:
    """The same float64 parameters, ours and PyTorch's."""
    values = [rng.standard_normal(s) for s in shapes]
    ours = [am.tensor(v.copy(), requires_grad=True) for v in values]
    theirs = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    return ours, theirs


def _steps(ours: list[Any], theirs: list[Any], opt: Any, topt: Any, n: int = 3) -> None:
    rng = np.random.default_rng(1)
    for _ in range(n):
        for a, b in zip(ours, theirs):
            g = rng.standard_normal(a.shape)
            a.grad, b.grad = am.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01}), ("AdamW", {"lr": 0.01})],
)
def test_groups_with_their_own_hyper_parameters_match_pytorch(name: str, kwargs: Any) -> None:
    ours, theirs = _pair(np.random.default_rng(0), [(3, 2), (2,), (4,)])
    groups = [{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5, "weight_decay": 0.1}]
    tgroups = [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5, "weight_decay": 0.1}]
    opt = getattr(optim, name)(groups, **kwargs)
    topt = getattr(torch.optim, name)(tgroups, **kwargs)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    _steps(ours, theirs, opt, topt)


def test_add_param_group_matches_pytorch() -> None:
    ours, theirs = _pair(np.random.default_rng(2), [(3,), (2,)])
    opt, topt = optim.Adam(ours[:1], lr=0.1), torch.optim.Adam(theirs[:1], lr=0.1)
    _steps(ours[:1], theirs[:1], opt, topt, 2)
    opt.add_param_group({"params": ours[1], "lr": 0.01})
    topt.add_param_group({"params": theirs[1], "lr": 0.01})
    _steps(ours, theirs, opt, topt, 2)


def test_a_parameter_twice_and_a_group_without_params_are_refused() -> None:
    a, b = am.zeros(2, requires_grad=True), am.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="parameter 1 appears twice"):
        optim.SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1)
    with pytest.raises(ValueError, match="parameter 1 appears twice"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(TypeError, match="a parameter group is a dict with 'params'"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.SGD([{"params": [a], "lr": -1.0}], lr=0.1)


def test_group_state_round_trips_and_old_single_group_state_loads() -> None:
    ours, _ = _pair(np.random.default_rng(3), [(2,), (3,)])
    opt = optim.Adam([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.5}], lr=0.1)
    for p in ours:
        p.grad = am.ones(*p.shape, dtype=am.float64)
    opt.step()
    saved = opt.state_dict()
    again = optim.Adam([{"params": ours[:1]}, {"params": ours[1:]}], lr=0.1)
    again.load_state_dict(saved)
    assert [g["lr"] for g in again.param_groups] == [0.1, 0.5]
    with pytest.raises(ValueError, match=r"groups of \[1, 1\] parameters; expected \[2\]"):
        optim.Adam(ours, lr=0.1).load_state_dict(saved)
    old = {k: v for k, v in optim.Adam(ours, lr=0.3).state_dict().items()}
    del old["groups"], old["group_sizes"]  # as saved before parameter groups existed
    one = optim.Adam(ours, lr=0.1)
    one.load_state_dict(old)
    assert one.lr == 0.3


def _lrs(sched: Any, n: int) -> list[list[float]]:
    out = []
    for _ in range(n):
        sched.optimizer.step()
        sched.step()
        out.append(list(sched.get_last_lr()))
    return out


def test_schedules_set_each_groups_rate_from_its_own_base() -> None:
    ours, theirs = _pair(np.random.default_rng(4), [(2,), (2,)])
    opt = optim.SGD([{"params": ours[:1]}, {"params": ours[1:], "lr": 1.0}], lr=0.1)
    topt = torch.optim.SGD([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 1.0}], lr=0.1)
    s, ts = (
        optim.CosineAnnealingLR(opt, T_max=5),
        torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=5),
    )
    assert s.base_lrs == ts.base_lrs
    np.testing.assert_allclose(_lrs(s, 7), _lrs(ts, 7), rtol=1e-12)


def test_a_rate_changed_by_hand_is_kept_as_pytorch_keeps_it() -> None:
    ours, theirs = _pair(np.random.default_rng(5), [(2,)])
    opt, topt = optim.SGD(ours, lr=0.1), torch.optim.SGD(theirs, lr=0.1)
    s, ts = optim.StepLR(opt, 2, 0.5), torch.optim.lr_scheduler.StepLR(topt, 2, 0.5)
    opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.02
    np.testing.assert_allclose(_lrs(s, 5), _lrs(ts, 5), rtol=1e-12)


def test_two_schedules_on_one_optimizer_chain_as_pytorchs() -> None:
    ours, theirs = _pair(np.random.default_rng(6), [(2,)])
    opt, topt = optim.SGD(ours, lr=0.1), torch.optim.SGD(theirs, lr=0.1)
    a, b = optim.StepLR(opt, 2, 0.5), optim.CosineAnnealingLR(opt, T_max=10)
    ta = torch.optim.lr_scheduler.StepLR(topt, 2, 0.5)
    tb = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=10)
    for _ in range(6):
        opt.step()
        topt.step()
        a.step()
        b.step()
        ta.step()
        tb.step()
        np.testing.assert_allclose(opt.lr, topt.param_groups[0]["lr"], rtol=1e-12)


def test_left_alone_a_schedule_gives_its_closed_form_exactly() -> None:
    p = am.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.3)
    s = optim.CosineAnnealingLR(opt, T_max=7, eta_min=0.01)
    for epoch in range(1, 10):
        s.step()
        assert opt.lr == 0.01 + (0.3 - 0.01) * (1 + np.cos(np.pi * epoch / 7)) / 2


def test_schedule_state_keeps_group_bases_and_old_state_loads() -> None:
    a, b = am.zeros(2, requires_grad=True), am.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    s = optim.StepLR(opt, 1, 0.5)
    s.step()
    saved = s.state_dict()
    opt2 = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    s2 = optim.StepLR(opt2, 1, 0.5)
    s2.load_state_dict(saved)
    assert [g["lr"] for g in opt2.param_groups] == [0.05, 0.5] == s2.get_last_lr()
    single = optim.SGD([a], lr=0.1)
    old = optim.StepLR(single, 1, 0.5)
    old.load_state_dict({"last_epoch": 2, "base_lr": 0.2})  # saved before groups
    assert single.lr == 0.05
    with pytest.raises(ValueError, match="state has 2 groups; the optimizer has 1"):
        old.load_state_dict(saved)


def test_one_cycle_sets_every_group() -> None:
    a, b = am.zeros(2, requires_grad=True), am.zeros(2, requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 5.0}], lr=0.1)
    s = optim.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert [g["lr"] for g in opt.param_groups] == [s.lr_at(0)] * 2
    assert s.lr_at(0) == pytest.approx(1.0 / 25)
    s.step()
    assert opt.param_groups[0]["lr"] == opt.param_groups[1]["lr"] == s.lr_at(1)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("MultiStepLR", {"milestones": [2, 5], "gamma": 0.3}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (1 + e)}),
    ],
)
def test_more_schedules_match_pytorch_per_group(name: str, kwargs: Any) -> None:
    ours, theirs = _pair(np.random.default_rng(7), [(2,), (2,)])
    opt = optim.SGD([{"params": ours[:1]}, {"params": ours[1:], "lr": 1.0}], lr=0.1)
    topt = torch.optim.SGD([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 1.0}], lr=0.1)
    s = getattr(optim, name)(opt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    np.testing.assert_allclose(_lrs(s, 7), _lrs(ts, 7), rtol=1e-12)


def test_lambda_lr_takes_one_function_per_group() -> None:
    a, b = am.zeros(1, requires_grad=True), am.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    s = optim.LambdaLR(opt, [lambda e: 0.5**e, lambda e: 1.0])
    s.step()
    assert s.get_last_lr() == [0.05, 1.0]
    with pytest.raises(ValueError, match="one function or a list of 2"):
        optim.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="milestones must be increasing"):
        optim.MultiStepLR(opt, [5, 2])


def test_step_with_a_closure_matches_pytorch() -> None:
    ours, theirs = _pair(np.random.default_rng(8), [(3,)])
    opt, topt = optim.SGD(ours, lr=0.1), torch.optim.SGD(theirs, lr=0.1)

    def closure() -> Any:
        opt.zero_grad()
        loss = (ours[0] ** 2).sum()
        loss.backward()
        return loss

    def tclosure() -> Any:
        topt.zero_grad()
        loss = (theirs[0] ** 2).sum()
        loss.backward()
        return loss

    with am.no_grad():  # the closure runs with grad mode on all the same
        loss = opt.step(closure)
    tloss = topt.step(tclosure)
    assert loss is not None and loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(ours[0].data, theirs[0].detach().numpy(), rtol=1e-12)
    assert opt.step() is None
