"""MatMul's outer-product path (inner dimension 1, a weight's gradient at batch 1):
bit-identical to ``np.matmul``, C-contiguous like it, and differentiable as before."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist.ops.linalg import MatMul


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shape", [(128, 5408), (10, 128), (1, 1), (3, 7)])
def test_outer_product_is_bit_identical_to_matmul(dtype: type, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((shape[0], 1)) * 100).astype(dtype)
    b = (rng.standard_normal((1, shape[1])) * 100).astype(dtype)
    for left in (a, np.asfortranarray(a), np.ascontiguousarray(a.T).T, a[::1]):
        y, expected = MatMul.forward(MatMul(), left, b), np.matmul(left, b)
        assert y.dtype == expected.dtype and y.flags.c_contiguous
        assert y.tobytes() == expected.tobytes()


def test_outer_product_gradients() -> None:
    a = am.randn(4, 1).to(am.float64).requires_grad_()
    b = am.randn(1, 3).to(am.float64).requires_grad_()
    assert am.gradcheck(lambda x, y: x @ y, (a, b))
