"""The engine: Function (the op contract), grad mode, topological order and backward.

A tensor made by a recorded op keeps, as ``grad_fn``, the :class:`Function` instance that
made it; the instance holds ``inputs`` (the parent tensors), a weak reference to its output
and what forward saved. Backward walks these back-pointers from the root in reverse
topological order. Each op's backward is written with the engine's own ops, so with
``create_graph=True`` the backward pass is itself recorded and can be differentiated again.

This module imports neither ``tensor`` nor ``ops``: the walk uses the public attributes and
methods of the tensors it is given (``grad_fn``, ``sum_to_size``, ``detach``), and
:meth:`Function.apply` makes tensors with what ``tensor.py`` registers when it loads.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from autograd_mnist._layout import leaf_grad

if TYPE_CHECKING:
    from autograd_mnist.tensor import Tensor

_F = TypeVar("_F", bound=Callable[..., Any])

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Return True when ops are being recorded for backward."""
    return _grad_enabled


@contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Context manager setting grad mode to ``mode``; restores the old mode on exit."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = bool(mode)
    try:
        yield
    finally:
        _grad_enabled = previous


class no_grad:  # noqa: N801 - named as in PyTorch
    """Disable recording, as a context manager or a decorator; nests and survives exceptions.

    Example:
        >>> with no_grad():
        ...     y = x * 2          # y.requires_grad is False, nothing recorded
    """

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return cast(_F, wrapper)  # functools.wraps keeps fn's signature


# ----- the tensor type, registered by autograd_mnist.tensor -----
_Tensor: type[Tensor]
_operands: Callable[[str, Sequence[Any]], tuple[Tensor, ...]]
_wrap: Callable[[np.ndarray, Function | None], Tensor]


def register_tensor(
    cls: type[Tensor],
    operands: Callable[[str, Sequence[Any]], tuple[Tensor, ...]],
    wrap: Callable[[np.ndarray, Function | None], Tensor],
) -> None:
    """Hand the engine the tensor type (called once, at the bottom of ``tensor.py``).

    Args:
        cls: the Tensor class (``isinstance`` checks, wrapping a ``grad`` array).
        operands: ``(op_name, inputs) -> tensors``: op inputs as tensors of one dtype.
        wrap: ``(array, grad_fn) -> tensor``: an op's output as is, made by ``grad_fn``
            (None: a tensor that does not require grad).
    """
    global _Tensor, _operands, _wrap
    _Tensor, _operands, _wrap = cls, operands, wrap


