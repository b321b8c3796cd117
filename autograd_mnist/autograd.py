"""The walk: topological order, backward and grad (``torch.autograd``'s entry points).

Backward walks the ``grad_fn`` back-pointers (see :class:`~autograd_mnist.function.Function`)
from the root in reverse topological order. Each op's backward is written with the
engine's own ops, so with ``create_graph=True`` the backward pass is itself recorded and
can be differentiated again.

This module imports neither ``tensor`` nor ``ops``: it uses the public attributes and
methods of the tensors it is given (``grad_fn``, ``sum_to_size``, ``detach``) and makes
new ones with their own type. ``Function`` and grad mode live in :mod:`.function` and
:mod:`.grad_mode`, anomaly mode in :mod:`.anomaly` and hooks in :mod:`.hooks`; the
public names of the first three are importable from here too, as from ``torch.autograd``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from autograd_mnist import anomaly, grad_mode
from autograd_mnist._layout import accumulate
from autograd_mnist.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from autograd_mnist.function import Function
from autograd_mnist.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd_mnist.hooks import run_hooks

if TYPE_CHECKING:
    from autograd_mnist.tensor import Tensor

__all__ = [
    "Function",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "run_backward",
    "set_detect_anomaly",
    "set_grad_enabled",
    "topo_order",
]


# ----- the walk -----
def topo_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Nodes that require grad reachable from ``roots``, each before all of its inputs.

    Iterative (no recursion), so graphs of any depth work. Nodes are keyed by ``id``.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            ctx = node.grad_fn
            if ctx is not None and ctx.freed:
                raise RuntimeError(
                    f"backward: the graph through {type(ctx).__name__} was already freed; "
                    "pass retain_graph=True to the first backward to go through it twice"
                )
            parents = ctx.inputs if ctx is not None else ()
            stack.extend((p, False) for p in parents if p.requires_grad and id(p) not in seen)
    return order[::-1]


def _as_grad(root: Tensor, grad: Any, where: str) -> Tensor:
    if grad is None:
        if root.numel() != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for a single-element output; "
                f"got shape {root.shape}, expected a `grad` argument of that shape"
            )
        return type(root)(np.ones(root.shape, dtype=root.dtype))
    g = grad if isinstance(grad, type(root)) else type(root)(np.asarray(grad, dtype=root.dtype))
    if g.shape != root.shape:
        raise ValueError(
            f"{where}: grad has shape {g.shape}, expected the output's shape {root.shape}"
        )
    if g.dtype != root.dtype:
        raise TypeError(f"{where}: grad has dtype {g.dtype}, expected the output's {root.dtype}")
    return g


def run_backward(
    roots: Sequence[Tensor],
    grads: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Tensor] | None = None,
) -> dict[int, Tensor]:
    """Propagate ``grads`` from ``roots`` through the graph.

    Without ``capture``, leaves that require grad accumulate into ``.grad``. With
    ``capture``, the total gradient of each captured tensor is returned (keyed by ``id``)
    and no ``.grad`` is touched, as ``torch.autograd.grad`` does.
    """
    targets = {id(t) for t in capture} if capture is not None else None
    captured: dict[int, Tensor] = {}
    pending: dict[int, Tensor] = {}
    for r, g0 in zip(roots, grads):
        pending[id(r)] = pending[id(r)] + g0 if id(r) in pending else g0
    order = topo_order(roots)
    # Arrays already owned by someone (the caller's grads, other leaves): copied, not shared.
    given = {id(g.data) for g in grads}
    anomalous = anomaly.mode.enabled  # then each backward's result is checked
    with set_grad_enabled(create_graph), grad_mode.backward_walk():
        for node in order:
            g = pending.pop(id(node), None)
            if g is None:
                continue
            ctx = node.grad_fn
            if node._hooks is not None and ctx is None:
                g = run_hooks(node, g)  # a leaf's: before .grad or grad() gets g
            if targets is not None and id(node) in targets:
                captured[id(node)] = g
            if ctx is None:
                if targets is None:
                    node.grad = accumulate(node, g, given, create_graph)
                continue
            if node._hooks is not None:
                g = run_hooks(node, g)  # a non-leaf's: after grad() took g, as PyTorch
            ctx.check_versions()  # an input changed in place since: its backward is wrong
            result = anomaly.checked_backward(ctx, g) if anomalous else type(ctx).backward(ctx, g)
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(ctx.inputs):
                raise RuntimeError(
                    f"{type(ctx).__name__}.backward: returned {len(result)} gradients; "
                    f"expected one per input ({len(ctx.inputs)})"
                )
            for i, (inp, gi) in enumerate(zip(ctx.inputs, result)):
                if gi is None or not inp.requires_grad:
                    continue
                if gi.shape != inp.shape:
                    try:
                        gi = gi.sum_to_size(inp.shape)
                    except ValueError:
                        pass  # not a broadcast of the input: this op's bug, reported below
                if gi.shape != inp.shape or gi.dtype != inp.dtype:
                    raise RuntimeError(
                        f"{type(ctx).__name__}.backward: gradient of input {i} has shape "
                        f"{gi.shape} and dtype {gi.dtype}; expected the input's shape "
                        f"{inp.shape} and dtype {inp.dtype}"
                    )
                prev = pending.get(id(inp))
                pending[id(inp)] = gi if prev is None else prev + gi
            if not retain_graph:
                ctx.release()
    return captured


# ----- entry points -----
def backward(
    tensor: Tensor,
    grad: Any = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        tensor: the output to differentiate; must require grad.
        grad: upstream gradient of ``tensor``'s shape (Tensor or array); may be omitted
            only when ``tensor`` has one element.
        retain_graph: keep the graph for another backward (default: freed).
        create_graph: record the backward pass so the gradients can be differentiated.

    Raises:
        RuntimeError: if ``tensor`` does not require grad, ``grad`` is missing for a
            non-scalar, or the graph was freed by an earlier backward.
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {tensor.shape} does not require grad and has no graph"
        )
    g = _as_grad(tensor, grad, "backward")
    run_backward([tensor], [g], retain_graph or create_graph, create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, as in ``torch.autograd.grad``.

    Args:
        outputs: a tensor or a sequence of tensors to differentiate.
        inputs: tensors (leaves or not) to differentiate with respect to.
        grad_outputs: upstream gradients, one per output (None for single-element outputs).
        retain_graph: keep the graph; defaults to ``create_graph``.
        create_graph: record the backward pass, for higher-order gradients.
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising.

    Returns:
        One gradient Tensor per input. ``.grad`` attributes are left untouched.

    Raises:
        RuntimeError: if an output does not require grad, or an input is unused and
            ``allow_unused`` is False.
    """
    outs, ins = _tensor_list(outputs), _tensor_list(inputs)
    gos: list[Any]
    if grad_outputs is None:
        gos = [None] * len(outs)
    elif not isinstance(grad_outputs, (list, tuple)):
        if len(outs) != 1:
            raise ValueError("grad: give one grad_output per output, as a sequence")
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: got {len(gos)} grad_outputs for {len(outs)} outputs")
    for kind, ts in (("output", outs), ("input", ins)):  # as torch, for either
        for i, t in enumerate(ts):
            if not hasattr(t, "requires_grad"):  # a number, an array, a generator, ...
                raise TypeError(f"grad: {kind} {i} is a {type(t).__name__}; expected a Tensor")
            if not t.requires_grad:
                raise RuntimeError(f"grad: {kind} {i} (shape {t.shape}) does not require grad")
    gs = [_as_grad(o, go, "grad") for o, go in zip(outs, gos)]
    keep = create_graph if retain_graph is None else retain_graph
    captured = run_backward(outs, gs, keep, create_graph, capture=ins)
    result: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = captured.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) is not used by the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g if g is None or create_graph else g.detach())
    return tuple(result)


def _tensor_list(x: Tensor | Sequence[Tensor]) -> list[Tensor]:
    if isinstance(x, (list, tuple)):
        return list(x)
    return [cast("Tensor", x)]  # not a list or tuple: one tensor
