"""Convolution and pooling on NCHW tensors.

Notation (used in every shape comment below):
    N batch, C input channels, H, W input height/width (after padding where stated),
    OC output channels, KH, KW kernel height/width, SH, SW strides, PH, PW paddings,
    OH = (H + 2 PH - KH) // SH + 1, OW likewise.

Linear helpers come in adjoint pairs, each the other's backward:
``im2col``/``col2im`` and, for max-pooling, ``pool_gather``/``pool_scatter`` (gather each
window's value at its saved argmax / scatter-add it back). Loops run only over the
KH*KW kernel offsets, never over batch, channels or pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd_mnist.autograd import Function
from autograd_mnist.tensor import Tensor

Pair = tuple[int, int]


def out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a sliding window: (size + 2 padding - kernel) // stride + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def _windows(xp: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """Strided view of every window: (N, C, OH, OW, KH, KW), no copy. xp is padded."""
    (KH, KW), (SH, SW) = kernel, stride
    return sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::SH, ::SW]


def _offset_slices(k: Pair, out: Pair, stride: Pair) -> tuple[slice, slice]:
    """The (H, W) slices of a padded input that kernel offset k touches across all windows."""
    (kh, kw), (OH, OW), (SH, SW) = k, out, stride
    return slice(kh, kh + SH * (OH - 1) + 1, SH), slice(kw, kw + SW * (OW - 1) + 1, SW)


class Im2col(Function):
    """cols[n, c, kh, kw, oh, ow] = x[n, c, oh*SH + kh, ow*SW + kw];  adjoint of col2im.

    x is already padded: (N, C, H, W) -> (N, C, KH, KW, OH, OW), C-contiguous, so that a
    reshape to (N, C*KH*KW, OH*OW) is free and ``weight (OC, C*KH*KW) @ cols`` gives the
    output directly in NCHW order.
    """

    @staticmethod
    def forward(ctx: Im2col, x: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
        win = _windows(x, kernel, stride)  # (N, C, OH, OW, KH, KW) view
        return np.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3))  # (N, C, KH, KW, OH, OW)

    @staticmethod
    def backward(ctx: Im2col, g: Tensor) -> Tensor:
        H, W = ctx.inputs[0].shape[2:]
        return col2im(g, (H, W), ctx.params["stride"])


class Col2im(Function):
    """x[n, c, oh*SH + kh, ow*SW + kw] += cols[n, c, kh, kw, oh, ow];  adjoint of im2col."""

    @staticmethod
    def forward(ctx: Col2im, cols: np.ndarray, size: Pair, stride: Pair) -> np.ndarray:
        N, C, KH, KW, OH, OW = cols.shape
        out = np.zeros((N, C) + size, dtype=cols.dtype)  # (N, C, H, W)
        for kh in range(KH):
            for kw in range(KW):
                hs, ws = _offset_slices((kh, kw), (OH, OW), stride)
                out[:, :, hs, ws] += cols[:, :, kh, kw]  # (N, C, OH, OW) view
        return out

    @staticmethod
    def backward(ctx: Col2im, g: Tensor) -> Tensor:
        KH, KW = ctx.inputs[0].shape[2:4]
        return im2col(g, (KH, KW), ctx.params["stride"])


def im2col(x: Tensor, kernel: Pair, stride: Pair) -> Tensor:
    """Unfold every window of padded x (N, C, H, W) into (N, C, KH, KW, OH, OW)."""
    return Im2col.apply(x, kernel=kernel, stride=stride)


def col2im(cols: Tensor, size: Pair, stride: Pair) -> Tensor:
    """Fold cols (N, C, KH, KW, OH, OW) back to (N, C, H, W), summing overlaps."""
    return Col2im.apply(cols, size=size, stride=stride)


class MaxPool2d(Function):
    """y = max over each window;  dy/dx = 1 at the window's first maximum, 0 elsewhere.

    "First" is in row-major order within the window (PyTorch's CPU choice). Padding is
    -inf, so a padded cell is never the maximum. Saves argmax (N, C, OH, OW) as an offset
    in [0, KH*KW).
    """

    @staticmethod
    def forward(
        ctx: MaxPool2d, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair
    ) -> np.ndarray:
        if kernel == stride and padding == (0, 0):
            if not ctx.needs_input_grad[0]:
                return _tiled_max_values(x, kernel)
            return _tiled_max(ctx, x, kernel)
        (PH, PW), (KH, KW) = padding, kernel
        xp = x
        if PH or PW:
            xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)), constant_values=-np.inf)
        win = _windows(xp, kernel, stride)  # (N, C, OH, OW, KH, KW)
        flat = win.reshape(win.shape[:4] + (KH * KW,))  # (N, C, OH, OW, KH*KW)
        arg = np.argmax(flat, axis=-1).astype(np.uint16)  # (N, C, OH, OW)
        ctx.save(arg)
        return np.take_along_axis(flat, arg[..., None].astype(np.intp), axis=-1)[..., 0]

    @staticmethod
    def backward(ctx: MaxPool2d, g: Tensor) -> Tensor:
        p = ctx.params
        H, W = ctx.inputs[0].shape[2:]
        return PoolScatter.apply(
            g,
            arg=ctx.saved[0],
            size=(H, W),
            kernel=p["kernel"],
            stride=p["stride"],
            padding=p["padding"],
        )


class PoolScatter(Function):
    """dx = zeros(N, C, H, W) with g[n, c, oh, ow] added at its window's argmax;  adjoint
    of pool_gather."""

    @staticmethod
    def forward(
        ctx: PoolScatter,
        g: np.ndarray,
        arg: np.ndarray,
        size: Pair,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
    ) -> np.ndarray:
        N, C, OH, OW = g.shape
        (H, W), (PH, PW), (KH, KW) = size, padding, kernel
        if kernel == stride and padding == (0, 0):
            # Windows tile the input: each cell belongs to one window, so assign, don't add.
            tiles = np.zeros((N, C, OH, KH, OW, KW), dtype=g.dtype)
            for k in range(KH * KW):
                kh, kw = divmod(k, KW)
                np.multiply(g, arg == k, out=tiles[:, :, :, kh, :, kw])
            if (OH * KH, OW * KW) == (H, W):
                return tiles.reshape(N, C, H, W)
            out = np.zeros((N, C, H, W), dtype=g.dtype)
            out[:, :, : OH * KH, : OW * KW] = tiles.reshape(N, C, OH * KH, OW * KW)
            return out
        out = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=g.dtype)  # padded
        for k in range(KH * KW):
            hs, ws = _offset_slices(divmod(k, KW), (OH, OW), stride)
            out[:, :, hs, ws] += np.where(arg == k, g, 0)
        return out[:, :, PH : PH + H, PW : PW + W]

    @staticmethod
    def backward(ctx: PoolScatter, g: Tensor) -> Tensor:
        p = ctx.params
        return PoolGather.apply(
            g, arg=p["arg"], kernel=p["kernel"], stride=p["stride"], padding=p["padding"]
        )


class PoolGather(Function):
    """y[n, c, oh, ow] = x at the window's saved argmax;  adjoint of pool_scatter."""

    @staticmethod
    def forward(
        ctx: PoolGather,
        x: np.ndarray,
        arg: np.ndarray,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
    ) -> np.ndarray:
        (PH, PW), (KH, KW) = padding, kernel
        xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
        out = np.zeros(arg.shape, dtype=x.dtype)  # (N, C, OH, OW)
        for k in range(KH * KW):
            hs, ws = _offset_slices(divmod(k, KW), arg.shape[2:], stride)
            out += np.where(arg == k, xp[:, :, hs, ws], 0)
        return out

    @staticmethod
    def backward(ctx: PoolGather, g: Tensor) -> Tensor:
        p = ctx.params
        H, W = ctx.inputs[0].shape[2:]
        return PoolScatter.apply(
            g,
            arg=p["arg"],
            size=(H, W),
            kernel=p["kernel"],
            stride=p["stride"],
            padding=p["padding"],
        )


def _tiled_max(ctx: MaxPool2d, x: np.ndarray, kernel: Pair) -> np.ndarray:
    """Max-pool forward when windows tile the input (stride = kernel, no padding).

    Two passes of pairwise maxima on strided views, no window gather: first along each
    window row (over kw), then across rows (over kh). A later offset wins only if strictly
    greater, so the saved argmax is the first maximum in row-major window order.
    """
    N, C, H, W = x.shape
    KH, KW = kernel
    OH, OW = H // KH, W // KW
    xc = x[:, :, : OH * KH, : OW * KW]  # the part the windows cover
    index = np.uint8 if KH * KW <= 256 else np.uint16
    rows = xc[..., 0::KW]
    kw_arg = np.zeros(rows.shape, dtype=index)  # (N, C, OH*KH, OW)
    for kw in range(1, KW):
        v = xc[..., kw::KW]  # (N, C, OH*KH, OW) view
        later = v > rows
        if kw == 1 and index is np.uint8:
            kw_arg = later.view(np.uint8)  # 0 or 1, without a copy
        else:
            kw_arg = np.where(later, index(kw), kw_arg)
        rows = np.maximum(rows, v)
    out, arg = rows[:, :, 0::KH], kw_arg[:, :, 0::KH]
    for kh in range(1, KH):
        v = rows[:, :, kh::KH]  # (N, C, OH, OW) view
        arg = np.where(v > out, kw_arg[:, :, kh::KH] + index(kh * KW), arg)
        out = np.maximum(out, v)
    arg = np.ascontiguousarray(arg, dtype=index)
    ctx.save(arg)
    return np.ascontiguousarray(out)


def _tiled_max_values(x: np.ndarray, kernel: Pair) -> np.ndarray:
    """Only the maxima of tiling windows (no argmax): the forward when nothing records."""
    N, C, H, W = x.shape
    KH, KW = kernel
    xc = x[:, :, : H // KH * KH, : W // KW * KW]
    rows = xc[..., 0::KW]
    for kw in range(1, KW):
        rows = np.maximum(rows, xc[..., kw::KW])
    out = rows[:, :, 0::KH]
    for kh in range(1, KH):
        out = np.maximum(out, rows[:, :, kh::KH])
    return np.ascontiguousarray(out)


def max_pool2d(x: Tensor, kernel: Pair, stride: Pair, padding: Pair) -> Tensor:
    """Max over windows of x (N, C, H, W) -> (N, C, OH, OW) (arguments already checked)."""
    return MaxPool2d.apply(x, kernel=kernel, stride=stride, padding=padding)
