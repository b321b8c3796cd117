"""Forward values: every op-table row against its independent NumPy reference.

float64 within rtol 1e-10 / atol 1e-12; float32 (reference computed in float64 on the same
float32 values) within the elementwise (1e-5 / 1e-6) or matmul/conv/sums (1e-4 / 1e-5)
tolerances. Each run also checks dtype preservation (float32 -> float32, float64 ->
float64) and that no input array was modified. Hand-worked cases follow: a conv2d worked
by hand (R2's edge filter, docs/reference_experiments.md), conv2d against the naive loop at
the reference experiments' geometries, pooling tie and padding rules, and numerically hard
inputs.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis.errors import NoSuchExample
from op_cases import (
    FORMS,
    OpCase,
    naive_avg_pool2d,
    naive_conv2d,
    naive_max_pool2d,
)
from op_table import ALL_CASE_IDS, ALL_CASES

import autograd_mnist as am
from autograd_mnist import _layout
from autograd_mnist import functional as F
from autograd_mnist._layout import is_batch_last, nchw_view
from autograd_mnist.testing import check_forward

TOLERANCES = {  # (rtol, atol) by dtype and kind
    ("float64", "elementwise"): (1e-10, 1e-12),
    ("float64", "reduction"): (1e-10, 1e-12),
    ("float32", "elementwise"): (1e-5, 1e-6),
    ("float32", "reduction"): (1e-4, 1e-5),
}


def _cast(args: tuple[Any, ...], dtype: type) -> tuple[Any, ...]:
    return tuple(
        a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args
    )


def _assert_unchanged(before: tuple[Any, ...], after: tuple[Any, ...], name: str) -> None:
    for k, (b, a) in enumerate(zip(before, after)):
        if isinstance(b, np.ndarray):
            assert np.array_equal(a, b), f"{name}: argument {k} was modified in place"


def _examples(case: OpCase) -> int:
    n = settings.default.max_examples
    return n if case.max_examples is None else min(n, case.max_examples)


@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_CASE_IDS)
def test_forward_matches_reference(case: OpCase) -> None:
    def reference(*arrays: Any) -> Any:
        # On float32 inputs the reference still computes in float64: the exact answer.
        return case.reference(*_cast(arrays, np.float64))

    @settings(max_examples=_examples(case))
    @given(case.args)
    def run(drawn: tuple[Any, ...]) -> None:
        for dtype in (np.float64, np.float32):  # one draw, both dtypes
            args = _cast(drawn, dtype)
            before = copy.deepcopy(args)
            rtol, atol = TOLERANCES[(np.dtype(dtype).name, case.kind)]
            if dtype == np.float32 and case.float32_tol is not None:
                rtol, atol = case.float32_tol
            # check_forward also asserts the output dtype equals the inputs' float dtype.
            check_forward(case.fn, reference, *args, rtol=rtol, atol=atol)
            _assert_unchanged(before, args, case.name)

    run()


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.forms], ids=lambda c: c.name)
def test_row_draws_each_argument_form_it_declares(case: OpCase) -> None:
    """Each form in ``case.forms`` (dim as None, int, negative int, tuple; keepdim; 0-d,
    size-1, size-0 arrays) is drawn by the row's strategy: Hypothesis finds an example."""
    unknown = set(case.forms) - set(FORMS)
    assert not unknown, f"{case.name}: unknown forms {unknown}"
    quick = settings(max_examples=2000, database=None, phases=[Phase.generate])
    for form in case.forms:
        try:
            find(case.args, FORMS[form], settings=quick)
        except NoSuchExample:
            pytest.fail(f"{case.name}: its strategy never draws the form {form!r}")


def test_functional_aliases_are_the_ops() -> None:
    # op_cases.py covers F.exp & co. through the ops' rows: they must be the same objects.
    for name in ("exp", "log", "sqrt", "abs", "sigmoid", "tanh", "matmul"):
        assert getattr(F, name) is getattr(am.ops, name), name
    # F.relu checks torch's ``inplace`` argument, then is the op (its row covers it)
    x = am.tensor(np.linspace(-1, 1, 7), requires_grad=True)
    y = F.relu(x, inplace=False)
    assert type(y.grad_fn) is type(am.ops.relu(x).grad_fn)
    np.testing.assert_array_equal(y.numpy(), np.maximum(x.numpy(), 0))


