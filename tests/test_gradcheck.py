"""The checker itself: it must accept right gradients and reject wrong ones, loudly.

Also the error messages users see for bad arguments (each names the op and the shapes),
the one-call ``check_op`` helper, and the promises of the strategies the op tests rely on.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist.function import Function
from autograd_mnist.gradcheck import (
    MAX_ELEMENTS,
    GradcheckError,
    gradcheck,
    gradgradcheck,
    numerical_gradient,
)
from autograd_mnist.ops import mul, pow
from autograd_mnist.tensor import Tensor
from autograd_mnist.testing import (
    ConvGeometry,
    PoolGeometry,
    away_from_zero,
    broadcast_sources,
    broadcastable_shapes,
    check_op,
    conv2d_geometries,
    distinct_arrays,
    float_arrays,
    matmul_shapes,
    pool2d_geometries,
    positive_arrays,
    reshape_targets,
    shapes,
)

X = np.linspace(0.5, 2.0, 12).reshape(3, 4)  # away from 0: every gradient entry is sizeable


def _x(arr: np.ndarray = X) -> Tensor:
    return Tensor(arr.copy(), requires_grad=True)


# ----- numerical_gradient (R1's central difference, docs/reference_experiments.md) -----
@pytest.mark.parametrize(
    ("f", "df"),
    [
        (lambda x: np.sum(x**2), lambda x: 2 * x),
        (lambda x: np.sum(x**3), lambda x: 3 * x**2),
        (lambda x: np.sum(np.exp(x)), np.exp),
        (lambda x: np.sum(np.sin(x) * x), lambda x: np.cos(x) * x + np.sin(x)),
    ],
    ids=["x**2", "x**3", "exp", "x sin x"],
)
def test_numerical_gradient_matches_calculus(f: Any, df: Any) -> None:
    x = X.copy()
    num = numerical_gradient(f, x)
    # Central difference with h = 1e-4: truncation error h**2/6 * f''' <= 1e-8 here.
    np.testing.assert_allclose(num, df(X), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(x, X)  # every element restored
    assert num.shape == X.shape and num.dtype == X.dtype


def test_numerical_gradient_accepts_tensors_and_tensor_results() -> None:
    t = Tensor(X.copy())
    num = numerical_gradient(lambda a: (Tensor(a) ** 2).sum(), t)
    np.testing.assert_allclose(num, 2 * X, rtol=1e-6)
    with pytest.raises(TypeError, match="numerical_gradient: x must be an ndarray; got list"):
        numerical_gradient(np.sum, [1.0, 2.0])


# ----- gradcheck accepts correct ops -----
@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        (lambda x: x**2, (X,)),
        (F.tanh, (X,)),
        (lambda a, b: a @ b, (X, X.T)),
        (lambda x, w, b: F.linear(x, w, b), (X, X[:2], X[0, :2])),
        (lambda x: F.log_softmax(x, dim=0), (X,)),
    ],
    ids=["square", "tanh", "matmul", "linear", "log_softmax"],
)
def test_gradcheck_and_gradgradcheck_accept_correct_ops(fn: Any, inputs: tuple[Any, ...]) -> None:
    tensors = [_x(a) for a in inputs]
    assert gradcheck(fn, *tensors) is True
    assert gradgradcheck(fn, *tensors) is True


def test_gradcheck_casts_float32_inputs_to_float64() -> None:
    t = Tensor(X.astype(np.float32), requires_grad=True)
    assert gradcheck(F.sigmoid, t)
    assert t.dtype == np.float32  # the caller's tensor is untouched


def test_only_inputs_marked_requires_grad_are_checked() -> None:
    # b's gradient is wrong (x2) but b is not marked: only a is checked.
    class HalfWrong(Function):
        @staticmethod
        def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return a * b

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> tuple[Tensor, Tensor]:
            a, b = ctx.inputs
            return mul(g, b), mul(mul(g, a), 2.0)

    assert gradcheck(HalfWrong.apply, _x(), Tensor(X.copy()))
    assert not gradcheck(HalfWrong.apply, _x(), _x(), raise_exception=False)


# ----- gradcheck rejects wrong backwards -----
def _cube_with_error(factor: float) -> type[Function]:
    class Cube(Function):
        """y = x**3 with a backward off by ``factor``."""

        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x**3

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            (x,) = ctx.inputs
            return mul(g, mul(pow(x, 2), 3.0 * factor))

    return Cube


def test_rejects_a_backward_off_by_a_factor_1_001() -> None:
    cube = _cube_with_error(1.001)
    with pytest.raises(GradcheckError, match="max rel error 0.001"):  # the defaults see it
        gradcheck(cube.apply, _x())
    assert gradcheck(_cube_with_error(1.0).apply, _x(), rtol=1e-4)


def test_defaults_reject_a_backward_off_by_a_factor_1_01() -> None:
    with pytest.raises(GradcheckError, match="max rel error 0.01"):
        gradcheck(_cube_with_error(1.01).apply, _x())


@settings(max_examples=20)
@given(positive_arrays((2, 3), min_value=0.5))
def test_rejects_the_planted_error_on_any_input(x: np.ndarray) -> None:
    assert not gradcheck(_cube_with_error(1.01).apply, _x(x), raise_exception=False)


def test_rejects_a_backward_that_ignores_its_upstream_gradient() -> None:
    class IgnoresG(Function):
        """y = 3x; backward returns 3 whatever g is (right only for L = sum(y))."""

        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return 3.0 * x

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            return Tensor(np.full(g.shape, 3.0))

    with pytest.raises(GradcheckError, match="IgnoresG"):
        gradcheck(IgnoresG.apply, _x())


def test_rejects_a_backward_that_ignores_g_even_without_the_zero_check() -> None:
    # Ignoring g but scaling with it once (g.sum()): passes the zero-cotangent check,
    # and only the random cotangent w exposes it (with w = 1 it would be right).
    class SumOfG(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return 3.0 * x

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            n = g.numel()
            return mul(am.ops.broadcast_to(g.sum(), g.shape), 3.0 / n)

    with pytest.raises(GradcheckError, match=r"numerical .*, analytical"):
        gradcheck(SumOfG.apply, _x())


def test_reports_a_gradient_of_the_wrong_shape() -> None:
    class WrongShape(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return 2.0 * x

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            return g.T  # (4, 3) for a (3, 4) input

    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongShape.apply, _x())
    msg = str(info.value)
    for part in ("WrongShape", "input 0", "(4, 3)", "(3, 4)"):
        assert part in msg, msg
    assert not gradcheck(WrongShape.apply, _x(), raise_exception=False)


def test_reports_a_gradient_of_the_wrong_dtype() -> None:
    class WrongDtype(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return 2.0 * x

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            return Tensor((2.0 * g.data).astype(np.float32))

    with pytest.raises(GradcheckError, match=r"WrongDtype.*float32.*float64"):
        gradcheck(WrongDtype.apply, _x())


def test_rejects_a_forward_that_modifies_its_input() -> None:
    class Mutates(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            x += 1.0
            return x.copy()

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            return g

    with pytest.raises(GradcheckError, match="input 0 was modified in place"):
        gradcheck(Mutates.apply, _x())


def test_rejects_a_nondeterministic_backward() -> None:
    rng = np.random.default_rng(0)

    class Noisy(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return 2.0 * x

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            return mul(g, Tensor(2.0 + 1e-9 * rng.standard_normal(g.shape)))

    with pytest.raises(GradcheckError, match="two backward runs gave different gradients"):
        gradcheck(Noisy.apply, _x())


def test_large_inputs_are_checked_along_random_directions() -> None:
    side = int(np.ceil(np.sqrt(MAX_ELEMENTS + 1)))
    big = np.linspace(0.5, 2.0, side * side).reshape(side, side)
    assert gradcheck(lambda x: x**3, _x(big))
    with pytest.raises(GradcheckError, match=r"input 0 \(shape .*\): worst at direction \d+"):
        gradcheck(_cube_with_error(1.01).apply, _x(big))


# ----- the failure message -----
def test_failure_message_names_function_input_element_values_and_errors() -> None:
    factors = np.ones((3, 4))
    factors[1, 2] = 1.5  # one wrong entry: it must be the worst one reported

    def scaled_product(a: Tensor, b: Tensor) -> Tensor:
        class Product(Function):
            @staticmethod
            def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
                return a * b

            @staticmethod
            def backward(ctx: Any, g: Tensor) -> tuple[Tensor, Tensor]:
                a, b = ctx.inputs
                return mul(g, b), mul(mul(g, a), Tensor(factors))

        return Product.apply(a, b)

    with pytest.raises(GradcheckError) as info:
        gradcheck(scaled_product, _x(), _x())
    msg = str(info.value)
    assert "scaled_product" in msg
    assert "input 1 (shape (3, 4))" in msg
    assert "worst at element (1, 2)" in msg
    m = re.search(r"numerical (\S+), analytical (\S+);", msg)
    assert m is not None, msg
    numerical, analytical = float(m.group(1)), float(m.group(2))
    assert analytical == pytest.approx(1.5 * numerical, rel=1e-6)
    m = re.search(r"max abs error (\S+), max rel error (\S+) ", msg)
    assert m is not None, msg
    assert float(m.group(1)) == pytest.approx(abs(analytical - numerical), rel=1e-2)
    assert float(m.group(2)) == pytest.approx(0.5, rel=1e-2)
    assert "1 of 12 values off" in msg


def test_raise_exception_false_returns_false() -> None:
    assert gradcheck(_cube_with_error(1.01).apply, _x(), raise_exception=False) is False
    assert gradgradcheck(FrozenSquare.apply, _x(), raise_exception=False) is False


# ----- gradgradcheck -----
class FrozenSquare(Function):
    """y = x**2 with a first derivative that is right but built from a constant copy of x,
    so the engine sees a zero second derivative."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * x

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        return mul(g, Tensor(2.0 * ctx.inputs[0].data))


