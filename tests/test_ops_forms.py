"""Argument forms the op table found broken, by hand, and the forms PyTorch refuses.

The op table (``op_table.py``) draws each row's forms; these tests pin the bugs it found
(flatten of tensors with an empty dimension, dims out of range silently wrapped) and the
errors for forms that neither PyTorch nor we accept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import ops


@pytest.mark.parametrize(
    ("shape", "start", "end", "expected"),
    [
        ((0, 0), 0, -1, (0,)),
        ((2, 0, 3), 0, 1, (0, 3)),
        ((2, 0, 3), -2, -1, (2, 0)),
        ((0, 4), 1, 1, (0, 4)),
        ((), 0, -1, (1,)),
        ((), -1, 0, (1,)),
    ],
)
def test_flatten_of_empty_and_0d_tensors(
    shape: tuple[int, ...], start: int, end: int, expected: tuple[int, ...]
) -> None:
    x = am.Tensor(np.zeros(shape), requires_grad=True)
    y = x.flatten(start, end)
    assert y.shape == expected
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == shape


def test_flatten_matches_torch_on_empty_dims() -> None:
    torch = pytest.importorskip("torch")
    for shape, start, end in [((0, 0), 0, -1), ((2, 0, 3), 0, 1), ((3, 0), -2, -1), ((), 0, 0)]:
        ours = am.Tensor(np.zeros(shape)).flatten(start, end).shape
        assert ours == tuple(torch.zeros(shape).flatten(start, end).shape)


@pytest.mark.parametrize(
    ("shape", "dims", "bad"), [((2, 3), (5, 0), 5), ((2, 3), (0, -3), -3), ((), (1, 0), 1)]
)
def test_flatten_refuses_dims_out_of_range(
    shape: tuple[int, ...], dims: tuple[int, int], bad: int
) -> None:
    with pytest.raises(ValueError, match=rf"flatten: dimension {bad} out of range; got shape"):
        am.Tensor(np.zeros(shape)).flatten(*dims)


def test_flatten_out_of_range_used_to_wrap() -> None:
    """flatten(2) on a 2-d tensor wrapped to flatten(0) (2 % 2); PyTorch raises."""
    with pytest.raises(
        ValueError,
        match=r"flatten: dimension 2 out of range; got shape \(2, 3\), expected a dim in \[-2, 1\]",
    ):
        am.Tensor(np.zeros((2, 3))).flatten(2)


def test_permute_refuses_dims_out_of_range() -> None:
    """permute((0, 3)) on a 2-d tensor wrapped 3 to 1 and returned x unchanged."""
    with pytest.raises(
        ValueError, match=r"permute: dims \(0, 3\) out of range; got shape \(2, 3\)"
    ):
        ops.permute(am.Tensor(np.zeros((2, 3))), (0, 3))
    with pytest.raises(ValueError, match=r"permute: dims \(-3, 0\) out of range"):
        ops.permute(am.Tensor(np.zeros((2, 3))), (-3, 0))


def test_transpose_of_a_0d_tensor_is_itself_as_in_torch() -> None:
    """PyTorch accepts dims 0 and -1 on a 0-d tensor; we raised "out of range"."""
    x = am.Tensor(np.asarray(2.5), requires_grad=True)
    for a, b in [(0, 0), (0, -1), (-1, 0)]:
        assert x.transpose(a, b).shape == ()
    x.transpose(0, -1).backward()
    assert x.grad is not None and float(x.grad) == 1.0
    with pytest.raises(ValueError, match=r"transpose: dimension 1 out of range for shape \(\)"):
        x.transpose(0, 1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda z: ops.cat([z, z]), r"cat: dimension 0 out of range for shapes \[\(\), \(\)\]"),
        (
            lambda z: ops.matmul(z, am.Tensor(np.zeros(2))),
            r"matmul: operands must have at least 1 dimension; got \(\) @ \(2,\)",
        ),
    ],
    ids=["cat", "matmul"],
)
def test_0d_operands_refused_as_in_torch(call: Callable[[am.Tensor], Any], message: str) -> None:
    """Forms the op table does not declare because PyTorch refuses them: cat and matmul of
    0-d tensors."""
    with pytest.raises(ValueError, match=message):
        call(am.Tensor(np.asarray(1.0)))
