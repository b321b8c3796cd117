"""Reductions and softmax beyond the op table: indices, ties, 0-d and empty tensors, the
argument forms PyTorch refuses, and parity with PyTorch over every argument form.

The op table (op_cases.py) checks values and first and second derivatives of each
reduction over its argument forms, on inputs without ties; here ties are drawn on purpose.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist import ops
from autograd_mnist.testing import one_dim, reduction_dims, shapes


def leaf(values: Any) -> am.Tensor:
    return am.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def grad_of(fn: Any, values: Any) -> np.ndarray:
    x = leaf(values)
    fn(x).backward()
    assert x.grad is not None
    return np.asarray(x.grad)


# ----- the three silently wrong results of issue 9 -----
def test_tuple_dims_reduce_over_every_listed_dim(rng: np.random.Generator) -> None:
    x = am.Tensor(rng.random((10, 20, 30)))
    assert x.amax(dim=(0, 1)).shape == (30,)
    np.testing.assert_array_equal(x.amax(dim=(0, 1)).data, x.data.max(axis=(0, 1)))
    np.testing.assert_array_equal(x.amin(dim=(0, -1)).data, x.data.min(axis=(0, 2)))
    np.testing.assert_allclose(x.sum((1, 0)).data, x.data.sum(axis=(0, 1)))
    np.testing.assert_allclose(
        x.mean((2, -3), keepdim=True).data, x.data.mean((0, 2), keepdims=True)
    )
    assert x.sum(()).shape == x.amax(()).shape == ()  # () is every dim, as in PyTorch
    with pytest.raises(TypeError, match=r"max: dim must be an int; got \(0, 1\)"):
        x.max(dim=(0, 1))  # type: ignore[call-overload]


def test_softmax_refuses_a_tuple_dim_instead_of_using_its_first_element() -> None:
    x = am.Tensor(np.ones((2, 3, 4)))
    for fn, name in ((F.softmax, "softmax"), (F.log_softmax, "log_softmax")):
        with pytest.raises(TypeError, match=rf"{name}: dim must be an int; got \(1, 2\)"):
            fn(x, dim=(1, 2))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=rf"{name}: dim must be an int; got None"):
            fn(x, dim=None)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=rf"{name}: dimension out of range; got 3"):
            fn(x, dim=3)


def test_zero_d_tensors_take_dim_0_and_minus_1() -> None:
    t = am.tensor(1.5, requires_grad=True)
    for dim in (0, -1):
        for keepdim in (False, True):
            values, indices = t.max(dim, keepdim=keepdim)
            assert values.shape == indices.shape == ()
            assert values.item() == 1.5 and indices.item() == 0
            assert t.min(dim, keepdim).values.item() == 1.5
            assert t.argmax(dim, keepdim).item() == t.argmin(dim).item() == 0
            for red in (t.sum, t.mean, t.amax, t.amin):
                assert red(dim, keepdim=keepdim).item() == 1.5
                assert red((dim,), keepdim=keepdim).shape == ()
            assert t.logsumexp(dim).item() == pytest.approx(1.5)
            assert F.softmax(t, dim).item() == 1.0 and F.log_softmax(t, dim).item() == 0.0
    with pytest.raises(ValueError, match=r"max: dimension out of range; got 1 for a 0-d"):
        t.max(1)
    t.max(0).values.backward()
    assert t.grad is not None and t.grad.item() == 1.0


# ----- ties -----
def test_full_max_and_min_split_ties_evenly() -> None:
    np.testing.assert_allclose(grad_of(lambda x: x.max(), [1, 1, 0, 1]), [1 / 3, 1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(grad_of(lambda x: x.min(), [[2, 0], [0, 5]]), [[0, 0.5], [0.5, 0]])
    np.testing.assert_array_equal(grad_of(lambda x: x.max(), [4.0]), [1.0])


def test_amax_amin_split_ties_in_each_group() -> None:
    x = [[1, 3, 3], [2, 2, 2], [0, -1, 5]]
    expected = [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [0, 0, 1]]
    np.testing.assert_allclose(grad_of(lambda t: t.amax(1).sum(), x), expected)
    expected = [[0, 0, 0], [0, 0, 0], [0, 1, 0]]
    np.testing.assert_allclose(grad_of(lambda t: t.amin((0, 1)), x), expected)
    x = [[1, 3, 2], [1, 2, 2], [0, 2, 5]]
    expected = [[0, 0, 0.5], [0, 0.5, 0.5], [1, 0.5, 0]]
    np.testing.assert_allclose(grad_of(lambda t: t.amin(0).sum(), x), expected)


def test_max_dim_routes_ties_to_the_returned_index() -> None:
    x = [[1, 3, 3], [2, 2, 2]]
    values, indices = leaf(x).min(1)
    np.testing.assert_array_equal(indices.data, [0, 0])
    np.testing.assert_array_equal(
        grad_of(lambda t: t.max(1).values.sum(), x), [[0, 1, 0], [1, 0, 0]]
    )
    np.testing.assert_array_equal(
        grad_of(lambda t: t.min(-1, keepdim=True).values.sum(), x), [[1, 0, 0], [1, 0, 0]]
    )


def test_tied_extrema_have_a_zero_second_derivative() -> None:
    # The mask is a constant: d/dx of the gradient is 0 (and it has a graph to take it).
    x = leaf([1.0, 1.0, 0.0, 1.0])
    w = am.Tensor(np.array([1.0, 2.0, 3.0, 4.0]))
    (g,) = am.grad(x.amax() * (x * w).sum(), x, create_graph=True)
    # d/dx [max(x) * (x.w)] = mask * (x.w) + max(x) * w; x.w = 7, max = 1.
    np.testing.assert_allclose(g.data, np.array([7, 7, 0, 7]) / 3 + w.data)
    (h,) = am.grad((g * am.Tensor(np.ones(4))).sum(), x)
    # d/dx sum(mask * (x.w) + max(x) * w) = sum(mask) * w + mask * sum(w) = w + 10 * mask
    np.testing.assert_allclose(h.data, w.data + 10 * np.array([1, 1, 0, 1]) / 3)


def test_nan_is_the_extreme_and_takes_the_gradient() -> None:
    x = [[1.0, np.nan, 3.0], [np.nan, 0.0, np.nan]]
    assert np.isnan(leaf(x).max().item()) and np.isnan(leaf(x).amin(1).data).all()
    np.testing.assert_array_equal(grad_of(lambda t: t.amax(1).sum(), x), [[0, 1, 0], [0.5, 0, 0.5]])
    np.testing.assert_array_equal(
        grad_of(lambda t: t.max(1).values.sum(), x), [[0, 1, 0], [1, 0, 0]]
    )
    np.testing.assert_array_equal(leaf(x).argmin(1).data, [1, 0])
    # As torch's full max(); torch's amax gives NaN gradients to a group holding a NaN.
    np.testing.assert_allclose(
        grad_of(lambda t: t.max(), x), [[0, 1, 0], [1, 0, 1]] / np.float64(3)
    )


# ----- empty tensors -----
def test_reductions_over_empty_dims_as_pytorch() -> None:
    x = am.Tensor(np.zeros((0, 3)))
    np.testing.assert_array_equal(x.sum(0).data, [0, 0, 0])
    assert np.isnan(x.mean(0).data).all() and np.isnan(x.var(0).data).all()
    np.testing.assert_array_equal(x.logsumexp(0).data, [-np.inf] * 3)
    assert x.amax(1).shape == x.max(1).values.shape == x.argmin(1).shape == (0,)
    assert F.softmax(x, 0).shape == (0, 3)
    for call in (
        lambda: x.max(),
        lambda: x.max(0),
        lambda: x.amin((0, 1)),
        lambda: x.amax(),
        lambda: x.argmax(),
        lambda: x.argmin(0),
    ):
        with pytest.raises(ValueError, match=r"reduction over an empty dimension; got shape"):
            call()


# ----- argument errors -----
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: x.sum(2), ValueError, r"sum: dimension out of range; got 2 for a 2-d"),
        (lambda x: x.mean((0, -2)), ValueError, r"mean: repeated dimension; got \(0, -2\)"),
        (lambda x: x.amax(1.5), TypeError, r"amax: dim must be an int or a tuple of ints"),
        (lambda x: x.var(-3), ValueError, r"var: dimension out of range; got -3"),
        (lambda x: x.logsumexp((5,)), ValueError, r"logsumexp: dimension out of range"),
        (lambda x: x.argmax((0, 1)), TypeError, r"argmax: dim must be an int; got \(0, 1\)"),
        (lambda x: x.min((0,)), TypeError, r"min: dim must be an int; got \(0,\)"),
        (lambda x: x.max(True), TypeError, r"max: dim must be an int; got True"),
    ],
)
def test_reduction_argument_errors_name_the_op(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call(am.Tensor(np.ones((2, 3))))


def test_var_and_std_forms() -> None:
    x = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]])
    t = am.Tensor(x)
    np.testing.assert_allclose(t.var().data, x.var(ddof=1))
    np.testing.assert_allclose(t.var(1, correction=0).data, x.var(axis=1))
    np.testing.assert_allclose(t.std((0, 1), keepdim=True).data, x.std(ddof=1, keepdims=True))
    np.testing.assert_allclose(ops.var(t, 0, unbiased=False).data, x.var(axis=0))
    np.testing.assert_allclose(ops.std(t, -1, unbiased=True).data, x.std(axis=1, ddof=1))
    np.testing.assert_allclose(t.std(unbiased=False).data, x.std())
    np.testing.assert_allclose(t.var(np.array([1]), unbiased=True).data, x.var(axis=1, ddof=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0 / 0 and x / 0 without NumPy warnings
        assert np.isnan(am.tensor(2.0).var().item()) and am.tensor(2.0).std(correction=0) == 0
        assert am.tensor([1.0, 2.0]).var(correction=3).item() == np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_is_stable(dtype: type) -> None:
    x = np.array([[1e4, 0.0, -1e4], [-5e3, -5e3, -5e3], [-np.inf, -np.inf, -np.inf]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = am.Tensor(x).logsumexp(1)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, [1e4, -5e3 + np.log(3.0), -np.inf], rtol=1e-6)


# ----- PyTorch parity over the argument forms, ties included -----
def _tied_arrays(shape: Any) -> st.SearchStrategy[np.ndarray]:
    """Values from {-1, -0.5, 0, 0.5, 1}: ties are common."""
    return hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0]))


@st.composite
def torch_forms(draw: st.DrawFn, op: str) -> tuple[np.ndarray, Any, bool]:
    """(x, dim, keepdim) in the forms PyTorch itself accepts for ``op``."""
    one = op in ("max", "min", "argmax", "argmin", "softmax", "log_softmax")
    nonempty = op in ("max", "min", "amax", "amin", "argmax", "argmin")
    shape = draw(shapes(max_dims=3) | shapes(min_side=0, max_dims=3))
    if nonempty:
        shape = tuple(max(s, 1) for s in shape)
    x = draw(_tied_arrays(shape))
    if op in ("softmax", "log_softmax"):
        return x, draw(one_dim(x.ndim)), False
    none_ok = op not in ("logsumexp",) and not (one and op in ("max", "min"))
    # torch.var(x, ()) differentiates as if () reduced nothing (its forward: everything)
    empty_tuple_ok = op in ("sum", "mean", "amax", "amin")
    dim = draw(
        reduction_dims(
            x.ndim, allow_tuple=not one, allow_none=none_ok, allow_empty_tuple=empty_tuple_ok
        )
    )
    return x, dim, draw(st.booleans()) and dim is not None


def _call(lib: Any, x: Any, op: str, dim: Any, keepdim: bool) -> Any:
    if op in ("softmax", "log_softmax"):
        return getattr(lib.functional if lib is am else lib, op)(x, dim=dim)
    if op in ("max", "min"):
        out = getattr(x, op)(dim, keepdim=keepdim)
        return out.values, out.indices
    if dim is None:
        return getattr(x, op)()
    return getattr(x, op)(dim, keepdim=keepdim)


REDUCTIONS = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin"]
REDUCTIONS += ["var", "std", "logsumexp", "softmax", "log_softmax"]


@pytest.mark.parametrize("op", REDUCTIONS)
def test_matches_torch_over_argument_forms(op: str) -> None:
    torch = pytest.importorskip("torch")
    differentiable = op not in ("argmax", "argmin")

    @given(torch_forms(op))
    def run(drawn: tuple[np.ndarray, Any, bool]) -> None:
        x, dim, keepdim = drawn
        axis = None if x.ndim == 0 or dim is None or dim == () else dim
        if op == "std" and (x.size == 0 or (np.var(x, axis=axis) == 0).any()):
            return  # sqrt's infinite slope at 0: inf or NaN gradients, not compared
        ours_in = am.Tensor(x.copy(), requires_grad=differentiable)
        theirs_in = torch.tensor(x, requires_grad=differentiable)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's var/std warn for correction >= count
            ours, theirs = (
                _call(am, ours_in, op, dim, keepdim),
                _call(torch, theirs_in, op, dim, keepdim),
            )
        ours_out = ours if isinstance(ours, tuple) else (ours,)
        theirs_out = theirs if isinstance(theirs, tuple) else (theirs,)
        for o, t in zip(ours_out, theirs_out):
            assert o.shape == tuple(t.shape), (op, x.shape, dim, keepdim)
            np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-12, atol=1e-12)
        if not differentiable:
            return
        w = np.random.default_rng(0).standard_normal(ours_out[0].shape)
        (ours_out[0] * am.Tensor(w)).sum().backward()
        (theirs_out[0] * torch.tensor(w)).sum().backward()
        ours_grad = np.zeros_like(x) if ours_in.grad is None else np.asarray(ours_in.grad)
        np.testing.assert_allclose(ours_grad, theirs_in.grad.numpy(), rtol=1e-10, atol=1e-12)

    with warnings.catch_warnings():
        # var over fewer elements than the correction divides by 0 (NaN, inf) in both
        # libraries' forward and backward, with warnings (torch's UserWarning, NumPy's).
        warnings.simplefilter("ignore")
        run()
