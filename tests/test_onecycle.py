"""OneCycleLR: PyTorch's learning-rate sequence, stepped per batch by fit, resumable."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from autograd_mnist import nn, optim, train
from autograd_mnist.data import synthetic_data
from autograd_mnist.rng import manual_seed

FORMS: list[dict[str, Any]] = [
    {"total_steps": 100},
    {"total_steps": 37, "pct_start": 0.25, "three_phase": True},
    {"epochs": 3, "steps_per_epoch": 10, "anneal_strategy": "linear"},
    {"total_steps": 12, "div_factor": 10.0, "final_div_factor": 100.0, "pct_start": 0.5},
    {"total_steps": 1},
]


def _optimizer(lr: float = 1.0) -> optim.Optimizer:
    return optim.Adam([nn.Parameter(np.zeros(3, np.float32))], lr=lr)


def _ours(kwargs: dict[str, Any]) -> list[float]:
    opt = _optimizer()
    sched = optim.OneCycleLR(opt, 0.01, **kwargs)
    lrs = [opt.lr]
    for _ in range(sched.total_steps):
        sched.step()
        lrs.append(opt.lr)
    return lrs


@pytest.mark.parametrize("kwargs", FORMS, ids=str)
def test_lr_sequence_matches_torch(kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    opt = torch.optim.Adam([torch.zeros(3, requires_grad=True)], lr=1.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.01, cycle_momentum=False, **kwargs)
    theirs = [opt.param_groups[0]["lr"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "lr_scheduler.step() before optimizer.step()"
        for _ in range(sched.total_steps):
            opt.step()
            sched.step()
            theirs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(_ours(kwargs), theirs, rtol=1e-12, atol=0)


def test_shape_of_the_cycle() -> None:
    lrs = _ours({"total_steps": 100})
    peak = int(np.argmax(lrs))
    assert lrs[0] == pytest.approx(0.01 / 25) and lrs[peak] == pytest.approx(0.01)
    assert peak == 29  # pct_start 0.3: the rise ends at step 0.3 * 100 - 1
    assert lrs[-2] == pytest.approx(0.01 / 25 / 1e4)  # the last step's rate (step 99)
    assert all(np.diff(lrs[: peak + 1]) > 0) and all(np.diff(lrs[peak:-1]) < 0)


def test_stepping_past_the_cycle_and_bad_arguments() -> None:
    sched = optim.OneCycleLR(_optimizer(), 0.1, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="stepped 3 times; got more than total_steps 2"):
        sched.step()
    bad: list[tuple[dict[str, Any], str]] = [
        ({}, "give total_steps, or epochs and steps_per_epoch"),
        ({"epochs": 2}, "give total_steps, or epochs and steps_per_epoch"),
        ({"total_steps": 0}, "total_steps must be >= 1; got 0"),
        ({"total_steps": 5, "pct_start": 1.5}, r"pct_start must be in \[0, 1\]; got 1.5"),
        ({"total_steps": 5, "anneal_strategy": "exp"}, "anneal_strategy must be 'cos' or"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=f"OneCycleLR: {message}"):
            optim.OneCycleLR(_optimizer(), 0.1, **kwargs)


def test_state_dict_resumes_mid_cycle() -> None:
    a_opt = _optimizer()
    a = optim.OneCycleLR(a_opt, 0.05, total_steps=20)
    for _ in range(7):
        a.step()
    b_opt = _optimizer()
    b = optim.OneCycleLR(b_opt, 0.05, total_steps=20)
    b.load_state_dict(a.state_dict())
    assert b_opt.lr == a_opt.lr
    a.step()
    b.step()
    assert b_opt.lr == a_opt.lr and b.last_epoch == 8


def test_fit_steps_it_after_every_batch() -> None:
    (x, y), _ = synthetic_data(n_train=40, n_test=8, seed=0)
    manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = train.make_scheduler("onecycle", opt, epochs=2, steps_per_epoch=3)
    assert isinstance(sched, optim.OneCycleLR) and sched.per_batch
    assert sched.total_steps == 6 and opt.lr == pytest.approx(0.1 / 25)
    history = train.fit(
        model, opt, (x, y), epochs=2, batch_size=16, scheduler=sched, progress=False
    )
    assert sched.last_epoch == 6  # 3 batches (16 + 16 + 8) per epoch
    assert history[0].lr == pytest.approx(0.1 / 25)  # each epoch reports its first step's rate
    assert history[1].lr == pytest.approx(sched.lr_at(3))
    assert not optim.CosineAnnealingLR(opt, T_max=2).per_batch
