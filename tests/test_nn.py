"""nn: Module bookkeeping, state, summary; every layer against gradcheck and PyTorch.

Layers with parameters are gradchecked (first and second order) in float64 *through the
layer*: the float64 copies gradcheck makes are swapped in for the layer's parameters
inside ``fn``, so the layer's own ``forward`` (its stride, padding, mode) is what is
differentiated. PyTorch comparisons copy the same weights into torch's layer and compare
outputs and gradients (float32 to ~1e-5, float64 to 1e-10); they skip without torch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_mnist as am
from autograd_mnist import Tensor, gradcheck, gradgradcheck, nn
from autograd_mnist import functional as F
from autograd_mnist.testing import ConvGeometry, conv2d_geometries

# ----- helpers -----

DTYPES = [np.float32, np.float64]


def close(actual: Any, desired: Any, dtype: Any, err_msg: str = "") -> None:
    """assert_allclose at the dtype's tolerance (float32 ~1e-5, float64 1e-10)."""
    rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-12)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=err_msg)


class Block(nn.Module):
    """A custom module: a Parameter of its own, a nested Sequential and a head."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.body = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3))
        self.head = nn.Linear(3, 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.head(self.body(x) * self.scale)
        return out


def make_net() -> nn.Sequential:
    """Sequential(Block, Sequential(Linear)): three levels of nesting."""
    return nn.Sequential(Block(), nn.Sequential(nn.Linear(2, 2)))


NET_PARAMS = [
    "0.scale",
    "0.body.0.weight",
    "0.body.0.bias",
    "0.body.2.weight",
    "0.body.2.bias",
    "0.head.weight",
    "1.0.weight",
    "1.0.bias",
]
NET_BUFFERS = ["0.body.2.running_mean", "0.body.2.running_var"]


def r2_network() -> nn.Sequential:
    """R2's network (docs/reference_experiments.md): Conv2d(1, 16, 5, 'same') -> ReLU ->
    MaxPool 2 -> Flatten -> 1024 -> 10."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3136, 1024),
        nn.ReLU(),
        nn.Linear(1024, 10),
    )


def as_dtype(layer: nn.Module, dtype: Any) -> nn.Module:
    """Cast a layer's parameters (and buffers) to ``dtype`` in place; returns it."""
    for name, p in list(layer._parameters.items()):
        setattr(layer, name, nn.Parameter(p.data.astype(dtype)))
    for name in layer._buffers:
        setattr(layer, name, getattr(layer, name).astype(dtype))
    return layer


def through(layer: nn.Module, names: tuple[str, ...]) -> Callable[..., Tensor]:
    """fn(x, *params) running ``layer`` with ``params`` in place of its named parameters."""

    def fn(x: Tensor, *params: Tensor) -> Tensor:
        saved = {n: getattr(layer, n) for n in names}
        for n, p in zip(names, params):
            object.__setattr__(layer, n, p)  # bypass registration: a temporary swap
        try:
            out: Tensor = layer(x)
            return out
        finally:
            for n, v in saved.items():
                object.__setattr__(layer, n, v)

    fn.__qualname__ = f"{type(layer).__name__}.forward"
    return fn


def check_layer(layer: nn.Module, x: np.ndarray) -> None:
    """gradcheck and gradgradcheck of ``layer`` w.r.t. its input and every parameter."""
    names = tuple(layer._parameters)
    fn = through(layer, names)
    inputs = [x] + [getattr(layer, n).data for n in names]
    # The swap works: every input gets a nonzero gradient (else the checks would be vacuous).
    leaves = [Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in inputs]
    out = fn(*leaves)
    (out * Tensor(np.random.default_rng(2).standard_normal(out.shape))).sum().backward()
    assert all(np.any(g) for g in grads(*leaves))
    assert gradcheck(fn, *inputs)
    assert gradgradcheck(fn, *inputs)


def grads(*ts: Tensor) -> list[np.ndarray]:
    out = []
    for t in ts:
        assert t.grad is not None
        out.append(np.asarray(t.grad))
    return out


