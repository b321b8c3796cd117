"""gradcheck's numerical method, fast mode and forward mode.

The Richardson-extrapolated central difference is checked against calculus (it must be
far more accurate than the rtol it serves), fast mode (random projections u^T J v) and
forward mode (``func.jvp`` against the same numerical directional derivatives) against
planted errors, with Hypothesis over inputs and argument forms, and against
``torch.autograd.gradcheck`` when PyTorch is installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mnist import functional as F
from autograd_mnist._finite_diff import central, derivatives, richardson
from autograd_mnist.function import Function
from autograd_mnist.gradcheck import DIRECTIONS, GradcheckError, gradcheck, gradgradcheck
from autograd_mnist.ops import mul, pow
from autograd_mnist.tensor import Tensor
from autograd_mnist.testing import away_from_zero, float_arrays, positive_arrays


def _cube(factor: float = 1.0, g_factor: float = 1.0) -> type[Function]:
    class Cube(Function):
        """y = x**3; the backward is off by ``factor``; its derivative with respect to the
        upstream gradient g (what forward mode uses) by ``g_factor``, at the same value."""

        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x**3

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            (x,) = ctx.inputs
            dx = mul(g, mul(pow(x, 2), 3.0 * factor))
            return dx + (dx - dx.detach()) * (g_factor - 1.0)

    return Cube


def _t(a: np.ndarray) -> Tensor:
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True)


# ----- the numerical method -----
@pytest.mark.parametrize(
    ("f", "df", "x"),
    [(np.exp, np.exp, 1.3), (np.sin, np.cos, 0.7), (lambda t: 1 / t, lambda t: -1 / t**2, 0.01)],
    ids=["exp", "sin", "1/x near its pole"],
)
def test_richardson_is_far_more_accurate_than_the_central_difference(
    f: Any, df: Any, x: float
) -> None:
    def phi(t: float) -> float:
        return float(f(x + t))

    exact = df(x)
    assert abs(richardson(phi, 1e-4) - exact) <= 1e-8 * abs(exact)
    # the plain central difference at the same step is off by h**2 f'''/6
    assert abs(central(phi, 1e-4) - exact) > 10 * abs(richardson(phi, 1e-4) - exact)


@settings(max_examples=30)
@given(float_arrays(st.sampled_from([(3,), (2, 3)])), st.booleans())
def test_derivatives_restore_the_point(x: np.ndarray, along_directions: bool) -> None:
    arr = x.copy()
    dirs = np.random.default_rng(0).standard_normal((2, arr.size)) if along_directions else None
    got = derivatives(lambda: float(np.sum(np.sin(arr))), arr, 1e-4, dirs)
    np.testing.assert_array_equal(arr, x)
    expected = np.cos(x) if dirs is None else dirs @ np.cos(x).reshape(-1)
    # Rounding alone leaves ~eps |f| / h = 1e-16 * 3 / 1e-4 absolute: a directional
    # derivative near 0 (x = [1.5625] * 3 gave -5.7e-4) cannot meet rtol with atol 1e-12.
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)


# ----- fast mode -----
@settings(max_examples=20)
@given(positive_arrays(st.sampled_from([(3,), (2, 4), (30, 30)]), min_value=0.5))
def test_fast_mode_accepts_right_and_rejects_a_1e_4_error(x: np.ndarray) -> None:
    assert gradcheck(_cube().apply, _t(x), fast_mode=True)
    assert not gradcheck(_cube(1.0001).apply, _t(x), fast_mode=True, raise_exception=False)


def test_fast_mode_reports_directions_and_costs_what_the_directions_cost() -> None:
    calls = [0]

    def counted(x: Tensor) -> Tensor:
        calls[0] += 1
        return _cube(1.0001).apply(x)

    x = np.linspace(0.5, 2.0, 100).reshape(10, 10)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(10, 10\)\): worst at direction"):
        gradcheck(counted, _t(x), fast_mode=True)
    fast = calls[0]
    calls[0] = 0
    with pytest.raises(GradcheckError, match=r"worst at element"):
        gradcheck(counted, _t(x))
    # 4 evaluations per derivative (Richardson), 2 more (the probe of PROBE) for each that
    # fails, plus the 4 forward calls of the setup; here every derivative fails
    assert fast == 6 * DIRECTIONS + 4 and calls[0] == 6 * x.size + 4
    calls[0] = 0
    gradcheck(lambda t: counted(t) * 0 + t**3, _t(x), fast_mode=True)  # right: no probe
    assert calls[0] == 4 * DIRECTIONS + 4


@settings(max_examples=20)
@given(away_from_zero((40,), margin=1.2e-4, max_value=5e-4))
def test_no_step_crosses_a_kink_farther_than_eps(x: np.ndarray) -> None:
    # Directions are scaled to a largest entry of 1, so a step of eps = 1e-4 moves no
    # element by more than 1e-4: relu's kink, 1.2e-4 away, is never crossed.
    assert gradcheck(F.relu, _t(x), fast_mode=True)
    assert gradcheck(F.relu, _t(x), check_forward_ad=True)


def test_gradgradcheck_fast_mode() -> None:
    x = _t(np.linspace(0.5, 2.0, 6))
    assert gradgradcheck(F.tanh, x, fast_mode=True)
    assert not gradgradcheck(_frozen_square().apply, x, fast_mode=True, raise_exception=False)


def _frozen_square() -> type[Function]:
    class FrozenSquare(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x * x

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            return mul(g, Tensor(2.0 * ctx.inputs[0].data))

    return FrozenSquare


# ----- forward mode -----
@settings(max_examples=20)
@given(positive_arrays(st.sampled_from([(), (3,), (2, 3)]), min_value=0.5), st.booleans())
def test_forward_mode_catches_what_only_forward_mode_sees(x: np.ndarray, fast: bool) -> None:
    wrong_jvp = _cube(g_factor=1.0001).apply  # backward right, its derivative in g is not
    assert gradcheck(wrong_jvp, _t(x), fast_mode=fast)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape .*\) forward mode \(jvp\)"):
        gradcheck(wrong_jvp, _t(x), fast_mode=fast, check_forward_ad=True)
    assert gradcheck(_cube().apply, _t(x), fast_mode=fast, check_forward_ad=True)


@settings(max_examples=20)
@given(float_arrays((2, 3)), float_arrays((3,)), st.sampled_from(["tuple", "one"]))
def test_forward_mode_with_several_inputs_and_outputs(
    a: np.ndarray, b: np.ndarray, form: str
) -> None:
    def two_outputs(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return F.tanh(x) * y, (x * x).sum(0) + y

    if form == "tuple":
        assert gradcheck(two_outputs, _t(a), _t(b), check_forward_ad=True)
    else:  # one input marked: the other is a constant
        assert gradcheck(two_outputs, _t(a), Tensor(b), check_forward_ad=True)


def test_forward_mode_of_a_function_with_integer_arguments() -> None:
    labels = np.array([0, 2])
    x = _t(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
    assert gradcheck(F.cross_entropy, x, labels, check_forward_ad=True)


# ----- agreement with PyTorch -----
@settings(max_examples=10)
@given(positive_arrays((2, 3), min_value=0.5), st.sampled_from([1.0, 1.0001]), st.booleans())
def test_verdicts_match_torch_with_our_tolerances(x: np.ndarray, factor: float, fast: bool) -> None:
    torch = pytest.importorskip("torch")

    class TorchCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, t: Any) -> Any:
            ctx.save_for_backward(t)
            return t**3

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (t,) = ctx.saved_tensors
            return g * 3.0 * factor * t**2

    ours = gradcheck(_cube(factor).apply, _t(x), fast_mode=fast, raise_exception=False)
    theirs = torch.autograd.gradcheck(
        TorchCube.apply,
        (torch.tensor(x, requires_grad=True),),
        eps=1e-6,
        atol=1e-8,
        rtol=1e-5,
        fast_mode=fast,
        raise_exception=False,
    )
    assert ours == theirs == (factor == 1.0)
