"""Op-table rows for the functional surface of issue 9: activations, losses, conv2d's
dilation and 'same'/'valid' padding, avg_pool2d without the padding in the count, F.pad.

``FNN_CASES`` holds :class:`op_cases.OpCase` rows, run by ``test_ops_fnn.py`` through the
generic checks of ``test_ops_forward.py`` and ``test_ops_grad.py`` (forward vs an
independent NumPy reference in float64 and float32, dtype preservation, no mutation,
gradcheck and gradgradcheck in float64). Float arrays in an argument tuple are
differentiated, targets of the regression and binary losses included. Strategies come from
:mod:`autograd_mnist.testing`; kinks are avoided by drawing valid inputs directly.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_cases import (
    ANY_SHAPE,
    CONV_FORMS,
    POOL_FORMS,
    REDUCTION_FORMS,
    SHAPE_FORMS,
    Args,
    OpCase,
    _pair,
    pool_args,
    unary,
)

from autograd_mnist import functional as F
from autograd_mnist.ops import special
from autograd_mnist.testing import (
    away_from_zero,
    class_targets,
    float_arrays,
    shapes,
)

REDUCTION = st.sampled_from(["mean", "sum", "none"])


# ----- independent NumPy references -----
def ref_erf(x: np.ndarray) -> np.ndarray:
    """erf in float64 without libm's erf: ``2/sqrt(pi) e**(-x**2) sum_n 2**n x**(2n+1) /
    (1*3*...*(2n+1))``, a series of positive terms (no cancellation), 160 terms (enough
    for |x| <= 4). Relative error ~1e-15."""
    x = np.asarray(x, dtype=np.float64)
    term, total = x.copy(), x.copy()
    for n in range(1, 160):
        term = term * (2 * x * x) / (2 * n + 1)
        total = total + term
    out: np.ndarray = total * np.exp(-x * x) * (2 / math.sqrt(math.pi))
    return out


def ref_leaky_relu(x: np.ndarray, slope: float) -> np.ndarray:
    return np.where(x > 0, x, slope * x)


def ref_elu(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def ref_gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + ref_erf(x / math.sqrt(2)))


def ref_gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def ref_silu(x: np.ndarray) -> np.ndarray:
    return x / (1 + np.exp(-x))


def ref_softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean" and losses.size == 0:  # as PyTorch: the mean of nothing is NaN
        return np.asarray(np.nan)
    return {"mean": losses.mean, "sum": losses.sum, "none": losses.copy}[reduction]()


def ref_mse(x: np.ndarray, t: np.ndarray, reduction: str) -> np.ndarray:
    return _reduce((x - t) ** 2, reduction)


def ref_l1(x: np.ndarray, t: np.ndarray, reduction: str) -> np.ndarray:
    return _reduce(np.abs(x - t), reduction)


def ref_bce(x: np.ndarray, t: np.ndarray, w: Any, reduction: str) -> np.ndarray:
    losses = -(t * np.log(x) + (1 - t) * np.log(1 - x))
    return _reduce(losses if w is None else losses * w, reduction)


def ref_bce_logits(x: np.ndarray, t: np.ndarray, w: Any, reduction: str, pw: Any) -> np.ndarray:
    p = 1 / (1 + np.exp(-x))
    pos = 1.0 if pw is None else pw
    losses = -(pos * t * np.log(p) + (1 - t) * np.log(1 - p))
    return _reduce(losses if w is None else losses * w, reduction)


def ref_cross_entropy(
    x: np.ndarray, target: np.ndarray, reduction: str, ignore: int, smoothing: float
) -> np.ndarray:
    """PyTorch's definition: target distribution (1 - s) onehot + s / K, ignored rows 0
    and left out of the mean's count."""
    N, K = x.shape
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    valid = target != ignore
    q = np.full((N, K), smoothing / K)
    q[np.arange(N)[valid], target[valid]] += 1 - smoothing
    losses = -(q * logp).sum(1) * valid
    if reduction == "mean":
        return np.asarray(losses.sum() / valid.sum())
    return _reduce(losses, reduction)


