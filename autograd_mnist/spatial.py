"""Convolution, pooling and padding, as in ``torch.nn.functional`` (public as ``F.conv2d``,
``F.max_pool2d``, ``F.avg_pool2d``, ``F.adaptive_avg_pool2d``, ``F.pad``).

Each validates its arguments, naming the op and the shapes on error, then composes ops.
Layout is NCHW; weights are stored as PyTorch stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist._args import Pair, Size2, is_int, pair
from autograd_mnist._layout import NCHW_FROM_BATCH_LAST
from autograd_mnist.tensor import Tensor, as_operands, as_tensor, constant

__all__ = [
    "adaptive_avg_matrix",
    "adaptive_avg_pool2d",
    "adaptive_output_size",
    "adaptive_sizes",
    "avg_pool2d",
    "conv2d",
    "conv_padding",
    "max_pool2d",
    "pad",
]

_PADDING_MODES = ("same", "valid")


def conv_padding(
    op: str, padding: Size2 | str, kernel: Pair, stride: Pair, dilation: Pair
) -> tuple[Pair, Pair]:
    """(padding on each side, extra padding at the bottom/right) for a conv's ``padding``.

    'same' pads ``dilation (kernel - 1)`` in total per axis, the odd one at the end, as
    PyTorch does; 'valid' is no padding. ``op`` is named in errors.
    """
    if isinstance(padding, str):
        if padding not in _PADDING_MODES:
            raise ValueError(
                f"{op}: padding must be an int, a pair or one of {_PADDING_MODES}; got {padding!r}"
            )
        if padding == "valid":
            return (0, 0), (0, 0)
        if stride != (1, 1):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions "
                f"(as in PyTorch); got stride {stride}"
            )
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return (totals[0] // 2, totals[1] // 2), (totals[0] % 2, totals[1] % 2)
    return pair(op, "padding", padding, 0), (0, 0)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Size2 = 1,
    padding: Size2 | str = 0,
    dilation: Size2 = 1,
) -> Tensor:
    """2-D cross-correlation, by im2col and one matmul (which also adds the bias).

    Args:
        x: (N, C, H, W), or one image (C, H, W) (then the output has no N either).
        weight: (OC, C, KH, KW).
        bias: (OC,) or None.
        stride: int or (SH, SW), >= 1.
        padding: int or (PH, PW) zeros on each side, >= 0; or ``'valid'`` (none) or
            ``'same'`` (output as large as the input; stride 1 only, as in PyTorch; an even
            total ``dilation * (kernel - 1)`` puts the extra row/column at the bottom/right,
            as PyTorch does).
        dilation: int or (DH, DW) >= 1, the spacing of the kernel's cells.

    Returns:
        (N, OC, OH, OW) with OH = (H + 2 PH - DH (KH - 1) - 1) // SH + 1 (OW likewise),
        stored batch-last: a view of an (OC, OH, OW, N) buffer (see
        ``autograd_mnist._layout``).

    Raises:
        ValueError: for wrong ranks, a channel mismatch, a (dilated) kernel larger than the
            padded input, a bias of the wrong shape, or a bad padding.
    """
    x, weight = as_operands("conv2d", (x, weight))
    if x.ndim == 3 and weight.ndim == 4:  # one image, as PyTorch
        return ops.squeeze(conv2d(ops.unsqueeze(x, 0), weight, bias, stride, padding, dilation), 0)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expected input (N, C, H, W) or (C, H, W) and weight (OC, C, KH, KW); "
            f"got input {x.shape}, weight {weight.shape}"
        )
    OC, WC, KH, KW = weight.shape
    SH, SW = pair("conv2d", "stride", stride, 1)
    DH, DW = pair("conv2d", "dilation", dilation, 1)
    (PH, PW), extra = conv_padding("conv2d", padding, (KH, KW), (SH, SW), (DH, DW))
    if extra != (0, 0):  # 'same' with an even span: one more row/column at the end
        x = ops.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    N, C, H, W = x.shape
    if C != WC:
        raise ValueError(
            f"conv2d: input has {C} channels but weight expects {WC}; "
            f"input {x.shape}, weight {weight.shape}"
        )
    span = (DH * (KH - 1) + 1, DW * (KW - 1) + 1)
    if span[0] > H + 2 * PH or span[1] > W + 2 * PW:
        raise ValueError(
            f"conv2d: kernel ({KH}, {KW}) (dilated to {span}) is larger than the padded "
            f"input ({H + 2 * PH}, {W + 2 * PW}); input {x.shape}, weight {weight.shape}, "
            f"padding {(PH, PW)}"
        )
    OH, OW = ops.out_size(H, KH, SH, PH, DH), ops.out_size(W, KW, SW, PW, DW)
    w2 = ops.reshape(weight, (OC, C * KH * KW))
    if bias is not None:
        weight, bias = as_operands("conv2d", (weight, bias))
        if bias.shape != (OC,):
            raise ValueError(f"conv2d: bias has shape {bias.shape}; expected ({OC},)")
        # The bias as a last weight column, against a row of ones in cols: the matmul adds
        # it, and the weight-gradient matmul sums its gradient.
        w2 = ops.cat([w2, ops.reshape(bias, (OC, 1))], 1)
    cols = ops.im2col(x, (KH, KW), (SH, SW), (PH, PW), ones_row=bias is not None, dilation=(DH, DW))
    # One matmul for the whole batch: (OC, CKK [+1]) @ (CKK [+1], OH*OW*N) -> (OC, OH*OW*N),
    # returned as (N, OC, OH, OW), batch-last in memory: a view, no transpose copy.
    y = ops.matmul(w2, cols)
    return ops.permute(ops.reshape(y, (OC, OH, OW, N)), NCHW_FROM_BATCH_LAST)


def _pool_args(
    op: str,
    x: Tensor,
    kernel_size: Size2,
    stride: Size2 | None,
    padding: Size2,
) -> tuple[Pair, Pair, Pair]:
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input (N, C, H, W) or (C, H, W); got {x.shape}")
    kernel = pair(op, "kernel_size", kernel_size, 1)
    strides = kernel if stride is None else pair(op, "stride", stride, 1)
    pads = pair(op, "padding", padding, 0)
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ValueError(
            f"{op}: padding {pads} must be at most half the kernel {kernel}; input {x.shape}"
        )
    H, W = x.shape[2:]
    if kernel[0] > H + 2 * pads[0] or kernel[1] > W + 2 * pads[1]:
        raise ValueError(
            f"{op}: kernel {kernel} is larger than the padded input "
            f"({H + 2 * pads[0]}, {W + 2 * pads[1]}); input {x.shape}, padding {pads}"
        )
    return kernel, strides, pads


def max_pool2d(
    x: Any,
    kernel_size: Size2,
    stride: Size2 | None = None,
    padding: Size2 = 0,
    dilation: Size2 = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """Maximum over each window (PyTorch's argument order).

    Args:
        x: (N, C, H, W), or one image (C, H, W) (then the output has no N either).
        kernel_size: int or (KH, KW).
        stride: int or (SH, SW); None means ``kernel_size``.
        padding: implicit -inf padding on each side, at most half the kernel.
        dilation, ceil_mode, return_indices: PyTorch's; only their defaults (1, False,
            False) are supported, any other value raises ValueError.

    Returns:
        (N, C, OH, OW). On ties, the gradient goes to the first maximal element of the
        window in row-major order (as PyTorch's CPU kernel does).
    """
    _only_defaults(
        "max_pool2d", dilation=(dilation, 1), ceil_mode=(ceil_mode, False),
        return_indices=(return_indices, False),
    )  # fmt: skip
    x = as_tensor(x)
    if x.ndim == 3:  # one image, as PyTorch
        return ops.squeeze(max_pool2d(ops.unsqueeze(x, 0), kernel_size, stride, padding), 0)
    kernel, strides, pads = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    return ops.max_pool2d(x, kernel, strides, pads)


def _only_defaults(op: str, **given: tuple[Any, Any]) -> None:
    """Refuse PyTorch arguments this op does not implement: ``name=(value, default)``."""
    for name, (value, default) in given.items():
        if value != default and not (name == "dilation" and pair(op, name, value, 1) == (1, 1)):
            raise ValueError(f"{op}: {name}={value!r} is not supported; only {default!r}")


def _inside_counts(size: int, kernel: int, stride: int, padding: int, out: int) -> np.ndarray:
    """How many cells of each window along one axis lie inside the unpadded input."""
    starts = np.arange(out) * stride - padding
    counts: np.ndarray = np.clip(starts + kernel, 0, size) - np.clip(starts, 0, size)
    return counts


def avg_pool2d(
    x: Any,
    kernel_size: Size2,
    stride: Size2 | None = None,
    padding: Size2 = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each window (PyTorch's argument order).

    Args:
        x: (N, C, H, W), or one image (C, H, W) (then the output has no N either).
        kernel_size: int or (KH, KW).
        stride: int or (SH, SW); None means ``kernel_size``.
        padding: zeros on each side, at most half the kernel.
        ceil_mode, divisor_override: PyTorch's; only their defaults (False, None) are
            supported, any other value raises ValueError.
        count_include_pad: divide by the whole window (True, PyTorch's default: the zero
            padding counts in the mean) or by the cells inside the input (False).

    Returns:
        (N, C, OH, OW).
    """
    _only_defaults(
        "avg_pool2d", ceil_mode=(ceil_mode, False), divisor_override=(divisor_override, None)
    )
    x = as_tensor(x)
    if x.ndim == 3:  # one image, as PyTorch
        one = avg_pool2d(
            ops.unsqueeze(x, 0), kernel_size, stride, padding, False, count_include_pad
        )
        return ops.squeeze(one, 0)
    (KH, KW), strides, (PH, PW) = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    OH, OW = ops.out_size(H, KH, strides[0], PH), ops.out_size(W, KW, strides[1], PW)
    cols = ops.im2col(x, (KH, KW), strides, (PH, PW))  # (C*KH*KW, OH*OW*N)
    means = ops.reshape(ops.mean(ops.reshape(cols, (C, KH * KW, OH * OW * N)), 1), (C, OH, OW, N))
    if not count_include_pad and (PH or PW):
        inside = np.outer(
            _inside_counts(H, KH, strides[0], PH, OH), _inside_counts(W, KW, strides[1], PW, OW)
        )
        means = ops.mul(means, constant((KH * KW / inside)[:, :, None].astype(x.dtype)))
    return ops.permute(means, NCHW_FROM_BATCH_LAST)


AdaptiveSize = int | tuple[int | None, int | None]


def adaptive_output_size(op: str, output_size: Any) -> tuple[int | None, int | None]:
    """An adaptive pool's ``output_size`` as an (OH, OW) pair, None meaning "the input's".

    Raises:
        TypeError: unless ``output_size`` is an int or a pair of ints or Nones.
        ValueError: for a negative size.
    """
    raw = (output_size,) * 2 if is_int(output_size) else output_size
    two = isinstance(raw, (tuple, list)) and len(raw) == 2
    if not two or not all(v is None or is_int(v) for v in raw):
        raise TypeError(
            f"{op}: output_size must be an int or a pair of ints or Nones; got {output_size!r}"
        )
    if any(v is not None and v < 0 for v in raw):
        raise ValueError(f"{op}: output_size must be >= 0; got {output_size!r}")
    return (None if raw[0] is None else int(raw[0]), None if raw[1] is None else int(raw[1]))


def adaptive_sizes(op: str, shape: tuple[int, ...], output_size: Any) -> Pair:
    """(OH, OW) of an adaptive pool of an input of ``shape`` ((N, C, H, W) or (C, H, W)).

    Raises:
        ValueError: for another rank, an empty H or W, or a negative size.
        TypeError: for an ``output_size`` that is not an int or a pair of ints or Nones.
    """
    sizes = adaptive_output_size(op, output_size)
    if len(shape) not in (3, 4) or 0 in shape[-2:]:
        raise ValueError(
            f"{op}: expected input (N, C, H, W) or (C, H, W) with H, W >= 1; got {shape}"
        )
    H, W = shape[-2:]
    return (H if sizes[0] is None else sizes[0], W if sizes[1] is None else sizes[1])


def adaptive_avg_matrix(size: int, out: int) -> np.ndarray:
    """(out, size) float64 averaging matrix of PyTorch's adaptive bins along one axis.

    Row i is 1 / count over bin i, ``start = floor(i size / out)``, ``end = ceil((i + 1)
    size / out)``, 0 elsewhere: uneven bins overlap as PyTorch's do.
    """
    i = np.arange(out)
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    cols = np.arange(size)
    inside = (cols >= start[:, None]) & (cols < end[:, None])  # (out, size)
    matrix: np.ndarray = inside / (end - start)[:, None]
    return matrix


def _bin_means(t: Tensor, size: int, out: int, axis: int) -> Tensor:
    """Means of PyTorch's ``out`` adaptive bins along ``axis`` (negative), each a slice:
    a NaN or inf stays in its own bins (a product with an averaging matrix would spread it,
    0 * inf being NaN), and integer inputs are averaged as floats."""
    i = np.arange(out)
    starts, ends = (i * size) // out, -((-(i + 1) * size) // out)
    lead = (slice(None),) * (t.ndim + axis)
    if not out:
        return ops.getitem(ops.mean(t, axis, keepdim=True), lead + (slice(0, 0),))
    parts = [
        ops.mean(ops.getitem(t, lead + (slice(int(a), int(b)),)), axis, keepdim=True)
        for a, b in zip(starts, ends)
    ]
    return ops.cat(parts, t.ndim + axis)


def adaptive_avg_pool2d(x: Any, output_size: AdaptiveSize) -> Tensor:
    """Mean over PyTorch's adaptive bins, giving an (OH, OW) output whatever H and W.

    Bins that tile the input (H % OH == W % OW == 0) are a reshape and a mean; others,
    overlapping as PyTorch's (:func:`adaptive_avg_matrix`), are the means of slices, rows
    then columns: exact, a NaN or inf only in its own bins, differentiable to any order.

    Args:
        x: (N, C, H, W) or (C, H, W), H and W >= 1.
        output_size: an int (OH = OW), or an (OH, OW) pair, where None keeps that side.

    Returns:
        (N, C, OH, OW) or (C, OH, OW).

    Raises:
        ValueError: for another rank, an empty H or W, or a negative size.
        TypeError: for an ``output_size`` that is not an int or a pair of ints or Nones.
    """
    t = as_tensor(x)
    OH, OW = adaptive_sizes("adaptive_avg_pool2d", t.shape, output_size)
    H, W = t.shape[-2:]
    lead = t.shape[:-2]
    if OH and OW and H % OH == 0 and W % OW == 0:
        tiles = ops.reshape(t, (*lead, OH, H // OH, OW, W // OW))  # (..., OH, KH, OW, KW)
        return ops.mean(tiles, (-3, -1))
    return _bin_means(_bin_means(t, H, OH, -2), W, OW, -1)


def _pad_widths(x: Tensor, pad: Sequence[int]) -> list[tuple[int, int]]:
    if not isinstance(pad, (tuple, list)) or not all(
        isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad
    ):
        raise TypeError(f"pad: pad must be a tuple of ints; got {pad!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: pad must have an even length of at most 2 * ndim = {2 * x.ndim}; "
            f"got {len(pad)} values for input {x.shape}"
        )
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):  # the last dimension first, as in PyTorch
        widths[x.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    return widths


def pad(x: Any, pad: Sequence[int], mode: str = "constant", value: float | None = 0.0) -> Tensor:
    """Pad (or, with negative widths, crop) ``x`` with a constant, PyTorch's ``F.pad``.

    Args:
        x: any shape.
        pad: (left, right) widths per dimension, the last dimension first:
            ``(left, right, top, bottom)`` pads W by left/right and H by top/bottom.
            Negative widths remove that many elements.
        mode: only ``'constant'`` (PyTorch also has reflect, replicate and circular).
        value: the fill value (None: 0, as PyTorch).

    Returns:
        The padded tensor; the gradient of the padding is 0.

    Raises:
        ValueError: for another mode, an odd or too long ``pad``, or a crop that leaves a
            negative size.
        TypeError: if ``pad`` is not a tuple of ints.
    """
    t = as_tensor(x)
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported; got mode={mode!r}")
    widths = _pad_widths(t, pad)
    sizes = [n + a + b for n, (a, b) in zip(t.shape, widths)]
    if min(sizes, default=0) < 0:
        raise ValueError(f"pad: widths {tuple(pad)} leave a negative size for input {t.shape}")
    if any(a < 0 or b < 0 for a, b in widths):  # crop first
        crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(t.shape, widths))
        t = ops.getitem(t, crop)
        widths = [(max(a, 0), max(b, 0)) for a, b in widths]
    out = ops.pad(t, widths)
    if value and any(a or b for a, b in widths):  # (None, torch's default, is 0)
        border = np.pad(np.zeros(t.shape, dtype=out.dtype), widths, constant_values=value)
        out = ops.add(out, constant(border))
    return out
