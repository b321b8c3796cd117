"""What the transforms share: argument checks, input copies, a ``grad`` that tolerates
outputs without a graph, and torch's ``strict`` errors (``torch.autograd.functional``'s
private helpers, message for message)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from autograd_mnist.autograd import grad
from autograd_mnist.factory import zeros_like
from autograd_mnist.ops import clone
from autograd_mnist.tensor import Tensor

Tensors = tuple[Tensor, ...]
#: ``inputs``, ``v`` and a function's result: one Tensor or a tuple of Tensors.
TensorOrTensors = Tensor | Tensors
Kind = Literal["outputs", "grad_inputs", "jacobian", "hessian"]
Stage = Literal["back", "back_trick", "double_back", "double_back_trick"]


def as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, Tensors]:
    """``(was it a tuple, value as a tuple of Tensors)``.

    Raises:
        TypeError: if ``value`` is neither a Tensor nor a tuple of Tensors (a list is
            refused, as torch refuses it).
    """
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but {where} has type {type(item)}."
            )
    return is_tuple, tuple(items)


def preprocess(tensors: Tensors, create_graph: bool, need_graph: bool) -> Tensors:
    """New Tensor objects for the transform's own use, as torch makes them.

    With ``create_graph`` a tensor that requires grad is cloned in the graph (so the
    result can be differentiated back to the caller's tensor); any other is detached
    (sharing memory) and set to require grad when ``need_graph``. The caller's tensors
    are never modified and their ``.grad`` is never touched.
    """
    out = []
    for t in tensors:
        if create_graph and t.requires_grad:
            out.append(clone(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def postprocess(tensors: Tensors, create_graph: bool) -> Tensors:
    """The results as returned: detached unless ``create_graph``."""
    return tensors if create_graph else tuple(t.detach() for t in tensors)


def unpack(res: tuple[Any, ...], is_tuple: bool) -> Any:
    """Undo :func:`as_tuple`: ``res`` itself when the argument was a tuple, else its item."""
    return res if is_tuple else res[0]


def validate_v(v: Tensors, other: Tensors, is_other_tuple: bool) -> None:
    """Check that ``v`` matches ``other`` (the outputs or the inputs) entry for entry.

    Raises:
        RuntimeError: a wrong number of entries or a wrong size (torch's messages).
        TypeError: a dtype that differs (torch would fail later, in the engine).
    """
    if len(v) != len(other):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        prepend = f"Entry {i} in " if is_other_tuple else ""
        if el_v.shape != el_other.shape:
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {el_other.shape} but got {el_v.shape}."
            )
        if el_v.dtype != el_other.dtype:
            raise TypeError(
                f"{prepend}v has dtype {el_v.dtype}, expected {el_other.dtype} "
                "(the dtype of the tensor it pairs with)"
            )


def require_scalar_or_v(v: Any, tensors: Tensors, of: str) -> None:
    """Raise torch's error when ``v`` is None but ``tensors`` is not one single-element
    Tensor; ``of`` names them ("user-provided function returns", "input to ...")."""
    if v is None and (len(tensors) != 1 or tensors[0].numel() != 1):
        raise RuntimeError(
            f"The vector v can only be None if the {of} a single Tensor with a single element."
        )


def check_requires_grad(tensors: Sequence[Tensor | None], kind: Kind, strict: bool) -> None:
    """In strict mode, raise torch's error for a None or a tensor without a graph."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}."
                " This is not allowed in strict mode."
            )
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i}"
                " is independent of the input. This is not allowed in strict mode."
                " You should ensure that your function is thrice differentiable and that"
                " the hessian depends on the inputs."
            )
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided"
                f" function with respect to input {i} is independent of the input. This is"
                " not allowed in strict mode. You should ensure that your function is twice"
                " differentiable and that the jacobian depends on the inputs (this would be"
                " violated by a linear function for example)."
            )
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the"
                " user-provided function. This is not allowed in strict mode."
            )
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients."
            " The outputs must be computed in a differentiable manner from the input"
            " when running in strict mode."
        )


def autograd_grad(
    outputs: Sequence[Tensor | None],
    inputs: Tensors,
    grad_outputs: Sequence[Tensor | None] | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple[Tensor | None, ...]:
    """:func:`autograd_mnist.grad` that skips outputs which are None or have no graph,
    with ``allow_unused``: None for an input no remaining output depends on, and for one
    that cannot require grad (the upstream gradient of an integer output, in ``jvp``)."""
    gos = grad_outputs if grad_outputs is not None else (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, gos) if o is not None and o.requires_grad]
    live = [t for t in inputs if t.requires_grad]
    if not pairs or not live:
        return (None,) * len(inputs)
    grads = iter(
        grad(
            [o for o, _ in pairs],
            live,
            [g for _, g in pairs],
            retain_graph=retain_graph,
            create_graph=create_graph,
            allow_unused=True,
        )
    )
    return tuple(next(grads) if t.requires_grad else None for t in inputs)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}.",
    "back_trick": (
        "The gradient with respect to the input is independent of entry {i} in the"
        " grad_outputs when using the double backward trick to compute forward mode"
        " gradients."
    ),
    "double_back": "The jacobian of the user-provided function is independent of input {i}.",
    "double_back_trick": (
        "The hessian of the user-provided function is independent of entry {i} in the"
        " grad_jacobian. This is not allowed in strict mode as it prevents from using the"
        " double backward trick to replace forward mode AD."
    ),
}


def fill_in_zeros(
    grads: Sequence[Tensor | None],
    refs: Tensors,
    strict: bool,
    create_graph: bool,
    stage: Stage,
) -> Tensors:
    """Zeros shaped as ``refs[i]`` for each None in ``grads``; in strict mode, torch's
    error instead (and, with ``create_graph``, for a gradient that has no graph)."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                msg = _INDEPENDENT[stage].format(i=i)
                if "strict mode" not in msg:
                    msg += " This is not allowed in strict mode."
                raise RuntimeError(msg)
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}."
                " This is not allowed in strict mode when create_graph=True."
            )
        out.append(g)
    return tuple(out)


def one_hot(shape: tuple[int, ...], index: int, dtype: Any) -> Tensor:
    """A fresh tensor of zeros with a one at flat ``index`` (a basis vector)."""
    e = np.zeros(math.prod(shape), dtype=dtype)
    e[index] = 1
    return Tensor(e.reshape(shape))