def naive_conv2d_dilated(
    x: np.ndarray, w: np.ndarray, b: Any, stride: Any, padding: Any, dilation: Any
) -> np.ndarray:
    """Cross-correlation by the definition, one output element at a time; ``padding`` is
    (top, bottom, left, right) zeros here (the 'same' rows give it explicitly)."""
    SH, SW = (stride, stride) if isinstance(stride, int) else stride
    DH, DW = (dilation, dilation) if isinstance(dilation, int) else dilation
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    N, C, H, W = xp.shape
    OC, _, KH, KW = w.shape
    OH, OW = (H - DH * (KH - 1) - 1) // SH + 1, (W - DW * (KW - 1) - 1) // SW + 1
    y = np.zeros((N, OC, OH, OW))
    for n, oc, i, j in np.ndindex(N, OC, OH, OW):
        acc = 0.0 if b is None else float(b[oc])
        for c, kh, kw in np.ndindex(C, KH, KW):
            acc += xp[n, c, i * SH + kh * DH, j * SW + kw * DW] * w[oc, c, kh, kw]
        y[n, oc, i, j] = acc
    return y


def naive_avg_pool2d_exclude_pad(x: np.ndarray, kernel: Any, stride: Any, padding: Any) -> Any:
    """Mean over the cells of each window that lie inside the input."""
    (KH, KW), (PH, PW) = _pair(kernel, (1, 1)), _pair(padding, (0, 0))
    SH, SW = _pair(stride, (KH, KW))
    N, C, H, W = x.shape
    OH, OW = (H + 2 * PH - KH) // SH + 1, (W + 2 * PW - KW) // SW + 1
    y = np.zeros((N, C, OH, OW))
    for i, j in np.ndindex(OH, OW):
        h0, w0 = i * SH - PH, j * SW - PW
        window = x[:, :, max(h0, 0) : min(h0 + KH, H), max(w0, 0) : min(w0 + KW, W)]
        y[:, :, i, j] = window.mean(axis=(2, 3))
    return y


def ref_pad(x: np.ndarray, pad: tuple[int, ...], value: float) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(x.shape, widths))
    grow = [(max(a, 0), max(b, 0)) for a, b in widths]
    return np.pad(x[crop], grow, constant_values=value)


# ----- argument strategies -----
def with_scalar(
    arrays: st.SearchStrategy[np.ndarray], scalars: st.SearchStrategy[float]
) -> st.SearchStrategy[Args]:
    return st.tuples(arrays, scalars)


@st.composite
def softplus_args(draw: st.DrawFn) -> Args:
    """x drawn as threshold / beta + y with |y| >= 1e-2: clear of the switch to linear
    (a jump of log(1 + e**-threshold) / beta there)."""
    beta = draw(st.sampled_from([1.0, 0.5, 2.0]))
    threshold = draw(st.sampled_from([20.0, 1.0, 0.0]))
    y = draw(away_from_zero(ANY_SHAPE, margin=1e-2))
    return (np.asarray(y + threshold / beta), beta, threshold)


@st.composite
def regression_args(draw: st.DrawFn, apart: bool) -> Args:
    """(input, target, reduction), same shape; ``apart``: |input - target| >= 1e-3."""
    shape = draw(ANY_SHAPE)
    t = draw(float_arrays(shape))
    x = np.asarray(t + draw(away_from_zero(shape))) if apart else draw(float_arrays(shape))
    return (x, t, draw(REDUCTION))


@st.composite
def bce_args(draw: st.DrawFn) -> Args:
    """(probabilities in [0.02, 0.98], targets in [0, 1], weight or None, reduction)."""
    shape = draw(ANY_SHAPE)
    x = draw(float_arrays(shape, min_value=0.02, max_value=0.98))
    t = draw(float_arrays(shape, min_value=0.0, max_value=1.0))
    w = draw(st.none() | float_arrays(shape[-1:] if shape else ()))
    return (x, t, w, draw(REDUCTION))


