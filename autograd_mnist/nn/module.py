"""Module and Parameter: layers that register parameters, buffers and sub-modules by
attribute (the containers Sequential and ModuleList are in :mod:`.container`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd_mnist.grad_mode import _mode
from autograd_mnist.hooks import RemovableHandle
from autograd_mnist.nn._summary import summarize
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor

#: ``hook(module, inputs, output)``, run after ``module.forward``; ``inputs`` is the tuple of
#: positional arguments. A result other than None replaces the output.
ForwardHook = Callable[["Module", tuple[Any, ...], Any], Any]
#: ``hook(module, inputs)``, run before ``module.forward``; a result other than None
#: replaces the positional arguments (a tuple, or one value that becomes a 1-tuple).
ForwardPreHook = Callable[["Module", tuple[Any, ...]], Any]


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns, as PyTorch's ``_IncompatibleKeys``."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(ValueError, RuntimeError):
    """``load_state_dict`` found missing, unexpected or mis-shaped keys. PyTorch raises
    RuntimeError; this is both, so ``except RuntimeError`` and ``except ValueError`` work."""


def _converted(value: Any, dtype: np.dtype[Any]) -> np.ndarray:
    """``value`` as a new array of ``dtype``, for :meth:`Module.load_state_dict`.

    Raises:
        TypeError: if ``value`` does not hold numbers of a kind ``dtype`` can take (bool,
            int, float; complex only into complex).
        ValueError, OverflowError: if NumPy cannot convert it.
    """
    array = np.asarray(value)
    kinds = "biufc" if dtype.kind == "c" else "biuf"
    if array.dtype.kind not in kinds:
        raise TypeError(f"got dtype {array.dtype}, expected numbers convertible to {dtype}")
    return np.array(array, dtype=dtype, copy=True)


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (``requires_grad=True``; float32)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None) -> None:
        arr = data.data if isinstance(data, Tensor) else data
        arr = np.asarray(arr)
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float32)
        super().__init__(arr, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model, as in PyTorch.

    Assigning a :class:`Parameter` or a Module to an attribute registers it (in insertion
    order); ``register_buffer`` registers a non-trainable array (e.g. running statistics)
    that ``state_dict`` also saves. Subclasses define ``forward``; call the module itself,
    which runs the module's forward pre-hooks (:meth:`register_forward_pre_hook`), then
    ``forward``, then its forward hooks (:meth:`register_forward_hook`), if it has any.
    A NumPy array given as the first argument is wrapped as a Tensor first (no copy), so
    every layer takes the arrays ``DataLoader`` yields (PyTorch's modules take tensors
    only); the hooks see the Tensor. Ops keep the module calls running (``ctx.modules``).
    """

    training: bool
    _parameters: dict[str, Parameter]
    _modules: dict[str, Module]
    _buffers: dict[str, None]
    _forward_hooks: dict[int, ForwardHook]
    _forward_pre_hooks: dict[int, ForwardPreHook]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        # As in PyTorch: a re-assigned parameter or module keeps its place in the order, and
        # a new array assigned to a buffer's name stays a buffer.
        keep: dict[str, Any] | None = None
        if isinstance(value, Parameter):
            keep = self._parameters
        elif isinstance(value, Module):
            keep = self._modules
        elif name in self._buffers and isinstance(value, np.ndarray):
            keep = self._buffers
        for registry in (self._parameters, self._modules, self._buffers):
            if registry is not keep:
                registry.pop(name, None)
        if isinstance(value, Parameter):
            if value.name is None:
                value.name = name
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """Register a non-trainable array saved in ``state_dict`` (e.g. running_mean)."""
        self._buffers[name] = None
        object.__setattr__(self, name, array)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], np.ndarray):  # every layer takes arrays (DataLoader's)
            args = (Tensor(args[0]), *args[1:])
        if self._forward_pre_hooks:
            for pre in list(self._forward_pre_hooks.values()):  # a hook may remove itself
                new = pre(self, args)
                if new is not None:
                    args = new if isinstance(new, tuple) else (new,)
        mode, outer = _mode, _mode.modules  # ops recorded in forward keep the calls (viz)
        mode.modules = (*outer, self)
        try:
            out = self.forward(*args, **kwargs)
        finally:
            mode.modules = outer
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):  # a hook may remove itself
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def register_forward_hook(self, hook: ForwardHook) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward of this module.

        As in PyTorch: ``inputs`` is the tuple of positional arguments (keyword arguments
        are not passed), hooks run in registration order, and a hook returning something
        other than None replaces the output (the next hooks and the caller see the new
        one). Hooks are not saved by ``state_dict``. A module without hooks pays one
        dictionary check per call.

        Args:
            hook: the function to call.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> from autograd_mnist import nn, zeros
            >>> net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
            >>> shapes = []
            >>> handle = net[0].register_forward_hook(lambda m, i, o: shapes.append(o.shape))
            >>> _ = net(zeros(4, 3)); handle.remove(); _ = net(zeros(4, 3))
            >>> shapes
            [(4, 2)]
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: ForwardPreHook) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward of this module.

        As in PyTorch: ``inputs`` is the tuple of positional arguments (keyword arguments
        are not passed), hooks run in registration order, and a hook returning something
        other than None replaces the arguments (a tuple as it is, any other value as a
        1-tuple; the next hooks and ``forward`` see the new ones). Hooks are not saved by
        ``state_dict``.

        Args:
            hook: the function to call.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> from autograd_mnist import nn, ones
            >>> lin = nn.Linear(3, 2)
            >>> handle = lin.register_forward_pre_hook(lambda m, args: args[0] * 0)
            >>> float(abs(lin(ones(4, 3)) - lin.bias).max().item())
            0.0
        """
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ----- traversal -----
    def children(self) -> Iterator[Module]:
        """The direct sub-modules, in registration order."""
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, with dotted names (pre-order, iterative)."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            subs = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(subs))

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module."""
        for _, m in self.named_modules():
            yield m

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (e.g. ``features.0.weight``), in order."""
        for prefix, module in self.named_modules():
            for k, p in module._parameters.items():
                yield (f"{prefix}.{k}" if prefix else k), p

    def parameters(self) -> list[Parameter]:
        """Every parameter, in a stable order (a list, so optimizers can index it).

        A parameter shared by several sub-modules is listed once (as in PyTorch), so an
        optimizer updates it once per step.
        """
        unique = {id(p): p for _, p in self.named_parameters()}
        return list(unique.values())

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """Every buffer with its dotted name."""
        for prefix, module in self.named_modules():
            for k in module._buffers:
                yield (f"{prefix}.{k}" if prefix else k), getattr(module, k)

    # ----- modes and gradients -----
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics)."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (e.g. False to freeze); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module, children first, then on this module (as PyTorch,
        e.g. to initialise weights); returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, dtype: Any) -> Module:
        """Cast every parameter (and its gradient) and every float buffer to ``dtype``, in
        place: the Parameter objects stay the same, so an optimizer built before still
        updates them (its state, if any, keeps the old dtype: build it after ``to``).

        Args:
            dtype: ``am.float32`` / ``am.float64`` or anything ``np.dtype`` accepts; the
                device string ``'cpu'`` is accepted and changes nothing.

        Returns:
            self.

        Raises:
            TypeError: for a dtype other than float32 and float64, or another device.
        """
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        try:
            d = np.dtype(dtype) if dtype is not None else None
        except TypeError:
            d = None
        if d is None or d not in FLOAT_DTYPES:  # (None == np.dtype('float64') is True)
            raise TypeError(
                f"{type(self).__name__}.to: expected float32 or float64 (or 'cpu'); got {dtype!r}"
            )
        for p in self.parameters():
            if p.data.dtype != d:
                p.data = p.data.astype(d)
                if p.grad is not None:
                    p.grad = Tensor(p.grad.data.astype(d))
        for m in self.modules():
            for k in m._buffers:
                b = getattr(m, k)
                if isinstance(b, np.ndarray) and b.dtype.kind == "f" and b.dtype != d:
                    object.__setattr__(m, k, b.astype(d))
        return self

    def float(self) -> Module:
        """``to(float32)``."""
        return self.to(np.float32)

    def double(self) -> Module:
        """``to(float64)``."""
        return self.to(np.float64)

    # ----- state -----
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed by dotted name."""
        state = {k: p.data.copy() for k, p in self.named_parameters()}
        state.update({k: np.array(b, copy=True) for k, b in self.named_buffers()})
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy ``state`` into the parameters and buffers (in place), as PyTorch.

        Args:
            state: a mapping like the one ``state_dict`` returns.
            strict: require exactly the same keys; with False, load the keys that match and
                report the others.

        Returns:
            ``(missing_keys, unexpected_keys)``, a named tuple (both empty when strict).

        Raises:
            StateDictError: (a ValueError and a RuntimeError) naming every missing and
                unexpected key when strict, and in any case every mis-shaped key and every
                value that is not numbers convertible to the target's dtype (strings,
                objects, complex into real); every entry is checked before any is written,
                so nothing is changed when it is raised.
        """
        targets: dict[str, tuple[Module, str, np.ndarray]] = {}
        for prefix, module in self.named_modules():
            for k, p in module._parameters.items():
                targets[f"{prefix}.{k}" if prefix else k] = (module, k, p.data)
            for k in module._buffers:
                targets[f"{prefix}.{k}" if prefix else k] = (module, k, getattr(module, k))
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        arrays, shapes, values = {}, [], []
        for k in (k for k in targets if k in state):  # convert everything before changing anything
            try:
                arrays[k] = _converted(state[k], targets[k][2].dtype)
            except (TypeError, ValueError, OverflowError) as exc:
                values.append(f"{k}: {exc}")
                continue
            if arrays[k].shape != targets[k][2].shape:
                shapes.append(f"{k}: checkpoint {arrays[k].shape}, model {targets[k][2].shape}")
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
            raise StateDictError(f"load_state_dict ({type(self).__name__}): " + ", ".join(problems))
        for k, array in arrays.items():
            module, name, target = targets[k]
            target[...] = array
            if name in module._parameters:  # an in-place write, as torch's copy_
                module._parameters[name]._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ----- description -----
    def extra_repr(self) -> str:
        """One line of the module's settings, shown by ``repr``."""
        return ""

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, m in self._modules.items():
            lines.append(f"  ({name}): " + repr(m).replace("\n", "\n  "))
        lines.append(")")
        return "\n".join(lines)

    def summary(self, input_shape: tuple[int, ...], dtype: Any = np.float32) -> str:
        """A table of each layer's output shape and parameter count, and the total.

        Runs one forward pass on zeros of ``input_shape`` (batch dimension included)
        without recording a graph, like Keras's ``model.summary()``. Each layer's output
        is recorded by a temporary forward hook, removed afterwards.
        """
        return summarize(self, input_shape, dtype)
