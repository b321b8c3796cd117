"""nn.Module API parity with PyTorch: what a PyTorch user does to a module (state dicts,
registration, modes, casts, hooks, printing, containers, flat vectors) behaves as torch's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import nn


def _net(lib: Any) -> Any:
    """The same model in either library: a custom module holding a parameter and a buffer
    of its own, a Sequential with BatchNorm buffers, a ModuleList and a ModuleDict."""

    class Net(lib.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.features = lib.Sequential(lib.Conv2d(1, 2, 3), lib.BatchNorm2d(2), lib.ReLU())
            self.heads = lib.ModuleList([lib.Linear(4, 3), lib.Linear(3, 2)])
            self.d = lib.ModuleDict({"a": lib.BatchNorm1d(3), "b": lib.Linear(2, 2)})
            self.scale = lib.Parameter(lib_ones(lib, 1))
            self.register_buffer("buf", lib_ones(lib, 2))

    return Net()


def lib_ones(lib: Any, n: int) -> Any:
    if lib is nn:
        return np.ones(n, np.float32)
    import torch

    return torch.ones(n)


def _torch_keys(state: Any) -> list[str]:
    return [k for k in state if not k.endswith("num_batches_tracked")]  # ours has none


@pytest.mark.parametrize("prefix", ["", "model."])
def test_state_dict_keys_come_in_torchs_order_with_prefix(prefix: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _net(nn), _net(torch.nn)
    assert list(ours.state_dict(prefix=prefix)) == _torch_keys(theirs.state_dict(prefix=prefix))


def test_state_dict_keep_vars_and_destination_as_torchs() -> None:
    net = _net(nn)
    kept = net.state_dict(keep_vars=True)
    assert kept["scale"] is net.scale and kept["heads.0.weight"] is net.heads[0].weight
    assert kept["buf"] is net.buf  # the buffer's own array
    dest: dict[str, Any] = {}
    assert net.state_dict(destination=dest, prefix="p.") is dest and "p.d.b.bias" in dest


@pytest.mark.parametrize("bad", [[1, 2], "weights", None])
def test_load_state_dict_of_a_non_mapping_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"load_state_dict \(Linear\): expected a mapping"):
        nn.Linear(2, 2).load_state_dict(bad)


@pytest.mark.parametrize("kind", ["parameter", "module"])
@pytest.mark.parametrize(
    ("name", "match"),
    [("a.b", "bad .* name 'a.b'"), ("", "bad .* name ''"), ("in_features", "already exists")],
)
def test_register_parameter_and_add_module_refuse_bad_names_as_torch(
    kind: str, name: str, match: str
) -> None:
    torch = pytest.importorskip("torch")
    for lib, value in (
        (nn, nn.Parameter(np.zeros(1))),
        (torch.nn, torch.nn.Parameter(torch.zeros(1))),
    ):
        layer = lib.Linear(2, 2)
        register = layer.register_parameter if kind == "parameter" else layer.add_module
        with pytest.raises(KeyError, match=match if lib is nn else None):
            register(name, value if kind == "parameter" else lib.ReLU())


def test_a_dotted_module_dict_key_is_refused_and_a_free_none_bias_is_not() -> None:
    with pytest.raises(KeyError, match="ModuleDict: bad module name 'a.b'"):
        nn.ModuleDict({"a.b": nn.ReLU()})
    layer = nn.Linear(2, 2, bias=False)  # torch registers the absent bias as None
    layer.register_parameter("bias", nn.Parameter(np.zeros(2, np.float32)))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize("mode", ["yes", 1, None])
def test_train_with_a_mode_that_is_not_a_bool_is_refused(mode: Any) -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    with pytest.raises(ValueError, match=r"Sequential.train: mode must be a bool"):
        net.train(mode)
    assert all(m.training is True for m in net.modules())


def test_forgetting_super_init_is_an_attribute_error_as_torchs() -> None:
    class Bad(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"Bad: call super\(\).__init__\(\)"):
        Bad()


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.to(device="cpu").double(),
        lambda m: m.to(am.zeros(1, dtype=am.float64), non_blocking=True),
        lambda m: m.to("cpu", am.float64),
        lambda m: m.to(device=am.device("cpu"), dtype=am.float64),
        lambda m: m.to("cpu", am.float64, False),
        lambda m: m.cpu().double(),
    ],
)
def test_to_takes_torchs_device_and_dtype_forms(call: Callable[[Any], Any]) -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    assert call(net) is net
    assert [p.dtype for p in net.parameters()] == [np.float64] * 4
    assert [b.dtype for b in net.buffers()] == [np.float64] * 2


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: m.to(device="cuda"), ValueError),
        (lambda m: m.to("cpu", am.int64), TypeError),
        (lambda m: m.to(am.float64, "cpu"), TypeError),
        (lambda m: m.to(am.float64, memory=1), TypeError),
    ],
)
def test_to_refuses_what_torch_refuses(call: Callable[[Any], Any], error: type) -> None:
    net = nn.Linear(2, 2)
    with pytest.raises(error, match="Linear.to"):
        call(net)
    assert net.weight.dtype == np.float32


def _repr_pair(lib: Any) -> Any:
    class Block(lib.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.fc = lib.ReLU()

        def extra_repr(self) -> str:
            return "k=3"

    class Multi(lib.Module):  # type: ignore[misc, name-defined]
        def extra_repr(self) -> str:
            return "a=1,\nb=2"

    same = lib.ModuleList([lib.ReLU(), lib.ReLU(), lib.Tanh(), lib.ReLU(), lib.ReLU()])
    return [Block(), Multi(), same, lib.Sequential(Block(), same)]


def test_repr_shows_extra_repr_with_children_and_collapses_module_lists_as_torch() -> None:
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_repr_pair(nn), _repr_pair(torch.nn), strict=True):
        assert repr(ours) == repr(theirs)


def _hooked(lib: Any, log: list[Any]) -> Any:
    class Scale(lib.Module):  # type: ignore[misc, name-defined]
        def forward(self, x: Any, scale: float = 1.0) -> Any:
            return x * scale

    m = Scale()
    m.register_forward_pre_hook(lambda mod, a: log.append("pre"))
    m.register_forward_pre_hook(lambda mod, a: log.append("pre0"), prepend=True)
    m.register_forward_pre_hook(
        lambda mod, a, k: (log.append(("prek", dict(k))), (a, {"scale": 3.0}))[1],
        with_kwargs=True,
    )
    m.register_forward_hook(lambda mod, a, o: log.append("post"))
    m.register_forward_hook(lambda mod, a, o: log.append("post0"), prepend=True)
    m.register_forward_hook(
        lambda mod, a, k, o: (log.append(("postk", dict(k))), o + 1)[1], with_kwargs=True
    )
    return m


def test_forward_hooks_take_prepend_and_with_kwargs_as_torchs() -> None:
    torch = pytest.importorskip("torch")
    ours_log: list[Any] = []
    theirs_log: list[Any] = []
    out = _hooked(nn, ours_log)(am.ones(2), scale=2.0)
    expected = _hooked(torch.nn, theirs_log)(torch.ones(2), scale=2.0)
    assert ours_log == theirs_log
    np.testing.assert_array_equal(out.data, expected.numpy())  # (x * 3) + 1


def test_a_with_kwargs_pre_hook_returning_something_else_is_refused() -> None:
    m = nn.Identity()
    m.register_forward_pre_hook(lambda mod, a, k: a, with_kwargs=True)
    with pytest.raises(RuntimeError, match="Identity: a forward pre-hook registered with_kwargs"):
        m(am.ones(2))


@pytest.mark.parametrize(
    "edit",
    [
        lambda L: [
            type(m).__name__ for m in L.Sequential(L.ReLU(), L.Tanh()) + L.Sequential(L.Sigmoid())
        ],
        lambda L: (lambda s: (type(s.pop(0)).__name__, [n for n, _ in s.named_children()]))(
            L.Sequential(L.ReLU(), L.Tanh(), L.Sigmoid())
        ),
        lambda L: [type(m).__name__ for m in L.ModuleList([L.ReLU()]) + [L.Tanh()]],
        lambda L: (lambda s: (type(s.pop(-1)).__name__, len(s)))(
            L.ModuleList([L.ReLU(), L.Tanh()])
        ),
        lambda L: (lambda d: (d.update(L.ModuleDict({"b": L.Tanh()})), list(d))[1])(
            L.ModuleDict({"a": L.ReLU()})
        ),
        lambda L: (lambda d: (d.clear(), len(d))[1])(L.ModuleDict({"a": L.ReLU()})),
    ],
)
def test_container_edits_as_torchs(edit: Callable[[Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    assert edit(nn) == edit(torch.nn)


def test_sequential_insert_out_of_range_is_an_index_error_as_torch() -> None:
    net = nn.Sequential(nn.ReLU(), nn.Tanh())
    with pytest.raises(IndexError, match="Sequential.insert: index 5 out of range"):
        net.insert(5, nn.Sigmoid())
    assert len(net) == 2


def test_parameter_list_slices_assigns_and_adds_as_torchs() -> None:
    ps = nn.ParameterList([np.ones(2), np.ones(3), np.ones(4)])
    tail = ps[1:]
    assert isinstance(tail, nn.ParameterList) and [p.shape for p in tail] == [(3,), (4,)]
    assert tail[0] is ps[1]
    new = nn.Parameter(np.zeros(5, np.float32))
    ps[0] = new
    ps += [np.ones(1)]
    assert ps[0] is new and [n for n, _ in ps.named_parameters()] == ["0", "1", "2", "3"]


def test_parameters_to_vector_and_back_as_torchs() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    vec = nn.utils.parameters_to_vector(ours.parameters())
    expected = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vec.data, expected.detach().numpy())
    vec.sum().backward()
    assert all(np.array_equal(p.grad.data, np.ones(p.shape)) for p in ours.parameters())
    nn.utils.vector_to_parameters(am.arange(11.0), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(11.0), theirs.parameters())
    for (k, v), t in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
        np.testing.assert_array_equal(v, t.numpy(), err_msg=k)
    with pytest.raises(ValueError, match="expected a 1-D vector of 11 values"):
        nn.utils.vector_to_parameters(am.zeros(10), ours.parameters())


def test_calculate_gain_knows_selu_as_torch() -> None:
    torch = pytest.importorskip("torch")
    assert nn.init.calculate_gain("selu") == torch.nn.init.calculate_gain("selu")
