"""Tensor constructors (PyTorch names; float32 by default): zeros, ones, randn, rand,
randint, randperm, arange, linspace, full, eye, and the ``*_like`` family."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_mnist._args import is_int, sizes
from autograd_mnist.devices import check_device
from autograd_mnist.rng import get_rng
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor


def zeros(
    *shape: Any,
    dtype: Any = np.float32,
    requires_grad: bool = False,
    device: Any = None,
    name: str | None = None,
) -> Tensor:
    """A tensor of zeros, e.g. ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    check_device("zeros", device)
    return Tensor(
        np.zeros(sizes(shape, "zeros"), dtype=dtype), requires_grad=requires_grad, name=name
    )


def ones(
    *shape: Any,
    dtype: Any = np.float32,
    requires_grad: bool = False,
    device: Any = None,
    name: str | None = None,
) -> Tensor:
    """A tensor of ones."""
    check_device("ones", device)
    return Tensor(
        np.ones(sizes(shape, "ones"), dtype=dtype), requires_grad=requires_grad, name=name
    )


def randn(
    *shape: Any,
    dtype: Any = np.float32,
    requires_grad: bool = False,
    device: Any = None,
    name: str | None = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Standard-normal samples from ``rng`` or the package generator (``manual_seed``)."""
    check_device("randn", device)
    gen = rng if rng is not None else get_rng()
    data = gen.standard_normal(sizes(shape, "randn"), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad, name=name)


def rand(
    *shape: Any,
    dtype: Any = np.float32,
    requires_grad: bool = False,
    device: Any = None,
    name: str | None = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Uniform samples in [0, 1) from ``rng`` or the package generator."""
    check_device("rand", device)
    gen = rng if rng is not None else get_rng()
    data = gen.random(sizes(shape, "rand"), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad, name=name)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step`` (``torch.arange``).

    ``arange(n)`` is ``0, 1, ..., n - 1``. With integer arguments and no ``dtype`` the result
    is int64, otherwise float32, as in PyTorch. Values are computed in float64 and then
    converted, so float32 ranges do not accumulate rounding error.

    Args:
        start: the first value (the end, from 0, when ``end`` is None).
        end: the bound, not included.
        step: the nonzero spacing; its sign must point from ``start`` to ``end``.
        dtype: optional dtype of the result.
        requires_grad: make the result a leaf that requires grad (float only).

    Returns:
        A 1-D tensor of ``ceil((end - start) / step)`` values.

    Raises:
        ValueError: for a zero step, a step pointing away from ``end``, or a non-finite bound.
    """
    check_device("arange", device)
    if end is None:
        start, end = 0, start
    bounds = {"start": start, "end": end, "step": step}
    if not all(np.isfinite(float(v)) for v in bounds.values()):
        raise ValueError(f"arange: bounds must be finite; got {bounds}")
    if step == 0:
        raise ValueError(f"arange: step must be nonzero; got {bounds}")
    if (end - start) * step < 0:
        raise ValueError(
            f"arange: upper bound and step sign are inconsistent; got {bounds}, expected "
            "step > 0 for end >= start and step < 0 for end <= start"
        )
    if dtype is None:
        dtype = np.int64 if all(is_int(v) for v in bounds.values()) else np.float32
    if np.dtype(dtype).kind in "iu":
        data = np.arange(start, end, step, dtype=dtype)
    else:
        data = np.arange(start, end, step, dtype=np.float64).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def full(
    size: Any,
    fill_value: float,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
    name: str | None = None,
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (``torch.full``).

    Without ``dtype``: bool for a bool value, int64 for an int, else float32 (as PyTorch).

    Args:
        size: the shape, a sequence of ints (or one int).
        fill_value: the value.
        dtype: optional dtype.
        requires_grad: make the result a leaf that requires grad (float only).
        name: a label for :mod:`autograd_mnist.viz`.
    """
    check_device("full", device)
    shape = sizes(size if isinstance(size, (tuple, list)) else (size,), "full")
    if dtype is None:
        is_bool = isinstance(fill_value, (bool, np.bool_))
        dtype = np.bool_ if is_bool else np.int64 if is_int(fill_value) else np.float32
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad, name=name)


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: Any = np.float32,
    requires_grad: bool = False,
    device: Any = None,
    name: str | None = None,
) -> Tensor:
    """The ``(n, m)`` identity matrix: ones on the diagonal (``torch.eye``; ``m = n``
    when None).

    Raises:
        ValueError: if ``n`` or ``m`` is negative.
    """
    check_device("eye", device)
    m = n if m is None else m
    if n < 0 or m < 0:
        raise ValueError(f"eye: n and m must be >= 0; got n={n}, m={m}")
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad, name=name)


