"""Tensor: dtype rules, operators (reflected too), shape methods, conversions, seeding."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Tensor
from autograd_mnist import functional as F
from autograd_mnist.tensor import as_tensor, constant


def leaf(values: Any, dtype: Any = np.float32) -> Tensor:
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def grad_after(t: Tensor, y: Tensor) -> np.ndarray:
    y.sum().backward()
    assert t.grad is not None
    return t.grad.data


# ----- dtype rules -----


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ([1, 2, 3], np.float32),  # lists become float32, even of ints
        ([[1.5, 2.0]], np.float32),
        (3, np.float32),  # Python scalars too
        (2.5, np.float32),
        (np.ones(2), np.float64),  # float arrays keep their dtype
        (np.ones(2, dtype=np.float32), np.float32),
        (np.float64(1.0), np.float64),
        (np.ones(2, dtype=np.float16), np.float32),  # other floats become float32
        (np.arange(3), np.int64),  # integer arrays stay integer
        (np.arange(3, dtype=np.int32), np.int32),
        (np.array([True, False]), np.bool_),
    ],
)
def test_constructor_dtypes(data: Any, dtype: Any) -> None:
    assert Tensor(data).dtype == dtype
    assert am.tensor(data).dtype == dtype


def test_float_arrays_are_not_copied_and_dtype_argument_converts() -> None:
    a = np.ones(3)
    assert Tensor(a).data is a
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_int_op_float_takes_the_float_dtype() -> None:
    i = Tensor(np.arange(3))
    assert (i + am.tensor([1.0, 2.0, 3.0])).dtype == np.float32
    assert (i * Tensor(np.ones(3))).dtype == np.float64
    assert (i * 2.0).dtype == np.float32
    np.testing.assert_array_equal((i + am.tensor([1.0, 1.0, 1.0])).data, [1.0, 2.0, 3.0])


def test_scalars_take_the_tensor_dtype() -> None:
    t = Tensor(np.ones(2))
    for y in (t * 2.0, 2 - t, t / 3, t**2, t + 1):
        assert y.dtype == np.float64


@pytest.mark.parametrize(
    "op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: b - a, lambda a, b: a @ b]
)
def test_mixing_float32_and_float64_raises_naming_both(op: Any) -> None:
    a, b = Tensor(np.ones(3, dtype=np.float32)), Tensor(np.ones(3))
    with pytest.raises(TypeError, match=r"float32.*float64|float64.*float32"):
        op(a, b)
    with pytest.raises(TypeError, match=r"float64.*float32"):
        np.ones(3) * a  # a float64 ndarray is a float64 operand too


def test_requires_grad_only_on_float() -> None:
    with pytest.raises(TypeError, match="only float tensors"):
        Tensor(np.arange(3)).requires_grad_()
    assert Tensor(np.arange(3), requires_grad=True).dtype == np.float32


# ----- operators -----


def test_binary_operators_match_numpy_and_differentiate() -> None:
    a_np, b_np = np.array([1.0, -2.0, 4.0]), np.array([0.5, 3.0, -1.0])
    cases = [
        (lambda a, b: a + b, a_np + b_np, (np.ones(3), np.ones(3))),
        (lambda a, b: a - b, a_np - b_np, (np.ones(3), -np.ones(3))),
        (lambda a, b: a * b, a_np * b_np, (b_np, a_np)),
        (lambda a, b: a / b, a_np / b_np, (1 / b_np, -a_np / b_np**2)),
    ]
    for op, expected, (ga, gb) in cases:
        a, b = leaf(a_np, np.float64), leaf(b_np, np.float64)
        y = op(a, b)
        np.testing.assert_allclose(y.data, expected)
        y.sum().backward()
        assert a.grad is not None and b.grad is not None
        np.testing.assert_allclose(a.grad.data, ga)
        np.testing.assert_allclose(b.grad.data, gb)


def test_reflected_operators_with_scalars_and_arrays_on_the_left() -> None:
    t_np = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    arr = np.array([3.0, -1.0, 0.5], dtype=np.float32)
    cases = [
        (lambda t: 2 - t, 2 - t_np, -np.ones(3)),
        (lambda t: 2 + t, 2 + t_np, np.ones(3)),
        (lambda t: 3 * t, 3 * t_np, np.full(3, 3.0)),
        (lambda t: 2 / t, 2 / t_np, -2 / t_np**2),
        (lambda t: arr * t, arr * t_np, arr),
        (lambda t: arr - t, arr - t_np, -np.ones(3)),
        (lambda t: arr / t, arr / t_np, -arr / t_np**2),
        (lambda t: arr @ t, arr @ t_np, arr),
    ]
    for op, expected, g in cases:
        t = leaf(t_np)
        y = op(t)
        assert isinstance(y, Tensor) and y.dtype == np.float32
        np.testing.assert_allclose(y.data, expected, rtol=1e-6)
        np.testing.assert_allclose(grad_after(t, y), g, rtol=1e-6)


def test_np_ones_times_tensor() -> None:
    t = leaf([1.0, 2.0, 3.0], np.float64)
    y = np.ones(3) * t
    assert isinstance(y, Tensor) and y.dtype == np.float64
    np.testing.assert_array_equal(y.data, t.data)


def test_pow_neg_pos_and_matmul(rng: np.random.Generator) -> None:
    t = leaf([1.0, -2.0, 3.0], np.float64)
    np.testing.assert_allclose(grad_after(t, t**3), 3 * t.data**2)
    t = leaf([4.0, 9.0], np.float64)
    np.testing.assert_allclose(grad_after(t, t**0.5), 0.5 / np.sqrt(t.data))
    t = leaf([1.0, -2.0], np.float64)
    np.testing.assert_allclose(grad_after(t, -t), [-1.0, -1.0])
    assert +t is t
    a_np, b_np = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    a, b = leaf(a_np, np.float64), leaf(b_np, np.float64)
    y = a @ b
    np.testing.assert_allclose(y.data, a_np @ b_np)
    np.testing.assert_allclose(a.matmul(b).data, y.data)
    y.sum().backward()
    assert a.grad is not None and b.grad is not None
    np.testing.assert_allclose(a.grad.data, np.ones((2, 4)) @ b_np.T)
    np.testing.assert_allclose(b.grad.data, a_np.T @ np.ones((2, 4)))


def test_comparisons_return_bool_tensors() -> None:
    t, u = am.tensor([1.0, 2.0, 3.0]), am.tensor([3.0, 2.0, 1.0])
    cases = [
        (t == 2.0, [False, True, False]),
        (t != u, [True, False, True]),
        (t < u, [True, False, False]),
        (t <= 2, [True, True, False]),
        (t > u, [False, False, True]),
        (t >= 2, [False, True, True]),
    ]
    for result, expected in cases:
        assert isinstance(result, Tensor) and result.dtype == np.bool_
        assert not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)


def test_argmax() -> None:
    t = am.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert t.argmax().item() == 3 and t.argmax().dtype == np.int64
    np.testing.assert_array_equal(t.argmax(dim=1).data, [1, 0])
    np.testing.assert_array_equal(t.argmax(0).data, [1, 0, 1])
    assert t.argmax(dim=1, keepdim=True).shape == (2, 1)
    assert not leaf([1.0, 2.0]).argmax().requires_grad


# ----- shape methods and indexing -----


def test_transpose_T_permute_flatten_reshape(rng: np.random.Generator) -> None:
    a_np = rng.standard_normal((2, 3, 4))
    a = leaf(a_np, np.float64)
    m = leaf(a_np[0], np.float64)
    np.testing.assert_array_equal(m.T.data, a_np[0].T)
    np.testing.assert_array_equal(a.T.data, a_np.transpose(2, 1, 0))
    np.testing.assert_array_equal(a.transpose(0, 2).data, a_np.swapaxes(0, 2))
    np.testing.assert_array_equal(a.permute(2, 0, 1).data, a_np.transpose(2, 0, 1))
    np.testing.assert_array_equal(a.permute((2, 0, 1)).data, a_np.transpose(2, 0, 1))
    assert a.flatten().shape == (24,)
    assert a.flatten(1).shape == (2, 12)
    assert a.flatten(0, 1).shape == (6, 4)
    assert a.reshape(4, -1).shape == (4, 6)
    assert a.reshape((6, 4)).shape == (6, 4)
    assert a.view(-1).shape == (24,)
    w = rng.standard_normal((4, 2, 3))
    y = a.permute(2, 0, 1) * Tensor(w)  # gradient permuted back
    np.testing.assert_allclose(grad_after(a, y), w.transpose(1, 2, 0))


def test_indexing_forward_and_backward() -> None:
    a_np = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = leaf(a_np)
    np.testing.assert_array_equal(a[0].data, a_np[0])
    np.testing.assert_array_equal(a[:, 1:3].data, a_np[:, 1:3])
    np.testing.assert_array_equal(a[-1, -1].data, a_np[-1, -1])
    np.testing.assert_array_equal(a[None].data, a_np[None])
    np.testing.assert_array_equal(a[a > 5].data, a_np[a_np > 5])
    np.testing.assert_array_equal(a[am.Tensor(np.array([2, 0]))].data, a_np[[2, 0]])
    g = grad_after(a, a[[0, 0, 2]])  # repeated rows: gradients add up
    np.testing.assert_array_equal(g, [[2.0] * 4, [0.0] * 4, [1.0] * 4])
    with pytest.raises(IndexError, match=r"\(3, 4\)"):
        a[5]


# ----- conversions and bookkeeping -----


def test_item_numpy_and_python_conversions() -> None:
    t = am.tensor([[2.5]])
    assert t.item() == 2.5 and float(t) == 2.5 and int(am.tensor(3.0)) == 3
    with pytest.raises(ValueError, match=r"\(2,\)"):
        am.tensor([1.0, 2.0]).item()
    a = np.ones((2, 3), dtype=np.float32)
    u = Tensor(a)
    assert u.numpy() is a and np.asarray(u) is a
    assert np.asarray(u, dtype=np.float64).dtype == np.float64
    assert u.tolist() == [[1.0] * 3] * 2
    assert len(u) == 2 and u.shape == (2, 3) and u.ndim == 2 and u.numel() == 6
    with pytest.raises(TypeError, match="0-d"):
        len(am.tensor(1.0))


def test_detach_shares_data_and_cuts_the_graph() -> None:
    x = leaf([1.0, 2.0])
    h = x * 2.0
    d = h.detach()
    assert d.data is h.data and not d.requires_grad and d.is_leaf
    y = (h * d).sum()  # gradient flows only through h
    y.backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, 2 * d.data)


def test_as_tensor_constant_and_sum_to_size() -> None:
    t = am.tensor([1.0, 2.0])
    assert as_tensor(t) is t
    assert as_tensor([1, 2]).dtype == np.float32  # Tensor's dtype rules
    a = np.arange(3, dtype=np.float64)
    c = constant(a)
    assert c.data is a and not c.requires_grad and c.is_leaf
    x = leaf(np.ones((2, 3)))
    s = x.sum_to_size(1, 3)
    np.testing.assert_array_equal(s.data, [[2.0, 2.0, 2.0]])
    assert x.sum_to_size((2, 3)) is x
    s.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"sum_to: shape \(4,\) does not broadcast to \(2, 3\)"):
        x.sum_to_size(4)


def test_requires_grad_and_zero_grad() -> None:
    t = am.tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad and t.is_leaf and t.grad_fn is None
    (t * 3.0).sum().backward()
    assert t.grad is not None
    t.zero_grad()
    assert t.grad is None
    h = t * 2.0
    assert h.grad_fn is h._ctx and type(h.grad_fn).__name__ == "Mul" and not h.is_leaf
    with pytest.raises(RuntimeError, match="leaf"):
        h.requires_grad_(False)
    assert t.requires_grad_(False) is t and not t.requires_grad


def test_repr() -> None:
    assert repr(am.tensor([1.0, 2.0])) == "tensor([1., 2.], dtype=float32)"
    w = Tensor(np.array([0.5]), requires_grad=True, name="w")
    assert repr(w) == "tensor([0.5], dtype=float64, requires_grad=True, name='w')"
    assert repr(w * 2.0) == "tensor([1.], dtype=float64, grad_fn=Mul)"
    assert repr(Tensor(np.array([1, 2]))) == "tensor([1, 2], dtype=int64)"


# ----- randomness -----


def test_manual_seed_makes_randn_rand_and_dropout_reproducible() -> None:
    def draw() -> list[np.ndarray]:
        x = am.ones(4, 5)
        return [am.randn(3, 4).data, am.rand(2, 2).data, F.dropout(x, 0.5).data]

    am.manual_seed(123)
    first = draw()
    am.manual_seed(123)
    second = draw()
    am.manual_seed(124)
    third = draw()
    for a, b, c in zip(first, second, third):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float32
        assert not np.array_equal(a, c)
    assert set(np.unique(first[2])) <= {0.0, 2.0}


def test_rng_argument_and_bad_seed() -> None:
    a = am.randn(3, rng=np.random.default_rng(7)).data
    b = am.randn(3, rng=np.random.default_rng(7)).data
    np.testing.assert_array_equal(a, b)
    assert am.randn((2, 3), dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="non-negative"):
        am.manual_seed(-1)


def test_cat_errors_name_the_shapes() -> None:
    a, b = am.zeros(2, 3), am.zeros(2, 4)
    assert am.cat([a, b], 1).shape == (2, 7)
    one = am.cat([a], 0)  # a new tensor, as torch.cat: changing it leaves a alone
    one.add_(1)
    assert one is not a and not a.data.any()
    with pytest.raises(ValueError, match=r"except in dimension 0; got \[\(2, 3\), \(2, 4\)\]"):
        am.cat([a, b], 0)
    with pytest.raises(ValueError, match=r"dimension 2 out of range for shapes"):
        am.cat([a, a], 2)
    with pytest.raises(ValueError, match="at least one"):
        am.cat([], 0)
    with pytest.raises(TypeError, match="mixed float dtypes"):
        am.cat([a, am.tensor(np.zeros((2, 3)))], 0)


@pytest.mark.parametrize("preset", [None, "8"])
def test_import_leaves_the_environment_alone(preset: str | None) -> None:
    """Importing autograd_mnist has no process-wide side effect: OPENBLAS_THREAD_TIMEOUT is
    neither set nor changed (the CLI and benchmarks set it through autograd_mnist.runtime)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if preset is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = preset
    code = "import os, autograd_mnist; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(preset)