def import_torch(dtype: Any) -> tuple[Any, Any]:
    """torch (the test skips without it) and its dtype matching ``dtype``."""
    torch = pytest.importorskip("torch")
    return torch, (torch.float32 if dtype == np.float32 else torch.float64)


def param(module: nn.Module, name: str) -> nn.Parameter:
    return dict(module.named_parameters())[name]


def buffer(module: nn.Module, name: str) -> np.ndarray:
    return dict(module.named_buffers())[name]


def to_torch(torch: Any, a: np.ndarray, requires_grad: bool = False) -> Any:
    return torch.tensor(np.array(a), requires_grad=requires_grad)


def copy_params(ours: nn.Module, theirs: Any, torch: Any) -> None:
    with torch.no_grad():
        for name, p in ours._parameters.items():
            getattr(theirs, name).copy_(torch.from_numpy(p.data.copy()))


def compare_layer(
    ours: nn.Module, theirs: Any, x: np.ndarray, torch: Any, dtype: Any, seed: int = 1
) -> None:
    """Same weights: same output, input gradient and parameter gradients."""
    copy_params(ours, theirs, torch)
    xa = Tensor(x, requires_grad=True)
    xt = to_torch(torch, x, requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    close(ya.data, yt.detach().numpy(), dtype)
    w = np.random.default_rng(seed).standard_normal(ya.shape).astype(dtype)
    (ya * Tensor(w)).sum().backward()
    (yt * to_torch(torch, w)).sum().backward()
    close(grads(xa)[0], xt.grad.numpy(), dtype)
    for name, p in ours._parameters.items():
        close(grads(p)[0], getattr(theirs, name).grad.numpy(), dtype, err_msg=name)


# ----- registration and traversal -----


def test_named_parameters_are_dotted_and_in_registration_order() -> None:
    net = make_net()
    names = [n for n, _ in net.named_parameters()]
    assert names == NET_PARAMS
    params = net.parameters()
    assert isinstance(params, list)
    assert [id(p) for p in params] == [id(p) for _, p in net.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    assert [n for n, _ in net.named_buffers()] == NET_BUFFERS
    assert [n for n, _ in net.named_modules()] == [
        "",
        "0",
        "0.body",
        "0.body.0",
        "0.body.1",
        "0.body.2",
        "0.head",
        "1",
        "1.0",
    ]
    assert dict(net.named_parameters())["0.head.weight"].name == "weight"


def test_parameter_order_is_stable_across_instances() -> None:
    shapes = [[p.shape for p in make_net().parameters()] for _ in range(3)]
    assert shapes[0] == shapes[1] == shapes[2]
    assert shapes[0] == [(3,), (3, 4), (3,), (3,), (3,), (2, 3), (2, 2), (2,)]


def test_reassignment_replaces_and_none_unregisters() -> None:
    lin = nn.Linear(3, 2)
    new_w = nn.Parameter(np.zeros((2, 3), dtype=np.float32))
    lin.weight = new_w
    assert lin.parameters()[0] is new_w
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]  # keeps its place
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        lin.weight = Tensor(np.zeros((2, 3), dtype=np.float32))  # type: ignore[assignment]
    assert lin.parameters() == [new_w]  # as PyTorch: refused, nothing changed


def test_reassigning_a_buffer_keeps_it_registered() -> None:
    bn = nn.BatchNorm1d(2)
    bn.running_mean = np.full(2, 3.0, dtype=np.float32)
    state = bn.state_dict()
    assert "running_mean" in state
    np.testing.assert_array_equal(state["running_mean"], [3.0, 3.0])


def test_shared_module_parameters_are_listed_once() -> None:
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(net.parameters()) == 2
    assert "Total params: 6" in net.summary((1, 2))


def test_module_needs_super_init() -> None:
    class Bad(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(RuntimeError, match=r"super\(\).__init__"):
        Bad()


def test_forward_must_be_defined() -> None:
    with pytest.raises(NotImplementedError, match="Module"):
        nn.Module()(Tensor(np.zeros(1)))


def test_children_are_direct_submodules_in_order() -> None:
    net = make_net()
    kids = list(net.children())
    assert [type(k).__name__ for k in kids] == ["Block", "Sequential"]
    assert [type(k).__name__ for k in kids[0].children()] == ["Sequential", "Linear"]
    assert list(nn.ReLU().children()) == []
    assert len(list(net.modules())) == 9


def test_sequential_indexing_and_type_check() -> None:
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    with pytest.raises(TypeError, match="item 1 is int"):
        nn.Sequential(nn.ReLU(), 3)  # type: ignore[arg-type]


def test_train_eval_propagate_to_every_submodule() -> None:
    net = make_net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net[0].eval()  # only a subtree
    modes = {name: m.training for name, m in net.named_modules()}
    assert modes == {name: name in ("", "1", "1.0") for name in modes}
    net.train(False)
    assert not any(m.training for m in net.modules())


def test_zero_grad_sets_none(rng: np.random.Generator) -> None:
    net = make_net()
    net(Tensor(rng.standard_normal((5, 4)).astype(np.float32))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# ----- state -----


def test_state_dict_round_trip_with_batchnorm_buffers(rng: np.random.Generator) -> None:
    src = make_net()
    x = Tensor(rng.standard_normal((6, 4)).astype(np.float32))
    for _ in range(2):
        src(x)  # training: updates the running statistics
    state = src.state_dict()
    assert list(state) == NET_PARAMS[:5] + NET_BUFFERS + NET_PARAMS[5:]  # torch's order
    assert not np.allclose(state["0.body.2.running_mean"], 0)
    assert all(isinstance(v, np.ndarray) for v in state.values())
    # copies: changing the model afterwards does not change the saved state
    saved = {k: v.copy() for k, v in state.items()}
    param(src, "0.scale").data += 1
    src(x)
    assert all(np.array_equal(saved[k], state[k]) for k in state)

    dst = make_net()
    dst.load_state_dict(state)
    for k, v in dst.state_dict().items():
        np.testing.assert_array_equal(v, state[k], err_msg=k)
    src.load_state_dict(state)
    src.eval()
    dst.eval()
    np.testing.assert_array_equal(src(x).data, dst(x).data)
    # loading copies too: the model does not alias the dict's arrays
    state["1.0.bias"][...] = 42
    assert not np.any(param(dst, "1.0.bias").data == 42)


def test_load_state_dict_strict_names_every_problem_and_changes_nothing() -> None:
    net = make_net()
    before = net.state_dict()
    bad = make_net().state_dict()
    del bad["0.head.weight"]
    del bad["0.body.2.running_var"]
    bad["0.extra.weight"] = np.zeros(2, dtype=np.float32)
    bad["1.0.weight"] = np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(ValueError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    for key in ("0.head.weight", "0.body.2.running_var", "0.extra.weight", "1.0.weight"):
        assert key in msg
    assert "missing" in msg and "unexpected" in msg and "(3, 2)" in msg and "(2, 2)" in msg
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_load_state_dict_non_strict_ignores_missing_and_unexpected() -> None:
    net = make_net()
    before = net.state_dict()
    partial = {"1.0.bias": np.array([5.0, 6.0]), "not.a.key": np.zeros(3)}
    net.load_state_dict(partial, strict=False)
    after = net.state_dict()
    np.testing.assert_array_equal(after["1.0.bias"], [5.0, 6.0])
    assert after["1.0.bias"].dtype == np.float32  # cast to the parameter's dtype
    assert all(np.array_equal(after[k], before[k]) for k in before if k != "1.0.bias")
    with pytest.raises(ValueError, match="shape"):  # shapes are checked even when lenient
        net.load_state_dict({"1.0.bias": np.zeros(3)}, strict=False)
    with pytest.raises(ValueError, match="missing"):
        net.load_state_dict(partial)


# ----- description -----


def test_repr_nests_and_shows_settings() -> None:
    net = nn.Sequential(
        nn.Sequential(nn.Linear(4, 3), nn.ReLU()),
        nn.Conv2d(1, 2, 3, stride=2, padding=(1, 0), bias=False),
        nn.Dropout(0.25),
        nn.BatchNorm2d(2),
    )
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (1): Conv2d(1, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 0), bias=False)\n"
        "  (2): Dropout(p=0.25, inplace=False)\n"
        "  (3): BatchNorm2d(2, eps=1e-05, momentum=0.1)\n"
        ")"
    )
    assert repr(nn.Parameter(np.zeros(1))).startswith("Parameter containing:\n")


def test_summary_of_r2_network() -> None:
    net = r2_network()
    assert sum(p.numel() for p in net.parameters()) == 3_222_954
    text = net.summary((2, 1, 28, 28))
    rows = {
        "0 (Conv2d)": ("(2, 16, 28, 28)", "416"),
        "1 (ReLU)": ("(2, 16, 28, 28)", "0"),
        "2 (MaxPool2d)": ("(2, 16, 14, 14)", "0"),
        "3 (Flatten)": ("(2, 3136)", "0"),
        "4 (Linear)": ("(2, 1024)", "3,212,288"),
        "5 (ReLU)": ("(2, 1024)", "0"),
        "6 (Linear)": ("(2, 10)", "10,250"),
    }
    lines = text.splitlines()
    for layer, (shape, count) in rows.items():
        (line,) = [ln for ln in lines if ln.startswith(layer)]
        assert shape in line and line.split()[-1] == count
    assert "Total params: 3,222,954" in lines
    assert "Trainable params: 3,222,954" in lines


def test_summary_keeps_modes_and_records_no_graph() -> None:
    net = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5), nn.BatchNorm1d(2))
    net[2].eval()
    modes = [m.training for m in net.modules()]
    state = net.state_dict()
    net.summary((4, 3))
    assert [m.training for m in net.modules()] == modes
    for k, v in net.state_dict().items():  # eval mode: running stats untouched
        np.testing.assert_array_equal(v, state[k])
    assert all(p.grad is None for p in net.parameters())


