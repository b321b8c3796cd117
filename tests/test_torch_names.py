"""PyTorch's top-level names and training-loop helpers: ``am.flatten``, ``am.max``,
``am.from_numpy``, ``am.device``, ``Tensor.view_as``/``cpu``, ``F.one_hot``,
``nn.utils.clip_grad_norm_``/``clip_grad_value_``, each against torch's own result."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
import autograd_mnist.functional as F
from autograd_mnist import functions, nn

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((3, 4, 5))

# (name, call on our module, the same call on torch's): first argument X
CALLS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("exp", lambda m, x: m.exp(x)),
    ("log", lambda m, x: m.log(m.abs(x))),
    ("sqrt", lambda m, x: m.sqrt(m.abs(x))),
    ("relu", lambda m, x: m.relu(x)),
    ("sigmoid", lambda m, x: m.sigmoid(x)),
    ("tanh", lambda m, x: m.tanh(x)),
    ("clamp", lambda m, x: m.clamp(x, min=-0.5, max=0.5)),
    ("sum", lambda m, x: m.sum(x, 1, keepdim=True)),
    ("sum-all", lambda m, x: m.sum(x)),
    ("mean", lambda m, x: m.mean(x, (0, 2))),
    ("max-dim", lambda m, x: m.max(x, 1)[0] * 1 + m.max(x, 1)[1]),
    ("max-all", lambda m, x: m.max(x)),
    ("min-dim", lambda m, x: m.min(x, dim=2, keepdim=True).values),
    ("argmax", lambda m, x: m.argmax(x, dim=1)),
    ("argmin", lambda m, x: m.argmin(x)),
    ("matmul", lambda m, x: m.matmul(x, m.transpose(x, 1, 2))),
    ("mm", lambda m, x: m.mm(m.reshape(x, (12, 5)), m.transpose(m.reshape(x, (12, 5)), 0, 1))),
    ("reshape", lambda m, x: m.reshape(x, (5, -1))),
    ("flatten", lambda m, x: m.flatten(x, 1)),
    ("flatten-range", lambda m, x: m.flatten(x, 0, 1)),
    ("permute", lambda m, x: m.permute(x, (2, 0, 1))),
    ("squeeze-unsqueeze", lambda m, x: m.squeeze(m.unsqueeze(x, 1), 1)),
    ("sin", lambda m, x: m.sin(x)),
    ("cos", lambda m, x: m.cos(x)),
    ("pow", lambda m, x: m.pow(x, 3)),
    ("pow-tensor-exponent", lambda m, x: m.pow(m.abs(x), m.cos(x))),
    ("pow-number-base", lambda m, x: m.pow(2.0, x)),
    ("amax", lambda m, x: m.amax(x, (0, 2))),
    ("amin", lambda m, x: m.amin(x, 1, keepdim=True)),
    ("logsumexp", lambda m, x: m.logsumexp(x, 2)),
    ("std", lambda m, x: m.std(x, 1)),
    ("var", lambda m, x: m.var(x, (0, 1), correction=0, keepdim=True)),
    ("clip", lambda m, x: m.clip(x, -0.3, 0.4)),
    ("clone", lambda m, x: m.clone(x) * 2),
    ("masked_fill", lambda m, x: m.masked_fill(x, m.gt(x, 0.5), 0.0)),
    ("comparisons", lambda m, x: m.eq(x, x).sum() + m.ne(x, 0).sum() + m.ge(x, 0).sum()),
    ("comparisons-2", lambda m, x: m.lt(x, 0).sum() + m.le(x, 0.1).sum() + m.gt(x, -1).sum()),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[c[0] for c in CALLS])
def test_top_level_functions_match_torch_values_and_gradients(
    name: str, call: Callable[[Any, Any], Any]
) -> None:
    ours_x = am.tensor(X.copy(), requires_grad=True)
    theirs_x = torch.tensor(X.copy(), requires_grad=True)
    ours, theirs = call(am, ours_x), call(torch, theirs_x)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    if ours.requires_grad:
        (ours * ours).sum().backward()
        (theirs * theirs).sum().backward()
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12)


def test_top_level_functions_are_the_methods_on_arrays_and_lists() -> None:
    assert am.exp([0.0, 1.0]).dtype == np.float32  # a list becomes float32, as am.tensor
    assert am.flatten(np.zeros((2, 3, 4)), 1).shape == (2, 12)
    values, indices = am.max(np.array([[1.0, 3.0], [4.0, 2.0]]), 1)
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [1, 0]
    _, predicted = am.max(am.tensor([[0.1, 0.9]]), 1)  # the tutorial idiom
    assert predicted.item() == 1
    with pytest.raises(ValueError, match=r"mm: expected two 2-D tensors; got shapes \(2,\)"):
        am.mm(np.zeros(2), np.zeros((2, 2)))
    for name in functions.__all__:
        assert getattr(am, name) is getattr(functions, name)


def test_from_numpy_shares_memory_and_keeps_dtype() -> None:
    for a in (np.zeros(3, np.float32), np.zeros(3, np.float64), np.arange(3)):
        t = am.from_numpy(a)
        assert t.dtype == a.dtype
        a[0] = 7
        assert t.numpy()[0] == 7  # the same memory, as torch.from_numpy
    with pytest.raises(TypeError, match="from_numpy: expected a NumPy array; got list"):
        am.from_numpy([1.0])  # type: ignore[arg-type]


def test_is_tensor_allclose_equal_match_torch() -> None:
    a, b = np.array([1.0, 2.0, np.nan]), np.array([1.0 + 1e-9, 2.0, np.nan])
    assert am.is_tensor(am.tensor(a)) and not am.is_tensor(a)
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0, "equal_nan": True}):
        expected = torch.allclose(torch.tensor(a), torch.tensor(b), **kw)
        assert am.allclose(am.tensor(a), am.tensor(b), **kw) is expected
    assert am.equal(am.tensor([1.0, 2.0]), am.tensor([1.0, 2.0]))
    assert not am.equal(am.tensor([1.0, 2.0]), am.tensor([[1.0, 2.0]]))  # shapes differ
    assert not am.equal(am.tensor([1.0, 2.0]), am.tensor([1.0, 3.0]))


def test_device_is_cpu_only_and_reads_like_torch() -> None:
    cpu, cuda = am.device("cpu"), am.device("cuda", 1)
    assert cpu == "cpu" and cpu.type == "cpu" and repr(cpu) == repr(torch.device("cpu"))
    assert repr(cuda) == repr(torch.device("cuda", 1)) and cuda.type == "cuda"
    x, model = am.randn(2, 3), nn.Linear(3, 2)
    assert x.to(cpu) is x and model.to(cpu) is model and x.cpu() is x
    with pytest.raises(ValueError, match="only the CPU exists"):
        x.to(cuda)
    with pytest.raises(ValueError, match="only the CPU exists"):
        model.to(am.device("cuda"))
    with pytest.raises(ValueError, match=r"device: expected one of .*got 'gpu'"):
        am.device("gpu")


def test_view_as_follows_the_other_shape_and_its_gradient() -> None:
    x = am.tensor(np.arange(6.0), requires_grad=True)
    y = x.view_as(np.zeros((2, 3)))
    assert y.shape == (2, 3)
    (y * am.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    assert x.grad.tolist() == list(np.arange(6.0))
    pred = am.tensor([[1], [2]])
    target = am.tensor(np.array([1, 3]))
    assert pred.eq(target.view_as(pred)).sum().item() == 1  # PyTorch's MNIST example


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_matches_torch(num_classes: int) -> None:
    idx = np.array([[0, 3], [2, 1]])
    ours = F.one_hot(am.tensor(idx), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(idx), num_classes)
    assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert F.one_hot(np.zeros(0, dtype=np.int64), 3).shape == (0, 3)


@pytest.mark.parametrize(
    ("x", "kw", "error", "match"),
    [
        (np.array([0.0, 1.0]), {}, TypeError, "expected integer class indices; got dtype float64"),
        (np.array([0, -1]), {}, ValueError, "class values must be >= 0; got -1"),
        (np.array([0, 3]), {"num_classes": 3}, ValueError, "smaller than num_classes 3"),
        (np.zeros(0, np.int64), {}, ValueError, "cannot infer num_classes from an empty"),
        (np.array([1]), {"num_classes": 2.0}, TypeError, "num_classes must be an int"),
    ],
)
def test_one_hot_errors_name_the_problem(x: Any, kw: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        F.one_hot(x, **kw)


def _grads_pair(seed: int, scale: float = 1.0) -> tuple[list[Any], list[Any]]:
    """Three parameters with gradients (one without), ours and torch's, float64."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) * scale for s in ((3, 4), (4,), (2, 2))]
    ours = [am.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if i != 1:  # the middle one has no gradient: skipped by both
            o.grad = am.tensor(arrays[i] * 2)
            t.grad = torch.tensor(arrays[i] * 2)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float) -> None:
    ours, theirs = _grads_pair(1)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total.shape == () and total.dtype == np.float64
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for o, t in zip(ours, theirs):
        if t.grad is None:
            assert o.grad is None
        else:
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_edge_cases_match_torch() -> None:
    p = am.tensor([3.0, 4.0], requires_grad=True)
    p.grad = am.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # one Tensor
    assert np.allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([am.tensor([1.0], requires_grad=True)], 1.0).item() == 0.0
    for bad in (np.inf, np.nan):
        q, t = am.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0])
        q.grad, t.grad = am.tensor([bad, 1.0]), torch.tensor([bad, 1.0])
        torch.nn.utils.clip_grad_norm_([t], 1.0)
        nn.utils.clip_grad_norm_([q], 1.0)
        np.testing.assert_array_equal(q.grad.numpy(), t.grad.numpy())
        q.grad = am.tensor([bad, 1.0])
        with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of order 2.0"):
            nn.utils.clip_grad_norm_([q], 1.0, error_if_nonfinite=True)
        assert np.isnan(q.grad.numpy()[0]) == np.isnan(bad)  # unchanged when it raises
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        nn.utils.clip_grad_norm_([p], 1.0, norm_type=0)
    with pytest.raises(TypeError, match="max_norm must be a number; got str"):
        nn.utils.clip_grad_norm_([p], "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="parameter 0 is a ndarray, expected a Tensor"):
        nn.utils.clip_grad_norm_([np.zeros(2)], 1.0)  # type: ignore[list-item]


def test_clip_grad_norm_keeps_float32_and_bumps_versions() -> None:
    model = nn.Linear(4, 3)
    F.mse_loss(model(am.randn(5, 4)), am.randn(5, 3)).backward()
    grad = model.weight.grad
    before = grad._version
    total = nn.utils.clip_grad_norm_(model.parameters(), 1e-3)
    assert total.dtype == np.float32 and model.weight.grad.dtype == np.float32
    assert grad._version > before  # changed in place, as torch's mul_


def test_clip_grad_value_matches_torch() -> None:
    ours, theirs = _grads_pair(2, scale=3.0)
    nn.utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for o, t in zip(ours, theirs):
        if t.grad is not None:
            np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())
    with pytest.raises(TypeError, match="clip_value must be a number; got NoneType"):
        nn.utils.clip_grad_value_(ours, None)  # type: ignore[arg-type]


