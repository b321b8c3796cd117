"""In-place operations (PyTorch semantics), version counters, NumPy's ufunc hook, and
leaf gradients that own their memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Tensor, nn, no_grad, optim

LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation"
MODIFIED = "modified by an in-place operation"

# name, the in-place call on a tensor, the NumPy reference of the result (x: the old values)
OTHER = np.array([0.5, -2.0, 4.0])
INPLACE: list[tuple[str, Callable[[Tensor], Any], Callable[[np.ndarray], np.ndarray]]] = [
    ("add_", lambda t: t.add_(OTHER), lambda x: x + OTHER),
    ("add_", lambda t: t.add_(am.tensor(OTHER), alpha=-3.0), lambda x: x - 3.0 * OTHER),
    ("sub_", lambda t: t.sub_(2.0), lambda x: x - 2.0),
    ("sub_", lambda t: t.sub_(OTHER, alpha=0.5), lambda x: x - 0.5 * OTHER),
    ("mul_", lambda t: t.mul_(am.tensor(OTHER)), lambda x: x * OTHER),
    ("div_", lambda t: t.div_(OTHER), lambda x: x / OTHER),
    ("pow_", lambda t: t.pow_(2.0), lambda x: x**2.0),
    ("__ipow__", lambda t: t.__ipow__(np.array([1.0, 3.0, 2.0])), lambda x: x ** [1, 3, 2]),
    ("__iadd__", lambda t: t.__iadd__(am.tensor(OTHER)), lambda x: x + OTHER),
    ("__isub__", lambda t: t.__isub__(3.0), lambda x: x - 3.0),
    ("__imul__", lambda t: t.__imul__(OTHER), lambda x: x * OTHER),
    ("__itruediv__", lambda t: t.__itruediv__(4.0), lambda x: x / 4.0),
    ("zero_", lambda t: t.zero_(), lambda x: np.zeros_like(x)),
    ("fill_", lambda t: t.fill_(7.5), lambda x: np.full_like(x, 7.5)),
    ("fill_", lambda t: t.fill_(am.tensor(-1.0)), lambda x: np.full_like(x, -1.0)),
    ("copy_", lambda t: t.copy_(am.tensor(OTHER)), lambda x: OTHER.copy()),
    ("copy_", lambda t: t.copy_(np.float64(2.0)), lambda x: np.full_like(x, 2.0)),
    ("clamp_", lambda t: t.clamp_(-1.0, 1.5), lambda x: np.clip(x, -1.0, 1.5)),
    ("clamp_", lambda t: t.clamp_(min=0.0), lambda x: np.maximum(x, 0.0)),
    ("clamp_", lambda t: t.clamp_(max=0.0), lambda x: np.minimum(x, 0.0)),
    ("clip_", lambda t: t.clip_(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(INPLACE)]
X0 = np.array([1.0, -3.0, 2.0])


def leaf(values: Any = X0) -> Tensor:
    return am.tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ----- each op: values, same tensor, same memory, one version more -----


@pytest.mark.parametrize(("name", "call", "ref"), INPLACE, ids=IDS)
def test_inplace_op_updates_the_tensor_itself(name: str, call: Any, ref: Any) -> None:
    t = am.tensor(X0.copy())  # does not require grad: allowed in grad mode
    data = t.data
    out = call(t)
    assert out is t and t.data is data  # the same tensor, written in place
    np.testing.assert_array_equal(t.data, ref(X0))
    assert t.dtype == np.float64 and t._version == 1 and t.version == 1


@pytest.mark.parametrize(("name", "call", "ref"), INPLACE, ids=IDS)
def test_inplace_op_on_a_leaf_under_no_grad_keeps_the_leaf(name: str, call: Any, ref: Any) -> None:
    w = leaf()
    w.grad = am.tensor(np.ones(3))
    grad = w.grad
    with no_grad():
        assert call(w) is w
    np.testing.assert_array_equal(w.data, ref(X0))
    assert w.is_leaf and w.requires_grad and w.grad is grad and w._version == 1


@pytest.mark.parametrize(("name", "call", "ref"), INPLACE, ids=IDS)
def test_inplace_op_on_a_leaf_that_requires_grad_is_refused(name: str, call: Any, ref: Any) -> None:
    w = leaf()
    with pytest.raises(RuntimeError, match=LEAF_MESSAGE) as info:
        call(w)
    assert name in str(info.value) and "(3,)" in str(info.value)
    np.testing.assert_array_equal(w.data, X0)  # nothing written
    assert w._version == 0


@pytest.mark.parametrize(("name", "call", "ref"), INPLACE, ids=IDS)
def test_inplace_op_on_a_non_leaf_in_grad_mode_is_refused(name: str, call: Any, ref: Any) -> None:
    y = leaf() * 2.0
    with pytest.raises(RuntimeError, match="in-place operations are not recorded") as info:
        call(y)
    assert name in str(info.value) and "Mul" in str(info.value) and "(3,)" in str(info.value)
    np.testing.assert_array_equal(y.data, 2 * X0)
    assert y._version == 0


def test_inplace_with_an_operand_that_requires_grad_is_refused() -> None:
    buf = am.tensor(np.zeros(3))
    w = leaf()
    for call in (lambda: buf.add_(w), lambda: buf.copy_(w), lambda: buf.__imul__(w)):
        with pytest.raises(RuntimeError, match="operand of shape \\(3,\\) that requires grad"):
            call()
    np.testing.assert_array_equal(buf.data, 0.0)
    with no_grad():  # no graph to lose
        buf.add_(w)
    np.testing.assert_array_equal(buf.data, X0)


def test_manual_sgd_idiom_keeps_w_the_same_leaf() -> None:
    w = leaf()
    (w * w).sum().backward()
    assert w.grad is not None
    grad, ident = w.grad, id(w)
    with am.no_grad():
        w -= 0.1 * w.grad
    assert id(w) == ident and w.is_leaf and w.requires_grad and w.grad is grad
    np.testing.assert_allclose(w.data, X0 - 0.1 * 2 * X0, rtol=1e-15)
    w.grad = None
    (w * w).sum().backward()  # w still works as a parameter
    np.testing.assert_allclose(w.grad.data, 2 * w.data, rtol=1e-15)


def test_inplace_result_dtype_and_broadcasting_follow_numpy() -> None:
    t = am.tensor(np.ones((2, 3), dtype=np.float32))
    t += np.arange(3.0)  # float64 operand cast to the tensor's float32, broadcast over rows
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.ones((2, 3)) + np.arange(3.0))
    with pytest.raises(ValueError, match="add_: .*got \\(2, 4\\), expected .* \\(2, 3\\)"):
        t.add_(np.ones((2, 4)))
    with pytest.raises(ValueError, match="__imul__: .*\\(4, 3\\)"):
        t *= np.ones((4, 3))  # broadcasts, but not to the tensor's shape
    with pytest.raises(ValueError, match="copy_: .*\\(5,\\).*\\(2, 3\\)"):
        t.copy_(np.ones(5))
    assert t._version == 1  # failed calls count nothing
    i = am.tensor(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="__iadd__: .*float64.*int64"):
        i += np.array([0.5, 0.5, 0.5])  # as torch: a float result does not go into ints
    assert i._version == 0
    i.copy_(np.array([1.7, 2.2, -3.9]))  # copy_ casts like torch's
    np.testing.assert_array_equal(i.data, [1, 2, -3])


def test_clamp_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="clamp_: got min=None and max=None"):
        am.tensor([1.0]).clamp_()


def test_grad_zero_and_inplace_on_grad() -> None:
    w = leaf()
    (w * 3.0).sum().backward()
    assert w.grad is not None
    g = w.grad
    assert g.zero_() is g and w.grad is g and g._version == 1
    np.testing.assert_array_equal(w.grad.data, 0.0)
    (w * 3.0).sum().backward()  # accumulates onto the zeroed gradient
    np.testing.assert_array_equal(w.grad.data, 3.0)
    w.grad *= 2.0  # a gradient does not require grad: allowed in grad mode
    np.testing.assert_array_equal(w.grad.data, 6.0)


# ----- .data and NumPy's ufunc hook -----


def test_data_update_with_a_tensor_on_the_right() -> None:
    w = leaf()
    (w * w).sum().backward()
    assert w.grad is not None
    data = w.data
    w.data -= 0.1 * w.grad  # ndarray -= Tensor
    assert w.data is data and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.data, X0 - 0.2 * X0, rtol=1e-15)
    assert w._version == 0  # writes through .data are not counted (as in PyTorch)
    out = np.zeros(3)
    assert np.add(out, am.tensor(OTHER), out=out) is out
    np.testing.assert_array_equal(out, OTHER)
    with pytest.raises(TypeError):
        np.add(out, 1.0, out=am.tensor(out))  # into a tensor: use the in-place methods


def test_array_on_the_left_still_records() -> None:
    x = leaf()
    a = np.array([2.0, 3.0, 4.0])
    for y, expected in (
        (a * x, a),
        (a + x, np.ones(3)),
        (a - x, -np.ones(3)),
        (a / x, -a / X0**2),
        (np.float64(5.0) * x, np.full(3, 5.0)),
    ):
        assert isinstance(y, Tensor) and y.grad_fn is not None
        x.grad = None
        y.sum().backward()
        np.testing.assert_allclose(x.grad.data, expected, rtol=1e-15)
    m = leaf(np.ones((3, 2)))
    y = np.ones((4, 3)) @ m
    assert isinstance(y, Tensor) and y.shape == (4, 2) and y.grad_fn is not None
    cmp = a > x
    assert isinstance(cmp, Tensor) and cmp.dtype == np.bool_
    np.testing.assert_array_equal(cmp.data, a > X0)
    np.testing.assert_array_equal((a == am.tensor(a)).data, True)
    with pytest.raises(TypeError):
        np.exp(x)  # ufuncs other than the operators: use the methods


# ----- version counters and backward -----


def test_optimizer_step_between_forward_and_backward_raises() -> None:
    am.manual_seed(0)
    layer = nn.Linear(4, 3)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    loss = (layer(x) ** 2).sum()
    loss.backward(retain_graph=True)
    versions = [p._version for p in layer.parameters()]
    opt.step()
    assert [p._version for p in layer.parameters()] == [v + 1 for v in versions]
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        loss.backward()  # the graph saw the weights before the step
    # Linear's input 1 is the weight: the graph recorded it at versions[0], the step moved it.
    assert f"version {versions[0] + 1}, expected {versions[0]}" in str(info.value)
    assert "one of the variables needed for gradient computation" in str(info.value)
    # A forward after the step records the new versions: training goes on.
    opt.zero_grad()
    (layer(x) ** 2).sum().backward()
    opt.step()


def test_every_optimizer_bumps_the_version() -> None:
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.Adagrad, optim.RMSprop):
        w = leaf()
        w.grad = am.tensor(np.ones(3))
        cls([w], lr=0.1).step()
        assert w._version == 1, cls.__name__


def test_version_error_names_op_input_shape_and_versions() -> None:
    x = am.tensor(np.ones((2, 3)))
    w = am.tensor(np.ones((3, 4)), requires_grad=True)
    y = x @ w
    with no_grad():
        w.mul_(2.0)
    expected = (
        "MatMul.backward: input 1 of shape (3, 4) was modified by an in-place operation "
        "(version 1, expected 0)"
    )
    with pytest.raises(RuntimeError, match=expected.replace("(", "\\(").replace(")", "\\)")):
        y.sum().backward()


@pytest.mark.parametrize(("name", "call", "ref"), INPLACE, ids=IDS)
def test_each_inplace_op_between_forward_and_backward_raises(
    name: str, call: Any, ref: Any
) -> None:
    w = leaf()
    loss = (w * w).sum()
    with no_grad():
        call(w)
    with pytest.raises(RuntimeError, match=f"Mul.backward: input 0 of shape .* {MODIFIED}"):
        loss.backward()
    x = leaf()
    with no_grad():
        call(x)  # changed before the op recorded it: fine
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data, rtol=1e-15)


def test_modified_input_of_a_constant_operand_raises_too() -> None:
    w = leaf()
    c = am.tensor(np.array([1.0, 2.0, 3.0]))  # does not require grad: the other operand
    y = (w * c).sum()
    c.add_(1.0)  # allowed (c requires no grad), but Mul needs c for w's gradient
    with pytest.raises(RuntimeError, match="Mul.backward: input 1 of shape \\(3,\\)"):
        y.backward()


def test_modified_output_raises_when_backward_reads_it() -> None:
    x = leaf()
    y = x.exp()  # Exp's backward reads its output
    with no_grad():
        y.add_(1.0)
    with pytest.raises(
        RuntimeError,
        match=f"Exp.backward: its output of shape \\(3,\\) was {MODIFIED} \\(version 1, "
        "expected 0\\)",
    ):
        y.sum().backward()


def test_grad_and_second_backward_check_versions() -> None:
    w = leaf()
    loss = (w**3).sum()
    (g,) = am.grad(loss, w, create_graph=True)
    with no_grad():
        w.sub_(1.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        am.grad(g.sum(), w)


def test_a_change_of_the_base_is_seen_through_its_views() -> None:
    w = leaf(np.ones((2, 3)))
    v = w.reshape(3, 2)  # a view of w's memory: it shares w's counter, as in PyTorch
    y = (v * v).sum()
    with no_grad():
        w.add_(1.0)
    assert v.version == w.version == 1
    with pytest.raises(
        RuntimeError, match=f"Mul.backward: input 0 of shape \\(3, 2\\) was {MODIFIED}"
    ):
        y.backward()


def test_a_change_through_a_view_is_seen_by_ops_that_used_the_base() -> None:
    w = leaf(np.ones(3))
    y = (w * w).sum()
    with no_grad():
        w.detach()[1:].add_(1.0)  # through a view of a view
    with pytest.raises(
        RuntimeError, match=f"Mul.backward: input 0 of shape \\(3,\\) was {MODIFIED}"
    ):
        y.backward()


@pytest.mark.parametrize(
    "view",
    [
        lambda c: c.reshape(3),
        lambda c: c[0],
        lambda c: c.T.reshape(3),
        lambda c: c.detach().reshape(3),
        lambda c: c.unsqueeze(0)[0, 0],
    ],
)
def test_a_constant_changed_after_its_view_was_used_is_caught(view: Any) -> None:
    c = Tensor(np.array([[1.0, 2.0, 3.0]]))  # requires no grad: its views are not recorded
    w = leaf(np.ones(3))
    y = (w * view(c)).sum()
    c.mul_(10)  # PyTorch raises at backward; the gradient would silently be 10x
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_a_fresh_result_does_not_share_its_inputs_counter() -> None:
    c = Tensor(np.ones(3))
    d = c * 2
    c.mul_(3)
    assert d.version == 0 and c.version == 1


def test_data_writes_are_not_tracked() -> None:
    """Documented, as in PyTorch: only the in-place methods count."""
    w = leaf()
    y = (w * w).sum()
    w.data[0] = 10.0
    assert w._version == 0
    y.backward()  # no error, and the gradient uses the new value
    np.testing.assert_array_equal(w.grad.data, 2 * np.array([10.0, -3.0, 2.0]))


def test_version_is_read_only() -> None:
    t = am.tensor([1.0])
    with pytest.raises(AttributeError):
        t._version = 3  # type: ignore[misc]  # the point of the test
    with pytest.raises(AttributeError):
        t.version = 3  # type: ignore[misc]  # the point of the test
    assert t.detach()._version == 0


# ----- leaf gradients own their memory -----


def _no_sharing(*arrays: np.ndarray) -> None:
    for i, a in enumerate(arrays):
        for b in arrays[i + 1 :]:
            assert not np.shares_memory(a, b)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize(
    "f",
    [
        lambda x, y: x + y,
        lambda x, y: x - y,
        lambda x, y: (x + y) + x,
        lambda x, y: y + x.reshape(2, 3),
    ],
    ids=["add", "sub", "add-twice", "add-reshape"],
)
def test_leaf_grads_never_share_memory(f: Any, create_graph: bool) -> None:
    x, y = leaf(np.ones((2, 3))), leaf(np.ones((2, 3)))
    upstream = np.full((2, 3), 2.0)
    given = upstream.copy()
    f(x, y).backward(upstream, create_graph=create_graph)
    assert x.grad is not None and y.grad is not None
    _no_sharing(x.grad.data, y.grad.data, upstream)
    np.testing.assert_array_equal(upstream, given)
    gy = y.grad.data.copy()
    with no_grad():
        x.grad.zero_()
        x.grad += 5.0
    np.testing.assert_array_equal(y.grad.data, gy)  # the other leaf's gradient untouched
    np.testing.assert_array_equal(upstream, given)  # and the caller's array


def test_leaf_grad_is_not_the_callers_array() -> None:
    x = leaf()
    upstream = np.array([1.0, 2.0, 3.0])
    (x * 1.0).backward(upstream)
    assert x.grad is not None
    _no_sharing(x.grad.data, upstream)
    z = leaf()
    g = am.tensor(np.array([1.0, 1.0, 1.0]))
    z.backward(g)  # the root itself a leaf: its grad is not the caller's tensor
    assert z.grad is not None and z.grad is not g
    _no_sharing(z.grad.data, g.data)


# ----- parity with PyTorch -----

TORCH_SEQUENCE: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("add_", (OTHER,), {}),
    ("add_", (OTHER,), {"alpha": -3.0}),
    ("sub_", (2.0,), {}),
    ("sub_", (OTHER,), {"alpha": 0.5}),
    ("mul_", (OTHER,), {}),
    ("div_", (OTHER,), {}),
    ("__iadd__", (OTHER,), {}),
    ("__isub__", (1.5,), {}),
    ("__imul__", (OTHER,), {}),
    ("__itruediv__", (4.0,), {}),
    ("pow_", (2.0,), {}),
    ("__ipow__", (np.array([1.0, 3.0, 0.5]),), {}),
    ("clamp_", (-1.0, 1.5), {}),
    ("clamp_", (), {"min": 0.25}),
    ("clip_", (), {"max": 1.0}),
    ("copy_", (OTHER,), {}),
    ("fill_", (7.5,), {}),
    ("zero_", (), {}),
]


def test_values_versions_and_errors_match_torch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = am.tensor(X0.copy()), torch.tensor(X0.copy())
    for name, args, kwargs in TORCH_SEQUENCE:
        a = [am.tensor(x) if isinstance(x, np.ndarray) else x for x in args]
        t = [torch.tensor(x) if isinstance(x, np.ndarray) else x for x in args]
        assert getattr(ours, name)(*a, **kwargs) is ours
        assert getattr(theirs, name)(*t, **kwargs) is theirs
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-15, err_msg=name)
        assert ours._version == theirs._version, name
    w, tw = leaf(), torch.tensor(X0.copy(), requires_grad=True)
    with pytest.raises(RuntimeError) as theirs_error:
        tw.add_(1.0)
    assert LEAF_MESSAGE in str(theirs_error.value)
    with pytest.raises(RuntimeError, match=LEAF_MESSAGE):
        w.add_(1.0)
    with torch.no_grad():
        tw -= 0.5
    with no_grad():
        w -= 0.5
    assert tw.is_leaf and tw.requires_grad and w.is_leaf and w.requires_grad
    assert w._version == tw._version == 1
    tloss, loss = (tw * tw).sum(), (w * w).sum()
    with torch.no_grad():
        tw.mul_(2.0)
    with no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError) as theirs_error:
        tloss.backward()
    assert "modified by an inplace operation" in str(theirs_error.value)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