# ----- forward hooks -----


def test_forward_hooks_run_in_order_and_see_module_inputs_output() -> None:
    layer = nn.Linear(3, 2)
    calls: list[tuple[str, Any, Any, Any]] = []
    h1 = layer.register_forward_hook(lambda m, i, o: calls.append(("a", m, i, o)))
    h2 = layer.register_forward_hook(lambda m, i, o: calls.append(("b", m, i, o)))
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    y = layer(x)
    assert [c[0] for c in calls] == ["a", "b"]
    for _, m, inputs, out in calls:
        assert m is layer and out is y
        assert isinstance(inputs, tuple) and len(inputs) == 1 and inputs[0] is x
    h1.remove()
    h1.remove()  # a second removal does nothing
    calls.clear()
    layer(x)
    assert [c[0] for c in calls] == ["b"]
    with h2:  # a handle is also a context manager
        pass
    calls.clear()
    layer(x)
    assert calls == [] and not layer._forward_hooks


def test_forward_hook_can_replace_the_output() -> None:
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    seen: list[Any] = []
    net[0].register_forward_hook(lambda m, i, o: o * 0.0 - 1.0)  # replaced...
    net[0].register_forward_hook(lambda m, i, o: seen.append(o.data.copy()))  # None: kept
    out = net(Tensor(np.ones((2, 3), dtype=np.float32)))
    np.testing.assert_array_equal(seen[0], -np.ones((2, 2)))  # later hooks see the new one
    np.testing.assert_array_equal(out.data, np.zeros((2, 2)))  # ...and so does the caller


