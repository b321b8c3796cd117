"""The model presets' options, checked: one function per kind of option.

A preset's config comes from outside (``--model-config`` JSON, a checkpoint, a
safetensors file's metadata), so every option is checked for its type as well as its
value before a layer is made: JSON's ``"false"`` is not ``False``, ``true`` is not a
dropout probability, ``[40, 20]`` is not one layer size. Each check raises a one-line
``ValueError`` naming the option, what it got and what it expects.

The ``*_size`` functions give the number of values a preset's state dict holds for given
options (all of them, defaults filled in), from the options alone: a config read from a
file is checked against the weights beside it before the model is built
(``models.make_model``). ``tests/test_models.py`` checks them against built models.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd_mnist._args import is_int

__all__ = [
    "ACTIVATIONS",
    "activation",
    "best_size",
    "flag",
    "fraction",
    "mlp_size",
    "size",
    "sizes",
    "std",
    "two_layer_size",
    "weight_init",
]

ACTIVATIONS = ("relu", "sigmoid")
"""The activations a preset's ``activation`` option may name."""
_INITS = ("he", "xavier")


def _is_number(value: Any) -> bool:
    """A finite int or float, not a bool."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _number(name: str, value: Any, fits: Callable[[Any], bool], expected: str) -> float:
    """``value`` as a float if it is a finite number (not a bool) that ``fits``; else a
    ValueError naming ``name`` and what was ``expected``."""
    if not _is_number(value) or not fits(value):
        raise ValueError(f"{name}: got {value!r}, expected {expected}")
    return float(value)


def sizes(name: str, value: Any, counts: tuple[int, ...] | None = None) -> list[int]:
    """``value`` as a list of layer sizes: ints >= 1, as many as one of ``counts`` if given.

    Raises:
        ValueError: otherwise, naming ``name``.
    """
    ok = isinstance(value, Sequence) and not isinstance(value, str)
    items = list(value) if ok else []
    ok = ok and all(map(is_int, items))
    if not ok or any(v < 1 for v in items) or (counts is not None and len(items) not in counts):
        n = " or ".join(map(str, counts)) + " " if counts is not None else ""
        raise ValueError(f"{name}: got {value!r}, expected a list of {n}ints >= 1")
    return [int(v) for v in items]


def size(name: str, value: Any) -> int:
    """``value`` as one layer size: an int >= 1 (not a bool, not a list).

    Raises:
        ValueError: otherwise, naming ``name``.
    """
    if not is_int(value) or value < 1:
        raise ValueError(f"{name}: got {value!r}, expected an int >= 1")
    return int(value)


def flag(name: str, value: Any) -> bool:
    """``value``, which must be ``True`` or ``False`` (not ``"false"``, not 0).

    Raises:
        ValueError: otherwise, naming ``name``.
    """
    if not isinstance(value, bool):
        raise ValueError(f"{name}: got {value!r}, expected true or false")
    return value


def fraction(name: str, value: Any) -> float:
    """``value`` as a probability such as dropout's: a number in [0, 1) (not a bool).

    Raises:
        ValueError: otherwise, naming ``name``.
    """
    return _number(name, value, lambda v: 0 <= v < 1, "a number in [0, 1)")


def std(name: str, value: Any) -> float:
    """``value`` as a standard deviation: a finite number >= 0 (not a bool).

    Raises:
        ValueError: otherwise, naming ``name``.
    """
    return _number(name, value, lambda v: v >= 0, "a number >= 0")


def activation(name: str, value: Any) -> str:
    """``value``, which must be one of :data:`ACTIVATIONS`.

    Raises:
        ValueError: otherwise, naming ``name``.
    """
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise ValueError(f"{name}: got {value!r}, expected one of {sorted(ACTIVATIONS)}")
    return value


def weight_init(name: str, value: Any) -> str | float:
    """``value`` as an initialisation: ``'he'``, ``'xavier'`` or a standard deviation (a
    number >= 0, or one written as a string such as ``'0.01'``).

    Raises:
        ValueError: otherwise, naming ``name``.
    """
    if isinstance(value, str) and value in _INITS:
        return value
    number: Any = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if not _is_number(number) or number < 0:
        raise ValueError(
            f"{name}: got {value!r}, expected 'he', 'xavier' or a standard deviation >= 0"
        )
    return float(number)


# ----- sizes -----
def _linear(fan_in: int, fan_out: int) -> int:
    return fan_in * fan_out + fan_out


def two_layer_size(hidden: Any, **_: Any) -> int:
    """Values in ``models.two_layer``'s state dict: two Linear layers."""
    h = size("hidden", hidden)
    return _linear(784, h) + _linear(h, 10)


def mlp_size(hidden: Any, batch_norm: Any, **_: Any) -> int:
    """Values in ``models.mlp``'s state dict: Linear layers, batch norms if asked."""
    widths = [784, *sizes("hidden", hidden)]
    norm = 4 if flag("batch_norm", batch_norm) else 0  # weight, bias, running mean and var
    layers = sum(_linear(i, o) + norm * o for i, o in zip(widths[:-1], widths[1:]))
    return layers + _linear(widths[-1], 10)


def best_size(channels: Any, hidden: Any, **_: Any) -> int:
    """Values in ``models.best``'s (and ``fast``'s) state dict: 3x3 convs without bias,
    each with a batch norm, then two Linear layers."""
    c1, c2, *c3 = sizes("channels", channels, counts=(2, 3))
    h = size("hidden", hidden)
    convs = 9 * c1 + 4 * c1 + 9 * c1 * c2 + 4 * c2
    if c3:
        convs += 9 * c2 * c3[0] + 4 * c3[0]
    return convs + _linear(c3[0] * 25 if c3 else c2 * 49, h) + _linear(h, 10)