class Function:
    """Base class of every op, built-in or user-defined.

    Subclasses define two static methods:

    - ``forward(ctx, *arrays, **params) -> np.ndarray`` on raw arrays; never mutates its
      inputs; stores constants for backward with ``ctx.save(...)``.
    - ``backward(ctx, grad_output) -> Tensor | None | tuple`` gets the upstream gradient as a
      Tensor and returns one gradient per input (``None`` where there is none), built from
      the engine's own differentiable ops. It may return gradients in the output's broadcast
      shape: the engine sums them back to each input's shape.

    In backward, ``ctx.inputs`` are the input Tensors, ``ctx.output`` the output Tensor,
    ``ctx.saved`` what forward saved, ``ctx.needs_input_grad[i]`` whether input ``i`` needs
    a gradient, and ``ctx.params`` the keyword parameters given to :meth:`apply`.
    ``ctx.needs_input_grad`` is already set during forward (all False when the op will not
    be recorded), so forward can skip work only backward would need.
    Run an op with ``MyOp.apply(*tensors, **params)``.
    """

    __slots__ = ("inputs", "saved", "params", "needs_input_grad", "_output", "_freed")

    def __init__(self) -> None:
        self.inputs: tuple[Tensor, ...] = ()
        self.saved: tuple[Any, ...] = ()
        self.params: dict[str, Any] = {}
        self.needs_input_grad: tuple[bool, ...] = ()
        self._output: Callable[[], Tensor | None] | None = None
        self._freed = False

    def save(self, *values: Any) -> None:
        """Keep constants (masks, indices, shapes) for backward, in ``ctx.saved``."""
        self.saved = values

    @property
    def output(self) -> Tensor:
        """The output Tensor of this op (held by weak reference to avoid a cycle)."""
        out = self._output() if self._output is not None else None
        if out is None:
            raise RuntimeError(f"{type(self).__name__}: its output tensor no longer exists")
        return out

    @property
    def freed(self) -> bool:
        """True once a backward without ``retain_graph`` released this op's inputs."""
        return self._freed

    if TYPE_CHECKING:
        # Each op declares its own arguments; to a type checker these are any callables.
        forward: Callable[..., np.ndarray]
        backward: Callable[..., Any]
    else:

        @staticmethod
        def forward(ctx, *arrays, **params):
            """Compute the op on NumPy arrays."""
            raise NotImplementedError(f"{type(ctx).__name__} does not define forward()")

        @staticmethod
        def backward(ctx, grad_output):
            """Return the gradient of each input given the output's gradient."""
            raise NotImplementedError(f"{type(ctx).__name__} does not define backward()")

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run the op on tensors (Python scalars and arrays are wrapped) and record it."""
        tensors = _operands(cls.__name__, inputs)
        ctx = cls()
        needs = tuple(t.requires_grad for t in tensors)
        record = _grad_enabled and any(needs)
        # Known before forward, so forward can skip saving what no backward will use.
        ctx.needs_input_grad = needs if record else (False,) * len(needs)
        try:
            data = cls.forward(ctx, *[t.data for t in tensors], **params)
        except ValueError as e:  # e.g. shapes that do not broadcast: name the op and shapes
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{cls.__name__}: {e}; input shapes {shapes}") from e
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # NumPy returns scalars from 0-d arithmetic
        if not record:
            return _wrap(data, None)
        ctx.inputs = tensors
        ctx.params = params
        out = _wrap(data, ctx)
        ctx._output = weakref.ref(out)
        return out

    def release(self) -> None:
        """Free what backward needed; a later backward through this op raises."""
        self.inputs = ()
        self.saved = ()
        self._freed = True


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
            if ctx is not None and ctx._freed:
                raise RuntimeError(
                    f"backward: the graph through {type(ctx).__name__} was already freed; "
                    "pass retain_graph=True to the first backward to go through it twice"
                )
            parents = ctx.inputs if ctx is not None else ()
            stack.extend((p, False) for p in parents if p.requires_grad and id(p) not in seen)
    return order[::-1]


def _as_grad(root: Tensor, grad: Any, where: str) -> Tensor:
    if grad is None:
        if root.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for a single-element output; "
                f"got shape {root.shape}, expected a `grad` argument of that shape"
            )
        return _Tensor(np.ones(root.shape, dtype=root.dtype))
    g = grad if isinstance(grad, _Tensor) else _Tensor(np.asarray(grad, dtype=root.dtype))
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
    with set_grad_enabled(create_graph):
        for node in order:
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if targets is not None and id(node) in targets:
                captured[id(node)] = g
            ctx = node.grad_fn
            if ctx is None:
                if targets is None:
                    g = g if create_graph else _wrap(leaf_grad(g.data, node.data, given), None)
                    node.grad = g if node.grad is None else node.grad + g
                continue
            result = type(ctx).backward(ctx, g)
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
    elif isinstance(grad_outputs, (_Tensor, np.ndarray)):
        if len(outs) != 1:
            raise ValueError("grad: give one grad_output per output, as a sequence")
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: got {len(gos)} grad_outputs for {len(outs)} outputs")
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise RuntimeError(f"grad: output {i} (shape {o.shape}) does not require grad")
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
    # cast: mypy cannot rule out a Tensor by an isinstance check against a variable.
    return [x] if isinstance(x, _Tensor) else list(cast("Sequence[Tensor]", x))
