"""What a Module registers and how it is walked, as PyTorch's: tied parameters and shared
sub-modules listed once (and saved under every name), buffers given as Tensors or None,
non-persistent buffers, ``del``, type checks on assignment, ``get_submodule``,
``register_parameter``/``add_module``, ``zero_grad(set_to_none=False)``; and Sequential as
a list of layers (slices, editing, an OrderedDict)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import nn, optim


class Tied(nn.Module):
    """An encoder and a decoder sharing one weight (tied weights)."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(4, 4, bias=False)
        self.dec = nn.Linear(4, 4, bias=False)
        self.dec.weight = self.enc.weight

    def forward(self, x: Any) -> Any:
        return self.dec(self.enc(x))


class Running(nn.Module):
    """A buffer updated by assigning a Tensor, the PyTorch way."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("ema", np.zeros(3, dtype=np.float32))

    def forward(self, x: Any) -> Any:
        self.ema = 0.9 * self.ema + 0.1 * x.detach().mean(0)
        return x


def test_a_tied_weight_is_listed_once_and_saved_under_both_names() -> None:
    m = Tied()
    assert [n for n, _ in m.named_parameters()] == ["enc.weight"]
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == [
        "enc.weight",
        "dec.weight",
    ]
    assert m.parameters() == [m.enc.weight]
    assert list(m.state_dict()) == ["enc.weight", "dec.weight"]  # as torch's state_dict
    other = Tied()
    other.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(other.enc.weight.data, m.enc.weight.data)
    assert other.dec.weight is other.enc.weight


def test_an_optimizer_built_from_named_parameters_steps_a_tied_weight_once() -> None:
    am.manual_seed(0)
    m = Tied()
    w0 = m.enc.weight.data.copy()
    opt = optim.SGD([p for _, p in m.named_parameters()], lr=0.1)
    m(am.ones(2, 4)).sum().backward()
    g = m.enc.weight.grad
    assert g is not None
    opt.step()
    np.testing.assert_allclose(m.enc.weight.data, w0 - np.float32(0.1) * g.data, rtol=1e-6)


def test_a_module_shared_under_two_names_is_walked_once() -> None:
    parent = nn.Module()
    lin = nn.Linear(2, 2)
    parent.a = lin
    parent.b = lin
    assert [n for n, _ in parent.named_modules()] == ["", "a"]
    assert [n for n, _ in parent.named_modules(remove_duplicate=False)] == ["", "a", "b"]
    assert [n for n, _ in parent.named_children()] == ["a"]
    calls: list[nn.Module] = []
    parent.apply(calls.append)
    assert calls == [lin, parent]
    assert list(parent.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_assigning_a_tensor_to_a_buffer_keeps_it_registered_and_saved() -> None:
    m = Running()
    m(am.ones(4, 3))
    assert list(m.state_dict()) == ["ema"]
    assert isinstance(m.ema, np.ndarray)
    np.testing.assert_allclose(m.state_dict()["ema"], np.full(3, 0.1), rtol=1e-6)


def test_a_buffer_registered_as_a_tensor_loads_and_casts() -> None:
    m = nn.Module()
    m.register_buffer("mean", am.zeros(3))
    m.register_buffer("scale", am.ones(1))
    assert isinstance(m.mean, np.ndarray)
    m.load_state_dict({"mean": np.arange(3.0), "scale": np.full(1, 7.0)})
    np.testing.assert_array_equal(m.mean, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(m.scale, [7.0])
    m.double()
    assert m.mean.dtype == np.float64 and m.scale.dtype == np.float64


def test_non_persistent_and_none_buffers_are_not_saved() -> None:
    m = nn.Module()
    m.register_buffer("kept", np.zeros(2, dtype=np.float32))
    m.register_buffer("scratch", np.zeros(2, dtype=np.float32), persistent=False)
    m.register_buffer("later", None)
    assert list(m.state_dict()) == ["kept"]
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]
    assert len(list(m.buffers())) == 2
    m.load_state_dict({"kept": np.ones(2)})  # strict: the others are not expected
    m.later = np.ones(1, dtype=np.float32)
    assert list(m.state_dict()) == ["kept", "later"]
    with pytest.raises(TypeError, match="cannot assign float as buffer 'later'"):
        m.later = 1.0


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("a.b", KeyError, "with a dot"),
        ("", KeyError, "empty"),
        ("training", KeyError, "attribute 'training' already exists"),
        ("weight", KeyError, "attribute 'weight' already exists"),
        ("forward", KeyError, "attribute 'forward' already exists"),
        (3, TypeError, "name must be a str"),
    ],
)
def test_register_buffer_refuses_bad_names(name: Any, error: type, match: str) -> None:
    lin = nn.Linear(2, 2)
    with pytest.raises(error, match=match):
        lin.register_buffer(name, np.zeros(1))
    assert list(lin.state_dict()) == ["weight", "bias"]


def test_register_buffer_refuses_values_that_are_not_arrays() -> None:
    with pytest.raises(TypeError, match="cannot assign list as buffer 'b'"):
        nn.Module().register_buffer("b", [1.0, 2.0])


def test_del_unregisters_modules_parameters_and_buffers() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    del net[1].running_var
    assert "1.running_var" not in net.state_dict()
    parent = nn.Module()
    parent.fc = nn.Linear(2, 2)
    parent.extra = 5
    del parent.fc.bias
    assert list(parent.state_dict()) == ["fc.weight"]
    del parent.fc
    assert parent.state_dict() == {} and parent.parameters() == []
    assert not hasattr(parent, "fc")
    del parent.extra  # a plain attribute, as usual
    with pytest.raises(AttributeError, match="Module has no attribute 'fc'"):
        del parent.fc


def test_assignments_of_the_wrong_kind_are_refused() -> None:
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        lin.weight = am.zeros(2, 2, requires_grad=True)  # type: ignore[assignment]
    net = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="cannot assign int as child module '0'"):
        setattr(net, "0", 3)
    lin.weight = nn.Parameter(np.zeros((2, 2), dtype=np.float32))  # the right kind: fine
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]


def test_get_submodule_register_parameter_and_add_module() -> None:
    net = nn.Sequential(nn.Sequential(nn.Linear(2, 3)), nn.ReLU())
    assert net.get_submodule("0.0") is net[0][0]  # type: ignore[index]
    assert net.get_submodule("") is net
    with pytest.raises(AttributeError, match="no sub-module 'x'"):
        net.get_submodule("0.x")
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(np.ones(2, dtype=np.float32)))
    m.add_module("head", nn.Linear(2, 1))
    assert list(m.state_dict()) == ["w", "head.weight", "head.bias"]
    with pytest.raises(TypeError, match="must be a Parameter or None"):
        m.register_parameter("v", am.ones(2))
    with pytest.raises(TypeError, match="must be a Module"):
        m.add_module("f", lambda x: x)  # type: ignore[arg-type]
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["w"]


def test_zero_grad_without_set_to_none_zeroes_in_place() -> None:
    lin = nn.Linear(3, 2)
    opt = optim.SGD(lin.parameters(), lr=0.1)
    lin(am.ones(1, 3)).sum().backward()
    assert lin.weight.grad is not None
    before = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is before and not lin.weight.grad.data.any()
    opt.zero_grad()  # the default, as PyTorch's: None
    assert lin.weight.grad is None


def test_the_same_as_pytorch_for_a_tied_model() -> None:
    torch = pytest.importorskip("torch")

    class TorchTied(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.enc = torch.nn.Linear(4, 4, bias=False)
            self.dec = torch.nn.Linear(4, 4, bias=False)
            self.dec.weight = self.enc.weight

    theirs, ours = TorchTied(), Tied()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


def test_a_sequential_slice_is_a_sequential_of_the_same_layers() -> None:
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    features = net[:-1]
    assert isinstance(features, nn.Sequential) and len(features) == 3
    assert features[1] is net[1]
    x = am.ones(2, 1, 2, 2)
    np.testing.assert_array_equal(net[-1](features(x)).data, net(x).data)
    assert list(features.state_dict()) == ["1.weight", "1.bias"]  # the original names


def test_a_sequential_is_edited_like_a_list() -> None:
    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)
    net = nn.Sequential(a).append(b)
    net.extend([c])
    assert list(net) == [a, b, c]
    net.insert(0, nn.Identity())
    assert [type(m).__name__ for m in net] == ["Identity", "Linear", "ReLU", "Linear"]
    assert list(net.state_dict()) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    net[0] = nn.Flatten()
    del net[2]
    assert [type(m).__name__ for m in net] == ["Flatten", "Linear", "Linear"]
    with pytest.raises(IndexError, match="index 5 out of range for length 3"):
        net[5]
    with pytest.raises(TypeError, match="append is int, not a Module"):
        net.append(3)  # type: ignore[arg-type]


def test_a_sequential_from_an_ordered_dict_keeps_the_names() -> None:
    net = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert list(net.state_dict()) == ["fc.weight", "fc.bias"]
    assert net.fc is net[0]
    with pytest.raises(TypeError, match="item 'x' is int, not a Module"):
        nn.Sequential({"x": 1})  # type: ignore[dict-item]


def test_sequential_matches_pytorch_slicing_and_names() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert list(ours[1:].state_dict()) == list(theirs[1:].state_dict())
    del theirs[0], ours[0]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_module_dict_registers_modules_by_name() -> None:
    d = nn.ModuleDict({"enc": nn.Linear(2, 3)})
    d["dec"] = nn.Linear(3, 2)
    d.update([("act", nn.ReLU())])
    assert list(d) == d.keys() == ["enc", "dec", "act"] and "dec" in d and len(d) == 3
    assert list(d.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert d.pop("act").__class__ is nn.ReLU and len(d) == 2
    del d["dec"]
    assert [k for k, _ in d.items()] == ["enc"] and d.values() == [d["enc"]]
    with pytest.raises(KeyError, match="no module 'x'"):
        d["x"]
    with pytest.raises(TypeError, match="'y' must be a Module"):
        d["y"] = 3  # type: ignore[assignment]
    torch = pytest.importorskip("torch")
    theirs = torch.nn.ModuleDict({"enc": torch.nn.Linear(2, 3)})
    assert list(theirs.state_dict()) == list(d.state_dict())


def test_parameter_list_registers_its_parameters() -> None:
    params = nn.ParameterList([np.zeros(2), am.ones(3)])
    params.append(nn.Parameter(np.ones(1, dtype=np.float32)))
    assert len(params) == 3 and all(isinstance(p, nn.Parameter) for p in params)
    assert list(params.state_dict()) == ["0", "1", "2"]
    assert params[-1] is params.parameters()[2]
    opt = optim.SGD(params.parameters(), lr=1.0)
    for p in params:
        p.grad = am.ones(*p.shape, dtype=p.dtype)
    opt.step()
    np.testing.assert_array_equal(params[1].data, 0.0)
    with pytest.raises(IndexError, match="index 3 out of range for length 3"):
        params[3]


def test_batchnorm1d_takes_n_c_l_inputs_as_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5))
    ours, theirs = nn.BatchNorm1d(3).double(), torch.nn.BatchNorm1d(3).double()
    xa = am.tensor(x.copy(), requires_grad=True)
    xt = torch.tensor(x.copy(), requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (ya * am.tensor(x)).sum().backward()
    (yt * torch.tensor(x)).sum().backward()
    assert xa.grad is not None
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="expected a 2-D or 3-D input; got shape"):
        ours(am.zeros(2, 3, 4, 5))