def _like(x: Any, dtype: Any) -> tuple[np.ndarray, np.dtype[Any]]:
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    return arr, np.dtype(arr.dtype if dtype is None else dtype)


def full_like(
    x: Any, fill_value: float, *, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of ``x``'s shape, dtype (unless ``dtype``) and memory layout filled with
    ``fill_value`` (``torch.full_like``)."""
    check_device("full_like", device)
    arr, dt = _like(x, dtype)
    return Tensor(np.full_like(arr, fill_value, dtype=dt), requires_grad=requires_grad)


def zeros_like(
    x: Any, *, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros of ``x``'s shape, dtype (unless ``dtype``) and memory layout."""
    check_device("zeros_like", device)
    return full_like(x, 0, dtype=dtype, requires_grad=requires_grad)


def ones_like(
    x: Any, *, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones of ``x``'s shape, dtype (unless ``dtype``) and memory layout."""
    check_device("ones_like", device)
    return full_like(x, 1, dtype=dtype, requires_grad=requires_grad)


def _random_like(
    op: str, x: Any, dtype: Any, rng: np.random.Generator | None
) -> tuple[tuple[int, ...], Any, np.random.Generator]:
    arr, dt = _like(x, dtype)
    if dt not in FLOAT_DTYPES:
        raise TypeError(
            f"{op}: needs a float dtype; got {dt} (shape {arr.shape}), expected float32 or "
            "float64: pass dtype="
        )
    return arr.shape, dt.type, rng if rng is not None else get_rng()


def randn_like(
    x: Any,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Standard-normal samples of ``x``'s shape and float dtype (``torch.randn_like``), from
    ``rng`` or the package generator.

    Raises:
        TypeError: if the dtype (``x``'s, or ``dtype``) is not a float dtype.
    """
    check_device("randn_like", device)
    shape, dt, gen = _random_like("randn_like", x, dtype, rng)
    return Tensor(gen.standard_normal(shape, dtype=dt), requires_grad=requires_grad)


def rand_like(
    x: Any,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Uniform samples in [0, 1) of ``x``'s shape and float dtype (``torch.rand_like``).

    Raises:
        TypeError: if the dtype is not a float dtype.
    """
    check_device("rand_like", device)
    shape, dt, gen = _random_like("rand_like", x, dtype, rng)
    return Tensor(gen.random(shape, dtype=dt), requires_grad=requires_grad)


def _int_arg(op: str, name: str, value: Any) -> int:
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be an int; got {value!r}")
    return int(value)


def _dtype(op: str, dtype: Any, default: Any, requires_grad: bool, kinds: str) -> np.dtype[Any]:
    """``dtype`` (``default`` when None, as torch's ``dtype=None``) if of one of ``kinds``.

    Raises:
        TypeError: for another kind, or ``requires_grad`` with a non-float dtype (torch:
            "only Tensors of floating point dtype can require gradients").
    """
    dt: np.dtype[Any] = np.dtype(default if dtype is None else dtype)
    if dt.kind not in kinds or (dt.kind == "f" and dt not in FLOAT_DTYPES):
        raise TypeError(f"{op}: unsupported dtype {dt}; expected float32, float64 or an integer")
    if requires_grad and dt not in FLOAT_DTYPES:
        raise TypeError(f"{op}: only float tensors can require grad; got dtype {dt}")
    return dt


def _check_fits(op: str, dt: np.dtype[Any], lo: int, hi: int) -> None:
    """Raise ValueError unless the integers ``lo..hi`` all fit in ``dt`` (an integer dtype
    would wrap them silently)."""
    if dt.kind in "iu" and (lo < np.iinfo(dt).min or hi > np.iinfo(dt).max):
        raise ValueError(
            f"{op}: values up to {hi} (from {lo}) do not fit in {dt}, whose range is "
            f"[{np.iinfo(dt).min}, {np.iinfo(dt).max}]; pass a wider dtype="
        )


def randint(
    low: int = 0,
    high: Any = None,
    size: Any = None,
    *,
    dtype: Any = np.int64,
    requires_grad: bool = False,
    device: Any = None,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (``torch.randint``), from ``rng`` or the
    package generator (``manual_seed``).

    Both of torch's forms: ``randint(high, size)`` (from 0) and ``randint(low, high, size)``;
    ``size`` may be given by keyword (``randint(10, size=(3,))``).

    Args:
        low: the smallest value (the bound, from 0, when ``high`` is not given).
        high: the bound, not included.
        size: the shape, a tuple or list of ints (an int for one dimension).
        dtype: the dtype of the result, int64 by default (a float dtype holds the same
            whole numbers, as torch allows).
        requires_grad: make the result a leaf that requires grad (float dtypes only).
        rng: an optional ``np.random.Generator``.

    Raises:
        TypeError: for a missing size, non-int bounds or sizes, a bool dtype, or
            ``requires_grad`` with an integer dtype (as torch).
        ValueError: if ``low >= high``, a size is negative, or ``[low, high)`` does not
            fit in an integer ``dtype`` (NumPy would wrap the values).
    """
    check_device("randint", device)
    if isinstance(high, (tuple, list)) and size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if size is None:
        raise TypeError(
            f"randint: missing size; got low={low!r}, high={high!r}, expected "
            "randint(high, size) or randint(low, high, size) with size a tuple"
        )
    lo, hi = _int_arg("randint", "low", low), _int_arg("randint", "high", high)
    shape = size if isinstance(size, (tuple, list)) else (size,)
    if not all(is_int(n) for n in shape):
        raise TypeError(f"randint: size must be a tuple of ints; got {size!r}")
    if lo >= hi or any(n < 0 for n in shape):
        raise ValueError(
            f"randint: got low={lo}, high={hi}, size={tuple(shape)}; expected low < high "
            "and sizes >= 0"
        )
    dt = _dtype("randint", dtype, np.int64, requires_grad, "iuf")
    _check_fits("randint", dt, lo, hi - 1)
    gen = rng if rng is not None else get_rng()
    data = gen.integers(lo, hi, size=tuple(int(n) for n in shape), dtype=np.int64)
    return Tensor(data.astype(dt, copy=False), requires_grad=requires_grad)


def randperm(
    n: int,
    *,
    dtype: Any = np.int64,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
) -> Tensor:
    """A random permutation of ``0, 1, ..., n - 1`` (``torch.randperm``), from ``rng`` or the
    package generator.

    Raises:
        TypeError: if ``n`` is not an int, for a dtype other than float32, float64 or an
            integer, or ``requires_grad`` with an integer dtype. ValueError: if ``n`` is
            negative or ``n - 1`` does not fit in ``dtype``.
    """
    count = _int_arg("randperm", "n", n)
    if count < 0:
        raise ValueError(f"randperm: n must be >= 0; got {count}")
    dt = _dtype("randperm", dtype, np.int64, requires_grad, "iuf")
    _check_fits("randperm", dt, 0, count - 1)
    gen = rng if rng is not None else get_rng()
    data = gen.permutation(count).astype(dt)
    return Tensor(data, requires_grad=requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    dtype: Any = np.float32,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included
    (``torch.linspace``); computed in float64, then converted to ``dtype``.

    Args:
        start: the first value.
        end: the last value (``steps == 1`` gives ``[start]``).
        steps: how many values, >= 0.
        dtype: the dtype of the result (float32 by default; an integer dtype truncates
            toward zero, as torch).
        requires_grad: make the result a leaf that requires grad (float dtypes only).

    Raises:
        TypeError: if ``steps`` is not an int, for a dtype other than float32, float64 or
        an integer, or ``requires_grad`` with an integer dtype. ValueError: if ``steps`` is
        negative or a bound is not finite.
    """
    count = _int_arg("linspace", "steps", steps)
    if count < 0 or not (np.isfinite(float(start)) and np.isfinite(float(end))):
        raise ValueError(
            f"linspace: got start={start}, end={end}, steps={count}; expected finite bounds "
            "and steps >= 0"
        )
    dt = _dtype("linspace", dtype, np.float32, requires_grad, "iuf")
    data = np.linspace(float(start), float(end), count, dtype=np.float64).astype(dt)
    return Tensor(data, requires_grad=requires_grad)
