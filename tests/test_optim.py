"""optim: update rules by hand and against torch.optim, state, schedules, penalties.

The hand references below are the update rules of PyTorch's documentation written out
with plain Python floats, one parameter element at a time, on the quadratic
f(p) = 0.5 * sum(a * p**2) (gradient a * p); they share no code with the optimizers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

from autograd_mnist import Tensor, optim
from autograd_mnist.optim import _blockwise  # its BLOCK and PARALLEL_MIN are patched below

P0 = [1.0, -2.0, 0.5]
A = [1.0, 3.0, 0.2]


def quadratic_loss(p: Tensor) -> Tensor:
    return (Tensor(np.array(A, dtype=p.dtype)) * p * p).sum() * 0.5


# ----- hand references: two steps, plain floats -----


def sgd_ref(
    p: float,
    a: float,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> float:
    buf = None
    for _ in range(2):
        g = a * p + weight_decay * p
        if momentum:
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adagrad_ref(
    p: float,
    a: float,
    lr: float,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> float:
    s = initial_accumulator_value
    for t in (1, 2):
        g = a * p + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (math.sqrt(s) + eps)
    return p


def rmsprop_ref(
    p: float,
    a: float,
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> float:
    v = m = buf = 0.0
    for _ in range(2):
        g = a * p + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            m = alpha * m + (1 - alpha) * g
            avg = math.sqrt(v - m * m) + eps
        else:
            avg = math.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
    return p


def adadelta_ref(
    p: float,
    a: float,
    lr: float = 1.0,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
) -> float:
    v = u = 0.0
    for _ in range(2):
        g = a * p + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = math.sqrt(u + eps) / math.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    return p


def adam_ref(
    p: float,
    a: float,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    decoupled: bool = False,
) -> float:
    b1, b2 = betas
    m = v = vmax = 0.0
    for t in (1, 2):
        g = a * p
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = max(vmax, v)
        m_hat = m / (1 - b1**t)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        p = p - lr * m_hat / (math.sqrt(v_hat) + eps)
    return p


class Case(NamedTuple):
    """One optimizer configuration, its hand reference and torch.optim's class name."""

    name: str
    cls: type[optim.Optimizer]
    hyper: dict[str, Any]
    ref: Callable[..., float]
    torch_name: str

    def make(self, params: list[Tensor], **override: Any) -> optim.Optimizer:
        return self.cls(params, **{**self.hyper, **override})

    def expected(self) -> list[float]:
        """Every element of the quadratic's parameter after two steps, by the hand reference."""
        return [self.ref(p, a, **self.hyper) for p, a in zip(P0, A)]

    def torch_hyper(self) -> dict[str, Any]:
        """The same hyper-parameters for torch (Momentum is SGD with momentum 0.9)."""
        return {"momentum": 0.9, **self.hyper} if self.cls is optim.Momentum else self.hyper


def momentum_ref(p: float, a: float, **hyper: Any) -> float:
    return sgd_ref(p, a, momentum=0.9, **hyper)


def adamw_ref(p: float, a: float, **hyper: Any) -> float:
    return adam_ref(p, a, decoupled=True, **{"weight_decay": 0.01, **hyper})