# ----- the PyTorch surface: size, dim, view, casts, clone, comparison methods -----


def test_size_is_the_shape_and_numel_the_count() -> None:
    x = am.zeros(4, 1, 28, 28)
    assert x.size() == (4, 1, 28, 28) == x.shape and isinstance(x.size(), tuple)
    assert x.size(0) == 4 and x.size(-1) == 28 and isinstance(x.size(1), int)
    assert x.numel() == 4 * 28 * 28 and x.dim() == 4 == x.ndim
    s = am.tensor(2.0)
    assert s.size() == () and s.numel() == 1 and s.dim() == 0
    assert am.zeros(0, 3).numel() == 0
    torch = pytest.importorskip("torch")
    t = torch.zeros(4, 1, 28, 28)
    assert tuple(t.size()) == x.size() and t.size(-2) == x.size(-2) and t.numel() == x.numel()


def test_view_with_size_flattens_a_batch() -> None:
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    y = x.view(x.size(0), -1)
    assert y.shape == (2, 12)
    np.testing.assert_array_equal(y.data, x.data.reshape(2, 12))
    assert x.view(-1).shape == (24,) and x.view((4, 6)).shape == (4, 6)
    np.testing.assert_array_equal(grad_after(x, y * 2.0), np.full((2, 3, 4), 2.0))


