"""The engine: graph traversal, backward, higher-order gradients, grad mode, memory."""

from __future__ import annotations

import ast
import gc
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Function, Tensor, grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd_mnist.autograd import topo_order


def leaf(values: Any, dtype: Any = np.float64, name: str | None = None) -> Tensor:
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True, name=name)


def grad_of(f: Callable[[Tensor], Tensor], x: np.ndarray) -> np.ndarray:
    """Gradient of a scalar f at x (float64), by one backward."""
    t = leaf(x)
    f(t).backward()
    assert t.grad is not None
    return t.grad.data


# ----- graph shapes -----


def test_diamond_graph_sums_both_paths() -> None:
    x = leaf([1.0, -2.0, 3.0])
    a, b = x * 2.0, x * 3.0  # two paths from x ...
    (a * b).sum().backward()  # ... joined again: y = 6 x^2
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, 12 * x.data)


def test_tensor_used_twice_in_one_op_and_shared_intermediate() -> None:
    x = leaf([0.5, -1.5])
    (x + x).sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])
    x.zero_grad()
    h = x * x
    (h + h * h).sum().backward()  # d/dx (h + h^2) = (1 + 2h) 2x
    np.testing.assert_allclose(x.grad.data, (1 + 2 * x.data**2) * 2 * x.data)


def test_topo_order_puts_each_node_before_its_inputs() -> None:
    x = leaf([1.0, 2.0])
    a, b = x * 2.0, x + 1.0
    y = (a * b).sum()
    order = topo_order([y])
    position = {id(t): i for i, t in enumerate(order)}
    assert order[0] is y and order[-1] is x
    assert len(order) == 5  # y, a*b, a, b, x (constants do not require grad)
    for t in order:
        for p in t.grad_fn.inputs if t.grad_fn else ():
            if p.requires_grad:
                assert position[id(p)] > position[id(t)]


def test_ten_thousand_op_chain_backward_without_recursion() -> None:
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, [1.0001**10_000] * 2, rtol=1e-9)


def test_dropping_a_long_unused_chain_is_safe() -> None:
    x = leaf([1.0])
    y = x
    for _ in range(50_000):
        y = y + 1.0
    del y  # deallocation must not recurse 50,000 levels deep
    gc.collect()


# ----- higher-order gradients -----


def test_second_derivative_of_cube() -> None:
    x = leaf(2.0)
    (g,) = grad(x**3, x, create_graph=True)
    (g2,) = grad(g, x)
    assert g.item() == pytest.approx(12.0)  # 3 x^2
    assert g2.item() == pytest.approx(12.0)  # 6 x
    assert not g2.requires_grad


def test_second_derivative_through_backward_create_graph() -> None:
    x = leaf(-1.5)
    (x**3).backward(create_graph=True)
    assert x.grad is not None and x.grad.requires_grad
    first = x.grad
    x.zero_grad()
    first.backward()
    assert x.grad.item() == pytest.approx(6 * -1.5)


