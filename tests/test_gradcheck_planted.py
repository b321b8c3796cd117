"""Planted errors: the checker's defaults catch a backward off by a relative 1e-3 or 1e-4.

Each test patches one built-in op's backward (``monkeypatch`` restores it) so that every
gradient it returns is multiplied by ``factor``, and shows ``gradcheck`` with its default
settings rejects it, in full and in fast mode. The second-order plant leaves the first
derivative bit-exact, g + (factor - 1) * (g - g.detach()), and multiplies the derivative
of the backward by ``factor``: only ``gradgradcheck`` can see it, and it does. With
PyTorch's tolerance (rtol 1e-3) the 1e-4 plants pass: the sharper default is what
catches them. The op table (``test_ops_grad.py``) is the other half: every built-in op
passes the same defaults over the ``ci`` profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_mnist import functional as F
from autograd_mnist.function import Function
from autograd_mnist.gradcheck import gradcheck, gradgradcheck
from autograd_mnist.ops import conv, elementwise, extrema, fused, linalg, reduction, softmax
from autograd_mnist.tensor import Tensor

RNG = np.random.default_rng(0)
LABELS = np.array([0, 2, 1])


def _arr(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return RNG.uniform(low, high, shape)


# name: (the op whose backward is planted, the function checked, its inputs, second order?)
# Second order is skipped where the op is linear or piecewise linear in its input (sum,
# max, max-pool): the derivative of its backward is 0, which no factor changes.
PLANTS: dict[str, tuple[type[Function], Callable[..., Tensor], tuple[Any, ...], bool]] = {
    "mul": (elementwise.Mul, lambda a, b: a * b, (_arr(3, 4), _arr(4)), True),
    "exp": (elementwise.Exp, F.exp, (_arr(3, 4),), True),
    "log": (elementwise.Log, F.log, (_arr(3, 4, low=0.1),), True),
    "matmul": (linalg.MatMul, lambda a, b: a @ b, (_arr(3, 4), _arr(4, 2)), True),
    "sum": (reduction.Sum, lambda x: x.sum(1), (_arr(3, 4),), False),
    "max": (extrema.Extremum, lambda x: x.max(1).values, (_arr(3, 4),), False),
    "conv2d": (conv.Im2col, F.conv2d, (_arr(2, 2, 5, 5), _arr(3, 2, 3, 3)), True),
    "max_pool2d": (conv.MaxPool2d, lambda x: F.max_pool2d(x, 2), (_arr(1, 2, 4, 4),), False),
    "log_softmax": (softmax.LogSoftmax, F.log_softmax, (_arr(3, 4),), True),
    "cross_entropy": (
        fused.CrossEntropy,
        lambda x: F.cross_entropy(x, LABELS),
        (_arr(3, 4),),
        True,
    ),
}
SECOND_ORDER = [name for name, plant in PLANTS.items() if plant[3]]


def _scale(g: Any, factor: float, order: int) -> Any:
    if not isinstance(g, Tensor):  # None: no gradient for this input
        return g
    if order == 1:
        return g * factor
    return g + (g - g.detach()) * (factor - 1.0)  # same value, derivative times factor


def _plant(mp: pytest.MonkeyPatch, op: type[Function], factor: float, order: int) -> None:
    original = op.backward

    def backward(ctx: Any, g: Tensor) -> Any:
        grads = original(ctx, g)
        if isinstance(grads, tuple):
            return tuple(_scale(t, factor, order) for t in grads)
        return _scale(grads, factor, order)

    mp.setattr(op, "backward", staticmethod(backward))


def _inputs(name: str) -> list[Tensor]:
    return [Tensor(a.copy(), requires_grad=True) for a in PLANTS[name][2]]


@pytest.mark.parametrize("name", list(PLANTS))
def test_unplanted_ops_pass_the_defaults(name: str) -> None:
    _, fn, _, second = PLANTS[name]
    assert gradcheck(fn, *_inputs(name))
    assert gradcheck(fn, *_inputs(name), fast_mode=True)
    assert not second or gradgradcheck(fn, *_inputs(name))


@pytest.mark.parametrize("factor", [1.001, 1.0001, 0.9999])
@pytest.mark.parametrize("name", list(PLANTS))
def test_gradcheck_catches_a_planted_first_order_error(
    name: str, factor: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    op, fn, _, _ = PLANTS[name]
    _plant(monkeypatch, op, factor, order=1)
    assert not gradcheck(fn, *_inputs(name), raise_exception=False)
    assert not gradcheck(fn, *_inputs(name), fast_mode=True, raise_exception=False)
    if factor != 1.001:  # PyTorch's rtol 1e-3 is blind to a 1e-4 error
        assert gradcheck(fn, *_inputs(name), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("factor", [1.001, 1.0001])
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradgradcheck_catches_a_planted_second_order_error(
    name: str, factor: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    op, fn, _, _ = PLANTS[name]
    _plant(monkeypatch, op, factor, order=2)
    assert gradcheck(fn, *_inputs(name))  # the first derivative is untouched
    with pytest.raises(Exception, match=r"grad of .*: input \d \(shape"):
        gradgradcheck(fn, *_inputs(name))


def test_the_report_of_a_1e_4_plant_names_the_relative_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _plant(monkeypatch, elementwise.Exp, 1.0001, order=1)
    report = r"max rel error 0\.0001\d* \(atol 1e-09, rtol 1e-05, rounding floor "
    with pytest.raises(Exception, match=report):
        gradcheck(F.exp, *_inputs("exp"))
