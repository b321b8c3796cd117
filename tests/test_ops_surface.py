"""The PyTorch surface of issue #9: its op-table rows, PyTorch parity, errors, hand cases.

The generic checks (forward vs NumPy in float64 and float32 with dtype preservation and no
input mutation; gradcheck; gradgradcheck) are those of ``test_ops_forward.py`` and
``test_ops_grad.py``, run here over ``SURFACE_CASES``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import test_ops_forward as forward_checks
import test_ops_grad as grad_checks
from op_cases import OpCase
from op_cases_surface import SURFACE_CASE_IDS, SURFACE_CASES

import autograd_mnist as am
from autograd_mnist import Tensor


# ----- the generic checks over the surface rows -----
@pytest.mark.parametrize("case", SURFACE_CASES, ids=SURFACE_CASE_IDS)
def test_forward_matches_reference(case: OpCase) -> None:
    forward_checks.test_forward_matches_reference(case)


@pytest.mark.parametrize("case", SURFACE_CASES, ids=SURFACE_CASE_IDS)
def test_gradcheck(case: OpCase) -> None:
    grad_checks.test_gradcheck(case)


@pytest.mark.parametrize("case", [c for c in SURFACE_CASES if c.gradgrad], ids=lambda c: c.name)
def test_gradgradcheck(case: OpCase) -> None:
    grad_checks.test_gradgradcheck(case)


# ----- PyTorch parity: values, gradients and second derivatives -----
Fn = Callable[..., Any]


def first_and_second(
    fn: Fn, arrays: list[np.ndarray], w: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """fn's value, g = d/dx sum(w * fn) and d/dx sum(g * g) (zeros where unused)."""
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    y = fn(*xs)
    gs = am.grad((y * Tensor(w)).sum(), xs, create_graph=True)
    total = sum(((g * g).sum() for g in gs), Tensor(np.zeros((), dtype=w.dtype)))
    hs = am.grad(total, xs, allow_unused=True) if total.requires_grad else [None] * len(xs)
    second = [np.zeros_like(a) if h is None else h.data for h, a in zip(hs, arrays)]
    return y.data, [g.data for g in gs], second


def torch_first_and_second(
    fn: Fn, arrays: list[np.ndarray], w: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    torch = pytest.importorskip("torch")
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(torch, *xs)
    gs = torch.autograd.grad((y * torch.tensor(w)).sum(), xs, create_graph=True)
    total = sum((g * g).sum() for g in gs)
    hs = torch.autograd.grad(total, xs, allow_unused=True) if total.requires_grad else []
    hs = list(hs) + [None] * (len(xs) - len(hs))
    second = [np.zeros_like(a) if h is None else h.detach().numpy() for h, a in zip(hs, arrays)]
    return y.detach().numpy(), [g.detach().numpy() for g in gs], second


# (id, ours(*tensors), theirs(torch, *tensors), input shapes)
PARITY: list[tuple[str, Fn, Fn, list[tuple[int, ...]]]] = [
    ("unsqueeze", lambda x: x.unsqueeze(-2), lambda t, x: x.unsqueeze(-2), [(2, 3)]),
    ("unsqueeze[0-d]", lambda x: x.unsqueeze(0), lambda t, x: x.unsqueeze(0), [()]),
    ("squeeze[tuple]", lambda x: x.squeeze((0, -1)), lambda t, x: x.squeeze((0, -1)), [(1, 3, 1)]),
    ("squeeze[kept]", lambda x: x.squeeze(1), lambda t, x: x.squeeze(1), [(1, 3, 1)]),
    ("squeeze[all]", lambda x: x.squeeze(), lambda t, x: x.squeeze(), [(1, 3, 1)]),
    ("squeeze[0-d]", lambda x: x.squeeze(-1), lambda t, x: x.squeeze(-1), [()]),
    ("expand", lambda x: x.expand(2, -1, 4), lambda t, x: x.expand(2, -1, 4), [(3, 1)]),
    ("expand[tuple]", lambda x: x.expand((3, 2)), lambda t, x: x.expand((3, 2)), [(2,)]),
    ("stack", lambda a, b: am.stack([a, b], -1), lambda t, a, b: t.stack([a, b], -1), [(2, 3)] * 2),
    ("stack[0-d]", lambda a, b: am.stack([a, b]), lambda t, a, b: t.stack([a, b]), [()] * 2),
    ("clone", lambda x: x.clone() ** 3, lambda t, x: x.clone() ** 3, [(2, 3)]),
    ("clamp", lambda x: x.clamp(-0.5, 0.5) ** 3, lambda t, x: x.clamp(-0.5, 0.5) ** 3, [(3, 4)]),
    ("clip[min]", lambda x: x.clip(min=0.1) ** 3, lambda t, x: x.clip(min=0.1) ** 3, [(3, 4)]),
    ("clamp[max]", lambda x: x.clamp(max=0.2) ** 3, lambda t, x: x.clamp(max=0.2) ** 3, [(3, 4)]),
    ("sin", lambda x: x.sin(), lambda t, x: x.sin(), [(3, 4)]),
    ("cos", lambda x: x.cos(), lambda t, x: x.cos(), [(3, 4)]),
    ("pow", lambda x: x.pow(3), lambda t, x: x.pow(3), [(3, 4)]),
    (
        "where",
        lambda a, b: am.where(a > 0, a * b, b**2),
        lambda t, a, b: t.where(a > 0, a * b, b**2),
        [(3, 4), (4,)],
    ),
    (
        "maximum",
        lambda a, b: am.maximum(a, b) ** 3,
        lambda t, a, b: t.maximum(a, b) ** 3,
        [(3, 4), (4,)],
    ),
    (
        "minimum",
        lambda a, b: am.minimum(a, b) ** 3,
        lambda t, a, b: t.minimum(a, b) ** 3,
        [(3, 1), (4,)],
    ),
    ("double", lambda x: x.float().double() ** 3, lambda t, x: x.float().double() ** 3, [(2, 3)]),
]


def _parity(ours: Fn, theirs: Fn, arrays: list[np.ndarray], rng: np.random.Generator) -> None:
    out = ours(*[Tensor(a) for a in arrays])
    w = rng.standard_normal(out.shape)
    mine, ref = first_and_second(ours, arrays, w), torch_first_and_second(theirs, arrays, w)
    for what, a, b in zip(("value", "gradient", "second derivative"), mine, ref):
        for k, (x, y) in enumerate(zip(a, b) if isinstance(a, list) else [(a, b)]):
            assert x.shape == y.shape and x.dtype == y.dtype, (what, k, x.shape, y.shape)
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12, err_msg=f"{what} {k}")