@st.composite
def bce_logits_args(draw: st.DrawFn) -> Args:
    """(logits, targets in [0, 1], weight or None, reduction, pos_weight or None (per
    last-dim class, positive))."""
    shape = draw(ANY_SHAPE)
    x = draw(float_arrays(shape, min_value=-6.0, max_value=6.0))
    t = draw(float_arrays(shape, min_value=0.0, max_value=1.0))
    w = draw(st.none() | float_arrays(shape))
    pw = draw(st.none() | float_arrays(shape[-1:], min_value=0.1, max_value=3.0))
    return (x, t, w, draw(REDUCTION), pw)


@st.composite
def cross_entropy_args(draw: st.DrawFn) -> Args:
    """(logits (N, K), targets with some -100 entries (never all), reduction, ignore_index,
    label_smoothing)."""
    N, K = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = draw(float_arrays((N, K)))
    target = draw(class_targets(N, K))
    ignore = draw(hnp.arrays(np.bool_, N))
    ignore[draw(st.integers(0, N - 1))] = False  # at least one counts
    target = np.where(ignore, -100, target)
    smoothing = draw(st.sampled_from([0.0, 0.1, 1.0]) | st.floats(0.0, 1.0))
    return (x, target, draw(REDUCTION), -100, smoothing)


@st.composite
def dilated_conv_args(draw: st.DrawFn, same: bool) -> Args:
    """(x, w, b or None, stride, padding, dilation) with dilation >= 1 on each axis;
    ``same``: padding 'same' at stride 1 (even kernels included)."""
    N, C, OC = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    KH, KW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    # dilated spans d (k - 1) + 1 of at most 5, so H, W <= 6 always fit
    DH = draw(st.integers(1, 3 if KH < 3 else 2))
    DW = draw(st.integers(1, 3 if KW < 3 else 2))
    stride = 1 if same else draw(st.sampled_from([1, 2, (1, 2)]))
    padding: Any = "same" if same else draw(st.sampled_from([0, 1, (1, 0), "valid"]))
    PH, PW = (0, 0) if same or padding == "valid" else np.broadcast_to(padding, 2)
    H = draw(st.integers(max(1, DH * (KH - 1) + 1 - 2 * PH), 6))
    W = draw(st.integers(max(1, DW * (KW - 1) + 1 - 2 * PW), 6))
    x = draw(float_arrays((N, C, H, W)))
    w = draw(float_arrays((OC, C, KH, KW)))
    b = draw(st.none() | float_arrays((OC,)))
    dilation = (DH, DW) if DH != DW or draw(st.booleans()) else DH
    return (x, w, b, stride, padding, dilation)


def ref_conv(x: np.ndarray, w: np.ndarray, b: Any, stride: Any, padding: Any, d: Any) -> Any:
    KH, KW = w.shape[2:]
    DH, DW = (d, d) if isinstance(d, int) else d
    if padding == "same":  # PyTorch: total d (k - 1), the odd one at the end
        th, tw = DH * (KH - 1), DW * (KW - 1)
        pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        pads = (ph, ph, pw, pw)
    return naive_conv2d_dilated(x, w, b, stride, pads, d)


@st.composite
def pad_args(draw: st.DrawFn) -> Args:
    """(x, pad, value): up to ndim (left, right) pairs, last dimension first, each in
    [-1, 2] (-1 crops, only where the size stays >= 1)."""
    shape = draw(shapes(max_dims=3) | shapes(max_dims=3, min_side=0))
    k = draw(st.integers(0, len(shape)))
    pad: list[int] = []
    for i in range(k):
        n = shape[len(shape) - 1 - i]
        low = -1 if n >= 3 else 0
        pad += [draw(st.integers(low, 2)), draw(st.integers(low, 2))]
    value = draw(st.sampled_from([0.0, 1.5, -2.0]))
    return (draw(float_arrays(shape)), tuple(pad), value)


