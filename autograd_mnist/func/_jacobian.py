"""Whole Jacobians and Hessians: ``jacobian`` and ``hessian``.

Reverse mode builds the Jacobian a row at a time: one backward pass per output element,
seeded with a basis vector (torch without ``vectorize`` does the same). Forward mode
builds it a column at a time with the double-backward trick: one recorded backward, then
one backward per input element. The Hessian is the Jacobian of the gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autograd_mnist.factory import zeros, zeros_like
from autograd_mnist.func._common import (
    Tensors,
    as_tuple,
    autograd_grad,
    check_requires_grad,
    fill_in_zeros,
    one_hot,
    postprocess,
    preprocess,
)
from autograd_mnist.grad_mode import enable_grad
from autograd_mnist.ops import stack
from autograd_mnist.tensor import Tensor

__all__ = ["hessian", "jacobian"]

STRATEGIES = ("reverse-mode", "forward-mode")


def _block(parts: Sequence[Tensor], out: Tensor, inp: Tensor, by_column: bool) -> Tensor:
    """Stack rows (each shaped as ``inp``) or columns (each shaped as ``out``) into the
    block ``d out / d inp`` of shape ``out.shape + inp.shape``."""
    shape = out.shape + inp.shape
    if not parts:  # an empty output or input: nothing to stack
        return zeros(shape, dtype=inp.dtype)
    if not by_column:
        return stack(parts, 0).reshape(shape)
    return stack(parts, -1).reshape(shape)


def _rows(outs: Tensors, ins: Tensors, create_graph: bool, strict: bool) -> list[Tensors]:
    """Reverse mode: for each output, one vjp per element with a basis vector."""
    jac: list[Tensors] = []
    for i, out in enumerate(outs):
        rows: list[list[Tensor]] = [[] for _ in ins]
        for j in range(out.numel() if out.requires_grad else 0):
            seed = one_hot(out.shape, j, out.dtype)
            vj = autograd_grad((out,), ins, (seed,), create_graph, retain_graph=True)
            for k, (g, inp) in enumerate(zip(vj, ins)):
                if g is None:
                    if strict:
                        raise RuntimeError(
                            f"Output {i} of the user-provided function is independent of "
                            f"input {k}. This is not allowed in strict mode."
                        )
                    g = zeros_like(inp)
                elif strict and create_graph and not g.requires_grad:
                    raise RuntimeError(
                        "The jacobian of the user-provided function is independent of "
                        f"input {i}. This is not allowed in strict mode when create_graph=True."
                    )
                rows[k].append(g)
        if not out.requires_grad:  # non-strict (strict raised already): no graph, zeros
            jac.append(tuple(zeros(out.shape + t.shape, dtype=t.dtype) for t in ins))
        else:
            jac.append(tuple(_block(r, out, t, False) for r, t in zip(rows, ins)))
    return jac


def _columns(outs: Tensors, ins: Tensors, create_graph: bool, strict: bool) -> list[Tensors]:
    """Forward mode: record ``J^T u`` once, then one jvp per input element (its vjp with
    a basis vector, taken with respect to ``u``)."""
    us = tuple(zeros_like(o, requires_grad=o.dtype.kind == "f") for o in outs)
    grad_inputs = autograd_grad(outs, ins, us, create_graph=True, retain_graph=True)
    check_requires_grad(grad_inputs, "grad_inputs", strict)
    cols: list[list[list[Tensor]]] = [[[] for _ in ins] for _ in outs]
    for k, (g, inp) in enumerate(zip(grad_inputs, ins)):
        for e in range(inp.numel()):
            seed = one_hot(inp.shape, e, inp.dtype)
            jv = autograd_grad((g,), us, (seed,), create_graph, retain_graph=True)
            jv = fill_in_zeros(jv, outs, strict, create_graph, "back_trick")
            for i, col in enumerate(jv):
                cols[i][k].append(col)
    return [  # an integer output: zeros of the input's dtype, as in reverse mode
        tuple(
            _block(cols[i][k], out, inp, True)
            if out.dtype.kind == "f"
            else zeros(out.shape + inp.shape, dtype=inp.dtype)
            for k, inp in enumerate(ins)
        )
        for i, out in enumerate(outs)
    ]


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs`` (``torch.autograd.functional.jacobian``).

    Args:
        func: takes the input Tensors and returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Jacobian differentiable (back to ``inputs`` that require
            grad), for higher derivatives.
        strict: raise when an output has no graph or does not depend on an input;
            otherwise that block is zeros.
        vectorize: accepted for torch's signature; without ``vmap`` the rows (or columns)
            are computed one backward pass each either way, and the result is the same.
        strategy: ``"reverse-mode"`` (one backward per output element: best for fewer
            outputs than inputs) or ``"forward-mode"`` (one recorded backward, then one
            per input element: best for fewer inputs). Torch's forward mode needs
            ``vectorize=True`` and refuses ``create_graph``; ours needs neither.

    Returns:
        For one input Tensor and one output Tensor, a Tensor of shape
        ``output.shape + input.shape``. With a tuple on one side, a tuple over that side;
        with tuples on both, ``jac[i][j]`` is the block of output ``i`` and input ``j``.
        Each block has its input's dtype; detached unless ``create_graph``.

    Raises:
        ValueError: an unknown ``strategy``.
        TypeError: an argument that is neither a Tensor nor a tuple of Tensors.
        RuntimeError: a ``strict`` violation.
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"jacobian: strategy must be one of {STRATEGIES}; got {strategy!r}. If your "
            'function has more outputs than inputs, "forward-mode" tends to be faster.'
        )
    with enable_grad():
        is_inputs_tuple, ins = as_tuple(inputs, "inputs", "jacobian")
        ins = preprocess(ins, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outs = as_tuple(
            func(*ins), "outputs of the user-provided function", "jacobian"
        )
        check_requires_grad(outs, "outputs", strict)
        build = _rows if strategy == "reverse-mode" else _columns
        blocks = [postprocess(b, create_graph) for b in build(outs, ins, create_graph, strict)]
    per_output = [b if is_inputs_tuple else b[0] for b in blocks]
    return tuple(per_output) if is_outputs_tuple else per_output[0]


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a scalar ``func`` at ``inputs`` (``torch.autograd.functional.hessian``):
    the Jacobian of the gradient. One backward for the gradient, then one per input
    element (reverse mode) to differentiate it.

    Args:
        func: takes the input Tensors and returns a single-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Hessian differentiable, for third derivatives.
        strict: raise when the output, or its gradient, is independent of an input;
            otherwise that block is zeros.
        vectorize: accepted for torch's signature; no effect (see :func:`jacobian`).
        outer_jacobian_strategy: the ``strategy`` of the outer :func:`jacobian`.

    Returns:
        For one input Tensor, a Tensor of shape ``input.shape + input.shape``; for a
        tuple, a tuple of tuples where ``hess[i][j]`` has shape
        ``inputs[i].shape + inputs[j].shape``. Detached unless ``create_graph``.

    Raises:
        TypeError: an argument that is neither a Tensor nor a tuple of Tensors.
        RuntimeError: ``func`` returning a tuple or more than one element, or a
            ``strict`` violation.
    """
    is_inputs_tuple, ins = as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*inp: Tensor) -> Tensor:
        is_tuple, outs = as_tuple(func(*inp), "outputs of the user-provided function", "hessian")
        check_requires_grad(outs, "outputs", strict)
        if is_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if outs[0].numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a "
                f"single element; got shape {outs[0].shape}"
            )
        return outs[0].reshape(())

    def jac_func(*inp: Tensor) -> Tensors:
        jac: Tensors = jacobian(scalar_func, inp, create_graph=True)
        check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(
        jac_func,
        ins,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return res if is_inputs_tuple else res[0][0]