def test_long_gives_int64_indices_as_torch() -> None:
    x = am.tensor([1.7, -2.2, 3.0], requires_grad=True)
    assert x.long().dtype == np.int64 and not x.long().requires_grad
    np.testing.assert_array_equal(x.long().numpy(), torch.tensor([1.7, -2.2, 3.0]).long())
    labels = am.tensor(np.array([1, 2]))
    assert labels.long() is labels  # already int64
    assert F.cross_entropy(am.randn(2, 3), am.tensor([0.0, 2.0]).long()).shape == ()


SHAPE_OPS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("getitem", lambda m, t: t[1:]),
    ("getitem-array", lambda m, t: t[np.array([3, 0, 3])]),
    ("view", lambda m, t: t.view(2, 3)),
    ("view-1", lambda m, t: t.view(2, 3).view(-1)),
    ("flatten", lambda m, t: t.view(2, 3).flatten()),
    ("T", lambda m, t: t.view(2, 3).T),
    ("permute", lambda m, t: t.view(1, 2, 3).permute(2, 0, 1)),
    ("transpose", lambda m, t: t.view(2, 3).transpose(0, 1)),
    ("unsqueeze-squeeze", lambda m, t: t.unsqueeze(0).squeeze(0)),
    ("expand", lambda m, t: t[:2].unsqueeze(1).expand(2, 4)),
    ("cat", lambda m, t: m.cat([t, t])),
    ("stack", lambda m, t: m.stack([t, t], 1)),
]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize(("name", "op"), SHAPE_OPS, ids=[c[0] for c in SHAPE_OPS])
def test_indexing_and_shape_ops_keep_integer_dtypes_as_torch(
    name: str, op: Callable[[Any, Any], Any], dtype: Any
) -> None:
    data = (np.arange(6) % 4).astype(dtype)
    ours, theirs = op(am, am.tensor(data)), op(torch, torch.from_numpy(data.copy()))
    assert ours.dtype == dtype and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_integer_views_share_the_version_counter_and_labels_stay_indices() -> None:
    labels = am.tensor(np.array([0, 2, 1, 2]))
    view = labels.view(2, 2)
    view.add_(0)  # an in-place change through a view is seen by its base, as torch's
    assert labels._version == view._version == 1
    out = am.randn(4, 3)
    loss = F.cross_entropy(out, labels)
    assert F.cross_entropy(out, labels.view(-1)).item() == loss.item()
    assert F.cross_entropy(out[[1, 3]], labels[[1, 3]]).dtype == np.float32
    assert am.cat([labels, labels.float()]).dtype == np.float32  # mixed: float, as before


