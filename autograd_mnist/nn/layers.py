"""Layers (PyTorch names, argument order, defaults and weight layouts)."""

from __future__ import annotations

import numpy as np

from autograd_mnist import functional as F
from autograd_mnist._args import Pair, Size2, is_number, pair
from autograd_mnist.activations import layer_inplace
from autograd_mnist.nn import init
from autograd_mnist.nn.module import Module, Parameter
from autograd_mnist.spatial import (
    AdaptiveSize,
    _only_defaults,
    adaptive_output_size,
    adaptive_sizes,
    conv_padding,
)
from autograd_mnist.tensor import Tensor


class Linear(Module):
    """y = x W^T + b; weight (out_features, in_features), PyTorch's default init."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=np.float32))
        self.bias = Parameter(np.empty(out_features, dtype=np.float32)) if bias else None
        init.default_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Conv2d(Module):
    """2-D convolution; weight (out_channels, in_channels, KH, KW), PyTorch's default init.

    ``padding`` is an int, a pair, ``'valid'`` or ``'same'`` (stride 1 only; see
    :func:`autograd_mnist.functional.conv2d`), kept as given when a string; ``dilation``
    spaces the kernel's cells.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Size2,
        stride: Size2 = 1,
        padding: Size2 | str = 0,
        dilation: Size2 = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = pair("Conv2d", "stride", stride, 1)
        self.dilation = pair("Conv2d", "dilation", dilation, 1)
        conv_padding("Conv2d", padding, self.kernel_size, self.stride, self.dilation)  # check
        self.padding: Pair | str = (
            padding if isinstance(padding, str) else pair("Conv2d", "padding", padding, 0)
        )
        KH, KW = self.kernel_size
        self.weight = Parameter(np.empty((out_channels, in_channels, KH, KW), dtype=np.float32))
        self.bias = Parameter(np.empty(out_channels, dtype=np.float32)) if bias else None
        init.default_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        dilation = f", dilation={self.dilation}" if self.dilation != (1, 1) else ""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding!r}{dilation}, "
            f"bias={self.bias is not None}"
        )


class _Pool2d(Module):
    """Shared by the pooling layers: the arguments, checked when the layer is built, and
    the repr. The arguments are kept as given (``stride=None`` means the kernel size)."""

    def __init__(self, kernel_size: Size2, stride: Size2 | None = None, padding: Size2 = 0) -> None:
        super().__init__()
        name = type(self).__name__
        kernel = pair(name, "kernel_size", kernel_size, 1)
        if stride is not None:
            pair(name, "stride", stride, 1)
        pads = pair(name, "padding", padding, 0)
        if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
            raise ValueError(
                f"{name}: padding must be at most half the kernel; got padding {padding!r}, "
                f"kernel_size {kernel_size!r}"
            )
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over windows; ``stride=None`` means the kernel size. ``dilation``,
    ``return_indices`` and ``ceil_mode`` are PyTorch's: only their defaults (others raise
    ValueError)."""

    def __init__(
        self,
        kernel_size: Size2,
        stride: Size2 | None = None,
        padding: Size2 = 0,
        dilation: Size2 = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        _only_defaults(
            "MaxPool2d", dilation=(dilation, 1), return_indices=(return_indices, False),
            ceil_mode=(ceil_mode, False),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over windows; ``stride=None`` means the kernel size. With ``count_include_pad``
    (the default) the zero padding counts in the mean, else only the cells of the input.
    ``ceil_mode`` and ``divisor_override`` are PyTorch's: only their defaults."""

    def __init__(
        self,
        kernel_size: Size2,
        stride: Size2 | None = None,
        padding: Size2 = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        _only_defaults(
            "AvgPool2d", ceil_mode=(ceil_mode, False), divisor_override=(divisor_override, None)
        )
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, count_include_pad=self.count_include_pad
        )

    def extra_repr(self) -> str:
        extra = "" if self.count_include_pad else ", count_include_pad=False"
        return super().extra_repr() + extra


class AdaptiveAvgPool2d(Module):
    """Mean over PyTorch's adaptive bins: an (OH, OW) output whatever the input's H and W.

    ``output_size`` is an int, a pair, or a pair with None (keep that side), kept as given.
    """

    def __init__(self, output_size: AdaptiveSize) -> None:
        super().__init__()
        adaptive_output_size("AdaptiveAvgPool2d", output_size)  # check
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        adaptive_sizes("AdaptiveAvgPool2d", x.shape, self.output_size)  # check, naming us
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class ReLU(Module):
    """Elementwise max(x, 0). ``inplace=True`` (PyTorch's) gives the same output, computed
    out of place: the input keeps its values (in PyTorch it is overwritten)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = layer_inplace("ReLU", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """Elementwise logistic function."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """Elementwise hyperbolic tangent."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Identity(Module):
    """Returns its input; any constructor arguments are ignored, as PyTorch's."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Merge dimensions start_dim..end_dim (default: all but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero elements with probability p in training (scaling the rest by 1/(1-p))."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not is_number(p):
            raise TypeError(f"Dropout: p must be a number in [0, 1]; got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1]; got {p}")
        self.p, self.inplace = p, layer_inplace("Dropout", inplace)  # out of place, as ReLU

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Module):
    """Zero whole channels of (N, C, H, W) or (C, H, W) inputs with probability p in
    training (scaling the rest by 1/(1-p)); the identity in evaluation."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not is_number(p):
            raise TypeError(f"Dropout2d: p must be a number in [0, 1]; got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: p must be in [0, 1]; got {p}")
        self.p, self.inplace = p, layer_inplace("Dropout2d", inplace)  # out of place

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"Dropout2d: expected input (N, C, H, W) or (C, H, W); got {x.shape}")
        return F.dropout2d(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class _BatchNorm(Module):
    _ndims: tuple[int, ...] = (2,)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(momentum, bool) or not isinstance(momentum, int | float):
            raise ValueError(  # torch's momentum=None (a cumulative average) is not here
                f"{type(self).__name__}: momentum must be a number; got {momentum!r}"
            )
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=np.float32)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32)) if affine else None
        self.track_running_stats = track_running_stats
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self._ndims:
            dims = " or ".join(f"{n}-D" for n in self._ndims)
            raise ValueError(f"{type(self).__name__}: expected a {dims} input; got shape {x.shape}")
        rm = getattr(self, "running_mean", None)
        rv = getattr(self, "running_var", None)
        # (N, C, L): statistics over N and L, as (N, C, L, 1) per channel
        xs = x.reshape(*x.shape, 1) if x.ndim == 3 else x
        y = F.batch_norm(xs, rm, rv, self.weight, self.bias, self.training, self.momentum, self.eps)
        return y.reshape(*x.shape) if x.ndim == 3 else y

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per feature, with running
    statistics."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs per channel, with running statistics."""

    _ndims = (4,)


class _Softmax(Module):
    """Shared by the (log-)softmax layers: the ``dim`` to normalise along."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim


class LogSoftmax(_Softmax):
    """log(softmax(x)) along ``dim``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)


class Softmax(_Softmax):
    """softmax(x) along ``dim``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)
