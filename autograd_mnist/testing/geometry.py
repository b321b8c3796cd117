"""Valid conv2d and pooling configurations: the geometry tuples and their strategies."""

from __future__ import annotations

from typing import NamedTuple

from hypothesis import strategies as st

from autograd_mnist.ops.conv import out_size
from autograd_mnist.testing.strategies import Shape

__all__ = [
    "ConvGeometry",
    "PoolGeometry",
    "conv2d_geometries",
    "pool2d_geometries",
]


class ConvGeometry(NamedTuple):
    """A valid conv2d configuration: x (N, C, H, W), weight (OC, C, KH, KW)."""

    N: int
    C: int
    H: int
    W: int
    OC: int
    KH: int
    KW: int
    stride: tuple[int, int]
    padding: tuple[int, int]

    @property
    def input_shape(self) -> Shape:
        """(N, C, H, W)."""
        return (self.N, self.C, self.H, self.W)

    @property
    def weight_shape(self) -> Shape:
        """(OC, C, KH, KW)."""
        return (self.OC, self.C, self.KH, self.KW)

    @property
    def output_shape(self) -> Shape:
        """(N, OC, OH, OW), OH = (H + 2 PH - KH) // SH + 1 (OW likewise)."""
        (SH, SW), (PH, PW) = self.stride, self.padding
        return (
            self.N,
            self.OC,
            out_size(self.H, self.KH, SH, PH),
            out_size(self.W, self.KW, SW, PW),
        )


class PoolGeometry(NamedTuple):
    """A valid pooling configuration on x (N, C, H, W); padding <= half the kernel."""

    N: int
    C: int
    H: int
    W: int
    KH: int
    KW: int
    stride: tuple[int, int]
    padding: tuple[int, int]

    @property
    def input_shape(self) -> Shape:
        """(N, C, H, W)."""
        return (self.N, self.C, self.H, self.W)

    @property
    def output_shape(self) -> Shape:
        """(N, C, OH, OW), OH = (H + 2 PH - KH) // SH + 1 (OW likewise)."""
        (SH, SW), (PH, PW) = self.stride, self.padding
        return (
            self.N,
            self.C,
            out_size(self.H, self.KH, SH, PH),
            out_size(self.W, self.KW, SW, PW),
        )


@st.composite
def _side(
    draw: st.DrawFn, max_kernel: int, max_stride: int, max_pad: int, max_side: int, pool: bool
) -> tuple[int, int, int, int]:
    """One spatial axis: (size, kernel, stride, padding) with kernel <= size + 2 padding."""
    k = draw(st.integers(1, max_kernel))
    p = draw(st.integers(0, min(max_pad, k // 2) if pool else max_pad))
    size = draw(st.integers(max(1, k - 2 * p), max(max_side, k - 2 * p)))
    s = draw(st.integers(1, max_stride))
    return size, k, s, p


@st.composite
def _conv(
    draw: st.DrawFn,
    max_batch: int,
    max_channels: int,
    max_out_channels: int,
    max_side: int,
    max_kernel: int,
    max_stride: int,
    max_padding: int,
) -> ConvGeometry:
    H, KH, SH, PH = draw(_side(max_kernel, max_stride, max_padding, max_side, False))
    W, KW, SW, PW = draw(_side(max_kernel, max_stride, max_padding, max_side, False))
    N = draw(st.integers(1, max_batch))
    C = draw(st.integers(1, max_channels))
    OC = draw(st.integers(1, max_out_channels))
    return ConvGeometry(N, C, H, W, OC, KH, KW, (SH, SW), (PH, PW))


def conv2d_geometries(
    max_batch: int = 2,
    max_channels: int = 3,
    max_out_channels: int = 3,
    max_side: int = 5,
    max_kernel: int = 3,
    max_stride: int = 2,
    max_padding: int = 2,
) -> st.SearchStrategy[ConvGeometry]:
    """Valid conv2d configurations (N, C, H, W, OC, KH, KW, stride, padding).

    Kernels, inputs, strides (SH, SW) and paddings (PH, PW) are drawn per axis, so they are
    often non-square; the kernel never exceeds the padded input, so OH, OW >= 1. Batch size
    1 is included (and is what failures shrink to).

    Example:
        >>> g = conv2d_geometries().example()
        >>> all(s >= 1 for s in g.output_shape)
        True
    """
    return _conv(
        max_batch, max_channels, max_out_channels, max_side, max_kernel, max_stride, max_padding
    )


@st.composite
def _pool(
    draw: st.DrawFn,
    max_batch: int,
    max_channels: int,
    max_side: int,
    max_kernel: int,
    max_stride: int,
) -> PoolGeometry:
    H, KH, SH, PH = draw(_side(max_kernel, max_stride, max_kernel // 2, max_side, True))
    W, KW, SW, PW = draw(_side(max_kernel, max_stride, max_kernel // 2, max_side, True))
    N = draw(st.integers(1, max_batch))
    C = draw(st.integers(1, max_channels))
    return PoolGeometry(N, C, H, W, KH, KW, (SH, SW), (PH, PW))


def pool2d_geometries(
    max_batch: int = 2,
    max_channels: int = 3,
    max_side: int = 5,
    max_kernel: int = 3,
    max_stride: int = 3,
) -> st.SearchStrategy[PoolGeometry]:
    """Valid pooling configurations (N, C, H, W, KH, KW, stride, padding).

    Padding is at most half the kernel on each axis (PyTorch's rule) and the kernel never
    exceeds the padded input. Strides may be smaller than the kernel (overlapping windows)
    or larger (skipped pixels).
    """
    return _pool(max_batch, max_channels, max_side, max_kernel, max_stride)
