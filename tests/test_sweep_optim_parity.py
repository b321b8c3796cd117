"""Optimizer parity sweep against torch.optim 2.13 (``foreach=False``, the CPU default):
each test here failed before its fix.

- RMSprop rounded ``1 - alpha`` in float32 (``1 - float32(alpha)``), where torch rounds
  the double ``1 - alpha`` once: float32 states drifted by ~1e-6 relative per step;
- ``maximize=True`` (every torch optimizer has it) was missing;
- negative (or NaN) hyper-parameters that torch refuses with a ValueError were accepted;
- ``AveragedModel(use_buffers=True)`` over an integer buffer raised NumPy's casting
  error half-way through the update, where torch truncates the average into the buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograd_mnist import Tensor, nn, optim

# ----- RMSprop's 1 - alpha in float32 -----


@pytest.mark.parametrize("alpha", [0.99, 0.9, 0.6])  # 1 - float32(alpha) is inexact
@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_float32_state_is_torch_bit_for_bit(alpha: float, centered: bool) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(64).astype(np.float32)
    g = rng.standard_normal(64).astype(np.float32)
    ours = Tensor(p0.copy(), requires_grad=True)
    theirs = torch.tensor(p0.copy(), requires_grad=True)
    o = optim.RMSprop([ours], lr=0.01, alpha=alpha, centered=centered)
    t = torch.optim.RMSprop([theirs], lr=0.01, alpha=alpha, centered=centered, foreach=False)
    ours.grad, theirs.grad = Tensor(g.copy()), torch.from_numpy(g.copy())
    o.step()
    t.step()
    # From zero states, one step is exact in both: (c * g) * g and c * g, c = 1 - alpha.
    names = ["square_avg", "grad_avg"] if centered else ["square_avg"]
    for name in names:
        np.testing.assert_array_equal(o.state[0][name], t.state[theirs][name].numpy())


# ----- maximize -----

CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "betas": (0.5, 0.7)}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 0.5, "weight_decay": 0.1}),
]


@pytest.mark.parametrize(("name", "kw"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_maximize_follows_torch(name: str, kw: dict[str, Any], dtype: type) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    shapes = [(3, 4), (), (5,)]
    p0 = [np.asarray(rng.standard_normal(s)).astype(dtype) for s in shapes]
    ours = [Tensor(a.copy(), requires_grad=True) for a in p0]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in p0]
    # maximize for the whole optimizer, and switched off again in the second group
    o = getattr(optim, name)(
        [{"params": ours[:2]}, {"params": ours[2:], "maximize": False}], maximize=True, **kw
    )
    t = getattr(torch.optim, name)(
        [{"params": theirs[:2]}, {"params": theirs[2:], "maximize": False}],
        maximize=True,
        foreach=False,
        **kw,
    )
    for _ in range(5):
        for a, b in zip(ours, theirs):
            g = np.asarray(rng.standard_normal(a.shape)).astype(dtype)
            a.grad, b.grad = Tensor(g.copy()), torch.from_numpy(g.copy())
        o.step()
        t.step()
    rtol, atol = (1e-12, 1e-14) if dtype == np.float64 else (2e-6, 1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=rtol, atol=atol)


# ----- argument validation -----

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("SGD", {"lr": 0.1, "momentum": -0.1}, "momentum"),
    ("SGD", {"lr": 0.1, "weight_decay": -1.0}, "weight_decay"),
    ("Momentum", {"momentum": -0.5}, "momentum"),
    ("Adam", {"eps": -1e-8}, "eps"),
    ("Adam", {"eps": float("nan")}, "eps"),
    ("Adam", {"weight_decay": -0.1}, "weight_decay"),
    ("Adam", {"lr": float("nan")}, "lr"),
    ("AdamW", {"eps": -1.0}, "eps"),
    ("AdamW", {"weight_decay": -0.01}, "weight_decay"),
    ("Adagrad", {"lr_decay": -0.1}, "lr_decay"),
    ("Adagrad", {"weight_decay": -0.1}, "weight_decay"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
    ("Adagrad", {"eps": -1e-10}, "eps"),
    ("RMSprop", {"alpha": -0.9}, "alpha"),
    ("RMSprop", {"alpha": float("nan")}, "alpha"),
    ("RMSprop", {"eps": -1e-8}, "eps"),
    ("RMSprop", {"momentum": -0.9}, "momentum"),
    ("RMSprop", {"weight_decay": -0.1}, "weight_decay"),
]


@pytest.mark.parametrize(("name", "kw", "arg"), INVALID, ids=[f"{n}-{a}" for n, k, a in INVALID])
def test_invalid_hyper_parameters_are_refused_as_torch(
    name: str, kw: dict[str, Any], arg: str
) -> None:
    torch = pytest.importorskip("torch")
    torch_name = "SGD" if name == "Momentum" else name
    torch_kw = {"momentum": 0.9, **kw} if name == "Momentum" else kw
    with pytest.raises(ValueError):
        getattr(torch.optim, torch_name)([torch.zeros(2, requires_grad=True)], **torch_kw)
    p = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError, match=f"{name}: {arg} must be >= 0"):
        getattr(optim, name)([p], **kw)


# ----- AveragedModel over an integer buffer -----


class _Counted(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("count", np.array(0, dtype=np.int64))


@pytest.mark.parametrize("ema", [False, True])
def test_averaged_model_integer_buffer_is_truncated_as_torch(ema: bool) -> None:
    torch = pytest.importorskip("torch")
    from torch.optim import swa_utils

    class TorchCounted(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.register_buffer("count", torch.tensor(0))

    ours, theirs = _Counted(), TorchCounted()
    with torch.no_grad():
        theirs.lin.weight.copy_(torch.from_numpy(ours.lin.weight.data.copy()))
        theirs.lin.bias.copy_(torch.from_numpy(ours.lin.bias.data.copy()))
    o_fn = optim.get_ema_multi_avg_fn(0.9) if ema else None
    t_fn = swa_utils.get_ema_multi_avg_fn(0.9) if ema else None
    o_avg = optim.AveragedModel(ours, multi_avg_fn=o_fn, use_buffers=True)
    t_avg = swa_utils.AveragedModel(theirs, multi_avg_fn=t_fn, use_buffers=True)
    for k in range(1, 5):
        ours.count[...] = 10 * k + 3
        theirs.count.fill_(10 * k + 3)
        ours.lin.weight.data[...] += 0.5
        with torch.no_grad():
            theirs.lin.weight.add_(0.5)
        o_avg.update_parameters(ours)
        t_avg.update_parameters(theirs)
        assert o_avg.module.count.dtype == np.int64
        assert int(o_avg.module.count) == int(t_avg.module.count)
        np.testing.assert_allclose(
            o_avg.module.lin.weight.data, t_avg.module.lin.weight.detach().numpy(), rtol=1e-6
        )
    assert int(o_avg.n_averaged) == int(t_avg.n_averaged) == 4
