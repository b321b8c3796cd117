"""Convolution and pooling on NCHW tensors.

Notation (used in every shape comment below):
    N batch, C input channels, H, W input height/width (after padding where stated),
    OC output channels, KH, KW kernel height/width, SH, SW strides, PH, PW paddings,
    OH = (H + 2 PH - KH) // SH + 1, OW likewise.

Linear helpers come in adjoint pairs, each the other's backward:
``im2col``/``col2im`` and, for max-pooling, ``pool_gather``/``pool_scatter`` (gather each
window's value at its saved argmax / scatter-add it back). Loops run only over the
KH*KW kernel offsets, never over batch, channels or pixels; on large tensors, threads take
a range of channels (or of output rows, for im2col) each
(:func:`autograd_mnist._parallel.parallel_for`).

Memory layout: ``col2im`` (and so ``conv2d``) returns its NCHW result batch-last in
memory, and pooling keeps its input's layout; why, and the helpers, are in
:mod:`autograd_mnist._layout`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from autograd_mnist._args import Pair
from autograd_mnist._layout import batch_last, empty_as, nchw_view
from autograd_mnist._parallel import parallel_for
from autograd_mnist.function import Function
from autograd_mnist.ops.shape import GetItem
from autograd_mnist.tensor import Tensor


def out_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a sliding window: (size + 2 padding - span) // stride + 1, where
    span = dilation (kernel - 1) + 1 is the extent of a dilated window."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _windows(xp: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """Strided view of every window: (N, C, OH, OW, KH, KW), no copy. xp is padded."""
    (KH, KW), (SH, SW) = kernel, stride
    return sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::SH, ::SW]


def _offset_slices(
    k: Pair, out: Pair, stride: Pair, dilation: Pair = (1, 1)
) -> tuple[slice, slice]:
    """The (H, W) slices of a padded input that kernel offset k touches across all windows
    (offset k sits at (kh DH, kw DW) in a dilated window)."""
    (kh, kw), (OH, OW), (SH, SW), (DH, DW) = k, out, stride, dilation
    h0, w0 = kh * DH, kw * DW
    return slice(h0, h0 + SH * (OH - 1) + 1, SH), slice(w0, w0 + SW * (OW - 1) + 1, SW)


class Im2col(Function):
    """cols[(c, kh, kw), (oh, ow, n)] = xp[n, c, oh*SH + kh*DH, ow*SW + kw*DW], xp = x
    zero-padded by (PH, PW), dilation (DH, DW) (1 by default);  adjoint of col2im.

    x (N, C, H, W) -> the (C*KH*KW, OH*OW*N) matrix, C-contiguous, whose product with
    ``weight (OC, C*KH*KW)`` convolves the whole batch in one matmul; the (OC, OH, OW, N)
    result is the output, batch-last. The input is padded and laid out batch-last in one
    copy (none if it is batch-last and unpadded), then one strided copy moves every
    window cell, N contiguous. With ``ones_row`` a row of ones is appended: a
    bias column in the weight then adds the bias inside the matmul, and the weight-gradient
    matmul gives the bias gradient, with no pass of their own.
    """

    @staticmethod
    def forward(
        ctx: Im2col,
        x: np.ndarray,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        ones_row: bool,
        dilation: Pair,
    ) -> np.ndarray:
        N, C, H, W = x.shape
        (KH, KW), (SH, SW), (PH, PW), (DH, DW) = kernel, stride, padding, dilation
        OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
        xt = batch_last(x, padding)  # (C, H + 2 PH, W + 2 PW, N)
        K = C * KH * KW
        cols = np.empty((K + ones_row, OH * OW * N), dtype=x.dtype)
        blocks = cols[:K].reshape(C, KH, KW, OH, OW, N)  # a view
        # Every window cell of xt, read in place: [c, kh, kw, oh, ow, n] is
        # xt[c, oh*SH + kh*DH, ow*SW + kw*DW, n]. One copy moves them all (a copy per
        # kernel offset cost 2x at batch 1 and 1.25x at R2's batch of 128).
        sc, sh, sw, sn = xt.strides
        cells = as_strided(
            xt,
            (C, KH, KW, OH, OW, N),
            (sc, DH * sh, DW * sw, SH * sh, SW * sw, sn),
            writeable=False,
        )

        def rows(lo: int, hi: int) -> None:  # output rows lo..hi-1, shared out to threads
            blocks[:, :, :, lo:hi] = cells[:, :, :, lo:hi]

        parallel_for(OH, rows, cols.size)
        if ones_row:
            cols[K] = 1
        return cols

    @staticmethod
    def backward(ctx: Im2col, g: Tensor) -> Tensor:
        p = ctx.params
        if p["ones_row"]:
            g = GetItem.apply(g, index=slice(0, g.shape[0] - 1))  # constant row: no gradient
        H, W = ctx.inputs[0].shape[2:]
        return col2im(g, (H, W), p["kernel"], p["stride"], p["padding"], p["dilation"])


class Col2im(Function):
    """x[n, c, oh*SH + kh*DH - PH, ow*SW + kw*DW - PW] += cols[(c, kh, kw), (oh, ow, n)],
    cells that fall in the padding dropped;  adjoint of im2col.

    Returns (N, C, H, W) batch-last in memory: a view of a (C, H, W, N) buffer.
    """

    @staticmethod
    def forward(
        ctx: Col2im,
        cols: np.ndarray,
        size: Pair,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
    ) -> np.ndarray:
        (H, W), (KH, KW), (SH, SW), (PH, PW) = size, kernel, stride, padding
        OH, OW = out_size(H, KH, SH, PH, dilation[0]), out_size(W, KW, SW, PW, dilation[1])
        C, N = cols.shape[0] // (KH * KW), cols.shape[1] // (OH * OW)
        blocks = cols.reshape(C, KH, KW, OH, OW, N)
        out = np.zeros((C, H + 2 * PH, W + 2 * PW, N), dtype=cols.dtype)

        def channels(lo: int, hi: int) -> None:  # windows overlap: threads split channels
            for kh in range(KH):
                for kw in range(KW):
                    hs, ws = _offset_slices((kh, kw), (OH, OW), stride, dilation)
                    out[lo:hi, hs, ws] += blocks[lo:hi, kh, kw]  # (hi - lo, OH, OW, N)

        parallel_for(C, channels, cols.size)
        if PH or PW:  # crop, into a buffer of its own
            out = np.ascontiguousarray(out[:, PH : PH + H, PW : PW + W])
        return nchw_view(out)

    @staticmethod
    def backward(ctx: Col2im, g: Tensor) -> Tensor:
        p = ctx.params
        return im2col(g, p["kernel"], p["stride"], p["padding"], dilation=p["dilation"])


def im2col(
    x: Tensor,
    kernel: Pair,
    stride: Pair,
    padding: Pair = (0, 0),
    ones_row: bool = False,
    dilation: Pair = (1, 1),
) -> Tensor:
    """Unfold every window of x (N, C, H, W), zero-padded by ``padding``, its cells
    ``dilation`` apart, into the (C*KH*KW [+ 1], OH*OW*N) matrix (``F.unfold``'s content,
    batch last)."""
    return Im2col.apply(
        x, kernel=kernel, stride=stride, padding=padding, ones_row=ones_row, dilation=dilation
    )


def col2im(
    cols: Tensor,
    size: Pair,
    kernel: Pair,
    stride: Pair,
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> Tensor:
    """Fold cols (C*KH*KW, OH*OW*N) back to (N, C, H, W) of spatial ``size`` (unpadded),
    summing overlaps (``F.fold``)."""
    return Col2im.apply(
        cols, size=tuple(size), kernel=kernel, stride=stride, padding=padding, dilation=dilation
    )


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
            return _tiled_max(ctx, x, kernel)
        (PH, PW), (KH, KW) = padding, kernel
        xp = x
        if PH or PW:
            xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)), constant_values=-np.inf)
        win = _windows(xp, kernel, stride)  # (N, C, OH, OW, KH, KW)
        flat = win.reshape(win.shape[:4] + (KH * KW,))  # (N, C, OH, OW, KH*KW)
        arg = np.argmax(flat, axis=-1).astype(np.uint16)  # (N, C, OH, OW)
        ctx.save(arg)
        y: np.ndarray = np.take_along_axis(flat, arg[..., None].astype(np.intp), axis=-1)
        return y[..., 0]

    @staticmethod
    def backward(ctx: MaxPool2d, g: Tensor) -> Tensor:
        return _scatter_back(g, ctx.saved[0], ctx.inputs[0], ctx.params)


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
            # Windows tile the input: each cell belongs to one window, so assign, don't add;
            # dx takes g's memory layout (batch-last stays batch-last).
            out = empty_as(g, (N, C, H, W))
            out[:, :, OH * KH :] = 0  # rows and columns no window covers
            out[:, :, :, OW * KW :] = 0

            def channels(lo: int, hi: int) -> None:
                views = _offset_views(out[:, lo:hi], kernel)  # (N, hi - lo, OH, OW) each
                for k, view in enumerate(views):
                    np.multiply(g[:, lo:hi], arg[:, lo:hi] == k, out=view)

            parallel_for(C, channels, out.size)
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
        return _scatter_back(g, ctx.params["arg"], ctx.inputs[0], ctx.params)


def _scatter_back(g: Tensor, arg: np.ndarray, x: Tensor, p: dict[str, Any]) -> Tensor:
    """pool_scatter of g (N, C, OH, OW) to x's (N, C, H, W), with the pooling params ``p``."""
    H, W = x.shape[2:]
    return PoolScatter.apply(
        g, arg=arg, size=(H, W), kernel=p["kernel"], stride=p["stride"], padding=p["padding"]
    )