def test_hooks_are_per_module() -> None:
    a, b = nn.ReLU(), nn.ReLU()
    seen: list[nn.Module] = []
    a.register_forward_hook(lambda m, i, o: seen.append(m))
    x = Tensor(np.ones(2))
    b(x)
    a(x)
    assert seen == [a]


def test_summary_removes_its_hooks_even_when_forward_fails() -> None:
    net = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5), nn.Linear(5, 1))  # 2 -> 5: fails
    net.train()
    with pytest.raises(ValueError):
        net.summary((4, 3))
    assert all(not m._forward_hooks for m in net.modules())
    assert all(m.training for m in net.modules())
    ok = nn.Sequential(nn.Linear(3, 2))
    own = ok[0].register_forward_hook(lambda m, i, o: None)
    ok.summary((1, 3))
    assert list(ok[0]._forward_hooks) == [own.id]  # the user's hook is kept


# ----- layers are classes of their own; sizes are checked when a layer is built -----


def test_sibling_layers_do_not_subclass_each_other() -> None:
    assert not isinstance(nn.AvgPool2d(2), nn.MaxPool2d)
    assert not isinstance(nn.MaxPool2d(2), nn.AvgPool2d)
    assert not isinstance(nn.Softmax(1), nn.LogSoftmax)
    assert not isinstance(nn.NLLLoss(), nn.CrossEntropyLoss)
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.MaxPool2d((2, 3))) == "MaxPool2d(kernel_size=(2, 3), stride=None, padding=0)"
    assert nn.Softmax(0).dim == 0 and nn.NLLLoss("sum").reduction == "sum"


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.Conv2d(1, 2, 0), ValueError, "Conv2d: kernel_size must be >= 1; got 0"),
        (lambda: nn.Conv2d(1, 2, (3, 0)), ValueError, "Conv2d: kernel_size must be >= 1"),
        (lambda: nn.Conv2d(1, 2, 3, stride=0), ValueError, "Conv2d: stride must be >= 1"),
        (lambda: nn.Conv2d(1, 2, 3, padding=-1), ValueError, "Conv2d: padding must be >= 0"),
        (lambda: nn.Conv2d(1, 2, (3, 3, 3)), TypeError, "Conv2d: kernel_size must be an int"),
        (lambda: nn.Conv2d(1, 2, 2.5), TypeError, "Conv2d: kernel_size must be an int"),
        (lambda: nn.MaxPool2d(0), ValueError, "MaxPool2d: kernel_size must be >= 1"),
        (lambda: nn.MaxPool2d(2, stride=0), ValueError, "MaxPool2d: stride must be >= 1"),
        (lambda: nn.AvgPool2d(2, padding=-1), ValueError, "AvgPool2d: padding must be >= 0"),
        (lambda: nn.AvgPool2d((2, 2, 2)), TypeError, "AvgPool2d: kernel_size must be an int"),
        (lambda: nn.MaxPool2d(2, padding=2), ValueError, "MaxPool2d: padding must be at most"),
    ],
)
def test_bad_sizes_raise_when_the_layer_is_built(
    make: Callable[[], nn.Module], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_conv2d_stores_sizes_as_pairs() -> None:
    conv = nn.Conv2d(1, 2, [3, 5], stride=np.int64(2), padding=(1, 0))
    assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 5), (2, 2), (1, 0))
    assert conv.weight.shape == (2, 1, 3, 5)


