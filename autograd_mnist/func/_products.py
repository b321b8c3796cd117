"""Products with the Jacobian and the Hessian: ``vjp``, ``jvp``, ``vhp`` and ``hvp``.

Each runs ``func`` once and a fixed number of backward passes, whatever the sizes:
vjp 1, vhp 2, jvp 2 and hvp 3 (``jvp`` and ``hvp`` by the double-backward trick: the
backward of a backward, taken with respect to its upstream gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd_mnist.factory import zeros_like
from autograd_mnist.func._common import (
    Tensors,
    as_tuple,
    autograd_grad,
    check_requires_grad,
    fill_in_zeros,
    postprocess,
    preprocess,
    require_scalar_or_v,
    unpack,
    validate_v,
)
from autograd_mnist.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["hvp", "jvp", "vhp", "vjp"]


def _prepare_v(v: Any, name: str, like: Tensors, is_like_tuple: bool, create_graph: bool) -> Any:
    """``v`` as a tuple of fresh tensors checked against ``like`` (None stays None)."""
    if v is None:
        return None
    _, vs = as_tuple(v, "v", name)
    vs = preprocess(vs, create_graph=create_graph, need_graph=False)
    validate_v(vs, like, is_like_tuple)
    return vs


def _scalar_output(func: Callable[..., Any], inputs: Tensors, name: str, strict: bool) -> Tensors:
    """Run ``func`` and check it returned one single-element Tensor (hvp, vhp)."""
    is_tuple, outputs = as_tuple(func(*inputs), "outputs of the user-provided function", name)
    check_requires_grad(outputs, "outputs", strict)
    if is_tuple:
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {name} should contain a single "
            f"element; got shape {outputs[0].shape}"
        )
    return outputs


def vjp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``
    (``torch.autograd.functional.vjp``); one backward pass.

    Args:
        func: takes the input Tensors (as positional arguments) and returns a Tensor or a
            tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped as ``func``'s output (a Tensor, or a tuple matching a tuple output);
            may be None only when the output is a single one-element Tensor.
        create_graph: make the outputs and the result differentiable (back to ``inputs``
            that require grad, and to ``v``).
        strict: raise when an output has no graph or an input does not affect the
            outputs; otherwise the product for such an input is zeros.

    Returns:
        ``(func_output, vjp)``: the output as ``func`` returned it, and one Tensor per
        input shaped as it (a tuple when ``inputs`` was a tuple). Detached unless
        ``create_graph``.

    Raises:
        TypeError: an argument that is neither a Tensor nor a tuple of Tensors.
        RuntimeError: ``v`` missing for a non-scalar output, ``v`` of the wrong sizes,
            or a ``strict`` violation.
    """
    with enable_grad():
        is_inputs_tuple, ins = as_tuple(inputs, "inputs", "vjp")
        ins = preprocess(ins, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outs = as_tuple(
            func(*ins), "outputs of the user-provided function", "vjp"
        )
        check_requires_grad(outs, "outputs", strict)
        vs = _prepare_v(v, "vjp", outs, is_outputs_tuple, create_graph)
        require_scalar_or_v(vs, outs, "user-provided function returns")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = autograd_grad(outs, ins, vs, create_graph=create_graph)
        result = fill_in_zeros(res, ins, strict, create_graph, "back")
    return (
        unpack(postprocess(outs, create_graph), is_outputs_tuple),
        unpack(postprocess(result, create_graph), is_inputs_tuple),
    )


def jvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs``
    (``torch.autograd.functional.jvp``): a directional derivative, by the double-backward
    trick in two backward passes.

    The first pass computes ``g(u) = J^T u`` with ``u`` a zero tensor that requires grad,
    recording it; ``g`` is linear in ``u``, so its vjp with ``v`` is ``(J^T)^T v = J v``.

    Args:
        func: takes the input Tensors and returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: the direction, shaped as ``inputs``; may be None only when the input is a
            single one-element Tensor.
        create_graph: make the outputs and the result differentiable.
        strict: raise when an output has no graph or does not depend on the inputs;
            otherwise its product is zeros.

    Returns:
        ``(func_output, jvp)``: the output as ``func`` returned it, and one Tensor per
        output shaped as it (a tuple when ``func`` returned a tuple). Detached unless
        ``create_graph``.

    Raises:
        TypeError: an argument that is neither a Tensor nor a tuple of Tensors.
        RuntimeError: ``v`` missing for a non-scalar input, ``v`` of the wrong sizes, or a
            ``strict`` violation.
    """
    with enable_grad():
        is_inputs_tuple, ins = as_tuple(inputs, "inputs", "jvp")
        ins = preprocess(ins, create_graph=create_graph, need_graph=True)
        vs = _prepare_v(v, "jvp", ins, is_inputs_tuple, create_graph)
        require_scalar_or_v(vs, ins, "input to the user-provided function is")
        is_outputs_tuple, outs = as_tuple(
            func(*ins), "outputs of the user-provided function", "jvp"
        )
        check_requires_grad(outs, "outputs", strict)
        # The backward is linear in its upstream gradient, so the value of u does not
        # matter; zeros keep NaN and inf out of the recorded backward.
        us = tuple(zeros_like(o, requires_grad=o.dtype.kind == "f") for o in outs)
        grad_inputs = autograd_grad(outs, ins, us, create_graph=True)
        check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = autograd_grad(grad_inputs, us, vs, create_graph=create_graph)
        result = fill_in_zeros(res, outs, strict, create_graph, "back_trick")
    return (
        unpack(postprocess(outs, create_graph), is_outputs_tuple),
        unpack(postprocess(result, create_graph), is_outputs_tuple),
    )


def vhp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The vector-Hessian product ``v^T H`` of a scalar ``func`` at ``inputs``
    (``torch.autograd.functional.vhp``); two backward passes.

    Args:
        func: takes the input Tensors and returns a single-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped as ``inputs``; may be None only for a single one-element input.
        create_graph: make the output and the result differentiable.
        strict: raise when the output or its gradient is independent of an input;
            otherwise the product for that input is zeros.

    Returns:
        ``(func_output, vhp)``: the output, and one Tensor per input shaped as it (a
        tuple when ``inputs`` was a tuple). Detached unless ``create_graph``.

    Raises:
        TypeError: an argument that is neither a Tensor nor a tuple of Tensors.
        RuntimeError: ``func`` returning a tuple or more than one element, a bad ``v``,
            or a ``strict`` violation.
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The Hessian-vector product ``H v`` of a scalar ``func`` at ``inputs``
    (``torch.autograd.functional.hvp``); three backward passes, by the double-backward
    trick as torch computes it (for a twice continuously differentiable ``func``, H is
    symmetric and :func:`vhp` gives the same result in two).

    Args:
        func: takes the input Tensors and returns a single-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped as ``inputs``; may be None only for a single one-element input.
        create_graph: make the output and the result differentiable.
        strict: raise when the output or its gradient is independent of an input;
            otherwise the product for that input is zeros.

    Returns:
        ``(func_output, hvp)``: the output, and one Tensor per input shaped as it (a
        tuple when ``inputs`` was a tuple). Detached unless ``create_graph``.

    Raises:
        TypeError: an argument that is neither a Tensor nor a tuple of Tensors.
        RuntimeError: ``func`` returning a tuple or more than one element, a bad ``v``,
            or a ``strict`` violation.
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(
    func: Callable[..., Any],
    inputs: Any,
    v: Any,
    create_graph: bool,
    strict: bool,
    name: str,
) -> tuple[Any, Any]:
    """``vhp`` (``v^T H``: the vjp of the gradient) or ``hvp`` (``H v``: the jvp of the
    gradient, by the double-backward trick)."""
    with enable_grad():
        is_inputs_tuple, ins = as_tuple(inputs, "inputs", name)
        ins = preprocess(ins, create_graph=create_graph, need_graph=True)
        vs = _prepare_v(v, name, ins, is_inputs_tuple, create_graph)
        require_scalar_or_v(vs, ins, "input to the user-provided function is")
        outs = _scalar_output(func, ins, name, strict)
        jac = autograd_grad(outs, ins, create_graph=True)
        check_requires_grad(jac, "jacobian", strict)
        if name == "hvp":
            grad_jac = tuple(zeros_like(t, requires_grad=True) for t in ins)
            double_back = autograd_grad(jac, ins, grad_jac, create_graph=True)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        if name == "hvp":
            res = autograd_grad(double_back, grad_jac, vs, create_graph=create_graph)
            result = fill_in_zeros(res, ins, strict, create_graph, "double_back_trick")
        else:
            res = autograd_grad(jac, ins, vs, create_graph=create_graph)
            result = fill_in_zeros(res, ins, strict, create_graph, "double_back")
    return (
        unpack(postprocess(outs, create_graph), False),
        unpack(postprocess(result, create_graph), is_inputs_tuple),
    )
