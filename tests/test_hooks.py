"""Hooks with PyTorch's semantics: Tensor.register_hook, retain_grad, forward pre-hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_mnist as am
from autograd_mnist import Tensor, nn
from autograd_mnist.hooks import RemovableHandle

_VALUES = hnp.arrays(np.float64, st.integers(1, 4), elements=st.floats(-2.0, 2.0))
_SCALES = st.floats(-3.0, 3.0).filter(lambda c: abs(c) > 0.1)


def _run(lib: Any, x0: np.ndarray, c: float) -> dict[str, Any]:
    """One graph, run with ``lib`` (``autograd_mnist`` or ``torch``): hooks on the root, a
    non-leaf used twice (a hook that scales its gradient, one that only watches, and
    retain_grad between them) and the leaf (a hook adding 1). Returns what the hooks saw,
    the leaf's and the non-leaf's ``.grad``."""
    seen: list[tuple[str, np.ndarray]] = []

    def watch(name: str, out: Callable[[Any], Any] = lambda g: None) -> Callable[[Any], Any]:
        def hook(g: Any) -> Any:
            seen.append((name, np.array(g.detach().numpy())))
            return out(g)

        return hook

    x = lib.tensor(x0, requires_grad=True)
    y = (x * x).tanh()
    z = (y * 3.0 + y * y).sum()
    y.register_hook(watch("y scale", lambda g: g * c))
    y.retain_grad()
    y.register_hook(watch("y watch"))
    z.register_hook(watch("root"))
    x.register_hook(watch("leaf", lambda g: g + 1.0))
    z.backward()
    return {
        "seen": seen,
        "x.grad": x.grad.detach().numpy().copy(),
        "y.grad": y.grad.detach().numpy().copy(),
        "retains": (x.retains_grad, y.retains_grad),
    }


@given(_VALUES, _SCALES)
def test_hook_values_replacements_and_retained_grads_match_torch(x0: np.ndarray, c: float) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _run(am, x0, c), _run(torch, x0, c)
    assert [n for n, _ in ours["seen"]] == [n for n, _ in theirs["seen"]]
    assert [n for n, _ in ours["seen"]] == ["root", "y scale", "y watch", "leaf"]
    for (_, a), (_, b) in zip(ours["seen"], theirs["seen"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for key in ("x.grad", "y.grad"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, atol=1e-12)
    assert ours["retains"] == theirs["retains"] == (False, True)


@given(_VALUES, _SCALES)
def test_hooks_against_the_chain_rule(x0: np.ndarray, c: float) -> None:
    """Without torch: a hook scaling y's gradient by c scales x's by c (the leaf's +1
    comes after), and the retained y.grad is the scaled one."""
    out = _run(am, x0, c)
    y = np.tanh(x0 * x0)
    dy = 3.0 + 2.0 * y
    np.testing.assert_allclose(out["y.grad"], c * dy, rtol=1e-12)
    np.testing.assert_allclose(out["x.grad"], c * dy * (1 - y**2) * 2 * x0 + 1.0, rtol=1e-12)


def test_autograd_grad_runs_hooks_as_torch() -> None:
    """grad(): a leaf input's gradient is returned after its hooks, a non-leaf input's
    before its hooks (whose result still flows on), and retain_grad fills .grad."""

    def run(lib: Any) -> list[np.ndarray]:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2.0
        y.retain_grad()
        x.register_hook(lambda g: g + 1.0)
        y.register_hook(lambda g: g * 10.0)
        gx, gy = lib.autograd.grad((y**2).sum(), [x, y])
        return [gx.numpy(), gy.numpy(), y.grad.numpy(), np.array(x.grad is None)]

    ours = run(am)
    np.testing.assert_array_equal(ours[0], [81.0, 161.0])
    np.testing.assert_array_equal(ours[1], [4.0, 8.0])
    np.testing.assert_array_equal(ours[2], [40.0, 80.0])
    assert ours[3]
    torch = pytest.importorskip("torch")
    for a, b in zip(ours, run(torch)):
        np.testing.assert_array_equal(a, b)


def test_order_remove_and_a_hook_on_a_leaf_runs_before_accumulation() -> None:
    x = am.tensor([1.0], requires_grad=True)
    calls: list[str] = []
    h1 = x.register_hook(lambda g: calls.append("first") or g * 3.0)
    x.register_hook(lambda g: calls.append("second"))
    (x * 2.0).sum().backward()
    (x * 2.0).sum().backward()
    assert calls == ["first", "second"] * 2
    assert x.grad is not None and x.grad.item() == 12.0  # each backward's 2, tripled, added
    h1.remove()
    h1.remove()  # twice: nothing
    (x * 2.0).sum().backward()
    assert x.grad.item() == 14.0
    assert isinstance(h1, RemovableHandle)
    with x.register_hook(lambda g: g * 0.0):
        (x * 2.0).sum().backward()
    assert x.grad.item() == 14.0  # the hook zeroed it
    (x * 2.0).sum().backward()
    assert x.grad.item() == 16.0  # removed on leaving the with block


def test_a_tensor_used_twice_sees_its_total_gradient_once() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    seen: list[list[float]] = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    (y * 2.0 + y * 3.0).sum().backward()
    assert seen == [[5.0, 5.0]]


def test_hooks_see_the_grad_mode_of_the_backward() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    flags: list[bool] = []
    y.register_hook(lambda g: flags.append(g.requires_grad))
    y.sum().backward(retain_graph=True)
    y.sum().backward(create_graph=True)
    assert flags == [False, False]  # the seed of y.sum() needs no grad: nothing to record
    flags.clear()
    (y * x).sum().backward(create_graph=True)  # y's gradient is x: it has a graph
    assert flags == [True]


@given(_VALUES, _SCALES)
def test_create_graph_second_order_through_a_hook_matches_torch(x0: np.ndarray, c: float) -> None:
    """A hook returning ``c * x * g`` on y = sin(x) * x: the first gradient is
    c * x * (cos(x) x + sin(x)); the second differentiates the hook's x too."""

    def run(lib: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = lib.tensor(x0, requires_grad=True)
        y = x.sin() * x
        y.retain_grad()
        y.register_hook(lambda g: g * x * c)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        yg = y.grad
        (h,) = lib.autograd.grad(g.sum() + (yg * yg).sum(), x)
        return g.detach().numpy().copy(), h.detach().numpy().copy(), yg.detach().numpy().copy()

    g, h, yg = run(am)
    x = x0
    np.testing.assert_allclose(g, c * x * (np.cos(x) * x + np.sin(x)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(yg, c * x, rtol=1e-12, atol=1e-12)
    first = c * (np.cos(x) * x + np.sin(x)) + c * x * (2 * np.cos(x) - np.sin(x) * x)
    np.testing.assert_allclose(h, first + 2 * c * c * x, rtol=1e-10, atol=1e-10)
    torch = pytest.importorskip("torch")
    for a, b in zip((g, h, yg), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_retain_grad_adds_up_keeps_its_own_memory_and_is_a_no_op_on_leaves() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = x + 0.0
    y.retain_grad()
    y.retain_grad()  # twice: once
    assert y.retains_grad and not x.retains_grad
    x.retain_grad()
    assert not x.retains_grad
    y.sum().backward(retain_graph=True)
    assert y.grad is not None and y.grad.tolist() == [1.0, 1.0]
    assert not np.shares_memory(y.grad.data, x.grad.data if x.grad is not None else 0)
    y.sum().backward()
    assert y.grad.tolist() == [2.0, 2.0] and not y.grad.requires_grad
    z = x.detach()
    assert z._hooks is None and not z.retains_grad


def test_errors() -> None:
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't"):
        am.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad"):
        am.tensor([1.0]).retain_grad()
    x = am.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="expected a callable"):
        x.register_hook(3)  # type: ignore[arg-type]

    def shrink(g: Tensor) -> Tensor:
        return g.sum()

    h = x.register_hook(shrink)
    with pytest.raises(RuntimeError, match=r"hook 'shrink' returned a gradient of shape \(\)"):
        (x * 2.0).sum().backward()
    h.remove()
    x.register_hook(lambda g: g.data)
    with pytest.raises(TypeError, match="returned a ndarray; expected a Tensor"):
        (x * 2.0).sum().backward()


# ----- module forward pre-hooks -----
def test_forward_pre_hooks_replace_inputs_in_order_and_are_removable() -> None:
    lin = nn.Linear(3, 2)
    x = am.randn(4, 3)
    order: list[str] = []

    def double(m: nn.Module, args: tuple[Any, ...]) -> Any:
        order.append("double")
        return args[0] * 2.0  # one value: becomes a 1-tuple

    def watch(m: nn.Module, args: tuple[Any, ...]) -> None:
        order.append("watch")
        assert m is lin and isinstance(args, tuple)

    h1 = lin.register_forward_pre_hook(double)
    lin.register_forward_pre_hook(watch)
    lin.register_forward_hook(lambda m, args, out: order.append("forward hook"))
    np.testing.assert_allclose(lin(x).data, (x.data * 2.0) @ lin.weight.data.T + lin.bias.data)
    assert order == ["double", "watch", "forward hook"]
    h1.remove()
    np.testing.assert_allclose(lin(x).data, x.data @ lin.weight.data.T + lin.bias.data)
    with lin.register_forward_pre_hook(lambda m, args: (args[0] * 0.0,)):  # a tuple
        np.testing.assert_allclose(lin(x).data, np.broadcast_to(lin.bias.data, (4, 2)))
    np.testing.assert_allclose(lin(x.data).data, x.data @ lin.weight.data.T + lin.bias.data)


def test_forward_pre_hook_gradients_match_torch() -> None:
    torch = pytest.importorskip("torch")
    w0 = np.random.default_rng(0).normal(size=(2, 3))
    x0 = np.random.default_rng(1).normal(size=(4, 3))

    def run(lib: Any, nn_mod: Any) -> np.ndarray:
        lin = nn_mod.Linear(3, 2, bias=False)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w0, dtype=lin.weight.dtype))
        lin.register_forward_pre_hook(lambda m, args: (args[0].tanh(),))
        x = lib.tensor(x0, dtype=lin.weight.dtype, requires_grad=True)
        (lin(x) ** 2).sum().backward()
        return np.asarray(x.grad.detach().numpy(), dtype=np.float64)

    np.testing.assert_allclose(run(am, nn), run(torch, torch.nn), rtol=1e-5, atol=1e-6)