# ----- default initialisation -----


@pytest.mark.parametrize(
    ("make", "fan_in"),
    [(lambda: nn.Linear(400, 300), 400), (lambda: nn.Conv2d(8, 64, (3, 5)), 8 * 3 * 5)],
    ids=["linear", "conv2d"],
)
def test_default_init_is_pytorchs_uniform(make: Callable[[], nn.Module], fan_in: int) -> None:
    am.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = param(layer, "weight").data, param(layer, "bias").data
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # the whole interval is used ...
    assert np.std(w) == pytest.approx(bound / math.sqrt(3), rel=0.03)  # ... uniformly
    assert abs(np.mean(w)) < 0.02 * bound
    assert np.abs(b).max() <= bound and np.std(b) > 0.4 * bound
    am.manual_seed(0)
    np.testing.assert_array_equal(param(make(), "weight").data, w)  # reproducible


# ----- gradcheck through every layer with parameters -----


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(rng: np.random.Generator, bias: bool) -> None:
    check_layer(nn.Linear(4, 3, bias=bias), rng.standard_normal((5, 4)))


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "bias"),
    [(3, 1, 0, True), (3, 2, 1, True), ((2, 3), (2, 1), (0, 2), False), (1, 2, 1, True)],
)
def test_conv2d_gradcheck(
    rng: np.random.Generator, kernel: Any, stride: Any, padding: Any, bias: bool
) -> None:
    layer = nn.Conv2d(2, 3, kernel, stride=stride, padding=padding, bias=bias)
    check_layer(layer, rng.standard_normal((2, 2, 5, 4)))