def test_comparison_methods_are_the_operators() -> None:
    t, u = am.tensor([1.0, 2.0, 3.0]), am.tensor([3.0, 2.0, 1.0])
    for method, op in [
        ("eq", np.equal),
        ("ne", np.not_equal),
        ("lt", np.less),
        ("le", np.less_equal),
        ("gt", np.greater),
        ("ge", np.greater_equal),
    ]:
        for other in (u, 2.0):
            result = getattr(leaf(t.data), method)(other)
            assert isinstance(result, Tensor) and result.dtype == np.bool_
            assert not result.requires_grad
            np.testing.assert_array_equal(result.data, op(t.data, np.asarray(other)))


def test_casts_follow_torch() -> None:
    x = leaf([1.5, -2.0])
    assert x.float() is x and x.to(am.float32) is x and x.to("cpu") is x
    assert x.to(am.float32, copy=True) is not x
    d = x.double()
    assert d.dtype == np.float64 and d.requires_grad and d.grad_fn is not None
    assert x.to(np.dtype("float64")).dtype == np.float64 and x.to(dtype=am.float64).dtype == d.dtype
    assert x.type_as(am.zeros(1, dtype=np.float64)).dtype == np.float64
    assert x.to(am.zeros(1, dtype=np.float64)).dtype == np.float64
    assert x.to("cpu", am.float64).dtype == np.float64
    # float to int: values truncated toward zero, no graph (as torch)
    i = x.to(am.int64)
    assert i.dtype == np.int64 and not i.requires_grad
    np.testing.assert_array_equal(i.data, [1, -2])
    assert x.to(am.bool).dtype == np.bool_
    # int and bool to float: a constant of the new dtype
    assert Tensor(np.arange(3)).float().dtype == np.float32
    assert (am.tensor([1.0, -1.0]) > 0).double().dtype == np.float64
    assert am.float32 == np.float32 and x.dtype == am.float32


