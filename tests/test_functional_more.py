"""F's activations, losses, padding and conv/pool options (issue 9): erf's accuracy,
PyTorch parity of values, gradients and second derivatives, the edge rules PyTorch has
(clamped logs, ignored targets, 'same' padding with even kernels) and the error messages.

The op-table rows in ``op_cases_fnn.py`` check each against a NumPy reference and
central differences (``test_ops_fnn.py``); this file adds what a table row cannot say.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from op_cases_fnn import ref_erf

import autograd_mnist as am
from autograd_mnist import Tensor, gradcheck, gradgradcheck
from autograd_mnist import functional as F
from autograd_mnist.ops.special import erf_array

DTYPES = [np.float32, np.float64]


def close(actual: Any, desired: Any, dtype: Any) -> None:
    rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-12)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol)


def import_torch() -> Any:
    return pytest.importorskip("torch")


# ----- erf -----


def test_erf_is_float64_accurate() -> None:
    x = np.concatenate([np.linspace(-7, 7, 140_001), np.geomspace(1e-300, 1, 1000)])
    x = np.concatenate([x, -x[-1000:]])
    y = erf_array(x)
    assert y.dtype == np.float64
    # against the C library's erf, element by element: max error < 1e-14 (measured 5.3e-15),
    # relative too (tiny arguments: erf(x) ~ 2x / sqrt(pi))
    libm = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(y - libm)) < 1e-14
    assert np.max(np.abs(y - libm) / np.maximum(np.abs(libm), 1e-300)) < 1e-14
    # and against an independent reference (a positive-term series, no libm erf)
    inner = np.abs(x) <= 4
    assert np.max(np.abs(y[inner] - ref_erf(x[inner]))) < 1e-14
    # odd, saturated tails, infinities, NaN, signed zero, 0-d and float32
    np.testing.assert_array_equal(erf_array(-x), -y)
    special = erf_array(np.array([-np.inf, -40.0, -6.0, 6.0, 40.0, np.inf, np.nan, -0.0]))
    np.testing.assert_array_equal(special, [-1, -1, -1, 1, 1, 1, np.nan, -0.0])
    assert np.signbit(special[-1])
    assert type(erf_array(np.array(0.5))) is np.ndarray and erf_array(np.array(0.5)).shape == ()
    assert erf_array(np.float32([0.5])).dtype == np.float32


def test_erf_matches_torch() -> None:
    torch = import_torch()
    x = np.random.default_rng(0).standard_normal(1000) * 3
    np.testing.assert_allclose(
        erf_array(x), torch.erf(torch.from_numpy(x)).numpy(), rtol=0, atol=1e-14
    )


# ----- activations: PyTorch parity, first and second order -----

ACTIVATIONS: dict[str, tuple[Callable[..., Tensor], Callable[[Any, Any], Any]]] = {
    "leaky_relu": (F.leaky_relu, lambda tf, x: tf.leaky_relu(x)),
    "leaky_relu[0.3]": (
        lambda x: F.leaky_relu(x, 0.3),
        lambda tf, x: tf.leaky_relu(x, 0.3),
    ),
    "elu": (F.elu, lambda tf, x: tf.elu(x)),
    "elu[alpha=0.5]": (lambda x: F.elu(x, alpha=0.5), lambda tf, x: tf.elu(x, alpha=0.5)),
    "gelu": (F.gelu, lambda tf, x: tf.gelu(x)),
    "gelu[tanh]": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda tf, x: tf.gelu(x, approximate="tanh"),
    ),
    "silu": (F.silu, lambda tf, x: tf.silu(x)),
    "softplus": (F.softplus, lambda tf, x: tf.softplus(x)),
    "softplus[beta=2, threshold=3]": (
        lambda x: F.softplus(x, beta=2, threshold=3),
        lambda tf, x: tf.softplus(x, beta=2, threshold=3),
    ),
}


def _activation_input(dtype: Any) -> np.ndarray:
    x = np.random.default_rng(1).standard_normal((4, 7)) * 3
    x[np.abs(x) < 1e-2] = 0.5  # away from the kinks at 0
    x[np.abs(2 * x - 3) < 1e-2] = 0.5  # and softplus(beta=2, threshold=3)'s switch
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_torch_to_second_order(name: str, dtype: Any) -> None:
    torch = import_torch()
    ours, theirs = ACTIVATIONS[name]
    x = _activation_input(dtype)
    xa = Tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa), theirs(torch.nn.functional, xt)
    assert ya.dtype == dtype
    close(ya.data, yt.detach().numpy(), dtype)
    (ga,) = am.grad(ya.sum(), xa, create_graph=True)
    (gt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
    close(ga.data, gt.detach().numpy(), dtype)
    if name.startswith("leaky_relu"):  # piecewise linear: a constant gradient, no graph
        assert not ga.requires_grad
        return
    (ha,) = am.grad((ga * ga).sum(), xa)
    (ht,) = torch.autograd.grad((gt * gt).sum(), xt)
    close(ha.data, ht.numpy(), dtype)


@pytest.mark.parametrize("name", ["leaky_relu[0.3]", "elu[alpha=0.5]"])
def test_gradient_at_the_kink_is_torchs(name: str) -> None:
    torch = import_torch()
    ours, theirs = ACTIVATIONS[name]
    xa = Tensor(np.zeros(3), requires_grad=True)
    xt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    ours(xa).sum().backward()
    theirs(torch.nn.functional, xt).sum().backward()
    assert xa.grad is not None
    np.testing.assert_array_equal(xa.grad.data, xt.grad.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_activations_are_finite_on_huge_inputs(dtype: Any) -> None:
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow either
        outs = {
            "elu": F.elu(x),
            "gelu": F.gelu(x),
            "silu": F.silu(x),
            "softplus": F.softplus(x),
            "softplus[beta=0.5]": F.softplus(x, beta=0.5, threshold=1e9),
        }
    for name, y in outs.items():
        assert np.isfinite(y.data).all(), name
        assert y.dtype == dtype, name
    np.testing.assert_allclose(outs["softplus[beta=0.5]"].data[-1], 1e4, rtol=1e-6)
    np.testing.assert_allclose(outs["gelu"].data, [0, 0, 0, 100, 1e4], atol=1e-6)


def test_integer_input_becomes_float32() -> None:
    for f in (F.leaky_relu, F.elu, F.gelu, F.silu, F.softplus):
        assert f(np.array([1, -2])).dtype == np.float32


def test_activation_errors() -> None:
    x = np.zeros(3)
    with pytest.raises(
        ValueError, match=re.escape("gelu: approximate must be one of ('none', 'tanh'); got 'erf'")
    ):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match=re.escape("softplus: beta must be > 0; got 0")):
        F.softplus(x, beta=0)
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a number; got 'a'"):
        F.leaky_relu(x, "a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="elu: alpha must be a number; got None"):
        F.elu(x, None)  # type: ignore[arg-type]


# ----- losses -----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_and_binary_losses_match_torch(dtype: Any, reduction: str) -> None:
    torch = import_torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3)).astype(dtype)
    t = rng.random((5, 3)).astype(dtype)
    p = rng.uniform(0.05, 0.95, (5, 3)).astype(dtype)
    w = rng.random(3).astype(dtype)
    pw = rng.uniform(0.5, 2, 3).astype(dtype)
    cases = [
        (
            lambda a, b: F.mse_loss(a, b, reduction),
            lambda a, b: tf.mse_loss(a, b, reduction=reduction),
            x,
        ),
        (
            lambda a, b: F.l1_loss(a, b, reduction),
            lambda a, b: tf.l1_loss(a, b, reduction=reduction),
            x,
        ),
        (
            lambda a, b: F.binary_cross_entropy(a, b, w, reduction),
            lambda a, b: tf.binary_cross_entropy(a, b, torch.from_numpy(w), reduction=reduction),
            p,
        ),
        (
            lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
            lambda a, b: tf.binary_cross_entropy(a, b, reduction=reduction),
            p,
        ),
        (
            lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction, pos_weight=pw),
            lambda a, b: tf.binary_cross_entropy_with_logits(
                a, b, torch.from_numpy(w), reduction=reduction, pos_weight=torch.from_numpy(pw)
            ),
            x,
        ),
        (
            lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
            lambda a, b: tf.binary_cross_entropy_with_logits(a, b, reduction=reduction),
            x,
        ),
    ]
    for k, (ours, theirs, inp) in enumerate(cases):
        xa, ta = Tensor(inp, requires_grad=True), Tensor(t, requires_grad=True)
        xt, tt = torch.tensor(inp, requires_grad=True), torch.tensor(t, requires_grad=True)
        ya, yt = ours(xa, ta), theirs(xt, tt)
        assert ya.dtype == dtype, k
        close(ya.data, yt.detach().numpy(), dtype)
        ya.sum().backward()
        yt.sum().backward()
        assert xa.grad is not None and ta.grad is not None
        close(xa.grad.data, xt.grad.numpy(), dtype)
        close(ta.grad.data, tt.grad.numpy(), dtype)  # targets are differentiable too


def test_binary_cross_entropy_clamps_logs_at_minus_100_as_torch() -> None:
    torch = import_torch()
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no log(0) warning
        ours = F.binary_cross_entropy(x, t, reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy(
        torch.from_numpy(x), torch.from_numpy(t), reduction="none"
    )
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.data[:5], [100, 100, 0, 0, 100])
    xa = Tensor(x, requires_grad=True)
    F.binary_cross_entropy(xa, t).backward()
    assert xa.grad is not None and np.isfinite(xa.grad.data).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_is_stable_for_huge_logits(dtype: Any) -> None:
    x = np.array([-1e4, 1e4, -1e4, 1e4, 0.0], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(y.data, [1e4, 1e4, 0, 0, math.log(2)], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("ignored", [False, True])
def test_cross_entropy_options_match_torch(
    dtype: Any, reduction: str, smoothing: float, ignored: bool
) -> None:
    torch = import_torch()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4)).astype(dtype)
    target = rng.integers(0, 4, 6)
    if ignored:
        target[[1, 4]] = 2 if smoothing == 0.1 else -100
    ignore_index = 2 if smoothing == 0.1 else -100
    xa, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = F.cross_entropy(
        xa, target, reduction, ignore_index=ignore_index, label_smoothing=smoothing
    )
    yt = torch.nn.functional.cross_entropy(
        xt,
        torch.from_numpy(target),
        reduction=reduction,
        ignore_index=ignore_index,
        label_smoothing=smoothing,
    )
    close(ya.data, yt.detach().numpy(), dtype)
    # second order too: the gradient's norm, differentiated again
    (ga,) = am.grad(ya.sum(), xa, create_graph=True)
    (gt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
    close(ga.data, gt.detach().numpy(), dtype)
    (ha,) = am.grad((ga * ga).sum(), xa)
    (ht,) = torch.autograd.grad((gt * gt).sum(), xt)
    close(ha.data, ht.numpy(), dtype)


def test_cross_entropy_with_every_target_ignored_is_nan_as_torch() -> None:
    torch = import_torch()
    x, t = np.ones((2, 3)), np.array([-100, -100])
    assert np.isnan(F.cross_entropy(x, t).item())
    assert np.isnan(
        torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t)).item()
    )
    assert F.cross_entropy(x, t, reduction="sum").item() == 0.0
    np.testing.assert_array_equal(F.nll_loss(x, t, reduction="none").data, [0.0, 0.0])


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_of_an_empty_batch_is_nan_with_an_empty_gradient_as_torch(
    smoothing: float,
) -> None:
    torch = import_torch()
    x = Tensor(np.zeros((0, 10), dtype=np.float32), requires_grad=True)
    xt = torch.zeros((0, 10), requires_grad=True)
    t = np.zeros(0, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value in divide" on the way
        loss = F.cross_entropy(x, t, label_smoothing=smoothing)
        loss.backward()
    lt = torch.nn.functional.cross_entropy(xt, torch.from_numpy(t), label_smoothing=smoothing)
    lt.backward()
    assert np.isnan(loss.item()) and np.isnan(lt.item())
    assert x.grad is not None and x.grad.shape == tuple(xt.grad.shape) == (0, 10)
    assert F.cross_entropy(x, t, reduction="sum").item() == 0.0


def test_nll_loss_ignore_index_matches_torch() -> None:
    torch = import_torch()
    logp = np.log(np.random.default_rng(4).dirichlet(np.ones(3), 5))
    t = np.array([0, 7, 2, 7, 1])
    ours = F.nll_loss(logp, t, ignore_index=7)
    theirs = torch.nn.functional.nll_loss(
        torch.from_numpy(logp), torch.from_numpy(t), ignore_index=7
    )
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: F.mse_loss(np.zeros(3), np.zeros(4)),
            ValueError,
            "mse_loss: input (3,) and target (4,) must have the same shape",
        ),
        (
            lambda: F.l1_loss(np.zeros(3), np.zeros(3), "avg"),
            ValueError,
            "l1_loss: reduction must be one of ('mean', 'sum', 'none'); got 'avg'",
        ),
        (
            lambda: F.binary_cross_entropy(np.array([0.5, 1.5]), np.zeros(2)),
            ValueError,
            "binary_cross_entropy: all elements of input should be between 0 and 1; "
            "got values in [0.5, 1.5], input (2,)",
        ),
        (
            lambda: F.binary_cross_entropy(np.full((2, 3), 0.5), np.zeros((2, 3)), np.ones(2)),
            ValueError,
            "binary_cross_entropy: weight (2,) does not broadcast to the input (2, 3)",
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(
                np.zeros((2, 3)), np.zeros((2, 3)), pos_weight=np.ones(2)
            ),
            ValueError,
            "binary_cross_entropy_with_logits: pos_weight (2,) does not broadcast to the "
            "input (2, 3)",
        ),
        (
            lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=1.5),
            ValueError,
            "cross_entropy: label_smoothing must be in [0, 1]; got 1.5",
        ),
        (
            lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, -1])),
            ValueError,
            "cross_entropy: target out of range; got values in [-1, 0], expected "
            "0 <= target < 3 (or ignore_index -100)",
        ),
        (
            lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), ignore_index=1.0),
            TypeError,
            "cross_entropy: ignore_index must be an int; got 1.0",
        ),
    ],
)
def test_loss_errors(call: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


# ----- conv2d: dilation, 'same' and 'valid' -----


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch: its copy, not ours
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation"),
    [
        (3, 1, "same", 1),
        (4, 1, "same", 1),  # even kernel: the extra row/column at the bottom/right
        ((2, 3), 1, "same", (2, 1)),
        (3, 1, "same", 2),
        (3, 2, "valid", 1),
        (3, 1, 1, 2),
        ((3, 2), (2, 1), (1, 0), (2, 3)),
    ],
)
def test_conv2d_options_match_torch(
    kernel: Any, stride: Any, padding: Any, dilation: Any, dtype: Any
) -> None:
    torch = import_torch()
    rng = np.random.default_rng(5)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, kh, kw)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    xa, wa, ba = (Tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ya = F.conv2d(xa, wa, ba, stride, padding, dilation)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride, padding, dilation)
    assert ya.shape == tuple(yt.shape)
    if padding == "same":
        assert ya.shape[2:] == x.shape[2:]
    close(ya.data, yt.detach().numpy(), dtype)
    g = rng.standard_normal(ya.shape).astype(dtype)
    (ya * Tensor(g)).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    for ours, theirs in ((xa, xt), (wa, wt), (ba, bt)):
        assert ours.grad is not None
        close(ours.grad.data, theirs.grad.numpy(), dtype)


def test_conv2d_dilation_gradgradcheck() -> None:
    rng = np.random.default_rng(6)
    x, w, b = (
        rng.standard_normal((2, 2, 6, 5)),
        rng.standard_normal((2, 2, 2, 3)),
        rng.standard_normal(2),
    )

    def fn(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        return F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(2, 1))

    assert gradcheck(fn, x, w, b)
    assert gradgradcheck(fn, x, w, b)
    same = lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=(1, 2))  # noqa: E731
    assert gradcheck(same, x, w, b)
    assert gradgradcheck(same, x, w, b)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"padding": "full"},
            ValueError,
            "conv2d: padding must be an int, a pair or one of ('same', 'valid'); got 'full'",
        ),
        (
            {"padding": "same", "stride": 2},
            ValueError,
            "conv2d: padding='same' is not supported for strided convolutions "
            "(as in PyTorch); got stride (2, 2)",
        ),
        ({"dilation": 0}, ValueError, "conv2d: dilation must be >= 1; got 0"),
        (
            {"dilation": 3},
            ValueError,
            "conv2d: kernel (3, 3) (dilated to (7, 7)) is larger than the padded input (5, 5)",
        ),
    ],
)
def test_conv2d_option_errors(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), **kwargs)


# ----- avg_pool2d(count_include_pad=False) -----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(3, 2, 1), ((2, 3), 1, (1, 1)), (2, None, 0)]
)
def test_avg_pool2d_count_include_pad_matches_torch(
    kernel: Any, stride: Any, padding: Any, dtype: Any
) -> None:
    torch = import_torch()
    x = np.random.default_rng(7).standard_normal((2, 3, 7, 6)).astype(dtype)
    for include in (True, False):
        xa, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya = F.avg_pool2d(xa, kernel, stride, padding, count_include_pad=include)
        yt = torch.nn.functional.avg_pool2d(xt, kernel, stride, padding, count_include_pad=include)
        close(ya.data, yt.detach().numpy(), dtype)
        (ya * ya).sum().backward()
        (yt * yt).sum().backward()
        assert xa.grad is not None
        close(xa.grad.data, xt.grad.numpy(), dtype)


def test_avg_pool2d_excluding_padding_by_hand() -> None:
    y = F.avg_pool2d(np.ones((1, 1, 2, 2)), 2, stride=1, padding=1, count_include_pad=False)
    np.testing.assert_array_equal(y.data[0, 0], np.ones((3, 3)))  # every window averages ones


# ----- pad -----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("pad", "value"),
    [
        ((1, 2), 0.0),
        ((1, 0, 2, 1), 1.5),
        ((0, 0, 0, 0, 1, 1), -3.0),
        ((-1, 2, 1, -2), 0.5),
        ((), 0.0),
    ],
)
def test_pad_matches_torch(pad: tuple[int, ...], value: float, dtype: Any) -> None:
    torch = import_torch()
    x = np.random.default_rng(8).standard_normal((2, 3, 4)).astype(dtype)
    xa, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = F.pad(xa, pad, value=value)
    yt = torch.nn.functional.pad(xt, pad, value=value)
    assert ya.dtype == dtype
    np.testing.assert_array_equal(ya.data, yt.detach().numpy())
    g = np.random.default_rng(9).standard_normal(ya.shape).astype(dtype)
    (ya * Tensor(g)).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    assert xa.grad is not None
    np.testing.assert_array_equal(xa.grad.data, xt.grad.numpy())


@pytest.mark.parametrize(
    ("pad", "kwargs", "error", "message"),
    [
        (
            (1,),
            {},
            ValueError,
            "pad: pad must have an even length of at most 2 * ndim = 4; "
            "got 1 values for input (2, 3)",
        ),
        (
            (1, 1) * 3,
            {},
            ValueError,
            "pad: pad must have an even length of at most 2 * ndim = 4; got 6 values",
        ),
        (
            (1, 1),
            {"mode": "reflect"},
            ValueError,
            "pad: only mode='constant' is supported; got mode='reflect'",
        ),
        ((1.5, 1), {}, TypeError, "pad: pad must be a tuple of ints; got (1.5, 1)"),
        ((-2, -2), {}, ValueError, "pad: widths (-2, -2) leave a negative size for input (2, 3)"),
    ],
)
def test_pad_errors(pad: Any, kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        F.pad(np.zeros((2, 3)), pad, **kwargs)


def test_everything_is_reachable_as_F() -> None:
    for name in (
        "leaky_relu elu gelu silu softplus mse_loss l1_loss binary_cross_entropy "
        "binary_cross_entropy_with_logits cross_entropy nll_loss pad conv2d avg_pool2d max_pool2d"
    ).split():
        assert callable(getattr(F, name)), name
        assert name in F.__all__, name