def _offset_views(x: np.ndarray, kernel: Pair) -> list[np.ndarray]:
    """For windows that tile x (stride = kernel, no padding): one strided (N, C, OH, OW)
    view per kernel offset, in row-major window order."""
    KH, KW = kernel
    OH, OW = x.shape[2] // KH, x.shape[3] // KW
    return [x[:, :, kh : OH * KH : KH, kw : OW * KW : KW] for kh in range(KH) for kw in range(KW)]


def _tiled_max(ctx: MaxPool2d, x: np.ndarray, kernel: Pair) -> np.ndarray:
    """Max-pool forward when windows tile the input (stride = kernel, no padding).

    Pairwise maxima of the per-offset views (no window gather); the argmax only when the
    op is recorded. Offset k replaces the running maximum only if strictly greater, so the
    saved argmax is the first maximum in row-major window order; and as k grows, the argmax
    update is ``max(arg, k * later)``, branch-free (``np.where`` on a random mask is
    several times slower).
    """
    N, C, H, W = x.shape
    out = empty_as(x, (N, C, H // kernel[0], W // kernel[1]))  # x's memory layout
    index = np.uint8 if kernel[0] * kernel[1] <= 256 else np.uint16
    arg = np.zeros_like(out, dtype=index) if ctx.needs_input_grad[0] else None

    def channels(lo: int, hi: int) -> None:  # channels lo..hi-1 (a thread's share)
        views, o = _offset_views(x[:, lo:hi], kernel), out[:, lo:hi]
        o[...] = views[0]
        if arg is None:
            for v in views[1:]:
                np.maximum(o, v, out=o)
            return
        a = arg[:, lo:hi]
        later, candidate = np.empty_like(o, dtype=bool), np.empty_like(o, dtype=index)
        for k, v in enumerate(views[1:], start=1):
            np.greater(v, o, out=later)
            np.maximum(o, v, out=o)
            np.multiply(later, index(k), out=candidate)
            np.maximum(a, candidate, out=a)

    parallel_for(C, channels, x.size)
    if arg is not None:
        ctx.save(arg)
    return out


def max_pool2d(x: Tensor, kernel: Pair, stride: Pair, padding: Pair) -> Tensor:
    """Max over windows of x (N, C, H, W) -> (N, C, OH, OW) (arguments already checked)."""
    return MaxPool2d.apply(x, kernel=kernel, stride=stride, padding=padding)