def test_gradients_are_cast_back_to_the_inputs_dtype() -> None:
    x = leaf([0.5, 2.0])
    y = (x.double() ** 3).sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, 3 * x.data.astype(np.float64) ** 2, rtol=1e-7)
    # and second order through both casts
    z = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    (g,) = am.grad((z.float().double() ** 3).sum(), z, create_graph=True)
    assert g.dtype == np.float64
    (h,) = am.grad(g.sum(), z)
    np.testing.assert_allclose(h.data, 6 * z.data, rtol=1e-7)


def test_clone_owns_its_memory_and_passes_the_gradient() -> None:
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    c = x.clone()
    assert c.grad_fn is not None and not np.shares_memory(c.data, x.data)
    np.testing.assert_array_equal(c.data, x.data)
    np.testing.assert_array_equal(grad_after(x, c * 3.0), np.full((2, 2), 3.0))
    f = Tensor(np.asfortranarray(np.ones((2, 3))))  # keeps the memory layout
    assert f.clone().data.flags.f_contiguous
    i = Tensor(np.arange(3))
    assert i.clone().dtype == np.int64 and not np.shares_memory(i.clone().data, i.data)


def test_clamp_of_integer_tensors_has_no_graph() -> None:
    i = Tensor(np.arange(5))
    np.testing.assert_array_equal(i.clamp(1, 3).data, [1, 1, 2, 3, 3])
    assert i.clamp(1, 3).dtype == np.int64
    assert i.clamp(0.5).dtype == np.float32


def test_unsqueeze_squeeze_expand_stack_shapes() -> None:
    x = am.zeros(2, 1, 3)
    assert x.unsqueeze(0).shape == (1, 2, 1, 3) and x.unsqueeze(-1).shape == (2, 1, 3, 1)
    assert x.squeeze().shape == (2, 3) and x.squeeze(0).shape == (2, 1, 3)
    assert x.squeeze((1, 2)).shape == (2, 3) and x.squeeze([-2]).shape == (2, 3)
    assert am.tensor(1.0).squeeze().shape == () and am.tensor(1.0).unsqueeze(-1).shape == (1,)
    assert x.expand(4, 2, -1, 3).shape == (4, 2, 1, 3) and x.expand(2, 5, 3).shape == (2, 5, 3)
    assert am.stack([x, x], dim=-1).shape == (2, 1, 3, 2)
    assert am.stack([am.tensor(1.0), am.tensor(2.0)]).shape == (2,)
