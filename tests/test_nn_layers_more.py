"""nn and F, the layers MNIST users reach for next: ``Dropout2d``/``F.dropout2d``,
``AdaptiveAvgPool2d``/``F.adaptive_avg_pool2d`` and ``LayerNorm``/``F.layer_norm``.

Values and gradients are compared with PyTorch's for the same weights and inputs (dropout2d,
random, by its structure: whole channels zeroed, the rest scaled, the same mask under the
same seed); also eval/train behaviour, state_dict keys, reprs, errors naming the layer and
the argument, second-order gradients through the layers and ONNX export. The op table
(``op_cases_layers.py``) checks the functions over their argument forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_nn import check_layer, close, compare_layer, import_torch, to_torch

import autograd_mnist as am
from autograd_mnist import Tensor, nn
from autograd_mnist import functional as F

DTYPES = [np.float32, np.float64]


def _input(shape: tuple[int, ...], dtype: Any = np.float64, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * 2).astype(dtype)


def _randomise(layer: nn.Module, seed: int = 3) -> nn.Module:
    """Every parameter away from its initial value (so weight and bias matter)."""
    gen = np.random.default_rng(seed)
    for p in layer.parameters():
        p.data[...] = gen.standard_normal(p.shape).astype(p.dtype)
    return layer


# ----- Dropout2d -----


@pytest.mark.parametrize("shape", [(4, 6, 3, 5), (6, 3, 5)])
@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest(
    shape: tuple[int, ...], p: float
) -> None:
    x = Tensor(_input(shape) + 10.0, requires_grad=True)  # no element is 0 by chance
    y = F.dropout2d(x, p, rng=np.random.default_rng(0))
    ratio = y.data / x.data
    per_channel = ratio.reshape(*shape[:-2], -1)
    assert np.allclose(per_channel, per_channel[..., :1])  # one factor per channel
    factors = np.unique(np.round(per_channel[..., 0], 12))
    assert set(factors) <= {0.0, round(1 / (1 - p), 12)}
    w = _input(shape, seed=1)
    (y * Tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w * ratio, rtol=1e-12)  # same mask, scaled


def test_dropout2d_drops_a_share_p_of_channels_like_torch() -> None:
    torch, _ = import_torch(np.float32)
    x = np.ones((200, 50, 2, 2), dtype=np.float32)
    ours = F.dropout2d(x, 0.3).data
    theirs = torch.nn.functional.dropout2d(torch.tensor(x), 0.3).numpy()
    for y in (ours, theirs):  # the same structure: constant channels of 0 or 1 / (1 - p)
        assert np.all(y == y[:, :, :1, :1])
        assert set(np.unique(y)) == {np.float32(0.0), np.float32(1 / 0.7)}
        assert abs((y[:, :, 0, 0] == 0).mean() - 0.3) < 0.02  # 10,000 channels


def test_dropout2d_is_deterministic_under_manual_seed() -> None:
    x = _input((3, 8, 2, 2))
    am.manual_seed(7)
    a = F.dropout2d(x).data
    layer = nn.Dropout2d()
    am.manual_seed(7)
    b = layer(x).data
    c = layer(x).data  # the next draw
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)
    rng_a = F.dropout2d(x, rng=np.random.default_rng(5)).data
    np.testing.assert_array_equal(rng_a, F.dropout2d(x, rng=np.random.default_rng(5)).data)


def test_dropout2d_eval_and_edge_probabilities() -> None:
    x = Tensor(_input((2, 3, 4, 4)))
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    assert not F.dropout2d(x, 1.0).data.any()
    layer = nn.Dropout2d(0.5)
    assert layer.eval()(x) is x
    assert not np.array_equal(layer.train()(x).data, x.data)
    assert nn.Dropout2d(0.0)(x) is x


def test_dropout2d_repr_and_state_match_torch() -> None:
    torch, _ = import_torch(np.float32)
    assert (
        repr(nn.Dropout2d(0.2))
        == repr(torch.nn.Dropout2d(0.2))
        == "Dropout2d(p=0.2, inplace=False)"
    )
    assert repr(nn.Dropout2d()) == repr(torch.nn.Dropout2d())
    assert list(nn.Dropout2d().state_dict()) == list(torch.nn.Dropout2d().state_dict()) == []
    assert not isinstance(nn.Dropout2d(), nn.Dropout)


# ----- AdaptiveAvgPool2d -----

SIZES = [1, 2, 3, 4, (2, 3), (None, 2), (3, None), (5, 1), (9, 10), (7, 5)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (3, 8, 6), (1, 1, 28, 28)], ids=str)
def test_adaptive_avg_pool2d_matches_torch(shape: tuple[int, ...], size: Any, dtype: Any) -> None:
    torch, _ = import_torch(dtype)
    compare_layer(
        nn.AdaptiveAvgPool2d(size),
        torch.nn.AdaptiveAvgPool2d(size),
        _input(shape, dtype),
        torch,
        dtype,
    )


def test_adaptive_avg_pool2d_of_a_batch_last_conv_output_matches_torch() -> None:
    torch, _ = import_torch(np.float64)
    conv = nn.Conv2d(1, 4, 3).double()
    y = conv(_input((3, 1, 12, 11)))  # stored batch-last
    for size in (1, 3, 5, (None, 4)):
        ours = F.adaptive_avg_pool2d(y, size).data
        theirs = torch.nn.functional.adaptive_avg_pool2d(to_torch(torch, y.data), size)
        close(ours, theirs.numpy(), np.float64)


@pytest.mark.parametrize("size", [1, 3, (None, 2), (4, 7)], ids=str)
def test_adaptive_avg_pool2d_gradgradcheck(size: Any) -> None:
    check_layer(nn.AdaptiveAvgPool2d(size), _input((2, 2, 6, 5)))


def test_adaptive_avg_pool2d_repr_and_state_match_torch() -> None:
    torch, _ = import_torch(np.float32)
    for size in (1, (5, 7), (None, 7), [2, 3]):
        assert repr(nn.AdaptiveAvgPool2d(size)) == repr(torch.nn.AdaptiveAvgPool2d(size))
    assert repr(nn.AdaptiveAvgPool2d((None, 7))) == "AdaptiveAvgPool2d(output_size=(None, 7))"
    assert list(nn.AdaptiveAvgPool2d(1).state_dict()) == []
    assert not isinstance(nn.AdaptiveAvgPool2d(1), nn.AvgPool2d)


def test_adaptive_avg_pool2d_is_a_global_average_for_size_1() -> None:
    x = _input((2, 3, 5, 4))
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(x, 1).data, x.mean(axis=(2, 3), keepdims=True), rtol=1e-12
    )
    assert F.adaptive_avg_pool2d(np.zeros((0, 3, 5, 4)), 2).shape == (0, 3, 2, 2)


# ----- LayerNorm -----

LAYER_NORMS: list[tuple[tuple[int, ...], Any, dict[str, Any]]] = [
    ((4, 10), 10, {}),
    ((4, 10), [10], {"bias": False}),
    ((2, 3, 5), (3, 5), {}),
    ((2, 3, 4, 4), (4, 4), {"elementwise_affine": False}),
    ((2, 1, 28, 28), (1, 28, 28), {"eps": 1e-3}),
    ((3, 5, 6), 6, {"elementwise_affine": True, "bias": True}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "normalized", "kwargs"), LAYER_NORMS, ids=str)
def test_layer_norm_matches_torch(
    shape: tuple[int, ...], normalized: Any, kwargs: dict[str, Any], dtype: Any
) -> None:
    torch, torch_dtype = import_torch(dtype)
    ours = _randomise(nn.LayerNorm(normalized, **kwargs)).to(dtype)
    theirs = torch.nn.LayerNorm(normalized, **kwargs).to(torch_dtype)
    compare_layer(ours, theirs, _input(shape, dtype), torch, dtype)


@pytest.mark.parametrize(("shape", "normalized", "kwargs"), LAYER_NORMS, ids=str)
def test_layer_norm_state_dict_and_repr_match_torch(
    shape: tuple[int, ...], normalized: Any, kwargs: dict[str, Any]
) -> None:
    torch, _ = import_torch(np.float32)
    ours, theirs = nn.LayerNorm(normalized, **kwargs), torch.nn.LayerNorm(normalized, **kwargs)
    assert repr(ours) == repr(theirs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k, v in theirs_sd.items():  # torch's init: ones and zeros, float32
        assert ours_sd[k].dtype == np.float32
        np.testing.assert_array_equal(np.asarray(ours_sd[k]), v.numpy())
    ours.load_state_dict({k: v.numpy() + 1 for k, v in theirs_sd.items()})  # loads as is
    assert ours.normalized_shape == theirs.normalized_shape


def test_layer_norm_functional_forms_match_torch() -> None:
    torch, _ = import_torch(np.float64)
    x, w, b = _input((3, 4, 5)), _input((4, 5), seed=1), _input((4, 5), seed=2)
    tf = torch.nn.functional
    for kw in ({}, {"weight": w}, {"bias": b}, {"weight": w, "bias": b, "eps": 0.1}):
        ours = F.layer_norm(x, (4, 5), **kw).data
        args = {k: to_torch(torch, v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        theirs = tf.layer_norm(to_torch(torch, x), (4, 5), **args)
        close(ours, theirs.numpy(), np.float64)
    flat = np.full((2, 6), 1.7198136, dtype=np.float32)  # a constant group: exactly 0
    assert not F.layer_norm(flat, 6).data.any()


@pytest.mark.parametrize(("normalized", "kwargs"), [(5, {}), ((3, 5), {"bias": False})], ids=str)
def test_layer_norm_gradgradcheck(normalized: Any, kwargs: dict[str, Any]) -> None:
    check_layer(_randomise(nn.LayerNorm(normalized, **kwargs)).double(), _input((2, 3, 5)))


# ----- argument checks -----

ERRORS: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: nn.Dropout2d(1.5), ValueError, "Dropout2d: p must be in [0, 1]; got 1.5"),
    (lambda: nn.Dropout2d(-0.1), ValueError, "Dropout2d: p must be in [0, 1]; got -0.1"),
    (lambda: nn.Dropout2d("0.5"), TypeError, "Dropout2d: p must be a number in [0, 1]; got '0.5'"),
    (
        lambda: nn.Dropout2d(0.5, inplace=None),
        TypeError,
        "Dropout2d: inplace must be a bool; got None",
    ),
    (
        lambda: nn.Dropout2d()(np.zeros((2, 3))),
        ValueError,
        "Dropout2d: expected input (N, C, H, W) or (C, H, W); got (2, 3)",
    ),
    (
        lambda: F.dropout2d(np.zeros((2, 3, 4, 4)), 2.0),
        ValueError,
        "dropout2d: p must be in [0, 1]; got 2.0",
    ),
    (lambda: F.dropout2d(np.zeros((2, 3, 4, 4)), None), TypeError, "dropout2d: p must be a number"),
    (
        lambda: F.dropout2d(np.zeros((2, 3, 4, 4)), inplace=True),
        ValueError,
        "dropout2d: inplace=True is not supported",
    ),
    (
        lambda: F.dropout2d(np.zeros((2, 3, 4, 4, 1))),
        ValueError,
        "dropout2d: expected input (N, C, H, W) or (C, H, W); got (2, 3, 4, 4, 1)",
    ),
    (
        lambda: nn.AdaptiveAvgPool2d(-1),
        ValueError,
        "AdaptiveAvgPool2d: output_size must be >= 0; got -1",
    ),
    (
        lambda: nn.AdaptiveAvgPool2d((2, 3, 4)),
        TypeError,
        "AdaptiveAvgPool2d: output_size must be an int or a pair of ints or Nones; got (2, 3, 4)",
    ),
    (lambda: nn.AdaptiveAvgPool2d(2.5), TypeError, "AdaptiveAvgPool2d: output_size must be an int"),
    (
        lambda: nn.AdaptiveAvgPool2d(None),
        TypeError,
        "AdaptiveAvgPool2d: output_size must be an int",
    ),
    (
        lambda: nn.AdaptiveAvgPool2d(2)(np.zeros((2, 5))),
        ValueError,
        "AdaptiveAvgPool2d: expected input (N, C, H, W) or (C, H, W) with H, W >= 1; got (2, 5)",
    ),
    (
        lambda: F.adaptive_avg_pool2d(np.zeros((1, 2, 0, 3)), 2),
        ValueError,
        "adaptive_avg_pool2d: expected input (N, C, H, W) or (C, H, W) with H, W >= 1; got (1, 2",
    ),
    (
        lambda: F.adaptive_avg_pool2d(np.zeros((1, 2, 4, 3)), (1, "a")),
        TypeError,
        "adaptive_avg_pool2d: output_size must be an int or a pair",
    ),
    (
        lambda: nn.LayerNorm(()),
        ValueError,
        "LayerNorm: normalized_shape must have at least one dimension, each >= 0; got ()",
    ),
    (
        lambda: nn.LayerNorm((3, -1)),
        ValueError,
        "LayerNorm: normalized_shape must have at least one dimension, each >= 0; got (3, -1)",
    ),
    (
        lambda: nn.LayerNorm(2.0),
        TypeError,
        "LayerNorm: normalized_shape must be an int or a tuple of ints; got 2.0",
    ),
    (lambda: nn.LayerNorm(4, eps="x"), TypeError, "LayerNorm: eps must be a number; got 'x'"),
    (
        lambda: nn.LayerNorm((3, 4))(np.zeros((2, 4, 3))),
        ValueError,
        "LayerNorm: input (2, 4, 3) does not end with normalized_shape (3, 4); expected input (*",
    ),
    (
        lambda: nn.LayerNorm(4)(np.zeros(())),
        ValueError,
        "LayerNorm: input () does not end with normalized_shape (4,)",
    ),
    (
        lambda: F.layer_norm(np.zeros((2, 4)), 3),
        ValueError,
        "layer_norm: input (2, 4) does not end with normalized_shape (3,); expected input (*, 3)",
    ),
    (
        lambda: F.layer_norm(np.zeros((2, 4)), 4, np.ones(3)),
        ValueError,
        "layer_norm: weight has shape (3,); expected normalized_shape (4,) for input (2, 4)",
    ),
    (
        lambda: F.layer_norm(np.zeros((2, 4)), 4, None, np.ones((1, 4))),
        ValueError,
        "layer_norm: bias has shape (1, 4); expected normalized_shape (4,)",
    ),
    (
        lambda: F.layer_norm(np.zeros((2, 4)), "4"),
        TypeError,
        "layer_norm: normalized_shape must be an int or a tuple of ints; got '4'",
    ),
    (
        lambda: F.layer_norm(np.zeros((2, 4)), 4, np.ones(4, np.float32)),
        TypeError,
        "layer_norm: mixed float dtypes",
    ),
]


@pytest.mark.parametrize(("make", "error", "message"), ERRORS, ids=[m for _, _, m in ERRORS])
def test_bad_arguments_raise_naming_the_layer(
    make: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_layers_are_exported_by_nn_and_F() -> None:
    for name in ("dropout2d", "adaptive_avg_pool2d", "layer_norm"):
        assert name in F.__all__ and callable(getattr(F, name))
    for name in ("Dropout2d", "AdaptiveAvgPool2d", "LayerNorm"):
        assert name in nn.__all__ and issubclass(getattr(nn, name), nn.Module)


def test_a_small_mnist_net_with_the_new_layers_trains_and_evaluates() -> None:
    am.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Dropout2d(0.25), nn.AdaptiveAvgPool2d(4),
        nn.Flatten(), nn.LayerNorm(64), nn.Linear(64, 10),
    )  # fmt: skip
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    y = np.arange(8) % 10
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    assert all(p.grad is not None and p.grad.dtype == np.float32 for p in net.parameters())
    net.eval()
    np.testing.assert_array_equal(net(x).data, net(x).data)  # no dropout in eval mode


# ----- ONNX export -----


@pytest.mark.parametrize(
    ("size", "node"),
    [(1, "GlobalAveragePool"), (2, "AveragePool"), ((None, 3), "AveragePool"), (5, "MatMul")],
    ids=str,
)
def test_onnx_export_matches_our_forward(size: Any, node: str, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    am.manual_seed(0)
    width = int(np.prod(F.adaptive_avg_pool2d(np.zeros((1, 1, 12, 6)), size).shape[-2:]))
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.Dropout2d(0.5), nn.AdaptiveAvgPool2d(size), nn.Flatten(),
        _randomise(nn.LayerNorm(2 * width)), nn.Linear(2 * width, 3),
    )  # fmt: skip
    gen = np.random.default_rng(1)
    path = tmp_path / "net.onnx"
    proto = am.onnx.export(net, gen.random((3, 1, 14, 8), dtype=np.float32), path)
    assert node in [n.op_type for n in proto.graph.node]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    net.eval()
    for n in (1, 7):
        x = gen.random((n, 1, 14, 8), dtype=np.float32)
        with am.no_grad():
            ours = net(x).data
        (theirs,) = session.run(None, {"input": x})
        np.testing.assert_allclose(theirs, ours, atol=1e-5, rtol=0)