@settings(max_examples=min(settings().max_examples, 20))
@given(geo=conv2d_geometries(), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_gradcheck_property(geo: ConvGeometry, bias: bool, seed: int) -> None:
    layer = nn.Conv2d(geo.C, geo.OC, (geo.KH, geo.KW), geo.stride, geo.padding, bias=bias)
    x = np.random.default_rng(seed).standard_normal(geo.input_shape)
    names = tuple(layer._parameters)
    assert gradcheck(through(layer, names), x, *[getattr(layer, n).data for n in names])


def test_conv_pool_linear_chain_gradcheck(rng: np.random.Generator) -> None:
    """The batch-last path end to end, in gradients of first and second order: conv2d's
    layout through relu and a tiling max-pool, a flatten view, and linear's gradient for
    a column-major input."""

    def fn(x: Tensor, w: Tensor, b: Tensor, lw: Tensor, lb: Tensor) -> Tensor:
        y = F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=1)), 2)
        return F.linear(am.ops.flatten(y, 1), lw, lb)

    x = rng.standard_normal((3, 2, 4, 4))
    params = [rng.standard_normal(s) for s in [(2, 2, 3, 3), (2,), (4, 8), (4,)]]
    flat = am.ops.flatten(F.max_pool2d(F.conv2d(Tensor(x), Tensor(params[0])), 2), 1)
    assert flat.data.flags.f_contiguous and not flat.data.flags.c_contiguous
    assert gradcheck(fn, x, *params)
    assert gradgradcheck(fn, x, *params)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dims", [1, 2])
def test_batchnorm_gradcheck(rng: np.random.Generator, dims: int, training: bool) -> None:
    layer: nn.Module = nn.BatchNorm1d(3) if dims == 1 else nn.BatchNorm2d(3)
    shape = (6, 3) if dims == 1 else (3, 3, 2, 3)
    param(layer, "weight").data[...] = rng.uniform(0.5, 2.0, 3)
    param(layer, "bias").data[...] = rng.standard_normal(3)
    buffer(layer, "running_mean")[...] = rng.standard_normal(3)
    buffer(layer, "running_var")[...] = rng.uniform(0.5, 2.0, 3)
    layer.train(training)
    check_layer(layer, 1.5 * rng.standard_normal(shape) + 0.5)


# ----- batch norm -----


@pytest.mark.parametrize("dims", [1, 2])
def test_batchnorm_running_statistics_formula(rng: np.random.Generator, dims: int) -> None:
    layer: nn.Module = nn.BatchNorm1d(3) if dims == 1 else nn.BatchNorm2d(3)
    shape = (5, 3) if dims == 1 else (4, 3, 2, 2)
    bshape = (1, 3) if dims == 1 else (1, 3, 1, 1)
    axes = (0,) if dims == 1 else (0, 2, 3)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, shape)
        y = layer(Tensor(x.astype(np.float32)))
        n = x.size // 3
        batch_mean, batch_var = x.mean(axis=axes), x.var(axis=axes)
        mean = 0.9 * mean + 0.1 * batch_mean
        var = 0.9 * var + 0.1 * batch_var * n / (n - 1)  # unbiased for the running estimate
        expected = (x - batch_mean.reshape(bshape)) / np.sqrt(batch_var.reshape(bshape) + 1e-5)
        np.testing.assert_allclose(y.data, expected, rtol=1e-4, atol=1e-5)  # biased in forward
    np.testing.assert_allclose(buffer(layer, "running_mean"), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(buffer(layer, "running_var"), var, rtol=1e-5, atol=1e-6)
    layer.eval()
    x = rng.normal(size=shape).astype(np.float32)
    expected = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5)
    np.testing.assert_allclose(layer(Tensor(x)).data, expected, rtol=1e-4, atol=1e-5)
    before = layer.state_dict()
    layer(Tensor(x))
    assert all(np.array_equal(v, before[k]) for k, v in layer.state_dict().items())


