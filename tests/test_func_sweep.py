"""Regressions found by sweeping the gradient tools as an outside user, against torch's
habits: gradcheck's rounding floor and non-finite values, its inputs as a list, check_op's
deadline, and ``am.grad`` given something that is not a Tensor."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pytest
from helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_mnist as am
from autograd_mnist import Function, Tensor, gradcheck, gradgradcheck
from autograd_mnist import functional as F
from autograd_mnist.gradcheck import GradcheckError
from autograd_mnist.testing import check_forward, check_op, distinct_arrays, float_arrays


class _Softplus(Function):
    """softplus, its backward scaled by ``factor`` (1.0: right)."""

    factor = 1.0

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        return g * F.sigmoid(x) * _Softplus.factor


class _WrongSoftplus(_Softplus):
    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        return g * F.sigmoid(x) * 1.5  # off by 50%


def _x() -> Tensor:
    return Tensor(np.random.default_rng(0).uniform(-4.0, 4.0, (3, 4)), requires_grad=True)


def _y() -> Tensor:
    return Tensor(np.random.default_rng(1).uniform(1.0, 2.0, (5,)), requires_grad=True)


# ----- gradcheck: one rounding floor for all of L hid wrong gradients -----
def test_a_large_output_that_does_not_depend_on_an_input_hides_no_error() -> None:
    # The floor was 10 eps_mach sum|w * fn(x)| / eps over every output: the 1e10 * y
    # output made it ~0.2, and a softplus gradient off by 50% passed.
    with pytest.raises(
        GradcheckError, match=r"input 0 \(shape \(3, 4\)\).*numerical -1\.22.*analytical -1\.84"
    ):
        gradcheck(lambda a, b: (_WrongSoftplus.apply(a), b * 1e10), _x(), _y())
    assert not gradcheck(
        lambda a, b: (_WrongSoftplus.apply(a), b * 1e10), _x(), _y(), raise_exception=False
    )


def test_right_gradients_next_to_large_or_barely_moving_outputs_still_pass() -> None:
    assert gradcheck(lambda a, b: (_Softplus.apply(a), b * 1e10), _x(), _y())
    assert gradgradcheck(lambda a, b: (_Softplus.apply(a), (b * 30.0).exp()), _x(), _y())
    # A step of eps moves 1e6 + 1e-7 x by less than an ulp: the probe counts that term.
    x = Tensor(np.array([0.3, 0.7]), requires_grad=True)
    assert gradcheck(lambda a: a * 1e-7 + 1e6, x)
    assert gradcheck(lambda a: a * 1e-7 + 1e6, x, fast_mode=True)


def test_an_output_that_is_nan_whatever_the_input_is_ignored_as_a_constant() -> None:
    assert gradcheck(lambda a: (a.exp(), Tensor(np.array([np.nan, 1.0]))), _x())


# ----- gradcheck: NaN passed every comparison -----
def test_a_numerical_derivative_that_is_not_finite_fails_with_a_hint() -> None:
    # log at 1e-5 with eps 1e-4 steps to log(-9e-5) = nan: it used to pass silently.
    x = Tensor(np.array([1e-5, 1.0]), requires_grad=True)
    with np.errstate(invalid="ignore"):
        with pytest.raises(GradcheckError, match=r"element \(0,\): numerical nan.*lower eps"):
            gradcheck(lambda t: t.log(), x)
        assert gradcheck(lambda t: t.log(), x, eps=1e-6)


class _NanWhereLarge(Function):
    """2 x, its backward NaN where x > 0.5 (for a nonzero g only)."""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray) -> np.ndarray:
        return a * 2

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        (a,) = ctx.inputs
        nan = np.where((a.data > 0.5) & (g.data != 0), np.nan, 0.0)
        return g * 2 + Tensor(nan)


def test_a_nan_gradient_names_its_element_not_nondeterminism() -> None:
    x = Tensor(np.array([0.3, 0.7, 0.1]), requires_grad=True)
    with pytest.raises(
        GradcheckError, match=r"input 0 \(shape \(3,\)\): the backward gave nan at element \(1,\)"
    ):  # noqa: E501
        gradcheck(_NanWhereLarge.apply, x)
    assert not gradcheck(_NanWhereLarge.apply, x, fast_mode=True, raise_exception=False)


# ----- gradcheck: PyTorch passes its inputs as a list too -----
class _WrongMul(Function):
    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, Tensor]:
        a, b = ctx.inputs
        return g * b, g * b  # the second should be g * a


def test_inputs_as_one_list_as_torch_accepts_them() -> None:
    x, y = _x(), Tensor(np.random.default_rng(2).normal(size=(3, 4)), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"_WrongMul\.apply: input 1 \(shape \(3, 4\)\)"):
        gradcheck(_WrongMul.apply, [x, y])
    assert gradcheck(lambda a, b: a * b, [x, y]) and gradgradcheck(lambda a, b: a * b, [x, y])


# ----- gradcheck: fast mode on an empty input; forward mode with an integer output -----
def test_fast_mode_takes_an_empty_input_as_torch_does() -> None:
    x = Tensor(np.zeros((0, 3)), requires_grad=True)  # used to raise ValueError (max of empty)
    assert gradcheck(lambda t: t.exp(), x, fast_mode=True)
    assert gradcheck(lambda t: t.exp(), x, fast_mode=True, check_forward_ad=True)
    assert gradgradcheck(lambda t: t.exp(), x, fast_mode=True)


@pytest.mark.parametrize("fast", [False, True])
def test_forward_mode_check_of_an_op_with_an_integer_output(fast: bool) -> None:
    # max(dim) returns (values, indices): jvp asked for the gradient of the indices' zero
    # upstream gradient, which cannot require grad ("grad: input 1 ... does not require grad")
    x = Tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    assert gradcheck(lambda t: t.max(1), x, check_forward_ad=True, fast_mode=fast)


def test_jvp_and_forward_mode_jacobian_give_an_integer_output_zeros() -> None:
    x = am.tensor(np.random.default_rng(0).normal(size=(3, 4)), dtype=am.float64)
    (values, indices), (jv_values, jv_indices) = am.func.jvp(
        lambda t: tuple(t.max(1)), x, am.ones_like(x)
    )
    assert np.array_equal(jv_values.data, np.ones(3)) and np.array_equal(jv_indices.data, [0] * 3)
    assert jv_indices.dtype == indices.dtype
    forward = am.func.jacobian(lambda t: tuple(t.max(1)), x, strategy="forward-mode")
    reverse = am.func.jacobian(lambda t: tuple(t.max(1)), x)
    for f, r in zip(forward, reverse):
        assert f.dtype == r.dtype == np.float64 and np.array_equal(f.data, r.data)
    with pytest.raises(RuntimeError, match="Output 1 of the user-provided function does not"):
        am.func.jvp(lambda t: tuple(t.max(1)), x, am.ones_like(x), strict=True)


# ----- check_op: Hypothesis's default deadline failed slow ops by timing -----
def test_check_op_ignores_the_profiles_deadline() -> None:
    def slow_exp(x: Tensor) -> Tensor:
        time.sleep(0.25)  # longer than the 200 ms deadline of the profile below
        return x.exp()

    settings.register_profile("sweep-deadline", parent=settings.default, deadline=200)
    settings.load_profile("sweep-deadline")
    try:
        check_op(
            slow_exp,
            float_arrays((2,)),
            reference=np.exp,
            grad=False,
            gradgrad=False,
            max_examples=1,
        )
    finally:
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# ----- distinct_arrays: "at least spacing apart" was off by the rounding -----
@settings(max_examples=100)
@given(
    st.sampled_from([np.float32, np.float64]).flatmap(
        lambda d: st.tuples(st.just(d), distinct_arrays((30,), dtype=d))
    )
)
def test_distinct_arrays_keep_their_spacing_exactly(drawn: tuple[Any, np.ndarray]) -> None:
    dtype, a = drawn  # float32 gaps came out as 0.99993e-3, float64 ones as 0.9999999999999e-3
    assert a.dtype == dtype and a.min() >= -3.0 and a.max() <= 3.0
    assert (np.diff(np.sort(a.astype(np.float64))) >= 1e-3).all()


# ----- check_forward: the indices of max(dim) had to be float ("float in, float out") -----
def test_check_forward_and_check_op_take_an_op_with_an_index_output() -> None:
    def reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x.max(1), x.argmax(1)

    x = np.random.default_rng(0).normal(size=(3, 4))
    check_forward(lambda t: t.max(1), reference, x)
    check_forward(lambda t: t.max(1), reference, x.astype(np.float32), rtol=1e-6)
    check_op(lambda t: t.max(1), distinct_arrays((3, 4)), reference=reference, max_examples=3)
    with pytest.raises(AssertionError, match="output 1 has dtype float64; reference int64"):
        check_forward(lambda t: (t.max(1)[0], t.max(1)[1].to(np.float64)), reference, x)
    with pytest.raises(AssertionError, match="output 0 has dtype float32; inputs are float64"):
        check_forward(lambda t: (t.max(1)[0].float(), t.max(1)[1]), reference, x)


# ----- am.grad: a non-Tensor gave AttributeError deep inside -----
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: am.grad(x.sum(), (t for t in [x])), "input 0 is a generator; expected a Tensor"),
        (lambda x: am.grad(x.sum(), [x, 3.0]), "input 1 is a float; expected a Tensor"),
        (lambda x: am.grad(x.sum(), np.ones(3)), "input 0 is a ndarray; expected a Tensor"),
        (lambda x: am.grad(2.0, x), "output 0 is a float; expected a Tensor"),
        (lambda x: am.grad([x.sum(), [x.sum()]], x), "output 1 is a list; expected a Tensor"),
    ],
)
def test_grad_names_an_argument_that_is_not_a_tensor(call: Any, message: str) -> None:
    x = am.tensor([1.0, 2.0, 3.0], dtype=am.float64, requires_grad=True)
    with pytest.raises(TypeError, match=message):
        call(x)


# ----- docs -----
def test_custom_ops_doc_states_gradchecks_step() -> None:
    doc = (ROOT / "docs" / "custom_ops.md").read_text()
    assert "eps = 1e-6" not in doc and "gradcheck's eps = 1e-4" in doc