CASES = [
    Case("sgd", optim.SGD, {"lr": 0.1}, sgd_ref, "SGD"),
    Case("sgd-momentum", optim.SGD, {"lr": 0.1, "momentum": 0.8, "dampening": 0.3}, sgd_ref, "SGD"),
    Case("sgd-nesterov", optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}, sgd_ref, "SGD"),
    Case("sgd-wd", optim.SGD, {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.3}, sgd_ref, "SGD"),
    Case("momentum", optim.Momentum, {"lr": 0.05}, momentum_ref, "SGD"),
    Case("adagrad", optim.Adagrad, {"lr": 0.3, "eps": 0.1}, adagrad_ref, "Adagrad"),
    Case(
        "adagrad-decay",
        optim.Adagrad,
        {"lr": 0.3, "lr_decay": 0.5, "weight_decay": 0.2, "initial_accumulator_value": 0.4},
        adagrad_ref,
        "Adagrad",
    ),
    Case("rmsprop", optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 0.05}, rmsprop_ref, "RMSprop"),
    Case(
        "rmsprop-centered",
        optim.RMSprop,
        {"lr": 0.01, "alpha": 0.8, "centered": True},
        rmsprop_ref,
        "RMSprop",
    ),
    Case(
        "rmsprop-momentum",
        optim.RMSprop,
        {"lr": 0.01, "momentum": 0.7, "weight_decay": 0.1, "centered": True},
        rmsprop_ref,
        "RMSprop",
    ),
    Case("adadelta", optim.Adadelta, {"lr": 1.0}, adadelta_ref, "Adadelta"),
    Case(
        "adadelta-wd",
        optim.Adadelta,
        {"lr": 0.5, "rho": 0.6, "eps": 0.01, "weight_decay": 0.3},
        adadelta_ref,
        "Adadelta",
    ),
    Case("adam", optim.Adam, {"lr": 0.1, "eps": 0.01}, adam_ref, "Adam"),
    Case(
        "adam-wd",
        optim.Adam,
        {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.5},
        adam_ref,
        "Adam",
    ),
    # beta2 = 0.5 and lr 0.9: v shrinks on step 2, so amsgrad's running max matters
    Case(
        "adam-amsgrad",
        optim.Adam,
        {"lr": 0.9, "betas": (0.9, 0.5), "amsgrad": True},
        adam_ref,
        "Adam",
    ),
    Case("adamw", optim.AdamW, {"lr": 0.1, "weight_decay": 0.5}, adamw_ref, "AdamW"),
    Case(
        "adamw-amsgrad",
        optim.AdamW,
        {"lr": 0.5, "betas": (0.5, 0.6), "amsgrad": True},
        adamw_ref,
        "AdamW",
    ),
]
IDS = [c.name for c in CASES]


def run(case: Case, steps: int = 2, dtype: Any = np.float64) -> np.ndarray:
    """The quadratic's parameter after ``steps`` steps from P0."""
    p = Tensor(np.array(P0, dtype=dtype), requires_grad=True)
    opt = case.make([p])
    for _ in range(steps):
        opt.zero_grad()
        quadratic_loss(p).backward()
        opt.step()
    return p.data


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_two_steps_by_hand(case: Case, dtype: Any) -> None:
    expected = case.expected()
    assert not np.allclose(expected, P0, rtol=1e-3)  # the steps are not negligible
    got = run(case, dtype=dtype)
    assert got.dtype == dtype
    tol = 1e-6 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


def test_anchor_values() -> None:
    """A few numbers worked out on paper (p0 = 1, -2 and a = 1, 3), for the references."""
    assert [sgd_ref(p, a, lr=0.1) for p, a in [(1.0, 1.0), (-2.0, 3.0)]] == pytest.approx(
        [0.81, -0.98]
    )
    assert [
        sgd_ref(p, a, lr=0.1, momentum=0.9) for p, a in [(1.0, 1.0), (-2.0, 3.0)]
    ] == pytest.approx([0.72, -0.44])
    # Adam's bias correction makes both early steps about lr long
    assert [adam_ref(p, a, lr=0.1) for p, a in [(1.0, 1.0), (-2.0, 3.0)]] == pytest.approx(
        [0.8004122297, -1.8001664859]
    )
    # amsgrad: v shrinks on step 2 (g2 << g1, beta2 = 0.5), so the max differs from v
    assert adam_ref(1.0, 1.0, lr=0.9, betas=(0.9, 0.5), amsgrad=True) != pytest.approx(
        adam_ref(1.0, 1.0, lr=0.9, betas=(0.9, 0.5)), rel=1e-3
    )


def test_aliases_and_defaults() -> None:
    assert optim.AdaGrad is optim.Adagrad and optim.RMSProp is optim.RMSprop
    p = [Tensor(np.zeros(2), requires_grad=True)]
    assert optim.Momentum(p).param_groups[0]["momentum"] == 0.9
    assert optim.AdamW(p).param_groups[0]["weight_decay"] == 1e-2
    assert optim.Adam(p).param_groups[0]["betas"] == (0.9, 0.999)
    assert set(optim.OPTIMIZERS) == {
        "sgd",
        "momentum",
        "adagrad",
        "adadelta",
        "rmsprop",
        "adam",
        "adamw",
    }
    assert optim.Adadelta(p).param_groups[0] == {
        **optim.Adadelta(p).param_groups[0],
        "lr": 1.0,
        "rho": 0.9,
        "eps": 1e-6,
    }


