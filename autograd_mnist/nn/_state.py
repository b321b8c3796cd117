"""A module's saved state: what ``state_dict`` holds and how ``load_state_dict`` checks a
mapping before writing any of it (the methods of :class:`~autograd_mnist.nn.Module`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from autograd_mnist.tensor import Tensor

if TYPE_CHECKING:
    from autograd_mnist.nn.module import Module


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns, as PyTorch's ``_IncompatibleKeys``."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:  # as PyTorch's, which a notebook shows after a load
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        missing, unexpected = self.missing_keys, self.unexpected_keys
        return f"IncompatibleKeys(missing_keys={missing}, unexpected_keys={unexpected})"


class StateDictError(ValueError, RuntimeError):
    """``load_state_dict`` found missing, unexpected or mis-shaped keys. PyTorch raises
    RuntimeError; this is both, so ``except RuntimeError`` and ``except ValueError`` work."""


def _converted(value: Any, dtype: np.dtype[Any]) -> np.ndarray:
    """``value`` as a new array of ``dtype``, for :func:`load_state`.

    Raises:
        TypeError: if ``value`` does not hold numbers of a kind ``dtype`` can take (bool,
            int, float; complex only into complex).
        ValueError, OverflowError: if NumPy cannot convert it.
    """
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    kinds = "biufc" if dtype.kind == "c" else "biuf"
    if array.dtype.kind not in kinds:
        raise TypeError(f"got dtype {array.dtype}, expected numbers convertible to {dtype}")
    return np.array(array, dtype=dtype, copy=True)


def targets(module: Module, prefix: str = "") -> dict[str, tuple[Module, str, Any]]:
    """Every saved entry of ``module``: dotted name -> (owning module, attribute, value),
    the value a Parameter or a buffer's array.

    Every name of a shared parameter or sub-module is listed (as PyTorch's ``state_dict``
    does); buffers that are None or registered with ``persistent=False`` are not. As in
    PyTorch, each module's parameters, then its buffers, come before its sub-modules'.
    """
    out: dict[str, tuple[Module, str, Any]] = {}
    for name, m in module.named_modules(remove_duplicate=False):
        head = prefix + (f"{name}." if name else "")
        for k, p in m._parameters.items():
            out[head + k] = (m, k, p)
        for k, persistent in m._buffers.items():
            array = getattr(m, k)
            if persistent and array is not None:
                out[head + k] = (m, k, array)
    return out


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else value


def state_dict(
    module: Module,
    destination: dict[str, Any] | None = None,
    prefix: str = "",
    keep_vars: bool = False,
) -> dict[str, Any]:
    """:meth:`Module.state_dict`: copies of every parameter and persistent buffer, keyed by
    dotted name (the Parameters and the buffers' own arrays with ``keep_vars``), added to
    ``destination`` (a new dict if None) under ``prefix``."""
    out = {} if destination is None else destination
    for k, (_, _, value) in targets(module, prefix).items():
        out[k] = value if keep_vars else np.array(_array(value), copy=True)
    return out


def load_state(module: Module, state: Mapping[str, Any], strict: bool) -> IncompatibleKeys:
    """:meth:`Module.load_state_dict`: check every entry, then write them all in place."""
    if not isinstance(state, Mapping):
        raise TypeError(
            f"load_state_dict ({type(module).__name__}): expected a mapping of names to "
            f"arrays (a state_dict); got {type(state).__name__}"
        )
    where = {k: (m, a, _array(v)) for k, (m, a, v) in targets(module).items()}
    missing = [k for k in where if k not in state]
    unexpected = [k for k in state if k not in where]
    arrays, shapes, values = {}, [], []
    for k in (k for k in where if k in state):  # convert everything before changing anything
        try:
            arrays[k] = _converted(state[k], where[k][2].dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            values.append(f"{k}: {exc}")
            continue
        if arrays[k].shape != where[k][2].shape:
            shapes.append(f"{k}: checkpoint {arrays[k].shape}, model {where[k][2].shape}")
    problems = []
    if strict and missing:
        problems.append(f"missing keys {missing}")
    if strict and unexpected:
        problems.append(f"unexpected keys {unexpected}")
    if shapes:
        problems.append("shape mismatches: " + "; ".join(shapes))
    if values:
        problems.append("bad values: " + "; ".join(values))
    if problems:
        raise StateDictError(f"load_state_dict ({type(module).__name__}): " + ", ".join(problems))
    for k, array in arrays.items():
        owner, name, target = where[k]
        target[...] = array
        if name in owner._parameters:  # an in-place write, as torch's copy_
            owner._parameters[name]._bump_version()
    return IncompatibleKeys(missing, unexpected)