def test_to_takes_device_as_a_keyword_as_torch() -> None:
    x = am.randn(2, 3)
    assert x.to(device=am.device("cpu")) is x and x.to(device="cpu") is x
    assert x.to(device="cpu", dtype=am.float64).dtype == np.float64
    assert x.to(am.float64, device=am.device("cpu")).dtype == np.float64
    with pytest.raises(ValueError, match="only the CPU exists here; got device 'cuda:0'"):
        x.to(device="cuda:0")
    with pytest.raises(ValueError, match=r"to: device must be one of .*got 'gpu'"):
        x.to(device="gpu")  # not taken for a dtype
    assert am.device.TYPES == ("cpu", "cuda", "mps", "meta")


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_sees_a_nan_in_any_gradient_as_torch(norm_type: float) -> None:
    """A NaN in a later gradient makes the joint norm NaN (the inf norm's max ignored it)."""
    grads = [np.array([1.0, 2.0]), np.array([np.nan, 1.0]), np.arange(70_000.0)]  # > a block
    ours = [am.tensor(g.copy(), requires_grad=True) for g in grads]
    theirs = [torch.tensor(g.copy(), requires_grad=True) for g in grads]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = am.tensor(g.copy()), torch.tensor(g.copy())
    total = nn.utils.clip_grad_norm_(ours, 1.0, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    assert np.isnan(total.item()) and np.isnan(expected.item())
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_clip_grad_norm_over_several_blocks_matches_torch(norm_type: float) -> None:
    g = np.random.default_rng(3).standard_normal(200_003)  # a few of the norm's blocks
    ours, theirs = (
        am.tensor(g.copy(), requires_grad=True),
        torch.tensor(g.copy(), requires_grad=True),
    )
    ours.grad, theirs.grad = am.tensor(g.copy()), torch.tensor(g.copy())
    total = nn.utils.clip_grad_norm_(ours, 0.5, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type=norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_cat_and_stack_read_any_iterable_once() -> None:
    """A generator was read by the integer-dtype check, leaving nothing to join."""
    parts = [am.tensor([1.0, 2.0]), am.tensor([3.0, 4.0])]
    assert am.cat(t for t in parts).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert am.stack(t for t in parts).shape == (2, 2)
    labels = [am.tensor(np.array([1, 2])), am.tensor(np.array([3]))]
    assert am.cat(t for t in labels).tolist() == [1, 2, 3]
