"""Differential sweep of ``F`` and the nn layers/losses against PyTorch: argument forms
PyTorch accepts (class weights, class probabilities, (K,) and (N, K, d1, ...) inputs to the
class losses, one (C, H, W) image to conv and pooling, 3-D/5-D batch norm, softmax's
``dtype``, ``inplace`` and the pooling layers' positional arguments), each compared in
value and gradient, and the clear errors where we still refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _compare(
    ours: Callable[..., Any], theirs: Callable[..., Any], *arrays: np.ndarray, tol: float = 1e-6
) -> None:
    """Values and gradients (for a random cotangent) of ours and torch's, on the same arrays."""
    xa = [am.Tensor(a.copy(), requires_grad=True) for a in arrays]
    xt = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    ya, yt = ours(*xa), theirs(*xt)
    assert ya.shape == tuple(yt.shape) and ya.dtype == arrays[0].dtype
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(1).standard_normal(ya.shape).astype(arrays[0].dtype)
    ya.backward(am.Tensor(g))
    yt.backward(torch.tensor(g))
    for a, t in zip(xa, xt):
        assert a.grad is not None
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=tol, atol=tol)


def _logits(*shape: int, dtype: Any = np.float64) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


# ----- cross_entropy / nll_loss: class weights, probabilities, (K,) and (N, K, d...) -----

SHAPES = [
    ((6, 4), (6,)),
    ((4,), ()),
    ((2, 4, 3), (2, 3)),
    ((2, 4, 3, 2), (2, 3, 2)),
    ((0, 4), (0,)),
]
# Each case is new: class weights, or an input other than (N, K) (those worked before).
CASES = [(s, t, w) for s, t in SHAPES for w in (False, True) if w or len(s) != 2]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignore", [False, True], ids=["all", "ignore"])
@pytest.mark.parametrize(
    ("shape", "tshape", "weighted"), CASES, ids=[f"{s}-w{w:d}" for s, _, w in CASES]
)
def test_class_losses_match_torch(
    reduction: str,
    smoothing: float,
    ignore: bool,
    shape: tuple[int, ...],
    tshape: tuple[int, ...],
    weighted: bool,
) -> None:
    target = np.random.default_rng(2).integers(0, 4, tshape)
    if ignore and target.size:
        target.reshape(-1)[::2] = 1 if weighted else -100
    index = 1 if ignore and weighted else -100
    w = np.array([0.5, 2.0, 1.0, 3.0])
    ours = {"weight": am.Tensor(w)} if weighted else {}
    theirs = {"weight": torch.tensor(w)} if weighted else {}
    _compare(
        lambda x: F.cross_entropy(
            x, target, reduction, index, label_smoothing=smoothing, **ours
        ),
        lambda x: TF.cross_entropy(
            x, torch.tensor(target), reduction=reduction, ignore_index=index,
            label_smoothing=smoothing, **theirs,
        ),
        _logits(*shape),
    )  # fmt: skip
    if smoothing == 0.0:
        _compare(
            lambda x: F.nll_loss(x, target, reduction, index, **ours),
            lambda x: TF.nll_loss(
                x, torch.tensor(target), reduction=reduction, ignore_index=index, **theirs
            ),
            _logits(*shape),
        )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 3, 4)], ids=str)
def test_cross_entropy_takes_class_probabilities(
    reduction: str, smoothing: float, shape: tuple[int, ...]
) -> None:
    probs = np.random.default_rng(3).random(shape)
    w = np.array([1.0, 0.5, 2.0])
    _compare(
        lambda x, p: F.cross_entropy(
            x, p, reduction, label_smoothing=smoothing, weight=am.Tensor(w)
        ),
        lambda x, p: TF.cross_entropy(
            x, p, reduction=reduction, label_smoothing=smoothing, weight=torch.tensor(w)
        ),
        _logits(*shape),
        probs,
    )


def test_the_new_class_loss_paths_pass_gradcheck() -> None:
    w = am.Tensor(np.array([0.5, 2.0, 1.0]))
    t = np.array([[0, 2], [1, -100]])
    am.gradcheck(
        lambda x: F.cross_entropy(x, t, label_smoothing=0.3, weight=w),
        am.Tensor(_logits(2, 3, 2), requires_grad=True),
    )
    am.gradgradcheck(
        lambda x: F.nll_loss(x, t, "sum", weight=w),
        am.Tensor(_logits(2, 3, 2), requires_grad=True),
    )
    am.gradcheck(
        lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1),
        am.Tensor(_logits(4, 3), requires_grad=True),
        am.Tensor(np.random.default_rng(4).random((4, 3)), requires_grad=True),
    )