def test_gradgradcheck_rejects_a_backward_that_is_not_differentiable() -> None:
    assert gradcheck(FrozenSquare.apply, _x())
    with pytest.raises(GradcheckError, match=r"grad of FrozenSquare.apply: input 0"):
        gradgradcheck(FrozenSquare.apply, _x())


def test_gradgradcheck_cannot_see_a_consistently_wrong_first_derivative() -> None:
    # Its job is the derivative *of the backward*: a backward off by 1.01 is still
    # differentiated correctly, so only gradcheck catches it. Run both.
    wrong = _cube_with_error(1.01).apply
    assert gradgradcheck(wrong, _x())
    assert not gradcheck(wrong, _x(), raise_exception=False)


def test_gradgradcheck_of_a_cube_at_a_point() -> None:
    # d2/dx2 x**3 = 6x: the Hessian-vector product through create_graph.
    x = Tensor(np.array([1.5]), requires_grad=True)
    (g,) = am.grad((x**3).sum(), x, create_graph=True)
    (h,) = am.grad(g.sum(), x)
    assert h.item() == pytest.approx(9.0)
    assert gradgradcheck(lambda t: t**3, x)


# ----- check_op, the one-call helper -----
def test_check_op_runs_forward_grad_and_gradgrad() -> None:
    check_op(
        lambda a, b: a * F.sigmoid(b),
        float_arrays((2, 3)),
        float_arrays((3,)),
        reference=lambda a, b: a / (1 + np.exp(-b)),
        max_examples=10,
    )