FNN_CASES: list[OpCase] = [
    # activations (elementwise)
    OpCase(
        "leaky_relu",
        F.leaky_relu,
        with_scalar(away_from_zero(ANY_SHAPE), st.sampled_from([0.01, 0.2, -0.5, 1.5])),
        ref_leaky_relu,
        notes="kink at 0: |x| >= 1e-3",
    ),
    OpCase(
        "elu",
        F.elu,
        with_scalar(away_from_zero(ANY_SHAPE), st.sampled_from([1.0, 0.5, 2.0])),
        ref_elu,
        notes="kink at 0 (second derivative jumps even for alpha = 1): |x| >= 1e-3",
    ),
    OpCase("gelu", F.gelu, unary(float_arrays(ANY_SHAPE)), ref_gelu),
    OpCase(
        "gelu[tanh]",
        lambda x: F.gelu(x, approximate="tanh"),
        unary(float_arrays(ANY_SHAPE)),
        ref_gelu_tanh,
    ),
    OpCase("silu", F.silu, unary(float_arrays(ANY_SHAPE)), ref_silu),
    OpCase(
        "softplus",
        F.softplus,
        softplus_args(),
        ref_softplus,
        notes="|beta x - threshold| >= 1e-2 * beta: clear of the switch to linear",
    ),
    OpCase(
        "erf",
        special.erf,
        unary(float_arrays(ANY_SHAPE, min_value=-3.5, max_value=3.5)),
        ref_erf,
        notes="reference: the Maclaurin series (no libm erf)",
    ),
    # losses
    OpCase("mse_loss", F.mse_loss, regression_args(apart=False), ref_mse, kind="reduction"),
    OpCase(
        "l1_loss",
        F.l1_loss,
        regression_args(apart=True),
        ref_l1,
        kind="reduction",
        notes="kink where input = target: |input - target| >= 1e-3",
    ),
    OpCase(
        "binary_cross_entropy",
        F.binary_cross_entropy,
        bce_args(),
        ref_bce,
        kind="reduction",
        notes="x in [0.02, 0.98]: no log is clamped",
    ),
    OpCase(
        "binary_cross_entropy_with_logits",
        F.binary_cross_entropy_with_logits,
        bce_logits_args(),
        ref_bce_logits,
        kind="reduction",
    ),
    OpCase(
        "cross_entropy[ignore_index, label_smoothing]",
        F.cross_entropy,
        cross_entropy_args(),
        ref_cross_entropy,
        kind="reduction",
    ),
    # convolution, pooling, padding
    OpCase(
        "conv2d[dilation]",
        F.conv2d,
        dilated_conv_args(same=False),
        ref_conv,
        kind="reduction",
    ),
    OpCase(
        "conv2d[same]",
        F.conv2d,
        dilated_conv_args(same=True),
        ref_conv,
        kind="reduction",
    ),
    OpCase(
        "avg_pool2d[count_include_pad=False]",
        lambda x, k, s, p: F.avg_pool2d(x, k, s, p, count_include_pad=False),
        pool_args(distinct=False),
        naive_avg_pool2d_exclude_pad,
        kind="reduction",
    ),
    OpCase("F.pad", lambda x, p, v: F.pad(x, p, value=v), pad_args(), ref_pad),
]

# The argument forms each row draws (checked by test_ops_forward.py).
_DILATION = ("dilation=int", "dilation=pair")
_FORMS: dict[str, tuple[str, ...]] = {
    "softplus": SHAPE_FORMS,
    "mse_loss": (*REDUCTION_FORMS, *SHAPE_FORMS),
    "l1_loss": (*REDUCTION_FORMS, *SHAPE_FORMS),
    "binary_cross_entropy": (*REDUCTION_FORMS, *SHAPE_FORMS),
    "binary_cross_entropy_with_logits": (*REDUCTION_FORMS, *SHAPE_FORMS),
    "cross_entropy[ignore_index, label_smoothing]": (*REDUCTION_FORMS, "size-1"),
    "conv2d[dilation]": (*CONV_FORMS, *_DILATION),
    "conv2d[same]": _DILATION,
    "avg_pool2d[count_include_pad=False]": POOL_FORMS,
    "F.pad": SHAPE_FORMS,
}
_FORMS |= {n: SHAPE_FORMS for n in ("leaky_relu", "elu", "gelu", "gelu[tanh]", "silu", "erf")}
FNN_CASES = [replace(c, forms=_FORMS[c.name]) for c in FNN_CASES]

FNN_CASE_IDS = [c.name for c in FNN_CASES]
assert len(set(FNN_CASE_IDS)) == len(FNN_CASE_IDS), "duplicate OpCase names"