@pytest.mark.parametrize("cls", ["CrossEntropyLoss", "NLLLoss"])
def test_loss_layers_take_class_weights_as_a_buffer(cls: str) -> None:
    w = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x, t = _logits(5, 3, dtype=np.float32), np.array([0, 1, 2, 1, 0])
    ours = getattr(nn, cls)(weight=w, ignore_index=1)
    theirs = getattr(torch.nn, cls)(weight=torch.tensor(w), ignore_index=1)
    assert ours(am.Tensor(x), t).item() == pytest.approx(
        theirs(torch.tensor(x), torch.tensor(t)).item(), rel=1e-6
    )
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


@pytest.mark.parametrize("op", [F.cross_entropy, F.nll_loss, F.mse_loss])
def test_an_array_in_reduction_s_place_is_refused_by_name(op: Any) -> None:
    # PyTorch's third positional argument is weight: ours is reduction. The array used to
    # reach ``reduction in (...)`` and raise NumPy's "truth value ... is ambiguous".
    x = np.zeros((2, 3))
    target = np.zeros(2, dtype=np.int64) if op is not F.mse_loss else x
    with pytest.raises(ValueError, match=rf"{op.__name__}: reduction must be one of .* ndarray"):
        op(x, target, np.ones(3))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), weight=np.ones(4)),
            r"cross_entropy: weight has shape \(4,\); expected \(3,\)",
        ),
        (  # was Python's "'<=' not supported between 'float' and 'str'", naming no op
            lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing="a"),
            "cross_entropy: label_smoothing must be in",
        ),
    ],
    ids=["weight-shape", "smoothing-type"],
)
def test_class_loss_argument_errors(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# ----- one (C, H, W) image to conv2d and pooling -----


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("ours", "theirs", "extra"),
    [
        (
            lambda x, w: F.conv2d(x, w, None, 2, 1),
            lambda x, w: TF.conv2d(x, w, None, 2, 1),
            True,
        ),
        (lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1), False),
        (
            lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
            lambda x: TF.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
            False,
        ),
    ],
    ids=["conv2d", "max_pool2d", "avg_pool2d"],
)
def test_one_image_without_a_batch_dimension(
    dtype: Any, ours: Any, theirs: Any, extra: bool
) -> None:
    arrays = [_logits(3, 7, 6, dtype=dtype)] + ([_logits(4, 3, 3, 2, dtype=dtype)] if extra else [])
    _compare(ours, theirs, *arrays, tol=1e-5)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (nn.Conv2d(3, 4, 3, padding="same"), torch.nn.Conv2d(3, 4, 3, padding="same")),
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.AvgPool2d(3, 1, 1), torch.nn.AvgPool2d(3, 1, 1)),
    ],
    ids=["Conv2d", "MaxPool2d", "AvgPool2d"],
)
def test_layers_take_one_image(ours: Any, theirs: Any) -> None:
    for name, p in theirs.named_parameters():
        getattr(ours, name).data[...] = p.detach().numpy()
    x = _logits(3, 8, 8, dtype=np.float32)
    np.testing.assert_allclose(
        ours(am.Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-6
    )


# ----- batch_norm: (N, C, L) and (N, C, D, H, W) -----


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 5), (2, 3, 2, 3, 2)], ids=str)
def test_batch_norm_of_3d_and_5d_inputs(training: bool, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(5)
    mean, var = rng.random(3), rng.random(3) + 0.5
    ours_stats, torch_stats = (mean.copy(), var.copy()), (torch.tensor(mean), torch.tensor(var))
    _compare(
        lambda x, w, b: F.batch_norm(x, *ours_stats, w, b, training, 0.3, 1e-3),
        lambda x, w, b: TF.batch_norm(x, *torch_stats, w, b, training, 0.3, 1e-3),
        _logits(*shape),
        rng.standard_normal(3),
        rng.standard_normal(3),
    )
    np.testing.assert_allclose(ours_stats[0], torch_stats[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_stats[1], torch_stats[1].numpy(), rtol=1e-12)
    am.gradcheck(
        lambda x: F.batch_norm(x, None, None, training=True),
        am.Tensor(_logits(*shape), requires_grad=True),
    )


# ----- small PyTorch argument forms -----


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_takes_a_dtype(op: str) -> None:
    x = _logits(3, 4, dtype=np.float32)
    ours = getattr(F, op)(am.Tensor(x), 1, dtype=am.float64)
    theirs = getattr(TF, op)(torch.tensor(x), 1, dtype=torch.float64)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match=f"{op}: dtype must be float32 or float64"):
        getattr(F, op)(am.Tensor(x), 1, dtype=np.int64)


def test_pad_value_none_is_zero() -> None:
    # torch's default value is None (meaning 0); ours filled with NaN.
    y = F.pad(am.Tensor(np.ones((2, 2))), (1, 1), value=None)
    np.testing.assert_array_equal(y.data, TF.pad(torch.ones(2, 2), (1, 1), value=None).numpy())


def test_avg_pool_layer_takes_pytorchs_positional_order() -> None:
    # torch's AvgPool2d(kernel, stride, padding, ceil_mode, count_include_pad, ...): a fourth
    # positional argument was read as count_include_pad, silently.
    x = _logits(1, 1, 5, 5, dtype=np.float32)
    ours = nn.AvgPool2d(3, 2, 1, False, False)
    theirs = torch.nn.AvgPool2d(3, 2, 1, False, False)
    np.testing.assert_allclose(ours(am.Tensor(x)).data, theirs(torch.tensor(x)).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="AvgPool2d: ceil_mode=True is not supported"):
        nn.AvgPool2d(3, 2, 1, True)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.MaxPool2d(3, 2, 1, 1, False, False),
        lambda: nn.MaxPool2d(2, dilation=(1, 1), ceil_mode=False),
        lambda: nn.AvgPool2d(2, divisor_override=None),
        lambda: nn.ReLU(inplace=False),
        lambda: nn.LeakyReLU(0.1, False),
        lambda: nn.ELU(1.0, False),
        lambda: nn.SiLU(False),
        lambda: nn.Dropout(0.1, False),
        lambda: nn.Identity(54, unused="x"),
    ],
    ids=["MaxPool2d", "MaxPool2d-kw", "AvgPool2d", "ReLU", "LeakyReLU", "ELU", "SiLU",
         "Dropout", "Identity"],
)  # fmt: skip
def test_layers_take_pytorchs_default_arguments(make: Callable[[], Any]) -> None:
    x = am.Tensor(_logits(1, 2, 4, 4, dtype=np.float32))
    assert make().eval()(x).ndim == 4


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: F.leaky_relu(np.zeros(2), 0.1, True), "leaky_relu: inplace=True is not supported"),
        (lambda: F.relu(np.zeros(2), inplace=True), "relu: inplace=True is not supported"),
        (lambda: F.dropout(np.zeros(2), 0.5, True, True), "dropout: inplace=True is not supported"),
        (lambda: F.elu(np.zeros(2), 1.0, True), "elu: inplace=True is not supported"),
        (lambda: F.silu(np.zeros(2), inplace=True), "silu: inplace=True is not supported"),
        (lambda: nn.MaxPool2d(2, ceil_mode=True), "MaxPool2d: ceil_mode=True is not supported"),
        (lambda: nn.MaxPool2d(2, dilation=2), "MaxPool2d: dilation=2 is not supported"),
    ],
)
def test_unsupported_pytorch_options_are_refused_by_name(
    make: Callable[[], Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: nn.ReLU(inplace=True), "ReLU(inplace=True)"),
        (lambda: nn.LeakyReLU(0.1, True), "LeakyReLU(negative_slope=0.1, inplace=True)"),
        (lambda: nn.ELU(inplace=True), "ELU(alpha=1.0, inplace=True)"),
        (lambda: nn.SiLU(True), "SiLU(inplace=True)"),
        (lambda: nn.Dropout(0.3, True), "Dropout(p=0.3, inplace=True)"),
        (lambda: nn.Dropout2d(0.2, True), "Dropout2d(p=0.2, inplace=True)"),
    ],
)
def test_layers_take_inplace_true_and_compute_out_of_place(make: Any, shown: str) -> None:
    """``nn.ReLU(inplace=True)``, common in copied models, is accepted: the same output,
    the input left as it was (torch overwrites it), torch's repr. The functions still
    refuse ``inplace=True``: their caller may rely on the input changing."""
    layer = make().eval()
    assert repr(layer) == shown  # torch 2.13 prints these strings
    x = am.tensor(np.linspace(-2, 2, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2), requires_grad=True)
    before = x.numpy().copy()
    y = layer(x)
    np.testing.assert_array_equal(x.numpy(), before)
    y.sum().backward()
    assert x.grad is not None and y.shape == x.shape