def test_check_op_reports_a_wrong_reference() -> None:
    with pytest.raises(AssertionError, match="output 0 vs reference"):
        check_op(F.tanh, float_arrays((3,)), reference=np.sinh, grad=False, max_examples=10)


def test_check_op_reports_a_wrong_gradient() -> None:
    with pytest.raises(GradcheckError):
        check_op(_cube_with_error(1.01).apply, positive_arrays((2,), min_value=0.5),
                 gradgrad=False, max_examples=10)  # fmt: skip


# ----- error messages for bad arguments name the op and the shapes -----
def test_matmul_inner_dimension_mismatch() -> None:
    with pytest.raises(ValueError, match=r"matmul: .*\(2, 3\) @ \(4, 5\)"):
        am.Tensor(np.zeros((2, 3))) @ am.Tensor(np.zeros((4, 5)))


def test_conv2d_channel_mismatch() -> None:
    x, w = np.zeros((64, 3, 28, 28)), np.zeros((32, 1, 3, 3))
    with pytest.raises(ValueError) as info:
        F.conv2d(x, w)
    msg = str(info.value)
    for part in ("conv2d", "3 channels", "expects 1", "(64, 3, 28, 28)", "(32, 1, 3, 3)"):
        assert part in msg, msg


def test_conv2d_kernel_larger_than_padded_input() -> None:
    with pytest.raises(ValueError) as info:
        F.conv2d(np.zeros((1, 1, 2, 3)), np.zeros((1, 1, 5, 5)), padding=1)
    msg = str(info.value)
    for part in ("conv2d", "kernel (5, 5)", "padded input (4, 5)", "(1, 1, 2, 3)", "(1, 1, 5, 5)"):
        assert part in msg, msg


@pytest.mark.parametrize("op", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
@pytest.mark.parametrize(
    ("target", "error", "parts"),
    [
        (np.array([0, 3, 1]), ValueError, ("out of range", "[0, 3]", "< 3", "(3, 3)", "(3,)")),
        (np.array([-1, 0, 1]), ValueError, ("out of range", "[-1, 1]", "(3, 3)", "(3,)")),
        (np.array([0, 1]), ValueError, ("target has shape (2,)", "expected (3,)", "(3, 3)")),
        (np.array([[0, 1, 2]]), ValueError, ("target has shape (1, 3)", "(3, 3)")),
        (np.array([0.0, 1.0, 2.0]), TypeError, ("integer", "float64", "(3, 3)", "(3,)")),
    ],
    ids=["too-large", "negative", "short", "2-D", "float"],
)
def test_loss_target_errors(op: Any, target: np.ndarray, error: type, parts: tuple[str]) -> None:
    with pytest.raises(error) as info:
        op(np.zeros((3, 3)), target)
    msg = str(info.value)
    assert msg.startswith(op.__name__ + ":"), msg
    for part in parts:
        assert part in msg, msg


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("add", lambda a, b: a + b),
        ("mul", lambda a, b: a * b),
        ("matmul", lambda a, b: a @ b.reshape(3, 1)),
        ("linear", lambda a, b: F.linear(a, b.reshape(1, 3))),
        ("conv2d", lambda a, b: F.conv2d(a.reshape(1, 1, 2, 3), b.reshape(1, 1, 1, 3))),
    ],
)
def test_mixed_float32_float64_operands(name: str, call: Any) -> None:
    a = am.Tensor(np.zeros((2, 3), dtype=np.float32))
    b = am.Tensor(np.zeros((3,), dtype=np.float64))
    with pytest.raises(TypeError) as info:
        call(a, b)
    msg = str(info.value)
    assert msg.lower().startswith(name + ":"), msg
    assert "float32" in msg and "float64" in msg, msg
    assert re.search(r"\(2, 3\)|\(1, 1, 2, 3\)", msg), msg


