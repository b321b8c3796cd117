"""Tensor methods PyTorch users reach for that are composed of existing ops or are not
differentiable: expand_as, square, argsort, any, all, nonzero; each against torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am

X = np.array([[3.0, -1.0, 0.0, 2.0], [0.0, 0.0, 5.0, -5.0], [1.0, 1.0, 1.0, 0.0]])

CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("expand_as", lambda t: t[:1].expand_as(t)),
    ("square", lambda t: t.square()),
    ("argsort", lambda t: t.argsort()),
    ("argsort-dim0-descending", lambda t: t.argsort(0, descending=True)),
    ("any", lambda t: t.any()),
    ("any-dim", lambda t: t.any(1)),
    ("all-dim-keepdim", lambda t: t.all(0, keepdim=True)),
    ("all", lambda t: (t != 7).all()),
    ("nonzero", lambda t: t.nonzero()),
    ("nonzero-0d", lambda t: t[0, 0].nonzero()),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[c[0] for c in CALLS])
def test_methods_match_torch(name: str, call: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = call(am.tensor(X.copy())), call(torch.tensor(X.copy()))
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("fn", [lambda t: t[:1].expand_as(t) * t, lambda t: t.square()])
def test_composed_methods_are_differentiable(fn: Callable[[Any], Any]) -> None:
    x = am.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    assert am.gradcheck(fn, [x])
    assert am.gradgradcheck(fn, [x])


@pytest.mark.parametrize("call", [lambda t: t.any(2), lambda t: t.all(-3)])
def test_any_all_refuse_a_dim_out_of_range_naming_the_op(call: Callable[[Any], Any]) -> None:
    with pytest.raises(ValueError, match=r"^(any|all): dim -?\d out of range for a tensor"):
        call(am.tensor(X))
