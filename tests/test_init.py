"""nn.init: distributions (empirical moments and bounds), fans, in-place, reproducibility.

Each initialiser fills a large tensor from a seeded ``rng=`` generator; with 2e5 samples
the empirical std is within ~0.3% of the target (sd of the estimate ~ std / sqrt(2n)),
so a 2% tolerance only catches real errors (a wrong fan, gain or sqrt(3)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Tensor, nn
from autograd_mnist.nn import init

FAN_IN, FAN_OUT = 500, 400  # a (FAN_OUT, FAN_IN) Linear weight


def weight(*shape: int, dtype: Any = np.float32) -> Tensor:
    return Tensor(np.full(shape, np.nan, dtype=dtype))


def moments(t: Tensor) -> tuple[float, float]:
    a = t.data.astype(np.float64)
    return float(a.mean()), float(a.std())


# ----- fans and gains -----


def test_fans_of_linear_and_conv_weights() -> None:
    assert init._fans(weight(FAN_OUT, FAN_IN)) == (FAN_IN, FAN_OUT)
    # conv (OC, C, KH, KW): fan_in = C * KH * KW, fan_out = OC * KH * KW
    assert init._fans(weight(16, 3, 5, 2)) == (3 * 5 * 2, 16 * 5 * 2)
    with pytest.raises(ValueError, match=r"at least 2 dimensions; got shape \(7,\)"):
        init.kaiming_normal_(weight(7))


def test_calculate_gain() -> None:
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        init.calculate_gain("swish")


def test_calculate_gain_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for name, param in [
        ("linear", None),
        ("relu", None),
        ("tanh", None),
        ("sigmoid", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("conv2d", None),
    ]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-12
        )


# ----- distributions -----


@pytest.mark.parametrize(
    ("shape", "fan_in", "fan_out"),
    [((FAN_OUT, FAN_IN), FAN_IN, FAN_OUT), ((64, 32, 5, 5), 32 * 25, 64 * 25)],
    ids=["linear", "conv"],
)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int, mode: str
) -> None:
    fan = fan_in if mode == "fan_in" else fan_out
    std = math.sqrt(2.0 / fan)  # He: ReLU gain sqrt(2)
    t = weight(*shape)
    assert init.kaiming_normal_(t, mode=mode, nonlinearity="relu", rng=rng) is t
    mean, sd = moments(t)
    assert sd == pytest.approx(std, rel=0.02) and abs(mean) < 0.02 * std
    bound = math.sqrt(3.0) * std  # same variance, uniform
    init.kaiming_uniform_(t, mode=mode, nonlinearity="relu", rng=rng)
    mean, sd = moments(t)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.999 * bound
    assert sd == pytest.approx(std, rel=0.02) and abs(mean) < 0.02 * std


def test_kaiming_defaults_and_errors(rng: np.random.Generator) -> None:
    t = weight(FAN_OUT, FAN_IN)
    init.kaiming_normal_(t, rng=rng)  # leaky_relu with a = 0: the ReLU gain
    assert moments(t)[1] == pytest.approx(math.sqrt(2 / FAN_IN), rel=0.02)
    init.kaiming_uniform_(t, a=math.sqrt(5), rng=rng)  # PyTorch's Linear default
    assert np.abs(t.data).max() <= 1 / math.sqrt(FAN_IN)
    assert moments(t)[1] == pytest.approx(1 / math.sqrt(3 * FAN_IN), rel=0.02)
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(t, mode="fan_avg")


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(rng: np.random.Generator, gain: float) -> None:
    t = weight(64, 32, 3, 3)
    fan_in, fan_out = 32 * 9, 64 * 9
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    assert init.xavier_normal_(t, gain=gain, rng=rng) is t
    mean, sd = moments(t)
    assert sd == pytest.approx(std, rel=0.02) and abs(mean) < 0.02 * std
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    assert init.xavier_uniform_(t, gain=gain, rng=rng) is t
    mean, sd = moments(t)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.999 * bound
    assert sd == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_normal_and_uniform(rng: np.random.Generator) -> None:
    t = weight(FAN_OUT, FAN_IN)
    assert init.normal_(t, mean=0.5, std=0.01, rng=rng) is t  # R4's 0.01 * randn, shifted
    mean, sd = moments(t)
    assert mean == pytest.approx(0.5, abs=1e-4) and sd == pytest.approx(0.01, rel=0.02)
    assert init.uniform_(t, -0.2, 0.6, rng=rng) is t
    mean, sd = moments(t)
    assert t.data.min() >= -0.2 and t.data.max() <= 0.6
    assert t.data.min() < -0.199 and t.data.max() > 0.599
    assert mean == pytest.approx(0.2, abs=2e-3) and sd == pytest.approx(
        0.8 / math.sqrt(12), rel=0.02
    )
    init.uniform_(t, rng=rng)  # default U(0, 1)
    assert 0 <= t.data.min() and t.data.max() <= 1


def _pdf(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _cdf(z: float) -> float:
    return (1 + math.erf(z / math.sqrt(2))) / 2


def _truncated_std(a: float, b: float) -> float:
    """Std of a standard normal truncated to [a, b]."""
    mass = _cdf(b) - _cdf(a)
    mean = (_pdf(a) - _pdf(b)) / mass
    return math.sqrt(1 + (a * _pdf(a) - b * _pdf(b)) / mass - mean * mean)


def test_trunc_normal(rng: np.random.Generator) -> None:
    t = weight(FAN_OUT, FAN_IN)
    assert init.trunc_normal_(t, rng=rng) is t  # N(0, 1) cut at +-2
    mean, sd = moments(t)
    assert t.data.min() >= -2 and t.data.max() <= 2 and t.data.max() > 1.99
    assert abs(mean) < 0.01 and sd == pytest.approx(_truncated_std(-2, 2), rel=0.01)
    # Bounds are absolute, not in units of std (PyTorch): std 0.1 cut at [-0.05, 0.2].
    init.trunc_normal_(t, mean=0.0, std=0.1, a=-0.05, b=0.2, rng=rng)
    assert t.data.min() >= -0.05 and t.data.max() <= 0.2
    assert moments(t)[1] == pytest.approx(0.1 * _truncated_std(-0.5, 2.0), rel=0.02)


def test_constant_fills(rng: np.random.Generator) -> None:
    t = Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    assert init.zeros_(t) is t and not t.data.any()
    assert init.ones_(t) is t and (t.data == 1).all()
    assert init.constant_(t, 0.25) is t and (t.data == 0.25).all()


# ----- in place, dtype, reproducibility -----

FILLERS: dict[str, Callable[..., Tensor]] = {
    "kaiming_normal_": init.kaiming_normal_,
    "kaiming_uniform_": init.kaiming_uniform_,
    "xavier_normal_": init.xavier_normal_,
    "xavier_uniform_": init.xavier_uniform_,
    "normal_": init.normal_,
    "trunc_normal_": init.trunc_normal_,
    "uniform_": init.uniform_,
}


@pytest.mark.parametrize("name", FILLERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fills_in_place_keeping_dtype(name: str, dtype: Any) -> None:
    t = weight(6, 5, 3, 3, dtype=dtype)
    buffer = t.data
    assert FILLERS[name](t, rng=np.random.default_rng(1)) is t
    assert t.data is buffer and t.data.dtype == dtype and np.isfinite(t.data).all()
    assert len(np.unique(t.data)) > 0.9 * t.numel()


@pytest.mark.parametrize("name", FILLERS)
def test_reproducible_with_rng_and_manual_seed(name: str) -> None:
    fill = FILLERS[name]
    a, b, c, d = (weight(20, 10) for _ in range(4))
    fill(a, rng=np.random.default_rng(7))
    fill(b, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    am.manual_seed(7)
    fill(c)
    am.manual_seed(7)
    fill(d)
    np.testing.assert_array_equal(c.data, d.data)
    fill(d)  # the package generator moves on
    assert not np.array_equal(c.data, d.data)


def test_initialising_a_module_parameter_in_place() -> None:
    layer = nn.Linear(300, 200)
    p = layer.weight
    init.kaiming_normal_(p, nonlinearity="relu", rng=np.random.default_rng(0))
    assert layer.weight is p and layer.parameters()[0] is p and p.requires_grad
    assert moments(p)[1] == pytest.approx(math.sqrt(2 / 300), rel=0.03)
    init.zeros_(layer.bias)  # type: ignore[arg-type]
    assert not layer.bias.data.any()  # type: ignore[union-attr]


def test_init_functions_and_load_state_dict_are_in_place_writes() -> None:
    """As in torch, nn.init's fills and load_state_dict change a parameter in place: its
    version moves, so a graph recorded before them refuses to backpropagate."""
    layer = nn.Linear(3, 2)
    w = layer.weight
    for fill in (init.zeros_, init.ones_, lambda t: init.constant_(t, 0.5), init.normal_):
        before = w._version
        assert fill(w) is w
        assert w._version == before + 1
    loss = layer(np.ones((4, 3), dtype=np.float32)).sum()
    before = w._version
    layer.load_state_dict(nn.Linear(3, 2).state_dict())
    assert w._version == before + 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_a_new_layers_parameter_versions_match_torch() -> None:
    """Initialising a layer is one in-place write per parameter, as in torch (version 1)."""
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    assert [p._version for p in ours.parameters()] == [p._version for p in theirs.parameters()]
