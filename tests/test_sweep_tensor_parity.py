"""Tensor and autograd-core parity with PyTorch, from a hostile sweep: each test is an input
on which we once differed from torch (a silent truncation, a wrong dtype, an error where
torch computes, a grad mode not applied), compared with torch itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am

torch = pytest.importorskip("torch")


# ----- sizes: a float is refused (torch's TypeError), never truncated -----
FLOAT_SIZES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "reshape": (lambda L: L.arange(6.0).reshape(3.9, 2), lambda L: L.arange(6.0).reshape(3.9, 2)),
    "view": (lambda L: L.arange(6.0).view(2, 3.0), lambda L: L.arange(6.0).view(2, 3.0)),
    "zeros": (lambda L: L.zeros(2.5), lambda L: L.zeros(2.5)),
    "ones tuple": (lambda L: L.ones((2.7, 2)), lambda L: L.ones((2.7, 2))),
    "randn": (lambda L: L.randn(2.5), lambda L: L.randn(2.5)),
    "full": (lambda L: L.full((2.5,), 1.0), lambda L: L.full((2.5,), 1.0)),
    "permute": (
        lambda L: L.zeros(2, 3).permute(1.5, 0),
        lambda L: L.zeros(2, 3).permute(1.5, 0),
    ),
    "am.permute": (
        lambda L: L.permute(L.zeros(2, 3), (1.5, 0)),
        lambda L: L.permute(L.zeros(2, 3), (1.5, 0)),
    ),
    "am.reshape": (
        lambda L: L.reshape(L.arange(6.0), (3.5, 2)),
        lambda L: L.reshape(L.arange(6.0), (3.5, 2)),
    ),
    "expand": (lambda L: L.zeros(1, 3).expand(2.0, 3), lambda L: L.zeros(1, 3).expand(2.0, 3)),
    "sum_to_size": (
        lambda L: L.zeros(2, 3).sum_to_size(1.0, 3),
        lambda L: L.zeros(2, 3).sum_to_size(1.0, 3),
    ),
}


@pytest.mark.parametrize("name", list(FLOAT_SIZES))
def test_a_float_size_or_dim_is_a_type_error_as_torch(name: str) -> None:
    ours, theirs = FLOAT_SIZES[name]
    with pytest.raises(TypeError):
        theirs(torch)
    with pytest.raises(TypeError, match="must be ints"):
        ours(am)
    # while integers of every kind (NumPy's, a one-element int tensor) still work
    x = am.arange(6.0)
    assert x.reshape(np.int64(2), am.tensor(np.array(3))).shape == (2, 3)
    assert am.zeros([np.int32(2), 3]).shape == (2, 3)
    assert am.reshape(x, [3, -1]).shape == (3, 2)


# ----- t.max(other) / t.min(other): torch's maximum / minimum -----
@pytest.mark.parametrize("method", ["max", "min"])
@pytest.mark.parametrize("other_shape", [(3,), (2, 1), ()])
def test_max_and_min_methods_with_a_tensor_are_maximum_and_minimum(
    method: str, other_shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3)).round(0)  # rounded: ties, where each side gets half
    b = rng.standard_normal(other_shape).round(0)
    xa, xb = am.tensor(a, requires_grad=True), am.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours, theirs = getattr(xa, method)(xb), getattr(ta, method)(tb)
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    g = rng.standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    assert xa.grad is not None and xb.grad is not None
    np.testing.assert_allclose(xa.grad.data, ta.grad.numpy())
    np.testing.assert_allclose(xb.grad.data, tb.grad.numpy())
    assert am.gradcheck(lambda u, v: getattr(u, method)(v), xa.detach() + 0.1, xb.detach())


@pytest.mark.parametrize("method", ["max", "min"])
def test_max_and_min_methods_take_an_array_as_other(method: str) -> None:
    x = am.tensor([1.0, 5.0])
    other = np.array([3.0, 3.0], dtype=np.float32)
    expected = getattr(torch.tensor([1.0, 5.0]), method)(torch.tensor(other))
    np.testing.assert_array_equal(getattr(x, method)(other).data, expected.numpy())


# ----- masked_fill_ on an integer tensor -----
def test_masked_fill_on_an_integer_tensor_converts_the_value_as_torch() -> None:
    mask = np.array([True, False, True])
    ours = am.tensor(np.array([1, 2, 3])).masked_fill_(am.tensor(mask), 2.7)
    theirs = torch.tensor([1, 2, 3]).masked_fill_(torch.tensor(mask), 2.7)
    assert ours.dtype == np.int64
    assert ours.tolist() == theirs.tolist() == [2, 2, 2]


def test_masked_fill_in_place_refuses_a_non_bool_mask_naming_the_op() -> None:
    with pytest.raises(RuntimeError):
        torch.zeros(3).masked_fill_(torch.tensor([1, 0, 1]), 2.5)
    with pytest.raises(TypeError, match="masked_fill_: mask must be bool"):
        am.zeros(3).masked_fill_(am.tensor(np.array([1, 0, 1])), 2.5)


# ----- None is not a number -----
@pytest.mark.parametrize("data", [None, [1.0, None], [[1.0], [None]]], ids=repr)
def test_a_tensor_of_none_raises_as_torch(data: Any) -> None:
    with pytest.raises((TypeError, RuntimeError)):
        torch.tensor(data)
    with pytest.raises(TypeError, match="None"):
        am.tensor(data)
    assert np.isnan(am.tensor([float("nan"), 1.0]).data[0])


# ----- bool tensors in float math: float32 with torch's values -----
BOOL_MATH: dict[str, Callable[[Any], Any]] = {
    "exp": lambda b: b.exp(),
    "log": lambda b: b.log(),
    "sqrt": lambda b: b.sqrt(),
    "sigmoid": lambda b: b.sigmoid(),
    "tanh": lambda b: b.tanh(),
    "sin": lambda b: b.sin(),
    "cos": lambda b: b.cos(),
    "b / b": lambda b: b / b,
    "b ** 2": lambda b: b**2,
    "b ** -1": lambda b: b**-1,
    "b ** 0.5": lambda b: b**0.5,
}


@pytest.mark.parametrize("name", list(BOOL_MATH))
def test_float_math_on_a_bool_tensor_is_float32_as_torch(name: str) -> None:
    # NumPy alone gave float16 (exp...), float64 (/), or int8 with the exponent cast to
    # bool (b ** -1 was b). Torch's bool math is its float32 math (pow, as for integers,
    # is float here: torch keeps int64 and refuses b ** -1).
    mask = np.array([True, False, True])
    fn = BOOL_MATH[name]
    with np.errstate(divide="ignore", invalid="ignore"):
        ours = fn(am.tensor(mask))
    expected = fn(torch.tensor(mask, dtype=torch.float32)).numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.data, expected, rtol=1e-6)


# ----- grad-mode decorators on generator functions -----
@pytest.mark.parametrize("decorator", ["no_grad", "enable_grad", "set_grad_enabled"])
def test_grad_mode_decorators_apply_to_a_generator_body_as_torch(decorator: str) -> None:
    for lib in (torch, am):
        outer = decorator == "enable_grad"  # the mode to leave the caller in: the opposite
        x = lib.ones(2, requires_grad=True)
        deco = lib.set_grad_enabled(False) if decorator == "set_grad_enabled" else None
        deco = deco or getattr(lib, decorator)()

        @deco
        def gen() -> Any:
            got = yield x * 2
            yield got, x * 2, lib.is_grad_enabled()
            return "done"

        with lib.set_grad_enabled(not outer):
            steps = gen()
            first = next(steps)
            assert lib.is_grad_enabled() is (not outer)  # the caller's mode is untouched
            sent, second, inside = steps.send(7)
            with pytest.raises(StopIteration) as stop:
                next(steps)
        assert (first.requires_grad, second.requires_grad) == (outer, outer), lib.__name__
        assert (sent, inside, stop.value.value) == (7, outer, "done")


@pytest.mark.parametrize(
    "write",
    [
        lambda t: t.add_(1),
        lambda t: t.mul_(2),
        lambda t: t.zero_(),
        lambda t: t.fill_(2),
        lambda t: t.clamp_(0, 1),
        lambda t: t.masked_fill_(t > 0, 1),
        lambda t: t.__setitem__(0, 5),
    ],
)
def test_writing_into_an_expanded_view_is_refused_naming_the_op(write: Any) -> None:
    """torch raises RuntimeError (elements share memory); NumPy's bare "output array is
    read-only" named no op. The base is left unchanged."""
    x = am.ones(3)
    with pytest.raises(RuntimeError, match=r"^\w+_?: cannot write into a read-only tensor"):
        write(x.expand(2, 3))
    assert x.tolist() == [1.0, 1.0, 1.0]
