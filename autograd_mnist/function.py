"""Function: the contract of every op (forward on arrays, backward with engine ops).

A tensor made by a recorded op keeps, as ``grad_fn``, the :class:`Function` instance that
made it; the instance holds ``inputs`` (the parent tensors), a weak reference to its output
and what forward saved: the back-pointers that :mod:`autograd_mnist.autograd` walks.

This module imports neither ``tensor`` nor ``ops``: :meth:`Function.apply` makes tensors
with what ``tensor.py`` registers when it loads (:func:`register_tensor`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_mnist import anomaly
from autograd_mnist.grad_mode import _mode

if TYPE_CHECKING:
    from autograd_mnist.tensor import Tensor

# ----- the tensor type, registered by autograd_mnist.tensor -----
_operands: Callable[[str, Sequence[Any]], tuple[Tensor, ...]]
_wrap: Callable[[np.ndarray, Function | None], Tensor]


def register_tensor(
    operands: Callable[[str, Sequence[Any]], tuple[Tensor, ...]],
    wrap: Callable[[np.ndarray, Function | None], Tensor],
) -> None:
    """Hand :meth:`Function.apply` the tensor type's constructors (called once, at the
    bottom of ``tensor.py``).

    Args:
        operands: ``(op_name, inputs) -> tensors``: op inputs as tensors of one dtype.
        wrap: ``(array, grad_fn) -> tensor``: an op's output as is, made by ``grad_fn``
            (None: a tensor that does not require grad).
    """
    global _operands, _wrap
    _operands, _wrap = operands, wrap


_MODIFIED = (
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation: make the change out of place (y = y + 1), or after backward"
)


class Function:
    """Base class of every op, built-in or user-defined.

    Subclasses define two static methods:

    - ``forward(ctx, *arrays, **params) -> np.ndarray`` on raw arrays; never mutates its
      inputs; stores constants for backward with ``ctx.save(...)`` (or PyTorch's
      ``ctx.save_for_backward(...)``, read back as Tensors with ``ctx.saved_tensors``).
    - ``backward(ctx, grad_output) -> Tensor | None | tuple`` gets the upstream gradient as a
      Tensor and returns one gradient per input (``None`` where there is none), built from
      the engine's own differentiable ops. It may return gradients in the output's broadcast
      shape: the engine sums them back to each input's shape.

    In backward, ``ctx.inputs`` are the input Tensors, ``ctx.output`` the output Tensor,
    ``ctx.saved`` what forward saved, ``ctx.needs_input_grad[i]`` whether input ``i`` needs
    a gradient, and ``ctx.params`` the keyword parameters given to :meth:`apply`.
    A recorded op also keeps ``ctx.modules``, the ``nn.Module`` calls it ran inside
    (outermost first), and ``ctx.in_backward``, whether a backward walk recorded it (for
    :mod:`autograd_mnist.viz`).
    ``ctx.needs_input_grad`` is already set during forward (all False when the op will not
    be recorded), so forward can skip work only backward would need.
    Run an op with ``MyOp.apply(*tensors, **params)``.

    A recorded op keeps the version (``Tensor._version``) of each input. Backward raises
    ``RuntimeError`` if an input was modified by an in-place op since (PyTorch checks only
    the tensors an op saved; checking every input is stricter), and ``ctx.output`` raises
    if the output was. An op's result that views an input's memory shares that input's
    counter, as PyTorch's views do. Writes through the raw ``.data`` array are not
    counted, as in PyTorch.
    """

    __slots__ = (
        "inputs",
        "saved",
        "params",
        "needs_input_grad",
        "_output",
        "_freed",
        "_versions",
        "_out_version",
        "_trace",
        "modules",
        "in_backward",
    )
    _trace: Any  # anomaly mode only: the forward call's stack (unset otherwise)
    modules: tuple[Any, ...]  # recorded ops only: the nn.Module calls running, outermost first
    in_backward: bool  # recorded ops only: recorded by a backward walk (create_graph=True)

    def __init__(self) -> None:
        self.inputs: tuple[Tensor, ...] = ()
        self.saved: tuple[Any, ...] = ()
        self.params: dict[str, Any] = {}
        self.needs_input_grad: tuple[bool, ...] = ()
        self._output: Callable[[], Tensor | None] | None = None
        self._freed = False
        self._versions: tuple[int, ...] = ()
        self._out_version = 0

    def save(self, *values: Any) -> None:
        """Keep constants (masks, indices, shapes) for backward, in ``ctx.saved``."""
        self.saved = values

    save_for_backward = save  # PyTorch's name; read back with saved_tensors

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """What forward saved, as Tensors (PyTorch's ``ctx.saved_tensors``): an input's
        array is that input Tensor and the output's array the output Tensor, so a backward
        built on them can be differentiated again; any other array is a constant Tensor."""
        out = self._output() if self._output is not None else None
        return tuple(self._saved_tensor(v, out) for v in self.saved)

    def _saved_tensor(self, value: Any, out: Tensor | None) -> Tensor | None:
        if value is None or not isinstance(value, np.ndarray):
            return value  # None, or a Tensor saved as it is
        for t in self.inputs:
            if t.data is value:
                return t
        if out is not None and out.data is value:
            return self.output  # checks that it was not modified in place
        return _wrap(value, None)

    @property
    def output(self) -> Tensor:
        """The output Tensor of this op (held by weak reference to avoid a cycle)."""
        out = self._output() if self._output is not None else None
        if out is None:
            raise RuntimeError(f"{type(self).__name__}: its output tensor no longer exists")
        if out._vbox[0] != self._out_version:  # a view's counter may start above 0
            raise RuntimeError(
                f"{type(self).__name__}.backward: its output of shape {out.shape} was "
                f"modified by an in-place operation (version {out._vbox[0]}, expected "
                f"{self._out_version}); {_MODIFIED}"
            )
        return out

    def check_versions(self) -> None:
        """Raise ``RuntimeError`` if an input was modified in place since it was recorded
        (the engine calls this before ``backward``)."""
        for i, (t, v) in enumerate(zip(self.inputs, self._versions)):
            if t._vc != v:
                raise RuntimeError(
                    f"{type(self).__name__}.backward: input {i} of shape {t.shape} was "
                    f"modified by an in-place operation (version {t._vc}, expected {v}); "
                    f"{_MODIFIED}"
                )

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
        needs = tuple([t.requires_grad for t in tensors])
        mode = _mode
        record = mode.enabled and True in needs
        # Known before forward, so forward can skip saving what no backward will use.
        ctx.needs_input_grad = needs if record else (False,) * len(needs)
        try:
            data = cls.forward(ctx, *[t.data for t in tensors], **params)
        except ValueError as e:  # e.g. shapes that do not broadcast: name the op and shapes
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{cls.__name__}: {e}; input shapes {shapes}") from e
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # NumPy returns scalars from 0-d arithmetic
        if anomaly.mode.enabled:  # keep the forward call's stack; maybe check the output
            anomaly.on_forward(ctx, tensors, data, record)
        if not record:
            return _view_of(_wrap(data, None), tensors)
        ctx.inputs = tensors
        # The inputs' versions, for check_versions. No comprehension for one or two inputs
        # (most ops): it would cost as much as the rest of the recording.
        n = len(tensors)
        if n == 2:
            ctx._versions = (tensors[0]._vbox[0], tensors[1]._vbox[0])
        elif n == 1:
            ctx._versions = (tensors[0]._vbox[0],)
        else:
            ctx._versions = tuple([t._vbox[0] for t in tensors])
        ctx.params = params
        ctx.modules = mode.modules
        ctx.in_backward = mode.in_backward
        out = _view_of(_wrap(data, ctx), tensors)
        ctx._out_version = out._vbox[0]
        ctx._output = weakref.ref(out)
        return out

    def release(self) -> None:
        """Free what backward needed; a later backward through this op raises."""
        self.inputs = ()
        self.saved = ()
        self._freed = True


def _view_of(out: Tensor, inputs: Sequence[Tensor]) -> Tensor:
    """``out``, sharing the version counter of the input whose memory its data views (a
    reshape, a slice, a transpose...), as PyTorch's views do: an in-place change of either
    is then seen by every op that recorded the other."""
    data = out.data
    owner = data.base
    for t in inputs:
        a = t.data
        if a is data or (owner is not None and (a is owner or a.base is owner)):
            out._vbox = t._vbox
            break
    return out
