"""PyTorch habits that must carry over, each found failing or silently different once: copies
where PyTorch copies, NumPy scalars as weak as Python numbers, PyTorch's argument order,
zero gradients where PyTorch gives them, and the small protocols (format, index,
iteration). Each compares with PyTorch where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist import optim
from autograd_mnist.data import DataLoader


def test_np_array_of_a_tensor_is_a_snapshot_and_asarray_a_view() -> None:
    w = am.tensor(np.array([1.0, 2.0, 3.0]))
    snap, view = np.array(w), np.asarray(w)
    w.mul_(10)
    np.testing.assert_array_equal(snap, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(view, [10.0, 20.0, 30.0])
    assert not np.shares_memory(np.array(w, dtype=np.float32), w.data)


def test_new_tensors_from_tensors_cat_stack_and_pad_are_copies() -> None:
    x = am.zeros(3)
    for y in (am.tensor(x), am.cat([x]), am.stack([x])[0], F.pad(x, (0, 0)), F.pad(x, (-1, 0))):
        y.add_(1)
    assert not x.data.any()


def test_add_and_sub_with_alpha_refuse_an_operand_that_requires_grad() -> None:
    w = am.tensor(np.array([1.0, 2.0]), requires_grad=True)
    for op in ("add_", "sub_"):
        acc = am.zeros(2, dtype=am.float64)
        with pytest.raises(RuntimeError, match=f"{op}: in-place operations are not recorded"):
            getattr(acc, op)(w, alpha=0.5)
        with am.no_grad():
            getattr(acc, op)(w, alpha=0.5)  # under no_grad: done, as PyTorch
        np.testing.assert_array_equal(acc.data, [0.5, 1.0] if op == "add_" else [-0.5, -1.0])


def test_std_of_a_constant_group_has_a_zero_gradient() -> None:
    x = am.tensor(np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]), requires_grad=True)
    s = x.std(1)
    s.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data[0], 0.0)
    assert np.isfinite(x.grad.data).all() and x.grad.data[1].any()
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x.data, requires_grad=True)
    xt.std(1).sum().backward()
    np.testing.assert_allclose(s.data, xt.std(1).detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_a_batch_whose_targets_are_all_ignored_has_nan_loss_and_zero_gradient(
    smoothing: float,
) -> None:
    logits = am.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([-100, -100]), label_smoothing=smoothing)
    loss.backward()
    assert np.isnan(loss.item())
    assert logits.grad is not None
    np.testing.assert_array_equal(logits.grad.data, 0.0)
    logp = am.tensor(np.zeros((2, 3)), requires_grad=True)
    F.nll_loss(logp, np.array([-100, -100])).backward()
    assert logp.grad is not None
    np.testing.assert_array_equal(logp.grad.data, 0.0)


def test_numpy_scalars_take_the_tensors_dtype_like_python_numbers() -> None:
    x = am.randn(3, requires_grad=True)
    for y in (x * np.float64(2.0), x / np.sqrt(4.0), np.float64(2.0) * x, x + np.float32(1)):
        assert isinstance(y, am.Tensor) and y.dtype == np.float32
    (x * np.float64(3.0)).sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, 3.0)
    with pytest.raises(TypeError, match=r"convert one with \.float\(\) or \.double\(\)"):
        x + am.zeros(3, dtype=am.float64)


def test_batch_norm_takes_running_statistics_as_tensors() -> None:
    mean, var = am.zeros(3), am.ones(3)
    x = am.randn(4, 3)
    y = F.batch_norm(x, mean, var, training=False)
    np.testing.assert_allclose(y.data, x.data / np.sqrt(1 + 1e-5), rtol=1e-6)
    F.batch_norm(x, mean, var, training=True)
    np.testing.assert_allclose(mean.data, 0.1 * x.data.mean(0), rtol=1e-5)


def test_elu_and_softplus_at_infinity() -> None:
    x = am.tensor(np.array([-np.inf, np.inf, 30.0, -1.0]))
    np.testing.assert_array_equal(F.elu(x).data, [-1.0, np.inf, 30.0, np.expm1(-1.0)])
    np.testing.assert_allclose(F.softplus(x).data, [0.0, np.inf, 30.0, np.log1p(np.exp(-1.0))])
    xg = am.tensor(np.array([-np.inf, 3.0, -2.0]), requires_grad=True)
    (F.elu(xg) + F.softplus(xg)).sum().backward()
    assert xg.grad is not None and np.isfinite(xg.grad.data).all()


def test_pooling_and_dropout_take_pytorchs_positional_arguments() -> None:
    x = am.randn(1, 1, 4, 4)
    assert F.avg_pool2d(x, 2, 2, 0, False).shape == (1, 1, 2, 2)  # ceil_mode=False
    with pytest.raises(ValueError, match="avg_pool2d: ceil_mode=True is not supported"):
        F.avg_pool2d(x, 3, 1, 1, True)
    with pytest.raises(ValueError, match="avg_pool2d: divisor_override=2 is not supported"):
        F.avg_pool2d(x, 2, divisor_override=2)
    assert F.max_pool2d(x, 2, 2, 0, 1, False, False).shape == (1, 1, 2, 2)
    for kwargs in ({"dilation": 2}, {"ceil_mode": True}, {"return_indices": True}):
        with pytest.raises(ValueError, match=f"max_pool2d: {next(iter(kwargs))}="):
            F.max_pool2d(x, 2, **kwargs)  # type: ignore[arg-type]
    assert F.dropout(x, 0.5, False, False) is x
    with pytest.raises(ValueError, match="inplace=True is not supported"):
        F.dropout(x, 0.5, True, True)
    with pytest.raises(TypeError):
        F.dropout(x, 0.5, True, False, np.random.default_rng(0))  # type: ignore[misc]


def test_zero_d_tensors_format_index_and_refuse_iteration() -> None:
    loss = am.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and f"{loss}" == str(loss.item())  # torch's too
    with pytest.raises(TypeError):
        f"{am.zeros(2):.3f}"
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(loss)
    assert [t.item() for t in am.tensor([1.0, 2.0])] == [1.0, 2.0]
    assert ["a", "b", "c"][am.tensor(np.int64(1))] == "b"
    assert ["a"][am.tensor(np.zeros(1, dtype=np.int64))] == "a"
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        ["a"][am.tensor(0.0)]


def test_a_shape_is_not_a_first_argument_of_tensor() -> None:
    with pytest.raises(TypeError, match=r"requires_grad must be a bool; got 3"):
        am.Tensor(2, 3)  # type: ignore[arg-type]
    assert am.Tensor(2.0, np.bool_(True)).requires_grad


def test_backward_takes_pytorchs_gradient_keyword() -> None:
    x = am.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).backward(gradient=np.array([1.0, 10.0]))
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [3.0, 30.0])
    with pytest.raises(TypeError, match="give the upstream gradient once"):
        (x * 3).backward(np.ones(2), grad=np.ones(2))


def test_the_loader_keeps_the_order_by_default_as_pytorchs() -> None:
    y = np.arange(10)
    assert np.array_equal(np.concatenate([yb for _, yb in DataLoader(y, y, batch_size=3)]), y)


def test_optimizers_accept_frozen_parameters_and_skip_them() -> None:
    frozen = am.tensor(np.ones(2, dtype=np.float32))
    live = am.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    opt = optim.Adam([frozen, live], lr=0.1)
    (live * 2).sum().backward()
    opt.step()
    np.testing.assert_array_equal(frozen.data, 1.0)
    assert (live.data < 1).all()


def test_unsupported_module_arguments_are_refused_by_name() -> None:
    from autograd_mnist import nn

    with pytest.raises(ValueError, match="momentum must be a number; got None"):
        nn.BatchNorm1d(3, momentum=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"got ndarray .*it is the first argument here"):
        nn.CrossEntropyLoss(np.ones(5))  # type: ignore[arg-type]


def test_item_assignment_is_an_in_place_op() -> None:
    x = am.zeros(2, 3)
    x[0, 1] = 5.0
    x[1] = am.tensor([1.0, 2.0, 3.0])
    x[x.data > 2] = -1.0
    np.testing.assert_array_equal(x.data, [[0.0, -1.0, 0.0], [1.0, 2.0, -1.0]])
    assert x.version == 3
    w = am.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="__setitem__: a leaf Variable that requires grad"):
        w[0] = 1.0
    with am.no_grad():
        w[0] = 1.0
    with pytest.raises(IndexError, match=r"__setitem__: .*tensor shape \(2, 3\)"):
        x[5] = 0.0


def test_small_pytorch_methods() -> None:
    x = am.tensor(np.array([[1.0, -2.0], [3.0, -4.0]]), requires_grad=True)
    np.testing.assert_array_equal(abs(x).data, np.abs(x.data))
    np.testing.assert_array_equal(x.t().data, x.data.T)
    assert x.contiguous() is x
    mask = am.tensor(np.array([[True, False], [False, True]]))
    y = x.masked_fill(mask, 0.0)
    np.testing.assert_array_equal(y.data, [[0.0, -2.0], [3.0, 0.0]])
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0], [1.0, 0.0]])
    z = am.zeros(2, 2)
    z.masked_fill_(mask, 7.0)
    np.testing.assert_array_equal(z.data, [[7.0, 0.0], [0.0, 7.0]])
    np.testing.assert_array_equal((~mask).data, ~mask.data)
    np.testing.assert_array_equal((mask & ~mask).data, False)
    np.testing.assert_array_equal((mask | ~mask).data, True)
    with pytest.raises(TypeError, match="~: bool or integer tensors only; got float32"):
        ~am.zeros(2)
    assert x[[]].shape == (0, 2)


def test_grad_names_an_input_that_does_not_require_grad() -> None:
    x, c = am.tensor([1.0], requires_grad=True), am.tensor([2.0])
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(1,\)\) does not require grad"):
        am.grad((x * c).sum(), [x, c])