def test_batchnorm_rejects_wrong_rank_and_single_values() -> None:
    with pytest.raises(ValueError, match="BatchNorm1d: expected a 2-D or 3-D input"):
        nn.BatchNorm1d(3)(Tensor(np.zeros((2, 3, 1, 1), dtype=np.float32)))
    with pytest.raises(ValueError, match="BatchNorm2d: expected a 4-D input"):
        nn.BatchNorm2d(3)(Tensor(np.zeros((2, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(np.zeros((1, 3), dtype=np.float32)))


# ----- dropout -----


def test_dropout_train_scales_kept_values_and_eval_is_identity(rng: np.random.Generator) -> None:
    p = 0.3
    layer = nn.Dropout(p)
    x = Tensor(rng.uniform(1.0, 2.0, (200, 100)).astype(np.float32), requires_grad=True)
    y = layer(x)
    kept = y.data != 0
    assert kept.mean() == pytest.approx(1 - p, abs=0.01)
    np.testing.assert_allclose(y.data[kept], x.data[kept] / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(grads(x)[0], kept / (1 - p), rtol=1e-6)  # same mask
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0)
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.5)


def test_dropout_masks_are_reproducible_with_manual_seed() -> None:
    x = Tensor(np.ones((50, 40), dtype=np.float32))
    layer = nn.Dropout(0.5)
    am.manual_seed(123)
    a, b = layer(x).data, layer(x).data
    am.manual_seed(123)
    c, d = layer(x).data, layer(x).data
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(b, d)
    assert not np.array_equal(a, b)  # a fresh mask per call


# ----- parameter-free layers -----


def test_activation_and_shape_layers(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 5))
    t = Tensor(x)
    np.testing.assert_allclose(nn.ReLU()(t).data, np.maximum(x, 0))
    np.testing.assert_allclose(nn.Sigmoid()(t).data, 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(nn.Tanh()(t).data, np.tanh(x), rtol=1e-12)
    assert nn.Identity()(t) is t
    assert nn.Flatten()(t).shape == (2, 60)
    assert nn.Flatten(0, 1)(t).shape == (6, 4, 5)
    assert nn.Flatten(2)(t).shape == (2, 3, 20)
    logits = rng.standard_normal((4, 5))
    logp = nn.LogSoftmax(dim=1)(Tensor(logits)).data
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(nn.Softmax(dim=0)(Tensor(logits)).data.sum(axis=0), 1.0)


# ----- PyTorch reference: same weights, same outputs and gradients -----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(rng: np.random.Generator, dtype: Any, bias: bool) -> None:
    torch, tdt = import_torch(dtype)
    ours = as_dtype(nn.Linear(6, 4, bias=bias), dtype)
    theirs = torch.nn.Linear(6, 4, bias=bias, dtype=tdt)
    compare_layer(ours, theirs, rng.standard_normal((5, 6)).astype(dtype), torch, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("kernel", "stride", "padding"),
    [(3, 1, 0), (5, 1, 2), (3, 2, 1), ((2, 3), (1, 2), (1, 0))],
)
def test_conv2d_matches_torch(
    rng: np.random.Generator, dtype: Any, kernel: Any, stride: Any, padding: Any
) -> None:
    torch, tdt = import_torch(dtype)
    ours = as_dtype(nn.Conv2d(3, 4, kernel, stride=stride, padding=padding), dtype)
    theirs = torch.nn.Conv2d(3, 4, kernel, stride=stride, padding=padding, dtype=tdt)
    x = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    compare_layer(ours, theirs, x, torch, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1))]
)
def test_pools_match_torch(
    rng: np.random.Generator, dtype: Any, kernel: Any, stride: Any, padding: Any
) -> None:
    torch, _ = import_torch(dtype)
    # distinct values (a scaled permutation): max-pool has a unique argmax per window
    x = (rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 50.0 - 2.5).astype(dtype)
    for ours, theirs in [
        (nn.MaxPool2d(kernel, stride, padding), torch.nn.MaxPool2d(kernel, stride, padding)),
        (nn.AvgPool2d(kernel, stride, padding), torch.nn.AvgPool2d(kernel, stride, padding)),
    ]:
        compare_layer(ours, theirs, x, torch, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dims", [1, 2])
def test_batchnorm_matches_torch(rng: np.random.Generator, dtype: Any, dims: int) -> None:
    torch, tdt = import_torch(dtype)
    C = 3
    ours = as_dtype(nn.BatchNorm1d(C) if dims == 1 else nn.BatchNorm2d(C), dtype)
    theirs = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(C, dtype=tdt)
    param(ours, "weight").data[...] = rng.uniform(0.5, 2, C)
    param(ours, "bias").data[...] = rng.standard_normal(C)
    shape = (8, C) if dims == 1 else (4, C, 3, 2)
    for step in range(3):  # training: batch statistics, running ones updated
        x = rng.normal(1.0, 2.0, shape).astype(dtype)
        ours.zero_grad()
        theirs.zero_grad()
        compare_layer(ours, theirs, x, torch, dtype, seed=step)
    for name in ("running_mean", "running_var"):
        close(buffer(ours, name), getattr(theirs, name).numpy(), dtype, err_msg=name)
        assert buffer(ours, name).dtype == dtype
    ours.eval()
    theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    compare_layer(ours, theirs, rng.normal(1.0, 2.0, shape).astype(dtype), torch, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_and_softmax_layers_match_torch(rng: np.random.Generator, dtype: Any) -> None:
    torch, _ = import_torch(dtype)
    x = rng.standard_normal((4, 6)).astype(dtype)
    x[np.abs(x) < 1e-3] = 0.5  # relu: away from its kink
    pairs = [
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
        (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.Flatten(0), torch.nn.Flatten(0)),
        (nn.Dropout(0.0), torch.nn.Dropout(0.0)),
        (nn.Dropout(0.5).eval(), torch.nn.Dropout(0.5).eval()),
    ]
    for ours, theirs in pairs:
        compare_layer(ours, theirs, x, torch, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(rng: np.random.Generator, dtype: Any, reduction: str) -> None:
    torch, _ = import_torch(dtype)
    logits = rng.standard_normal((6, 4)).astype(dtype)
    target = rng.integers(0, 4, 6)
    for log_probs in (False, True):  # CrossEntropyLoss on logits, NLLLoss on log_softmax
        xa = Tensor(logits, requires_grad=True)
        xt = to_torch(torch, logits, requires_grad=True)
        if log_probs:
            ya = nn.NLLLoss(reduction)(F.log_softmax(xa, 1), target)
            yt = torch.nn.NLLLoss(reduction=reduction)(
                torch.log_softmax(xt, 1), torch.from_numpy(target)
            )
        else:
            ya = nn.CrossEntropyLoss(reduction)(xa, target)
            yt = torch.nn.CrossEntropyLoss(reduction=reduction)(xt, torch.from_numpy(target))
        close(ya.data, yt.detach().numpy(), dtype)
        ya.sum().backward()
        yt.sum().backward()
        close(grads(xa)[0], xt.grad.numpy(), dtype)


def test_r2_network_matches_torch(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    ours = r2_network()
    tn = torch.nn
    theirs = tn.Sequential(
        tn.Conv2d(1, 16, 5, padding=2),
        tn.ReLU(),
        tn.MaxPool2d(2),
        tn.Flatten(),
        tn.Linear(3136, 1024),
        tn.ReLU(),
        tn.Linear(1024, 10),
    )
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = rng.random((2, 1, 28, 28), dtype=np.float32)
    target = np.array([3, 7])
    loss = F.cross_entropy(ours(Tensor(x)), target)
    tloss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.tensor(target))
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-5)
    loss.backward()
    tloss.backward()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(grads(p)[0], tp.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