@pytest.mark.parametrize(("name", "ours", "theirs", "shapes"), PARITY, ids=[p[0] for p in PARITY])
def test_matches_torch(
    rng: np.random.Generator, name: str, ours: Fn, theirs: Fn, shapes: list[tuple[int, ...]]
) -> None:
    _parity(ours, theirs, [rng.standard_normal(s) for s in shapes], rng)


def test_ties_split_the_gradient_as_torch() -> None:
    a, b = np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.0, 1.0, 4.0, -1.0])
    for name in ("maximum", "minimum"):
        ours = getattr(am, name)
        _parity(
            lambda x, y: ours(x, y) * 2.0,
            lambda t, x, y: getattr(t, name)(x, y) * 2.0,
            [a, b],
            np.random.default_rng(1),
        )
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    am.maximum(x, y).sum().backward()
    assert x.grad is not None and y.grad is not None
    np.testing.assert_array_equal(x.grad.data, [0.5, 1.0, 0.0, 0.5])
    np.testing.assert_array_equal(y.grad.data, [0.5, 0.0, 1.0, 0.5])


def test_clamp_gradient_is_one_on_the_bounds_as_torch() -> None:
    _parity(
        lambda x: x.clamp(0.0, 1.0) * 3.0,
        lambda t, x: x.clamp(0.0, 1.0) * 3.0,
        [np.array([-1.0, 0.0, 0.5, 1.0, 2.0])],
        np.random.default_rng(2),
    )
    x = Tensor(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])
    # min > max: every element becomes max, no gradient anywhere (as torch)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(
        Tensor(x.data).clamp(2.0, 1.0).data, torch.tensor(x.data).clamp(2.0, 1.0).numpy()
    )


def test_where_gradient_is_selected_not_masked_as_torch() -> None:
    # An infinite upstream gradient in the branch not taken gives 0, not inf * 0 = NaN.
    torch = pytest.importorskip("torch")
    cond, up = np.array([False, True, False]), np.array([np.inf, 1.0, -np.inf])
    x = Tensor(np.array([-1.0, 0.0, 4.0]), requires_grad=True)
    am.where(cond, x, 0.0).backward(up)
    assert x.grad is not None
    tx = torch.tensor(x.data, requires_grad=True)
    torch.where(torch.tensor(cond), tx, torch.tensor(0.0)).backward(torch.tensor(up))
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])
    # but, as in torch, a NaN made inside the branch not taken still reaches x through it
    with np.errstate(invalid="ignore", divide="ignore"):
        x.grad = None
        am.where(x > 0, x.sqrt(), 0.0).sum().backward()
    tx.grad = None
    torch.where(tx > 0, tx.sqrt(), 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())  # NaN where torch has NaN
