"""The PyTorch surface of issue #9: its op-table rows, PyTorch parity, errors, hand cases.

The rows (``op_cases_surface.py``) join the op table (``op_table.py``): the generic checks of
``test_ops_forward.py`` and ``test_ops_grad.py`` run them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Tensor

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
    ("pow[tensor]", lambda a, b: a.abs().pow(b), lambda t, a, b: a.abs().pow(b), [(3, 4), (4,)]),
    ("rpow", lambda x: 2.5**x, lambda t, x: 2.5**x, [(3, 4)]),
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


def _parity(
    ours: Fn, theirs: Fn, arrays: list[np.ndarray], rng: np.random.Generator, order: int = 2
) -> None:
    out = ours(*[Tensor(a) for a in arrays])
    w = rng.standard_normal(out.shape)
    mine, ref = first_and_second(ours, arrays, w), torch_first_and_second(theirs, arrays, w)
    whats = ("value", "gradient", "second derivative")[: order + 1]
    for what, a, b in zip(whats, mine, ref):
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


def test_pow_tensor_exponent_edge_values_as_torch() -> None:
    # 0 ** 0, 0 ** 2, negative bases: torch's conventions for the NaN-prone first
    # derivatives (second derivatives at these points: not compared)
    a = np.array([0.0, 0.0, 2.0, 3.0, -1.0, -2.0])
    b = np.array([0.0, 2.0, -1.0, 0.5, 2.0, 3.0])
    with np.errstate(invalid="ignore", divide="ignore"):
        _parity(lambda x, y: x**y, lambda t, x, y: x**y, [a, b], np.random.default_rng(3), 1)


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


# ----- errors name the op, the shapes and the rule -----
ERRORS: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    (
        "unsqueeze",
        lambda: am.zeros(2, 3).unsqueeze(3),
        IndexError,
        r"unsqueeze: dimension 3 out of range; got shape \(2, 3\), expected a dim in \[-3, 2\]",
    ),
    (
        "squeeze[range]",
        lambda: am.zeros(2, 1).squeeze(-3),
        IndexError,
        r"squeeze: dimension -3 out of range; got shape \(2, 1\)",
    ),
    (
        "squeeze[repeat]",
        lambda: am.zeros(2, 1).squeeze((1, -1)),
        ValueError,
        r"squeeze: repeated dimension in \(1, -1\); got shape \(2, 1\)",
    ),
    (
        "squeeze[type]",
        lambda: am.zeros(2, 1).squeeze(1.0),
        TypeError,
        r"squeeze: dim must be an int",
    ),
    (
        "expand[grow]",
        lambda: am.zeros(2, 3).expand(4, 3),
        ValueError,
        r"expand: cannot expand shape \(2, 3\) to \(4, 3\)",
    ),
    (
        "expand[few]",
        lambda: am.zeros(2, 3).expand(3),
        ValueError,
        r"expand: got 1 sizes \(3,\) for shape \(2, 3\); expected at least 2",
    ),
    (
        "expand[lead -1]",
        lambda: am.zeros(3).expand(-1, 3),
        ValueError,
        r"expand: -1 is not allowed in a new leading dimension",
    ),
    ("stack[empty]", lambda: am.stack([]), ValueError, r"stack: expected a non-empty sequence"),
    (
        "stack[shapes]",
        lambda: am.stack([am.zeros(2), am.zeros(2), am.zeros(3)]),
        ValueError,
        r"stack: expected each tensor to be equal size; "
        r"got \(2,\) at entry 0 and \(3,\) at entry 2",
    ),
    (
        "stack[dim]",
        lambda: am.stack([am.zeros(2)], 2),
        IndexError,
        r"stack: dimension 2 out of range; got shape \(2,\), expected a dim in \[-2, 1\]",
    ),
    (
        "where[cond dtype]",
        lambda: am.where(am.ones(2), am.zeros(2), 1.0),
        TypeError,
        r"where: condition must be a bool tensor; got dtype float32",
    ),
    (
        "where[shapes]",
        lambda: am.where(am.ones(2) > 0, am.zeros(3), 1.0),
        ValueError,
        r"where: shapes do not broadcast; got condition \(2,\), input \(3,\), other \(\)",
    ),
    (
        "maximum[shapes]",
        lambda: am.maximum(am.zeros(2), am.zeros(3)),
        ValueError,
        r"Maximum: .*input shapes \(2,\), \(3,\)",
    ),
    (
        "minimum[shapes]",
        lambda: am.minimum(am.zeros(2, 2), am.zeros(3, 2, 3)),
        ValueError,
        r"Minimum: .*input shapes \(2, 2\), \(3, 2, 3\)",
    ),
    (
        "clamp[no bound]",
        lambda: am.zeros(2).clamp(),
        ValueError,
        r"clamp: at least one of min or max must not be None; got shape \(2,\)",
    ),
    (
        "clamp[tensor bound]",
        lambda: am.zeros(2).clamp(am.zeros(2)),
        TypeError,
        r"clamp: min must be a Python number or None; got Tensor .*am.maximum",
    ),
    (
        "to[dtype]",
        lambda: am.zeros(2).to(np.float16),
        TypeError,
        r"to: unsupported dtype .*float16.*; expected float32, float64, an integer or bool",
    ),
    ("to[device]", lambda: am.zeros(2).to("cuda"), ValueError, r"to: only the CPU exists here"),
    (
        "size[dim]",
        lambda: am.zeros(2, 3).size(2),
        IndexError,
        r"size: dimension 2 out of range; got a tensor of shape \(2, 3\)",
    ),
    ("size[0-d]", lambda: am.tensor(1.0).size(0), IndexError, r"size: .*0-d tensor"),
    (
        "pow[shapes]",
        lambda: am.ones(2) ** am.ones(3),
        ValueError,
        r"PowT: .*input shapes \(2,\), \(3,\)",
    ),
]


@pytest.mark.parametrize(("name", "call", "error", "match"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_op_and_shapes(
    name: str, call: Callable[[], Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()