# ----- conv2d by hand and against the naive loop -----
def test_conv2d_edge_filter_worked_by_hand() -> None:
    # A vertical edge (dark left, bright right) under a Sobel-like filter (R2, see
    # docs/reference_experiments.md): each window straddling the edge sums 1*(1+2+1) = 4;
    # flat windows give 0.
    x = np.zeros((1, 1, 4, 5))
    x[..., 3:] = 1.0
    w = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).reshape(1, 1, 3, 3)
    y = F.conv2d(am.Tensor(x), am.Tensor(w))
    expected = np.array([[0.0, 4.0, 4.0], [0.0, 4.0, 4.0]]).reshape(1, 1, 2, 3)
    np.testing.assert_array_equal(y.data, expected)


def test_conv2d_padding_and_stride_by_hand() -> None:
    # A ones kernel counts the in-bounds cells of each window: with padding 1 and stride 2
    # on a 3x3 image of ones, the corners see 4 cells, the centre 9.
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3))
    y = F.conv2d(am.Tensor(x), am.Tensor(w), stride=2, padding=1)
    np.testing.assert_array_equal(y.data, [[[[4.0, 4.0], [4.0, 4.0]]]])
    y = F.conv2d(am.Tensor(x), am.Tensor(w), stride=1, padding=1)
    np.testing.assert_array_equal(y.data[0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "padding"),
    [
        ((1, 1, 9, 9), (4, 1, 3, 3), 1, 0),  # R0: 3x3 filters, no padding
        ((2, 1, 8, 8), (3, 1, 5, 5), 1, 2),  # R2: 5x5 'same'
        ((2, 3, 7, 6), (2, 3, 2, 3), (2, 1), (1, 0)),  # non-square everything
        ((1, 2, 5, 5), (3, 2, 5, 5), 3, 1),  # kernel as large as the input
        ((3, 2, 1, 4), (1, 2, 1, 2), (1, 3), (0, 2)),  # H = 1
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_conv2d_matches_naive_loop(
    rng: np.random.Generator,
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    stride: Any,
    padding: Any,
    dtype: type,
) -> None:
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    y = F.conv2d(am.Tensor(x), am.Tensor(w), am.Tensor(b), stride=stride, padding=padding)
    expected = naive_conv2d(x.astype(np.float64), w.astype(np.float64), b, stride, padding)
    rtol, atol = TOLERANCES[(np.dtype(dtype).name, "reduction")]
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, expected, rtol=rtol, atol=atol)


# ----- pooling rules -----
def _pool_input_grad(x: np.ndarray, **kw: Any) -> np.ndarray:
    t = am.Tensor(x, requires_grad=True)
    F.max_pool2d(t, **kw).sum().backward()
    assert t.grad is not None
    return np.asarray(t.grad)


def test_max_pool_tie_goes_to_first_in_row_major_order() -> None:
    # Every window is constant: each gradient lands on its window's top-left cell.
    grad = _pool_input_grad(np.zeros((1, 1, 4, 4)), kernel_size=2)
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1.0
    np.testing.assert_array_equal(grad[0, 0], expected)


def test_max_pool_tie_between_later_cells() -> None:
    # Window [[0, 5], [5, 1]]: the maximum 5 appears at (0, 1) and (1, 0); (0, 1) comes
    # first in row-major order.
    x = np.array([[0.0, 5.0], [5.0, 1.0]]).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(_pool_input_grad(x, kernel_size=2)[0, 0], [[0, 1], [0, 0]])


def test_max_pool_overlapping_windows_accumulate() -> None:
    # Stride 1, kernel 2 over a constant 3x3: window (i, j) picks cell (i, j).
    grad = _pool_input_grad(np.ones((1, 1, 3, 3)), kernel_size=2, stride=1)
    np.testing.assert_array_equal(grad[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    # A single peak shared by all four windows gets all four gradients.
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0
    grad = _pool_input_grad(x, kernel_size=2, stride=1)
    assert grad[0, 0, 1, 1] == 4.0 and grad.sum() == 4.0


def test_max_pool_padding_is_never_the_maximum() -> None:
    x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # all negative: zero padding would win
    y = F.max_pool2d(am.Tensor(x), kernel_size=3, stride=1, padding=1)
    np.testing.assert_array_equal(y.data, naive_max_pool2d(x, (3, 3), (1, 1), (1, 1)))
    assert (y.data < 0).all()


def test_avg_pool_counts_zero_padding() -> None:
    x = np.ones((1, 1, 2, 2))
    y = F.avg_pool2d(am.Tensor(x), kernel_size=2, stride=1, padding=1)
    np.testing.assert_allclose(
        y.data[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]
    )
    np.testing.assert_allclose(y.data, naive_avg_pool2d(x, (2, 2), (1, 1), (1, 1)))


# ----- memory layout: conv2d's batch-last outputs -----


def batch_last(x: np.ndarray) -> np.ndarray:
    """x (N, C, H, W) with the same values, stored as a C-contiguous (C, H, W, N) buffer."""
    return nchw_view(_layout.batch_last(x))


LAYOUT_OPS = {
    "max_pool2d 2x2": lambda t: F.max_pool2d(t, 2),
    "max_pool2d 3x2, leftover row": lambda t: F.max_pool2d(t, (3, 2)),
    "max_pool2d 3x3 stride 2 pad 1": lambda t: F.max_pool2d(t, 3, 2, 1),
    "avg_pool2d 2x2 pad 1": lambda t: F.avg_pool2d(t, 2, padding=1),
    "conv2d 3x3 pad 1": lambda t: F.conv2d(
        t, am.Tensor(np.linspace(-1, 1, 36).reshape(2, 2, 3, 3))
    ),
    "pad": lambda t: am.ops.pad(t, ((0, 0), (1, 0), (2, 1), (0, 3))),
}


@pytest.mark.parametrize("name", list(LAYOUT_OPS))
def test_ops_agree_on_both_memory_layouts(rng: np.random.Generator, name: str) -> None:
    """Same values and input gradients for an NCHW array and a batch-last one, ties
    included (half-integers tie often)."""
    x = np.round(2 * rng.standard_normal((3, 2, 7, 6))) / 2
    results = []
    for arr in (x, batch_last(x)):
        t = am.Tensor(arr, requires_grad=True)
        y = LAYOUT_OPS[name](t)
        g = np.random.default_rng(1).standard_normal(y.shape)
        (y * am.Tensor(g)).sum().backward()
        assert t.grad is not None
        results.append((y.data, np.asarray(t.grad)))
    (y0, g0), (y1, g1) = results
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(g0, g1)


def test_conv2d_output_is_batch_last_and_pooling_keeps_it(rng: np.random.Generator) -> None:
    """conv2d's one matmul leaves (N, OC, OH, OW) batch-last in memory; relu and a tiling
    max-pool keep that layout (so do their gradients), and flattening it is a view."""
    x = am.Tensor(rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
    w = am.Tensor(rng.standard_normal((3, 1, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert is_batch_last(y.data)
    pooled = F.max_pool2d(F.relu(y), 2)
    assert is_batch_last(pooled.data)
    flat = am.ops.flatten(pooled, 1)
    assert np.shares_memory(flat.data, pooled.data) and flat.data.flags.f_contiguous
    g = am.Tensor(np.ones(pooled.shape, dtype=np.float32))
    dx = am.ops.conv.PoolScatter.apply(
        g,
        arg=np.zeros(pooled.shape, dtype=np.uint8),
        size=(8, 8),
        kernel=(2, 2),
        stride=(2, 2),
        padding=(0, 0),
    )
    assert not is_batch_last(dx.data)  # an NCHW gradient gives an NCHW result ...
    dx = am.ops.conv.PoolScatter.apply(
        am.Tensor(batch_last(g.data)),
        arg=np.zeros(pooled.shape, dtype=np.uint8),
        size=(8, 8),
        kernel=(2, 2),
        stride=(2, 2),
        padding=(0, 0),
    )
    assert is_batch_last(dx.data)  # ... and a batch-last one a batch-last result
    np.testing.assert_array_equal(dx.data[:, :, ::2, ::2], 1.0)
    assert dx.data.sum() == g.data.sum()


@pytest.mark.parametrize("layout", ["NCHW", "batch-last"])
def test_leaf_gradients_keep_the_leafs_memory_layout(rng: np.random.Generator, layout: str) -> None:
    """A leaf's .grad is stored like its data (no transposing copy for a batch-last image,
    C order for the weights), whatever layout the backward produced."""
    x = rng.standard_normal((3, 2, 6, 6))
    x = am.Tensor(batch_last(x) if layout == "batch-last" else x, requires_grad=True)
    w = am.Tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    F.max_pool2d(F.conv2d(x, w, padding=1), 2).sum().backward()
    assert x.grad is not None and w.grad is not None
    assert x.grad.data.strides == x.data.strides
    assert w.grad.data.flags.c_contiguous


def test_max_reduction_ties() -> None:
    # max(dim) routes each row's gradient to the index it returns (the first maximum);
    # the full max() splits it evenly among the tied maxima, as PyTorch does.
    t = am.Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    values, indices = t.max(dim=1)
    np.testing.assert_array_equal(indices.data, [1, 0])
    values.sum().backward()
    assert t.grad is not None
    np.testing.assert_array_equal(np.asarray(t.grad), [[0, 1, 0], [1, 0, 0]])
    t.grad = None
    t.max().backward()
    np.testing.assert_array_equal(np.asarray(t.grad), [[0, 0.5, 0.5], [0, 0, 0]])


# ----- numerically hard inputs, dtype rules -----
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_softmax_family_is_stable_for_huge_logits(dtype: type) -> None:
    x = np.array([[1e4, 0.0, -1e4], [5e3, 5e3, 5e3]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        logp = F.log_softmax(am.Tensor(x), dim=1)
        p = F.softmax(am.Tensor(x), dim=1)
        loss = F.cross_entropy(am.Tensor(x), np.array([2, 1]), reduction="none")
    assert np.isfinite(logp.data).all() and logp.dtype == dtype
    np.testing.assert_allclose(p.data.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(loss.data, [2e4, np.log(3.0)], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_sigmoid_is_stable_on_both_tails(dtype: type) -> None:
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.sigmoid(am.Tensor(x))
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, [0.0, np.exp(-50.0), 0.5, 1.0, 1.0], rtol=1e-6, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_scalar_and_integer_operands_take_the_tensor_dtype(dtype: type) -> None:
    t = am.Tensor(np.array([1.0, 2.0], dtype=dtype))
    for out in (t + 1.5, 2 * t, t / 3, 1 - t, t**2, t.mean(), t + np.array([1, 2])):
        assert out.dtype == dtype


def test_dropout_rules(rng: np.random.Generator) -> None:
    x = am.Tensor(rng.standard_normal((100, 100)))
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).data.any()
    y = F.dropout(x, 0.25, rng=np.random.default_rng(1)).data
    kept = y != 0
    assert 0.7 < kept.mean() < 0.8  # about 1 - p of 10,000 elements survive
    np.testing.assert_allclose(y[kept], x.data[kept] / 0.75)
    again = F.dropout(x, 0.25, rng=np.random.default_rng(1)).data
    np.testing.assert_array_equal(y, again)  # the mask depends only on the generator
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\]; got 1.5"):
        F.dropout(x, 1.5)


def test_matmul_one_dimensional_operands() -> None:
    a, b = np.arange(3.0), np.arange(6.0).reshape(3, 2)
    assert am.Tensor(a) @ am.Tensor(a) == np.dot(a, a)
    assert (am.Tensor(a) @ am.Tensor(a)).shape == ()
    np.testing.assert_array_equal((am.Tensor(a) @ am.Tensor(b)).data, a @ b)
    np.testing.assert_array_equal((am.Tensor(b.T) @ am.Tensor(a)).data, b.T @ a)
