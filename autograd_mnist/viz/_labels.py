"""What each node of a drawn graph says and how it looks: tensors, ops, module boxes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_mnist.tensor import Tensor

if TYPE_CHECKING:
    from autograd_mnist.function import Function
    from autograd_mnist.nn import Module

OP_STYLE = {"shape": "box", "style": "filled", "fillcolor": "lightgrey"}
#: Ops recorded by a backward walk (``create_graph=True``): the gradient's own graph.
BACKWARD_OP_STYLE = {"shape": "box", "style": "filled,dashed", "fillcolor": "moccasin"}
BACKWARD_TENSOR_STYLE = {"shape": "ellipse", "color": "darkorange"}
PARAM_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "lightblue"}
CONST_STYLE = {"shape": "ellipse", "style": "dashed"}
ROOT_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "palegreen"}
TENSOR_STYLE = {"shape": "ellipse"}
MODULE_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": "lightyellow"}
CLUSTER_STYLE = {"style": "rounded", "color": "grey40"}

_MAX_VALUE = 28  # characters of one parameter's repr on an op's label


def escape(text: str) -> str:
    """``text`` for a DOT label: backslashes doubled, so ``\\N`` or ``\\l`` stay literal."""
    return text.replace("\\", "\\\\")


def grad_norm(t: Tensor) -> float:
    """The L2 norm of ``t.grad``, accumulated in float64."""
    assert t.grad is not None
    return float(np.sqrt(np.sum(np.square(t.grad.data, dtype=np.float64))))


def tensor_label(t: Tensor, show_grad: bool) -> str:
    """Name, shape and dtype, and the gradient norm; lines joined by DOT's ``\\n``."""
    lines = [] if t.name is None else [escape(t.name)]
    lines.append(f"{t.shape} {t.dtype}")
    if show_grad and t.grad is not None:
        lines.append(f"grad norm {grad_norm(t):.4g}")
    return "\\n".join(lines)


def tensor_style(t: Tensor, is_root: bool) -> dict[str, str]:
    """Parameters blue, the root green, constants dashed, a gradient graph's orange."""
    if t.is_leaf and t.requires_grad:
        return PARAM_STYLE
    if is_root:
        return ROOT_STYLE
    if t.grad_fn is not None and t.grad_fn.in_backward:
        return BACKWARD_TENSOR_STYLE
    return TENSOR_STYLE if t.requires_grad else CONST_STYLE


def _value(v: Any) -> str:
    if isinstance(v, (np.ndarray, Tensor)):
        return f"{type(v).__name__}{v.shape}"
    text = repr(v)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


def describe(ctx: Function) -> str:
    """An op's parameters as one line, ``kernel=(2, 2), stride=(2, 2)``: the keyword
    parameters it was applied with (``ctx.params``), arrays shown by type and shape, long
    values cut. An op class may define ``describe(ctx) -> str`` to say it otherwise."""
    custom = getattr(type(ctx), "describe", None)
    if custom is not None:
        return str(custom(ctx))
    return ", ".join(f"{k}={_value(v)}" for k, v in ctx.params.items())


def op_label(ctx: Function, step: int | None, show_params: bool, show_saved: bool) -> str:
    """The op's class name (after its backward step number, if given), its parameters,
    what it saved for backward."""
    name = type(ctx).__name__
    lines = [name if step is None else f"{step}. {name}"]
    params = describe(ctx) if show_params else ""
    if params:
        lines.append(escape(params))
    if show_saved and ctx.saved:
        lines.append(escape("saved " + ", ".join(_value(v) for v in ctx.saved)))
    return "\\n".join(lines)


def _shapes(ts: list[Tensor]) -> str:
    return " ".join(str(t.shape) for t in ts) or "-"


def module_label(
    name: str, module: Module, inputs: list[Tensor], outputs: list[Tensor], steps: str
) -> str:
    """A collapsed module: name and class, input and output shapes, parameter count."""
    count = sum(p.numel() for p in module.parameters())
    head = f"{name} ({type(module).__name__})" if name else type(module).__name__
    lines = [escape(head), f"in {_shapes(inputs)}", f"out {_shapes(outputs)}"]
    lines.append(f"{count:,} parameters" + (f"\\nbackward {steps}" if steps else ""))
    return "\\n".join(lines)