# ----- against torch.optim -----


def _least_squares(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    X = rng.standard_normal((12, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.standard_normal((12, 1))
    return X, y, [rng.standard_normal((3, 1)), np.zeros(1)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("problem", ["quadratic", "least_squares"])
def test_trajectory_matches_torch(rng: np.random.Generator, case: Case, problem: str) -> None:
    torch = pytest.importorskip("torch")
    if problem == "quadratic":
        a = np.array(A)
        starts = [np.array(P0)]

        def ours_loss(ps: list[Tensor]) -> Tensor:
            return (Tensor(a) * ps[0] * ps[0]).sum() * 0.5

        def torch_loss(ps: list[Any]) -> Any:
            return (torch.from_numpy(a) * ps[0] * ps[0]).sum() * 0.5
    else:
        X, y, starts = _least_squares(rng)

        def ours_loss(ps: list[Tensor]) -> Tensor:
            r = Tensor(X) @ ps[0] + ps[1] - Tensor(y)
            return (r * r).mean() * 0.5

        def torch_loss(ps: list[Any]) -> Any:
            r = torch.from_numpy(X) @ ps[0] + ps[1] - torch.from_numpy(y)
            return (r * r).mean() * 0.5

    ours = [Tensor(s.copy(), requires_grad=True) for s in starts]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in starts]  # float64 both
    opt = case.make(ours)
    topt = getattr(torch.optim, case.torch_name)(theirs, **case.torch_hyper())
    for step in range(20):
        opt.zero_grad()
        ours_loss(ours).backward()
        opt.step()
        topt.zero_grad()
        torch_loss(theirs).backward()
        topt.step()
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(
                p.data,
                tp.detach().numpy(),
                rtol=1e-10,
                atol=1e-12,
                err_msg=f"{case.name}: parameter {i} after step {step + 1}",
            )
    assert not np.allclose(ours[0].data, starts[0])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_params_without_grad_are_skipped_like_torch(case: Case) -> None:
    """Parameter 1 has no gradient for two steps, then joins: its own step count starts."""
    ours = [Tensor(np.array(P0), requires_grad=True), Tensor(np.array(P0), requires_grad=True)]
    opt = case.make(ours)
    for step in range(4):
        opt.zero_grad()
        active = ours if step >= 2 else ours[:1]
        sum((quadratic_loss(p) for p in active), Tensor(np.zeros(()))).backward()
        before = ours[1].data.copy()
        opt.step()
        if step < 2:
            assert ours[1].grad is None
            np.testing.assert_array_equal(ours[1].data, before)
            assert opt.state[1] == {}
    np.testing.assert_allclose(ours[1].data, case.expected(), rtol=1e-6, atol=1e-9)  # 2 steps
    torch = pytest.importorskip("torch")
    theirs = [torch.tensor(P0, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    topt = getattr(torch.optim, case.torch_name)(theirs, **case.torch_hyper())
    ta = torch.tensor(A, dtype=torch.float64)
    for step in range(4):
        topt.zero_grad()
        sum((ta * p * p).sum() * 0.5 for p in (theirs if step >= 2 else theirs[:1])).backward()
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=1e-12)


# ----- bookkeeping -----


def test_zero_grad_sets_none() -> None:
    p = Tensor(np.array(P0), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    quadratic_loss(p).backward()
    assert p.grad is not None
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_keeps_the_parameter_dtype(case: Case) -> None:
    p = Tensor(np.array([P0, A], dtype=np.float32), requires_grad=True)
    opt = case.make([p])
    for _ in range(3):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    assert p.data.dtype == np.float32
    arrays = [v for v in opt.state[0].values() if isinstance(v, np.ndarray)]
    assert arrays or case.name == "sgd"  # plain SGD keeps no state
    for v in arrays:
        assert v.dtype == np.float32 and v.shape == p.shape


def test_grad_of_another_dtype_is_rejected() -> None:
    p = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    p.grad = Tensor(np.ones(2, dtype=np.float64))
    with pytest.raises(TypeError, match="dtype float32 but its grad has float64"):
        optim.SGD([p], lr=0.1).step()


def test_constructor_errors() -> None:
    p = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is not a leaf Tensor; got ndarray"):
        optim.SGD([p, np.zeros(2)], lr=0.1)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="parameter 0 is not a leaf Tensor; got Tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.Adam([p], lr=-1.0)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(rng: np.random.Generator, case: Case) -> None:
    X, y, starts = _least_squares(rng)

    def train(ps: list[Tensor], opt: optim.Optimizer, steps: int) -> None:
        for _ in range(steps):
            opt.zero_grad()
            r = Tensor(X) @ ps[0] + ps[1] - Tensor(y)
            ((r * r).mean() * 0.5).backward()
            opt.step()

    ref_ps = [Tensor(s.copy(), requires_grad=True) for s in starts]
    ref_opt = case.make(ref_ps)
    train(ref_ps, ref_opt, 10)

    ps = [Tensor(s.copy(), requires_grad=True) for s in starts]
    opt = case.make(ps)
    train(ps, opt, 5)
    saved, snapshot = opt.state_dict(), [p.data.copy() for p in ps]
    train(ps, opt, 1)  # moves on: the saved copy must not follow
    ps2 = [Tensor(a, requires_grad=True) for a in snapshot]
    restored = case.make(ps2, lr=123.0)  # hyper-parameters come back too
    restored.load_state_dict(saved)
    assert restored.lr == case.hyper["lr"] and restored.steps == 5
    train(ps2, restored, 5)
    for p, q in zip(ps2, ref_ps):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_rejects_other_optimizers_and_shapes() -> None:
    p = Tensor(np.array(P0), requires_grad=True)
    sgd = optim.SGD([p], lr=0.1, momentum=0.9)
    quadratic_loss(p).backward()
    sgd.step()
    with pytest.raises(ValueError, match="state is for 'SGD'"):
        optim.Adam([p]).load_state_dict(sgd.state_dict())
    with pytest.raises(ValueError, match="state has 1 parameters; expected 2"):
        optim.SGD([p, Tensor(np.zeros(1), requires_grad=True)]).load_state_dict(sgd.state_dict())
    other = optim.SGD([Tensor(np.zeros(4), requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"momentum_buffer has shape \(3,\); expected \(4,\)"):
        other.load_state_dict(sgd.state_dict())
    assert other.state == [{}]  # unchanged


# ----- learning-rate schedules -----


def _lrs(sched: optim.LRScheduler, epochs: int) -> list[float]:
    out = []
    for _ in range(epochs):
        out.append(sched.optimizer.lr)
        sched.optimizer.step()
        sched.step()
    return out


def _torch_lrs(make: Callable[[Any, Any], Any], lr: float, epochs: int) -> list[float]:
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(torch, opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def _opt(lr: float = 0.1) -> optim.SGD:
    return optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=lr)


def test_step_lr_closed_form() -> None:
    got = _lrs(optim.StepLR(_opt(0.1), step_size=3, gamma=0.5), 10)
    assert got == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025] * 3 + [0.0125], rel=1e-12)


def test_cosine_closed_form_including_past_t_max() -> None:
    T, lo, hi = 5, 0.01, 0.1
    got = _lrs(optim.CosineAnnealingLR(_opt(hi), T_max=T, eta_min=lo), 16)
    expected = [lo + (hi - lo) * (1 + math.cos(math.pi * e / T)) / 2 for e in range(16)]
    assert got == pytest.approx(expected, rel=1e-12)
    assert got[T] == pytest.approx(lo) and got[2 * T] == pytest.approx(hi)


def test_step_lr_matches_torch() -> None:
    theirs = _torch_lrs(
        lambda torch, o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 0.1, 12
    )
    assert _lrs(optim.StepLR(_opt(0.1), step_size=3, gamma=0.5), 12) == pytest.approx(
        theirs, rel=1e-12
    )


@pytest.mark.parametrize("T_max", [1, 4, 7])
def test_cosine_matches_torch(T_max: int) -> None:
    epochs = 3 * T_max + 2
    theirs = _torch_lrs(
        lambda torch, o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max, eta_min=0.001),
        0.1,
        epochs,
    )
    got = _lrs(optim.CosineAnnealingLR(_opt(0.1), T_max, eta_min=0.001), epochs)
    assert got == pytest.approx(theirs, rel=1e-9, abs=1e-12)  # torch recurses: rounding


def test_scheduler_state_and_errors() -> None:
    sched = optim.CosineAnnealingLR(_opt(0.1), T_max=6)
    _lrs(sched, 4)
    state = sched.state_dict()
    fresh = optim.CosineAnnealingLR(_opt(0.5), T_max=6)
    fresh.load_state_dict(state)
    assert fresh.optimizer.lr == sched.optimizer.lr and fresh.base_lr == 0.1
    assert _lrs(fresh, 3) == _lrs(sched, 3)
    with pytest.raises(ValueError, match="step_size must be >= 1"):
        optim.StepLR(_opt(), step_size=0)
    with pytest.raises(ValueError, match="T_max must be >= 1"):
        optim.CosineAnnealingLR(_opt(), T_max=0)


def test_scheduled_lr_is_used_by_step() -> None:
    p = Tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    for lr in (1.0, 0.5, 0.25):
        p.grad = Tensor(np.array([1.0]))
        before = p.data.copy()
        opt.step()
        np.testing.assert_allclose(before - p.data, lr)
        sched.step()


# ----- penalties -----


@pytest.mark.parametrize(("l1", "l2"), [(0.1, 0.0), (0.0, 0.5), (0.03, 0.2)])
def test_penalty_value_and_gradient(rng: np.random.Generator, l1: float, l2: float) -> None:
    arrays = [rng.uniform(0.1, 2, (3, 4)) * rng.choice([-1, 1], (3, 4)), rng.standard_normal(5)]
    ws = [Tensor(a, requires_grad=True) for a in arrays]
    value = optim.penalty(ws, l1=l1, l2=l2)
    expected = sum(l1 * np.abs(a).sum() + l2 / 2 * (a * a).sum() for a in arrays)
    assert value.shape == () and value.dtype == np.float64
    assert value.item() == pytest.approx(expected, rel=1e-12)
    value.backward()
    for w, a in zip(ws, arrays):
        assert w.grad is not None
        np.testing.assert_allclose(w.grad.data, l1 * np.sign(a) + l2 * a, rtol=1e-12)


def test_penalty_edge_cases() -> None:
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    zero = optim.penalty([w])
    assert zero.item() == 0.0 and zero.dtype == np.float32
    assert optim.penalty([]).item() == 0.0
    assert optim.penalty([w], l2=1.0).dtype == np.float32
    with pytest.raises(ValueError, match="coefficients must be >= 0"):
        optim.penalty([w], l1=-0.1)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("make", [optim.Adam, optim.SGD])
def test_blockwise_updates_are_bit_identical(
    rng: np.random.Generator,
    monkeypatch: pytest.MonkeyPatch,
    amsgrad: bool,
    make: Callable[..., optim.Optimizer],
) -> None:
    """Updates run block by block, on several threads: the same bits as one call."""
    start = rng.standard_normal((37, 53)).astype(np.float32)
    grads = [rng.standard_normal((37, 53)).astype(np.float32) for _ in range(4)]

    def trajectory(block: int, parallel_min: int) -> np.ndarray:
        monkeypatch.setattr(_blockwise, "BLOCK", block)
        monkeypatch.setattr(_blockwise, "PARALLEL_MIN", parallel_min)
        monkeypatch.setattr(_blockwise, "LIGHT_PARALLEL_MIN", parallel_min)  # SGD's
        p = Tensor(start.copy(), requires_grad=True)
        extra = {"amsgrad": amsgrad} if make is optim.Adam else {"momentum": 0.5 * amsgrad}
        opt = make([p], lr=1e-2, **extra)
        for g in grads:
            p.grad = Tensor(g)
            opt.step()
        return p.data.copy()

    whole = trajectory(1 << 30, 1 << 30)
    blocked = trajectory(100, 1 << 30)  # 20 blocks (the last one short), one thread
    threaded = trajectory(100, 1000)  # 1961 elements: the blocks shared by the threads
    np.testing.assert_array_equal(whole, blocked)
    np.testing.assert_array_equal(whole, threaded)
    assert not np.array_equal(whole, start)


def test_blockwise_splits_whole_blocks_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every element is visited once, in blocks of at most BLOCK, each with its scratch row."""
    monkeypatch.setattr(_blockwise, "BLOCK", 7)
    monkeypatch.setattr(_blockwise, "PARALLEL_MIN", 10)
    counts = np.zeros(50, dtype=np.float32)
    work = np.zeros((3, 7), dtype=np.float32)
    seen: list[tuple[int, int]] = []

    def kernel(c: np.ndarray, s: np.ndarray) -> None:
        assert c.size == s.size <= 7
        assert any(np.shares_memory(s, row) for row in work)
        seen.append((c.size, int(np.shares_memory(s, work[0]))))
        c += 1

    optim.blockwise(kernel, [counts], work)
    np.testing.assert_array_equal(counts, np.ones(50))
    assert sorted(size for size, _ in seen) == [1] + [7] * 7


def test_blockwise_handles_non_contiguous_arrays() -> None:
    """A strided view is updated in one call, with a scratch of its own."""
    base = np.zeros((6, 8), dtype=np.float32)
    view = base[:, ::2]

    def kernel(a: np.ndarray, s: np.ndarray) -> None:
        s[...] = 2
        a += s

    optim.blockwise(kernel, [view], np.zeros((2, 4), dtype=np.float32))
    assert (base[:, ::2] == 2).all() and (base[:, 1::2] == 0).all()


def test_package_keeps_every_public_name() -> None:
    """``autograd_mnist.optim`` was one module; the package re-exports all its names."""
    names = (
        "BLOCK PARALLEL_MIN LIGHT_PARALLEL_MIN cores blockwise Optimizer SGD Momentum Adagrad "
        "AdaGrad RMSprop RMSProp Adam AdamW OPTIMIZERS penalty LRScheduler StepLR "
        "CosineAnnealingLR OneCycleLR AveragedModel get_ema_multi_avg_fn get_swa_multi_avg_fn "
        "MultiStepLR ExponentialLR LambdaLR Adadelta lr_scheduler ConstantLR LinearLR "
        "PolynomialLR CosineAnnealingWarmRestarts SequentialLR ReduceLROnPlateau"
    ).split()
    assert sorted(optim.__all__) == sorted(names)
    for name in names:
        assert getattr(optim, name) is not None
    assert optim.blockwise is _blockwise.blockwise and optim.BLOCK == _blockwise.BLOCK
    assert optim.AdaGrad is optim.Adagrad and optim.RMSProp is optim.RMSprop
    assert optim.OPTIMIZERS["adamw"] is optim.AdamW
    # PyTorch's path for the schedules names the same classes
    from autograd_mnist.optim.lr_scheduler import LRScheduler, StepLR

    assert StepLR is optim.StepLR and LRScheduler is optim.LRScheduler
    assert sorted(optim.lr_scheduler.__all__) == sorted(
        n
        for n in optim.__all__
        if n.endswith("LR")
        or n in ("LRScheduler", "ReduceLROnPlateau", "CosineAnnealingWarmRestarts")
    )


@pytest.mark.parametrize(("make", "threaded"), [(optim.SGD, False), (optim.Adam, True)])
def test_plain_sgd_keeps_mid_sized_updates_on_one_thread(
    monkeypatch: pytest.MonkeyPatch, make: Callable[..., optim.Optimizer], threaded: bool
) -> None:
    """SGD's two-pass update needs LIGHT_PARALLEL_MIN elements to gain from threads; Adam's
    dozen passes gain from PARALLEL_MIN on."""
    from autograd_mnist import _parallel, threads

    monkeypatch.setattr(threads, "kernel_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "cores", lambda: 2)
    used: list[int] = []

    class Pool:
        def map(self, fn: Callable[[int], None], ks: Any) -> list[None]:
            ks = list(ks)
            used.append(len(ks))
            return [fn(k) for k in ks]

    monkeypatch.setattr(_parallel, "_pool", Pool())
    size = (_blockwise.PARALLEL_MIN + _blockwise.LIGHT_PARALLEL_MIN) // 2
    p = Tensor(np.ones(size, np.float32), requires_grad=True)
    p.grad = Tensor(np.ones(size, np.float32))
    make([p], lr=0.1).step()
    assert used == ([2] if threaded else [])
    assert np.all(p.data < 1)