def test_third_derivatives() -> None:
    x = leaf([1.5, -0.5, 0.25])
    (g1,) = grad((x**4).sum(), x, create_graph=True)
    (g2,) = grad(g1.sum(), x, create_graph=True)
    (g3,) = grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, 24 * x.data)
    # tanh''' = -2 (1 - t^2)(1 - 3 t^2)
    (d1,) = grad(x.tanh().sum(), x, create_graph=True)
    (d2,) = grad(d1.sum(), x, create_graph=True)
    (d3,) = grad(d2.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(d3.data, -2 * (1 - t**2) * (1 - 3 * t**2), rtol=1e-12)


def test_hessian_vector_product_matches_finite_differences(rng: np.random.Generator) -> None:
    A = rng.standard_normal((4, 4))
    x0, v = rng.standard_normal(4), rng.standard_normal(4)

    def f(x: Tensor) -> Tensor:
        return (x.tanh() * x**2).sum() + 0.5 * (x @ (Tensor(A) @ x)) + (x * 0.3).exp().sum()

    x = leaf(x0)
    (g,) = grad(f(x), x, create_graph=True)
    (hv,) = grad((g * Tensor(v)).sum(), x)
    eps = 1e-5
    fd = (grad_of(f, x0 + eps * v) - grad_of(f, x0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.data, fd, rtol=1e-6, atol=1e-8)


def test_gradient_penalty_with_create_graph(rng: np.random.Generator) -> None:
    x0, w0 = rng.standard_normal(3), rng.standard_normal(3)

    def penalty(w: Tensor, create_graph: bool) -> Tensor:
        x = leaf(x0)
        (gx,) = grad((x * w).tanh().sum(), x, create_graph=create_graph)
        return (gx * gx).sum()  # ||dL/dx||^2, a function of w

    w = leaf(w0)
    (gw,) = grad(penalty(w, True), w)

    def value(wa: np.ndarray) -> float:
        return float(penalty(leaf(wa), False).item())

    eps = 1e-6
    fd = [(value(w0 + eps * e) - value(w0 - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(gw.data, fd, rtol=1e-6, atol=1e-9)


# ----- backward semantics -----


def test_two_backward_calls_accumulate_with_retain_graph() -> None:
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, 2 * 2 * x.data)
    (x * 3.0).sum().backward()  # a new graph adds to it too
    np.testing.assert_allclose(x.grad.data, 4 * x.data + 3)
    x.zero_grad()
    assert x.grad is None


def test_backward_through_freed_graph_raises() -> None:
    x = leaf([1.0, 2.0])
    h = x.exp()
    y = (h * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="freed.*retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        h.sum().backward()  # an intermediate of the freed graph


def test_backward_on_non_scalar_needs_grad_and_names_shape() -> None:
    y = leaf(np.ones((2, 3))) * 2.0
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()


def test_backward_on_tensor_without_graph_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        am.tensor([1.0, 2.0]).sum().backward()


@pytest.mark.parametrize("as_tensor", [True, False])
def test_backward_with_explicit_grad(as_tensor: bool) -> None:
    x = leaf([1.0, 2.0, 3.0])
    g = np.array([0.5, -1.0, 2.0])
    (x * x).backward(Tensor(g) if as_tensor else g)
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, 2 * x.data * g)


def test_backward_rejects_wrong_grad_shape_and_dtype() -> None:
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(np.ones(3))
    with pytest.raises(TypeError, match="float32.*float64"):
        y.backward(Tensor(np.ones(2, dtype=np.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaf_grad_is_a_plain_tensor_of_the_data_dtype(dtype: Any) -> None:
    w = leaf(np.ones((2, 3)), dtype=dtype)
    b = leaf(np.zeros(3), dtype=dtype)  # broadcast over rows: grad summed back to (3,)
    ((w + b) * 2.0).sum().backward()
    for t, expected in ((w, np.full((2, 3), 2.0)), (b, np.full(3, 4.0))):
        assert isinstance(t.grad, Tensor)
        assert not t.grad.requires_grad and t.grad.is_leaf
        assert t.grad.dtype == dtype and t.grad.shape == t.shape
        np.testing.assert_array_equal(np.asarray(t.grad), expected)
        assert t.grad.data.flags.writeable


def test_only_leaves_that_require_grad_get_grad() -> None:
    x = leaf([1.0, 2.0])
    c = Tensor(np.array([3.0, 4.0]))
    h = x * c
    h.sum().backward()
    assert h.grad is None and c.grad is None
    assert x.grad is not None


def test_int_leaf_requiring_grad_becomes_float32() -> None:
    t = Tensor(np.arange(3), requires_grad=True)
    (t * 2.0).sum().backward()
    assert t.dtype == np.float32 and t.grad is not None and t.grad.dtype == np.float32


# ----- grad() -----


def test_grad_multiple_inputs_and_outputs_leaves_dot_grad_alone() -> None:
    a, b = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    ga, gb = grad((a * b + a).sum(), [a, b])
    np.testing.assert_allclose(ga.data, b.data + 1)
    np.testing.assert_allclose(gb.data, a.data)
    assert a.grad is None and b.grad is None
    (gsum,) = grad([(a * 2.0).sum(), (a * a).sum()], [a])  # several outputs add up
    np.testing.assert_allclose(gsum.data, 2 + 2 * a.data)


def test_grad_with_respect_to_an_intermediate() -> None:
    x = leaf([1.0, 2.0])
    h = x * 3.0
    (gh,) = grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.data, 2 * h.data)


def test_grad_allow_unused() -> None:
    a, b = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) is not used"):
        grad((a * 2.0).sum(), [a, b])
    ga, gb = grad((a * 2.0).sum(), [a, b], allow_unused=True)
    assert gb is None and ga.item() == pytest.approx(2.0)


def test_grad_without_create_graph_frees_the_graph() -> None:
    x = leaf([1.0])
    y = (x * x).sum()
    grad(y, x)
    with pytest.raises(RuntimeError, match="freed"):
        grad(y, x)


# ----- a user-defined Function -----


class WrongShape(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * 2

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        return Tensor(np.ones(3, dtype=g.dtype))


class WrongCount(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * 2

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, Tensor]:
        return g, g


class Double(Function):
    """y = 2 x;  dy/dx = 2."""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * 2

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        return g * 2.0


def test_custom_function_works() -> None:
    x = leaf([1.0, 2.0])
    y = Double.apply(x)
    assert type(y.grad_fn).__name__ == "Double"
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])


def test_custom_backward_with_wrong_shape_names_op_input_and_shapes() -> None:
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongShape.*input 0.*\(3,\).*\(2,\)"):
        WrongShape.apply(x).sum().backward()


def test_custom_backward_with_wrong_count_raises() -> None:
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="WrongCount.*2 gradients.*1"):
        WrongCount.apply(x).sum().backward()


@pytest.mark.parametrize("module", ["autograd", "function", "grad_mode"])
def test_engine_imports_neither_tensor_nor_ops(module: str) -> None:
    """The walk, Function and grad mode work on the tensors they are given (tensor.py
    registers its constructors with Function): no import of tensor or ops, at module level
    or inside a function, except for type hints."""
    tree = ast.parse((Path(am.__file__).parent / f"{module}.py").read_text())
    hints = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING"
    ]
    hinted = {id(i) for h in hints for i in ast.walk(h)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in hinted:
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names]
            assert not any(
                n.startswith(("autograd_mnist.tensor", "autograd_mnist.ops"))
                or n in ("tensor", "ops")
                for n in names
            ), ast.unparse(node)


# ----- memory -----


def test_graph_memory_is_freed_after_backward() -> None:
    x = leaf(np.ones(1000))
    h = x * 2.0
    ref = weakref.ref(h)
    y = (h.relu() * 3.0).sum()
    del h
    assert ref() is not None  # the graph holds it
    y.backward()
    assert ref() is None  # freed by refcounting alone, without gc.collect()
    assert y.grad_fn is not None and y.grad_fn.inputs == () and y.grad_fn.saved == ()
    assert y.grad_fn.freed


def test_retain_graph_keeps_intermediates_alive() -> None:
    x = leaf(np.ones(10))
    h = x * 2.0
    ref = weakref.ref(h)
    y = h.sum()
    del h
    y.backward(retain_graph=True)
    assert ref() is not None
    del y
    assert ref() is None


# ----- versions -----


def test_recorded_ops_keep_their_inputs_versions() -> None:
    a, b, c = leaf([1.0]), leaf([2.0]), leaf([3.0])
    with no_grad():
        a.add_(1.0)  # version 1 before anything is recorded: fine
    y1, y2, y3 = a.exp(), a * b, am.cat([a, b, c])
    for y, versions in ((y1, (1,)), (y2, (1, 0)), (y3, (1, 0, 0))):
        assert y.grad_fn is not None and y.grad_fn._versions == versions
    with no_grad():
        c.mul_(2.0)
    (y1 + y2).sum().backward()  # c is not in their graphs
    assert a.grad is not None
    np.testing.assert_allclose(a.grad.data, np.exp(2.0) + 2.0, rtol=1e-15)
    expected = "Cat.backward: input 2 of shape \\(1,\\) .*\\(version 1, expected 0\\)"
    with pytest.raises(RuntimeError, match=expected):
        y3.sum().backward()
    with no_grad():
        y4 = a * 2.0
    assert y4.grad_fn is None  # nothing recorded, no versions kept


# ----- grad mode -----


def test_no_grad_records_nothing() -> None:
    x = leaf([1.0, 2.0])
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2.0
    assert is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_restores_flag_after_exception() -> None:
    with pytest.raises(ZeroDivisionError), no_grad():
        1 / 0  # noqa: B018
    assert is_grad_enabled()


def test_no_grad_nests_and_works_as_decorator() -> None:
    @no_grad()
    def double(t: Tensor) -> tuple[Tensor, bool]:
        return t * 2.0, is_grad_enabled()

    x = leaf([1.0])
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()  # the inner exit restores "off", not "on"
        y, inside = double(x)
        assert not is_grad_enabled()
    assert is_grad_enabled()
    y, inside = double(x)
    assert not inside and not y.requires_grad and is_grad_enabled()
    assert double.__name__ == "double"

    @no_grad()
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail()
    assert is_grad_enabled()


def test_set_grad_enabled() -> None:
    x = leaf([1.0])
    with no_grad():
        with set_grad_enabled(True):
            assert (x * 2.0).requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled()
