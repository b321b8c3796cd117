"""A custom ``Function`` written as PyTorch's tutorials write it: ``ctx.save_for_backward``
and ``ctx.saved_tensors`` (the "Learning PyTorch with Examples" Legendre polynomial,
against torch's own trajectory), with gradients of the first and second order."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Function


class LegendrePolynomial3(Function):
    """P3(x) = (5x^3 - 3x) / 2, as in PyTorch's tutorial (forward on arrays here)."""

    @staticmethod
    def forward(ctx: Any, input: Any) -> Any:
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx: Any, grad_output: am.Tensor) -> am.Tensor:
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


class SavedOutputExp(Function):
    """exp, its backward from the saved output (as torch's Exp example)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        result = np.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx: Any, grad_output: am.Tensor) -> am.Tensor:
        (result,) = ctx.saved_tensors
        return grad_output * result


class SavedConstantScale(Function):
    """y = x * c with c an array made in forward (saved, not an input or the output)."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        c = np.linspace(1, 2, x.size).reshape(x.shape)
        ctx.save_for_backward(c, None)
        return x * c

    @staticmethod
    def backward(ctx: Any, grad_output: am.Tensor) -> am.Tensor:
        c, nothing = ctx.saved_tensors
        assert nothing is None and isinstance(c, am.Tensor) and not c.requires_grad
        return grad_output * c


@pytest.mark.parametrize("fn", [LegendrePolynomial3, SavedOutputExp, SavedConstantScale])
def test_saved_tensors_give_first_and_second_order_gradients(fn: Any) -> None:
    x = am.tensor(np.random.default_rng(0).uniform(-1, 1, (3, 4)), requires_grad=True)
    assert am.gradcheck(fn.apply, [x])
    assert am.gradgradcheck(fn.apply, [x])


def test_saved_tensors_are_the_input_and_output_tensors() -> None:
    x = am.tensor([0.5, 1.0], requires_grad=True)
    y = SavedOutputExp.apply(x)
    assert y.grad_fn.saved_tensors[0] is y
    z = LegendrePolynomial3.apply(x)
    assert z.grad_fn.saved_tensors[0] is x


def test_a_saved_output_changed_in_place_is_refused_at_backward() -> None:
    x = am.tensor([0.5, 1.0], requires_grad=True)
    y = SavedOutputExp.apply(x)
    with am.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_legendre_fit_follows_torchs_trajectory() -> None:
    """The tutorial's loop, 300 steps of plain gradient descent, in both libraries."""
    torch = pytest.importorskip("torch")

    class TorchP3(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, input: Any) -> Any:
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    def fit(lib: Any, p3: Any) -> list[float]:
        x = lib.linspace(-math.pi, math.pi, 2000, dtype=lib.float64)
        y = lib.sin(x)
        params = [lib.full((), v, dtype=lib.float64, requires_grad=True) for v in (0, -1, 0, 0.3)]
        a, b, c, d = params
        for _ in range(300):
            loss = (a + b * p3.apply(c + d * x) - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                for p in params:
                    p -= 5e-6 * p.grad
                    p.grad = None
        return [p.item() for p in params] + [loss.item()]

    ours, theirs = fit(am, LegendrePolynomial3), fit(torch, TorchP3)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)  # a and c stay near 0
