"""Argument normalisation shared by ``functional`` and ``nn``: one home for each rule."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, TypeGuard

import numpy as np

from autograd_mnist._tensor_base import FLOAT_DTYPES, raw

Size2 = int | tuple[int, int]
Pair = tuple[int, int]


def pair(op: str, name: str, value: Size2 | Sequence[int], minimum: int) -> Pair:
    """``value`` as an (H, W) pair: an int is used for both sides.

    Args:
        op: the op or layer named in errors, e.g. ``"conv2d"``.
        name: the argument named in errors, e.g. ``"stride"``.
        value: an int or a pair of ints.
        minimum: the smallest value allowed on each side.

    Raises:
        TypeError: if ``value`` is not an int or a pair of ints.
        ValueError: if a side is below ``minimum``.
    """
    raw: tuple[object, ...] = (
        (value, value)
        if is_int(value)
        else tuple(value)
        if isinstance(value, (tuple, list))
        else ()
    )
    sides = [int(v) for v in raw if is_int(v)]
    if len(raw) != 2 or len(sides) != 2:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints; got {value!r}")
    h, w = sides
    if min(h, w) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}; got {value!r}")
    return h, w


def dim_index(
    op: str, dim: int, n: int, shape: tuple[int, ...], error: type[Exception] = ValueError
) -> int:
    """``dim`` in ``[-n, n)`` as a non-negative index, ``n`` being the number of places a
    dim may name (``ndim``, ``ndim + 1`` for a new dimension, 1 for a 0-d tensor).

    Raises:
        error (ValueError, or IndexError where PyTorch's name for the op raises that): if
            ``dim`` is out of range, naming the op, the dim, the shape and the range.
    """
    if not -n <= dim < n:
        raise error(
            f"{op}: dimension {dim} out of range; got shape {shape}, "
            f"expected a dim in [{-n}, {n - 1}]"
        )
    return int(dim) % n


def sizes(args: Sequence[Any], op: str = "size") -> tuple[int, ...]:
    """A shape given as ``f(2, 3)`` or ``f((2, 3))`` (``args`` = the ``*args``) as ints:
    :func:`ints` of the one sequence or of ``args``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return ints(op, args[0])
    return ints(op, args)


def ints(op: str, values: Sequence[Any]) -> tuple[int, ...]:
    """``values`` (sizes, dims) as a tuple of Python ints; NumPy integers and one-element
    integer tensors are accepted, as by ``operator.index``.

    Raises:
        TypeError: for a value that is not an integer (``2.5``, and ``2.0`` too, as torch:
            never truncated), naming the op and the values.
    """
    try:
        return tuple([operator.index(v) for v in values])
    except TypeError:
        raise TypeError(f"{op}: sizes and dims must be ints; got {tuple(values)!r}") from None


def is_int(v: object) -> TypeGuard[int]:
    """An int or NumPy integer, and not a bool: the one test of "an int argument".

    Typed as narrowing to ``int``: a NumPy integer compares and converts like one.
    """
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def is_number(v: object) -> TypeGuard[float]:
    """An int or float (NumPy's too), and not a bool: the one test of "a number argument"."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


# Ops whose NumPy result on bool operands alone is not torch's float32: float16 (exp, log,
# sqrt, tanh, sin, cos), float64 (/), an error (sigmoid), or an exponent cast to bool (**).
_FLOAT_MATH = frozenset(
    {"Exp", "Log", "Sqrt", "Sigmoid", "Tanh", "Sin", "Cos", "Div", "Pow", "PowT"}
)


def keeps_bool(op: str, inputs: Sequence[Any]) -> bool:
    """Whether ``op`` takes its bool tensor operands as they are (masks: NumPy promotes
    bool to the other operand's dtype without a copy, and gives torch's bool, int64 or
    error for ``+``, ``*``, ``-``, ``sum``, ``max``...). The float math ops of
    ``_FLOAT_MATH`` take them as they are only beside a float tensor or array; otherwise
    bool becomes float32, as integers do, so ``mask.exp()``, ``mask / mask`` and
    ``mask ** -1`` are float32 with torch's values.
    """
    if op not in _FLOAT_MATH:
        return True
    for x in inputs:
        a = raw(x)
        if isinstance(a, np.ndarray) and a.dtype in FLOAT_DTYPES:
            return True
    return False


def operand_dtype(op: str, inputs: Sequence[Any]) -> np.dtype[Any]:
    """The one float dtype of an op's inputs (tensors, arrays, scalars): float32 when none
    is a float array, which Python and NumPy scalars are not (they take the others' dtype).

    Raises:
        TypeError: for float32 and float64 inputs together, naming the op, every input's
            dtype and shape.
    """
    dtype: np.dtype[Any] | None = None
    for x in inputs:
        arr = raw(x)
        if isinstance(arr, np.ndarray) and arr.dtype in FLOAT_DTYPES:
            if dtype is None:
                dtype = arr.dtype
            elif arr.dtype != dtype:
                shapes = [getattr(i, "shape", ()) for i in inputs]
                dtypes = [str(getattr(i, "dtype", type(i).__name__)) for i in inputs]
                raise TypeError(
                    f"{op}: mixed float dtypes {dtypes} (shapes {shapes}); "
                    "expected one dtype: convert one with .float() or .double() first"
                )
    return dtype or np.dtype(np.float32)
