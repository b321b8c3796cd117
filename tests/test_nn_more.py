"""nn, issue 9: the new activation and loss layers, ModuleList, Module.apply / to /
requires_grad_, load_state_dict's (missing_keys, unexpected_keys), Conv2d('same',
dilation), AvgPool2d(count_include_pad) and NumPy inputs to every layer.

Layers are compared with PyTorch's (same weights: outputs and gradients) and gradchecked
to second order through the layer (helpers from ``test_nn.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_nn import as_dtype, check_layer, compare_layer, import_torch, make_net

import autograd_mnist as am
from autograd_mnist import Tensor, nn
from autograd_mnist import functional as F

DTYPES = [np.float32, np.float64]


def _input(shape: tuple[int, ...], dtype: Any = np.float64, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    x[np.abs(x) < 1e-2] = 0.5  # away from the kinks at 0
    return x.astype(dtype)


# ----- activation layers -----

ACTIVATION_LAYERS: dict[str, tuple[Callable[[], nn.Module], str, dict[str, Any]]] = {
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2}),
    "ELU": (lambda: nn.ELU(0.7), "ELU", {"alpha": 0.7}),
    "GELU": (lambda: nn.GELU(), "GELU", {}),
    "GELU[tanh]": (lambda: nn.GELU("tanh"), "GELU", {"approximate": "tanh"}),
    "SiLU": (lambda: nn.SiLU(), "SiLU", {}),
    "Softplus": (lambda: nn.Softplus(2.0, 1.0), "Softplus", {"beta": 2.0, "threshold": 1.0}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATION_LAYERS))
def test_activation_layers_match_torch(name: str, dtype: Any) -> None:
    torch, _ = import_torch(dtype)
    make, torch_name, kwargs = ACTIVATION_LAYERS[name]
    x = _input((4, 6), dtype)
    x[np.abs(2 * x - 1) < 1e-2] = 0.5  # Softplus(2, 1)'s switch to linear
    compare_layer(make(), getattr(torch.nn, torch_name)(**kwargs), x, torch, dtype)


@pytest.mark.parametrize("name", [n for n in ACTIVATION_LAYERS if n != "LeakyReLU"])
def test_activation_layers_gradgradcheck(name: str) -> None:
    x = _input((3, 4))
    x[np.abs(2 * x - 1) < 1e-2] = 0.5
    check_layer(ACTIVATION_LAYERS[name][0](), x)


def test_activation_layers_repr_and_errors() -> None:
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    with pytest.raises(ValueError, match=re.escape("GELU: approximate must be 'none' or 'tanh'")):
        nn.GELU("exact")
    with pytest.raises(ValueError, match=re.escape("Softplus: beta must be > 0; got -1")):
        nn.Softplus(-1)


# ----- loss layers -----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_layers_match_torch(dtype: Any, reduction: str) -> None:
    torch, _ = import_torch(dtype)
    tnn = torch.nn
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4)).astype(dtype)
    p = rng.uniform(0.05, 0.95, (5, 4)).astype(dtype)
    t = rng.random((5, 4)).astype(dtype)
    w = rng.random(4).astype(dtype)
    labels = np.array([0, 3, -100, 2, 1])
    cases: list[tuple[nn.Module, Any, np.ndarray, Any]] = [
        (nn.MSELoss(reduction), tnn.MSELoss(reduction=reduction), x, t),
        (nn.L1Loss(reduction), tnn.L1Loss(reduction=reduction), x, t),
        (nn.BCELoss(w, reduction), tnn.BCELoss(torch.from_numpy(w), reduction=reduction), p, t),
        (
            nn.BCEWithLogitsLoss(None, reduction, pos_weight=w + 0.5),
            tnn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch.from_numpy(w + 0.5)),
            x,
            t,
        ),
        (
            nn.CrossEntropyLoss(reduction, label_smoothing=0.2),
            tnn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.2),
            x,
            labels,
        ),
        (
            nn.CrossEntropyLoss(reduction, ignore_index=3),
            tnn.CrossEntropyLoss(reduction=reduction, ignore_index=3),
            x,
            np.array([0, 3, 1, 2, 1]),
        ),
        (nn.NLLLoss(reduction), tnn.NLLLoss(reduction=reduction), x, labels),
    ]
    for ours, theirs, inp, target in cases:
        xa, xt = Tensor(inp, requires_grad=True), torch.tensor(inp, requires_grad=True)
        ya = ours(xa, target)
        yt = theirs(xt, torch.from_numpy(target))
        rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-12)
        np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=rtol, atol=atol)
        ya.sum().backward()
        yt.sum().backward()
        assert xa.grad is not None
        np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=rtol, atol=atol)


def test_loss_layers_check_reduction_when_built() -> None:
    for cls in (nn.MSELoss, nn.L1Loss, nn.CrossEntropyLoss, nn.NLLLoss):
        with pytest.raises(ValueError, match=f"{cls.__name__}: reduction must be one of"):
            cls("avg")
    with pytest.raises(ValueError, match="BCELoss: reduction must be one of"):
        nn.BCELoss(reduction="avg")
    with pytest.raises(ValueError, match=re.escape("label_smoothing must be in [0, 1]; got -0.1")):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    assert repr(nn.MSELoss("sum")) == "MSELoss(reduction='sum')"


def test_weighted_loss_buffers_follow_to() -> None:
    loss = nn.BCEWithLogitsLoss(np.ones(3, dtype=np.float32), pos_weight=[2.0, 1.0, 1.0])
    assert set(dict(loss.named_buffers())) == {"weight", "pos_weight"}
    loss.to(np.float64)
    assert loss.weight is not None and loss.weight.dtype == np.float64
    y = loss(np.zeros((2, 3)), np.ones((2, 3)))
    assert y.dtype == np.float64


# ----- ModuleList -----


def test_module_list_is_a_registered_list() -> None:
    a, b, c, d = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh()
    ml = nn.ModuleList([a, b])
    assert len(ml) == 2 and list(ml) == [a, b]
    assert ml.append(c) is ml
    ml.extend([d])
    assert list(ml) == [a, b, c, d]
    assert ml[0] is a and ml[-1] is d
    ml.insert(1, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Linear", "Identity", "ReLU", "Linear", "Tanh"]
    assert list(dict(ml.named_parameters())) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    sub = ml[1:3]
    assert isinstance(sub, nn.ModuleList) and list(sub) == [ml[1], ml[2]]
    del ml[1]
    assert list(ml) == [a, b, c, d]
    ml[1] = nn.Sigmoid()
    assert isinstance(ml[1], nn.Sigmoid)
    ml += [nn.ReLU()]
    assert len(ml) == 5
    assert [p for p in ml.parameters()] == [a.weight, a.bias, c.weight, c.bias]


def test_module_list_inside_a_module_trains() -> None:
    class Tower(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(3, 3) for _ in range(3))

        def forward(self, x: Tensor) -> Tensor:
            for layer in self.layers:
                x = F.relu(layer(x))
            return x

    net = Tower()
    assert len(net.parameters()) == 6
    assert "layers.2.bias" in net.state_dict()
    net(np.ones((2, 3), dtype=np.float32)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_module_list_errors() -> None:
    ml = nn.ModuleList([nn.ReLU()])
    with pytest.raises(TypeError, match="ModuleList.append: expected a Module; got int"):
        ml.append(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ModuleList.extend: expected a Module; got str"):
        nn.ModuleList(["relu"])  # type: ignore[list-item]
    with pytest.raises(
        IndexError, match="ModuleList.__getitem__: index 1 out of range for length 1"
    ):
        ml[1]
    with pytest.raises(IndexError, match="ModuleList.__delitem__: index -2 out of range"):
        del ml[-2]
    with pytest.raises(NotImplementedError, match="ModuleList does not define forward"):
        ml(np.zeros(2))


# ----- Module.apply, to, requires_grad_ -----


def test_apply_visits_children_first_and_returns_self() -> None:
    net = make_net()
    seen: list[str] = []
    names = {id(m): n or "<root>" for n, m in net.named_modules()}
    assert net.apply(lambda m: seen.append(names[id(m)])) is net
    assert seen[-1] == "<root>"
    assert seen.index("0.body.0") < seen.index("0.body") < seen.index("0")
    assert sorted(seen) == sorted(names.values())

    def init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            m.weight.data[...] = 0.5

    net.apply(init)
    assert all(
        np.all(p.data == 0.5)
        for n, p in net.named_parameters()
        if n.endswith("weight") and "body.2" not in n
    )


@pytest.mark.parametrize("dtype", [np.float64, np.dtype("float64"), "float64", "am.float64"])
def test_to_casts_parameters_grads_and_buffers_in_place(dtype: Any) -> None:
    if dtype == "am.float64":
        dtype = getattr(am, "float64", np.float64)  # am.float64 comes with the Tensor part
    net = make_net()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    net(x).sum().backward()
    params = net.parameters()
    assert net.to(dtype) is net
    assert net.parameters() == params  # the same Parameter objects (optimizers keep them)
    for p in params:
        assert p.dtype == np.float64
        assert p.grad is not None and p.grad.dtype == np.float64
    for name, b in net.named_buffers():
        assert b.dtype == np.float64, name
    y = net(x.astype(np.float64))
    assert y.dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.double() is net and net.parameters()[0].dtype == np.float64
    assert net.to("cpu") is net


def test_to_matches_a_float64_torch_model() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(4, 3), nn.GELU(), nn.Linear(3, 2)).to(np.float64)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.GELU(), torch.nn.Linear(3, 2)
    ).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(
        ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12
    )


def test_to_rejects_other_dtypes() -> None:
    for bad in (np.int64, "float16", object(), None):
        with pytest.raises(
            TypeError, match=r"Sequential.to: expected float32 or float64 \(or 'cpu'\)"
        ):
            make_net().to(bad)
    for device in ("cuda", "cuda:0", "mps"):  # as Tensor.to: a device, not a dtype
        with pytest.raises(ValueError, match=f"Sequential.to: only the CPU exists; got '{device}'"):
            make_net().to(device)
    net = make_net()
    assert net.to("cpu") is net and net.to("cpu:0") is net


def test_requires_grad_freezes_and_unfreezes() -> None:
    net = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    assert net[0].requires_grad_(False) is net[0]
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
    net(np.ones((2, 3), dtype=np.float32)).sum().backward()
    assert [p.grad is None for p in net.parameters()] == [True, True, False, False]
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


# ----- load_state_dict -----


def test_load_state_dict_returns_missing_and_unexpected_keys() -> None:
    net = make_net()
    state = make_net().state_dict()
    result = net.load_state_dict(state)
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    del state["1.0.bias"]
    state["extra"] = np.zeros(1)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.0.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(dict(net.named_parameters())["0.scale"].data, state["0.scale"])
    with pytest.raises(
        RuntimeError, match=r"missing keys \['1.0.bias'\], unexpected keys \['extra'\]"
    ):
        net.load_state_dict(state)  # strict: PyTorch's RuntimeError (also a ValueError)
    with pytest.raises(nn.StateDictError):
        net.load_state_dict(state)


@pytest.mark.parametrize(
    "value",
    [np.array(["a", "b"]), np.array([None, 1], dtype=object), object(), [[1.0], [2.0, 3.0]]]
    + [np.array([1 + 2j, 3j])],
    ids=["str", "object-array", "object", "ragged", "complex"],
)
def test_load_state_dict_is_all_or_nothing(value: Any) -> None:
    net = make_net()
    before = net.state_dict()
    state = {k: v + 1 for k, v in make_net().state_dict().items()}  # every entry differs
    last = list(state)[-3]  # a bad entry after good ones
    state[last] = value
    versions = [p._version for p in net.parameters()]
    with pytest.raises(nn.StateDictError, match=rf"bad values: {re.escape(last)}: "):
        net.load_state_dict(state)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert [p._version for p in net.parameters()] == versions


def test_load_state_dict_result_has_torchs_fields() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Linear(2, 2).load_state_dict(
        {"weight": torch.zeros(2, 2), "x": torch.zeros(1)}, strict=False
    )
    ours = nn.Linear(2, 2).load_state_dict(
        {"weight": np.zeros((2, 2)), "x": np.zeros(1)}, strict=False
    )
    assert ours.missing_keys == theirs.missing_keys == ["bias"]
    assert ours.unexpected_keys == theirs.unexpected_keys == ["x"]


# ----- Conv2d('same' / 'valid', dilation), AvgPool2d(count_include_pad) -----


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("kernel", "padding", "dilation"),
    [(3, "same", 1), (4, "same", 1), ((2, 3), "same", 2), (3, "valid", 2), (3, 1, (2, 1))],
)
def test_conv2d_layer_options_match_torch(
    kernel: Any, padding: Any, dilation: Any, dtype: Any
) -> None:
    torch, tdt = import_torch(dtype)
    ours = as_dtype(nn.Conv2d(2, 3, kernel, padding=padding, dilation=dilation), dtype)
    theirs = torch.nn.Conv2d(2, 3, kernel, padding=padding, dilation=dilation, dtype=tdt)
    x = _input((2, 2, 7, 6), dtype)
    compare_layer(ours, theirs, x, torch, dtype)
    if padding == "same":
        assert ours(x).shape == (2, 3, 7, 6)


def test_conv2d_layer_options_gradgradcheck() -> None:
    check_layer(nn.Conv2d(2, 2, (2, 3), padding="same", dilation=(2, 1)), _input((2, 2, 5, 4)))
    check_layer(nn.Conv2d(2, 2, 2, stride=2, padding=1, dilation=2), _input((1, 2, 6, 5)))


def test_conv2d_layer_repr_and_errors() -> None:
    conv = nn.Conv2d(1, 8, 3, padding="same", dilation=2)
    assert conv.padding == "same" and conv.dilation == (2, 2)
    assert (
        repr(conv) == "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding='same', "
        "dilation=(2, 2), bias=True)"
    )
    with pytest.raises(
        ValueError, match=re.escape("Conv2d: padding='same' is not supported for strided")
    ):
        nn.Conv2d(1, 8, 3, stride=2, padding="same")
    with pytest.raises(
        ValueError, match=re.escape("Conv2d: padding must be an int, a pair or one of")
    ):
        nn.Conv2d(1, 8, 3, padding="full")
    with pytest.raises(ValueError, match="Conv2d: dilation must be >= 1; got 0"):
        nn.Conv2d(1, 8, 3, dilation=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool_layer_count_include_pad_matches_torch(dtype: Any) -> None:
    torch, _ = import_torch(dtype)
    x = _input((2, 3, 7, 6), dtype)
    for include in (True, False):
        ours = nn.AvgPool2d(3, 2, 1, count_include_pad=include)
        theirs = torch.nn.AvgPool2d(3, 2, 1, count_include_pad=include)
        compare_layer(ours, theirs, x, torch, dtype)
    assert repr(nn.AvgPool2d(3, 2, 1, count_include_pad=False)).endswith("count_include_pad=False)")


# ----- NumPy inputs -----

NUMPY_LAYERS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "Linear": (lambda: nn.Linear(4, 3), (2, 4)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding="same"), (2, 2, 5, 5)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 2, 4, 4)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (2, 2, 4, 4)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4), (3, 4)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    "Dropout": (lambda: nn.Dropout(0.5), (3, 4)),
    "Flatten": (lambda: nn.Flatten(), (2, 3, 2)),
    "Identity": (lambda: nn.Identity(), (2, 3)),
    "ReLU": (lambda: nn.ReLU(), (2, 3)),
    "Sigmoid": (lambda: nn.Sigmoid(), (2, 3)),
    "Tanh": (lambda: nn.Tanh(), (2, 3)),
    "Softmax": (lambda: nn.Softmax(1), (2, 3)),
    "LogSoftmax": (lambda: nn.LogSoftmax(1), (2, 3)),
    "LeakyReLU": (lambda: nn.LeakyReLU(), (2, 3)),
    "ELU": (lambda: nn.ELU(), (2, 3)),
    "GELU": (lambda: nn.GELU(), (2, 3)),
    "SiLU": (lambda: nn.SiLU(), (2, 3)),
    "Softplus": (lambda: nn.Softplus(), (2, 3)),
    "Sequential": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(6, 2)), (2, 3, 2)),
}


@pytest.mark.parametrize("name", list(NUMPY_LAYERS))
def test_every_layer_takes_a_numpy_array(name: str) -> None:
    make, shape = NUMPY_LAYERS[name]
    layer = make()
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    am.manual_seed(0)
    from_array = layer(x)
    am.manual_seed(0)
    from_tensor = layer(Tensor(x))
    assert isinstance(from_array, Tensor), name
    np.testing.assert_array_equal(from_array.data, from_tensor.data)


def test_loss_layers_take_numpy_arrays() -> None:
    x = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    assert nn.CrossEntropyLoss()(x, np.array([0, 1, 3])).shape == ()
    assert nn.MSELoss()(x, np.zeros_like(x)).item() == pytest.approx(float(np.mean(x**2)), rel=1e-6)
    assert nn.BCEWithLogitsLoss()(x, np.ones_like(x)).dtype == np.float32


def test_forward_hooks_see_the_tensor_made_from_an_array() -> None:
    layer = nn.ReLU()
    seen: list[Any] = []
    layer.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0]))
    layer(np.ones(2, dtype=np.float32))
    assert isinstance(seen[0], Tensor)