def test_check_op_wants_strategies_or_args_but_not_both() -> None:
    with pytest.raises(InvalidArgument, match="not neither"):
        check_op(F.tanh)
    with pytest.raises(InvalidArgument, match="not both"):
        check_op(F.tanh, float_arrays(), args=st.tuples(float_arrays()))


# ----- the strategies keep their promises (the gradient tests rely on them) -----
@settings(max_examples=50)
@given(away_from_zero(), positive_arrays(), distinct_arrays())
def test_kink_avoiding_strategies(a: np.ndarray, p: np.ndarray, d: np.ndarray) -> None:
    assert (np.abs(a) >= 1e-3).all() and (np.abs(a) <= 3).all()
    assert (p >= 1e-2).all() and (p <= 3).all()
    values = np.sort(d.reshape(-1))
    assert (np.diff(values) >= 1e-3 * (1 - 1e-9)).all()
    assert a.dtype == p.dtype == d.dtype == np.float64


@settings(max_examples=50)
@given(float_arrays(dtype=np.float32), away_from_zero(dtype=np.float32, margin=1e-2))
def test_float32_strategies_respect_their_bounds(x: np.ndarray, a: np.ndarray) -> None:
    assert x.dtype == a.dtype == np.float32
    assert np.isfinite(x).all() and (np.abs(x) <= 3).all() and (np.abs(a) >= 1e-2).all()


@settings(max_examples=50)
@given(conv2d_geometries())
def test_conv2d_geometries_are_valid(g: ConvGeometry) -> None:
    y = F.conv2d(np.zeros(g.input_shape), np.zeros(g.weight_shape), None, g.stride, g.padding)
    assert y.shape == g.output_shape and min(g.output_shape) >= 1


@settings(max_examples=50)
@given(pool2d_geometries())
def test_pool2d_geometries_are_valid(g: PoolGeometry) -> None:
    assert g.padding[0] <= g.KH // 2 and g.padding[1] <= g.KW // 2
    y = F.max_pool2d(np.zeros(g.input_shape), (g.KH, g.KW), g.stride, g.padding)
    assert y.shape == g.output_shape and min(g.output_shape) >= 1


@settings(max_examples=50)
@given(matmul_shapes(), broadcastable_shapes(3))
def test_shape_strategies_are_valid(ab: tuple[Any, Any], shapes3: tuple[Any, ...]) -> None:
    a, b = ab
    assert np.matmul(np.zeros(a), np.zeros(b)).shape == (am.Tensor(np.zeros(a)) @ np.zeros(b)).shape
    np.broadcast_shapes(*shapes3)  # raises if they do not broadcast


@settings(max_examples=50)
@given(shapes().flatmap(lambda s: st.tuples(st.just(s), reshape_targets(s), broadcast_sources(s))))
def test_reshape_targets_and_broadcast_sources(args: tuple[Any, Any, Any]) -> None:
    shape, target, source = args
    assert np.zeros(shape).reshape(target).size == int(np.prod(shape))
    assert np.broadcast_shapes(source, shape) == shape


def test_importing_the_package_does_not_import_hypothesis() -> None:
    code = "import sys, autograd_mnist; assert 'hypothesis' not in sys.modules, 'hypothesis'"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_inputs_as_one_tuple_as_pytorch_passes_them() -> None:
    x = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    y = Tensor(np.array([1.0, 3.0, -2.0]), requires_grad=True)
    assert gradcheck(lambda a, b: a * b.exp(), (x, y))
    assert gradgradcheck(lambda a, b: a * b.exp(), (x, y))
    with pytest.raises(GradcheckError):  # the tuple's tensors really are checked
        gradcheck(_cube_with_error(1.0001).apply, (x,))
    with pytest.raises(ValueError, match=r"no float input.*got inputs \['str'\]"):
        gradcheck(lambda a: a, ("x",))
