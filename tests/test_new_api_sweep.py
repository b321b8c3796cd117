"""A hostile sweep of the PyTorch-named API against torch: each test here failed before
its fix (silent wrong values, silent dtype changes, errors torch raises and we did not)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import autograd_mnist as am
import autograd_mnist.functional as F
from autograd_mnist import nn, optim


def test_adaptive_avg_pool_keeps_a_nan_in_its_own_bins() -> None:
    # Uneven bins were a product with an averaging matrix: 0 * nan spread NaN everywhere.
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    x[0, 0, 0, 0] = np.nan
    ours = F.adaptive_avg_pool2d(am.tensor(x, dtype=np.float64), 2).data
    theirs = torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), 2).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)])
    x[0, 0, 0, 0] = np.inf
    ours = F.adaptive_avg_pool2d(am.tensor(x, dtype=np.float64), 2).data
    assert np.isinf(ours[0, 0, 0, 0]) and np.isfinite(ours[0, 0, 1:, 1:]).all()


def test_adaptive_avg_pool_of_integers_with_uneven_bins() -> None:
    # The averaging matrix was cast to int64: every weight 1/count became 0.
    x = np.arange(9).reshape(1, 1, 3, 3)
    ours = F.adaptive_avg_pool2d(am.tensor(x), 2)
    theirs = torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x, dtype=torch.float32), 2)
    np.testing.assert_allclose(ours.data, theirs.numpy())


@pytest.mark.parametrize("output_size", [(2, 3), (5, 2), (0, 2), (4, 7)])
def test_adaptive_avg_pool_uneven_bins_match_torch_with_gradients(output_size: tuple) -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    xa = am.tensor(x, requires_grad=True, dtype=np.float64)
    xt = torch.tensor(x, requires_grad=True)
    ya = F.adaptive_avg_pool2d(xa, output_size)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, output_size)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=1e-12)
    if 0 not in output_size:
        (ya * ya).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-12)


def test_factories_treat_dtype_none_as_their_default() -> None:
    # np.dtype(None) is float64: torch's dtype=None means the default dtype.
    assert am.randint(0, 10, (3,), dtype=None).dtype == np.int64
    assert am.randperm(4, dtype=None).dtype == np.int64
    assert am.linspace(0, 1, 3, dtype=None).dtype == np.float32


def test_integer_factories_refuse_values_their_dtype_would_wrap() -> None:
    with pytest.raises(ValueError, match=r"randint: .*do not fit in uint8"):
        am.randint(300, (5,), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"randint: .*do not fit in int8"):
        am.randint(-200, 0, (5,), dtype=np.int8)
    with pytest.raises(ValueError, match=r"randperm: .*do not fit in uint8"):
        am.randperm(300, dtype=np.uint8)
    assert sorted(am.randperm(256, dtype=np.uint8).tolist()) == list(range(256))
    with pytest.raises(TypeError, match="randperm: unsupported dtype bool"):
        am.randperm(5, dtype=am.bool)
    with pytest.raises(TypeError, match="linspace: unsupported dtype float16"):
        am.linspace(0, 1, 3, dtype=np.float16)


def test_integer_tensors_cannot_be_made_to_require_grad_by_factories() -> None:
    # They used to come back float32 requiring grad, whatever dtype was asked for.
    with pytest.raises(TypeError, match="randint: only float tensors can require grad"):
        am.randint(10, (3,), requires_grad=True)
    with pytest.raises(TypeError, match="randperm: only float tensors"):
        am.randperm(3, requires_grad=True)
    with pytest.raises(TypeError, match="linspace: only float tensors"):
        am.linspace(0, 9, 3, dtype=am.int64, requires_grad=True)
    with pytest.raises(TypeError, match="new_full: only float tensors"):
        am.tensor(np.arange(3)).new_ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="new_full: only float tensors"):
        am.zeros(2).new_zeros(2, dtype=am.int64, requires_grad=True)
    assert am.randint(10, (3,), dtype=am.float32, requires_grad=True).requires_grad


def test_repeat_refuses_counts_that_are_not_ints() -> None:
    x = am.zeros(2, 2)
    with pytest.raises(TypeError, match="repeat: repeats must be ints"):
        x.repeat(2.5, 1)  # was silently 2
    with pytest.raises(TypeError, match="repeat: repeats must be ints"):
        x.repeat((1.0, 2))
    assert x.repeat(np.int64(2), 1).shape == (4, 2) == x.repeat([2, 1]).shape


def test_integer_chunks_share_their_base_version_counter() -> None:
    base = am.tensor(np.arange(6))
    pieces = base.chunk(2) + base.split([1, 5])
    pieces[1].mul_(2)
    assert base.tolist() == [0, 1, 2, 6, 8, 10]
    assert base._version == 1 and all(p._version == 1 for p in pieces)


@pytest.mark.parametrize("dtype", [np.float16, np.dtype(">f8"), np.complex64])
def test_from_numpy_refuses_arrays_it_cannot_share(dtype: object) -> None:
    # A float16 or big-endian array was silently copied to float32: no memory shared.
    with pytest.raises(TypeError, match="from_numpy: cannot share the memory"):
        am.from_numpy(np.zeros(3, dtype=dtype))
    a = np.zeros(3, dtype=np.int32)
    am.from_numpy(a).add_(1)
    assert a.tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    "args", [("cuda:0", 1), ("cpu:x",), ("cuda", -1), ("cuda:",), ("cpu:0:1",)]
)
def test_device_refuses_what_torch_device_refuses(args: tuple) -> None:
    with pytest.raises(ValueError, match="device: expected one of"):
        am.device(*args)
    assert repr(am.device("cuda", 1)) == repr(torch.device("cuda", 1))


def _chained_rates(lib: object, make: object, second: object, hand: set[int], n: int = 16):
    p = (am.zeros(2, requires_grad=True),) if lib is am else (torch.zeros(2, requires_grad=True),)
    opt = optim.SGD(list(p), lr=0.1) if lib is am else torch.optim.SGD(list(p), lr=0.1)
    scheds = [make(opt)] + ([second(opt)] if second else [])
    out = []
    for epoch in range(n):
        opt.step()
        if epoch in hand:
            opt.param_groups[0]["lr"] *= 0.5
        for s in scheds:
            s.step()
        out.append(opt.param_groups[0]["lr"])
    return out


@pytest.mark.parametrize(
    ("make", "second", "hand"),
    [
        ("cos", None, {2}),  # a rate halved by hand, then through the minimum
        ("cos0", "multistep", set()),  # a second schedule, and a rate through 0
        ("cos", "step", {6}),
    ],
)
def test_cosine_annealing_chains_as_pytorchs(make: str, second: str | None, hand: set) -> None:
    def build(lib: object, name: str | None) -> object:
        ls = am.optim.lr_scheduler if lib is am else torch.optim.lr_scheduler
        return {
            None: None,
            "cos": lambda o: ls.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
            "cos0": lambda o: ls.CosineAnnealingLR(o, T_max=6),
            "multistep": lambda o: ls.MultiStepLR(o, [3], 0.1),
            "step": lambda o: ls.StepLR(o, 3, 0.5),
        }[name]

    ours = _chained_rates(am, build(am, make), build(am, second), hand)
    theirs = _chained_rates(torch, build(torch, make), build(torch, second), hand)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)


def test_cosine_annealing_resumed_from_a_state_goes_on_as_the_original() -> None:
    def make(lr: float) -> optim.CosineAnnealingLR:
        return optim.CosineAnnealingLR(optim.SGD([am.zeros(2, requires_grad=True)], lr=lr), 6)

    first, resumed = make(0.1), make(0.5)
    for _ in range(4):
        first.step()
    resumed.load_state_dict(first.state_dict())
    for _ in range(6):  # through the minimum at epoch 6
        first.step()
        resumed.step()
        assert resumed.optimizer.lr == first.optimizer.lr


def test_adadelta_refuses_negative_eps_and_weight_decay() -> None:
    p = [am.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="Adadelta: eps and weight_decay must be >= 0"):
        optim.Adadelta(p, eps=-1e-6)
    with pytest.raises(ValueError, match="Adadelta: eps and weight_decay must be >= 0"):
        optim.Adadelta(p, weight_decay=-0.1)


def test_clip_grad_norm_takes_the_string_inf_as_torch() -> None:
    p = am.zeros(3, requires_grad=True)
    p.grad = am.tensor([3.0, -4.0, 1.0])
    total = nn.utils.clip_grad_norm_([p], 1.0, norm_type="inf")
    assert total.item() == 4.0
    np.testing.assert_allclose(p.grad.data, np.array([3.0, -4.0, 1.0]) / (4.0 + 1e-6), 1e-6)


def test_max_and_min_of_two_tensors_are_elementwise_as_torch() -> None:
    a, b = np.array([1.0, 5.0, -2.0]), np.array([3.0, 2.0, -2.0])
    assert (
        am.max(am.tensor(a), am.tensor(b)).tolist()
        == torch.max(torch.tensor(a), torch.tensor(b)).tolist()
    )
    assert am.min(am.tensor(a), b).tolist() == [1.0, 2.0, -2.0]
    assert am.max(am.tensor(a), 0).indices.item() == 1  # the dim form still works
    assert am.max(am.tensor(a)).item() == 5.0 and math.isclose(am.min(a).item(), -2.0)
