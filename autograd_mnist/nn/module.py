"""Module and Parameter: layers that register parameters, buffers and sub-modules by
attribute (the containers Sequential and ModuleList are in :mod:`.container`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from autograd_mnist.grad_mode import _mode
from autograd_mnist.hooks import RemovableHandle
from autograd_mnist.nn import _convert, _hooks, _state
from autograd_mnist.nn._state import IncompatibleKeys, StateDictError
from autograd_mnist.nn._summary import module_repr, summarize
from autograd_mnist.nn._tree import ModuleInitError, ModuleTree, check_name
from autograd_mnist.tensor import Tensor

#: ``hook(module, inputs, output)``, run after ``module.forward``; ``inputs`` is the tuple of
#: positional arguments. A result other than None replaces the output.
ForwardHook = Callable[["Module", tuple[Any, ...], Any], Any]
#: ``hook(module, inputs)``, run before ``module.forward``; a result other than None
#: replaces the positional arguments (a tuple, or one value that becomes a 1-tuple).
ForwardPreHook = Callable[["Module", tuple[Any, ...]], Any]

__all__ = ["IncompatibleKeys", "Module", "Parameter", "StateDictError"]


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


class Module(ModuleTree):
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
    _buffers: dict[str, bool]  # name -> persistent (saved by state_dict)
    _forward_hooks: dict[int, Any]  # a ForwardHook, or one registered with_kwargs
    _forward_pre_hooks: dict[int, Any]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:  # an AttributeError, as PyTorch's
            raise ModuleInitError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        # As in PyTorch: a re-assigned parameter or module keeps its place in the order; a
        # parameter's or module's name takes only its own kind (or None, which unregisters
        # it); a buffer's name takes an array, a Tensor (its array is kept) or None.
        kind = _registered_kind(self, name)
        if kind == "parameter" and value is not None and not isinstance(value, Parameter):
            raise TypeError(
                f"{type(self).__name__}: cannot assign {type(value).__name__} as parameter "
                f"{name!r} (a Parameter or None expected; wrap it: nn.Parameter(value))"
            )
        if kind == "module" and value is not None and not isinstance(value, Module):
            raise TypeError(
                f"{type(self).__name__}: cannot assign {type(value).__name__} as child module "
                f"{name!r} (a Module or None expected)"
            )
        if kind == "buffer" and not isinstance(value, Parameter | Module):
            object.__setattr__(self, name, _buffer_value(self, name, value))
            return
        keep: dict[str, Any] | None = None
        if isinstance(value, Parameter):
            keep = self._parameters
        elif isinstance(value, Module):
            keep = self._modules
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

    def __delattr__(self, name: str) -> None:
        registered = _registered_kind(self, name) is not None
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        if name in self.__dict__:
            object.__delattr__(self, name)
        elif not registered:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register a non-trainable array (e.g. running_mean), saved in ``state_dict``
        unless ``persistent`` is False, as PyTorch's.

        A Tensor is kept as its array (buffers are NumPy arrays here; assigning a Tensor to
        the name later also keeps its array); None registers the name with no value
        (not saved).

        Raises:
            KeyError: for a name that is empty, has a dot, or is already an attribute
                that is not a buffer.
            TypeError: for a name that is not a str, or a value that is not an array, a
                Tensor or None.
        """
        if not isinstance(name, str):
            raise TypeError(f"register_buffer: name must be a str; got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"register_buffer: bad buffer name {name!r} (empty or with a dot)")
        if name not in self._buffers and (hasattr(self, name) or name in type(self).__dict__):
            raise KeyError(f"register_buffer: attribute {name!r} already exists")
        array = _buffer_value(self, name, tensor)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = bool(persistent)
        object.__setattr__(self, name, array)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], np.ndarray):  # every layer takes arrays (DataLoader's)
            args = (Tensor(args[0]), *args[1:])
        if self._forward_pre_hooks:
            args, kwargs = _hooks.run_pre_hooks(self, args, kwargs)
        mode, outer = _mode, _mode.modules  # ops recorded in forward keep the calls (viz)
        mode.modules = (*outer, self)
        try:
            out = self.forward(*args, **kwargs)
        finally:
            mode.modules = outer
        if self._forward_hooks:
            out = _hooks.run_hooks(self, args, kwargs, out)
        return out

    def register_forward_hook(
        self, hook: ForwardHook, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward of this module.

        As in PyTorch: ``inputs`` is the tuple of positional arguments, hooks run in
        registration order (``prepend=True``: before the others), and a hook returning
        something other than None replaces the output (the next hooks and the caller see
        the new one). With ``with_kwargs=True`` it is ``hook(module, inputs, kwargs,
        output)``. Hooks are not saved by ``state_dict``. A module without hooks pays one
        dictionary check per call.

        Args:
            hook: the function to call.
            prepend: run it before the hooks already registered.
            with_kwargs: also pass the keyword arguments of the call.

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
        hooks = self._forward_hooks
        return _hooks.register(self, hooks, hook, prepend, with_kwargs, "register_forward_hook")

    def register_forward_pre_hook(
        self, hook: ForwardPreHook, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward of this module.

        As in PyTorch: ``inputs`` is the tuple of positional arguments, hooks run in
        registration order (``prepend=True``: before the others), and a hook returning
        something other than None replaces the arguments (a tuple as it is, any other
        value as a 1-tuple; the next hooks and ``forward`` see the new ones). With
        ``with_kwargs=True`` it is ``hook(module, args, kwargs)``, returning None or a
        pair ``(args, kwargs)``. Hooks are not saved by ``state_dict``.

        Args:
            hook: the function to call.
            prepend: run it before the hooks already registered.
            with_kwargs: also pass (and let it replace) the keyword arguments.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> from autograd_mnist import nn, ones
            >>> lin = nn.Linear(3, 2)
            >>> handle = lin.register_forward_pre_hook(lambda m, args: args[0] * 0)
            >>> float(abs(lin(ones(4, 3)) - lin.bias).max().item())
            0.0
        """
        hooks = self._forward_pre_hooks
        where = "register_forward_pre_hook"
        return _hooks.register(self, hooks, hook, prepend, with_kwargs, where)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """``setattr(self, name, param)`` for a Parameter (None unregisters the name)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be a Parameter or None; "
                f"got {type(param).__name__}"
            )
        check_name(self, "parameter", name)
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """``setattr(self, name, module)`` for a Module, as PyTorch's."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module; got {type(module).__name__}")
        check_name(self, "module", name)
        setattr(self, name, module)

    # ----- modes and gradients -----
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train: mode must be a bool; got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``.grad`` to None (or to zeros, in place, with
        ``set_to_none=False``), as PyTorch's."""
        zero_grads(self.parameters(), set_to_none)

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

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Cast every parameter (and its gradient) and every float buffer to a dtype, in
        place: the Parameter objects stay the same, so an optimizer built before still
        updates them (its state, if any, keeps the old dtype: build it after ``to``).

        Takes PyTorch's forms: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
        ``to(tensor)`` (its dtype) and ``device=``, ``dtype=``, ``non_blocking=``; the
        device must be the CPU (``'cpu'``, ``am.device('cpu')``) and changes nothing.

        Returns:
            self.

        Raises:
            TypeError: for a dtype other than float32 and float64.
            ValueError: for a device other than the CPU (``'cuda'``...).
        """
        dtype = _convert.target_dtype(self, args, kwargs)
        if dtype is not _convert.NOT_GIVEN:
            _convert.cast(self, dtype)
        return self

    def cpu(self) -> Module:
        """The module itself: the CPU is the only device."""
        return self

    def float(self) -> Module:
        """``to(float32)``."""
        return self.to(np.float32)

    def double(self) -> Module:
        """``to(float64)``."""
        return self.to(np.float64)

    # ----- state -----
    def state_dict(
        self,
        *,
        destination: dict[str, Any] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Any]:
        """Copies of every parameter and persistent buffer, keyed by ``prefix`` and dotted
        name (a shared parameter under each of its names), in PyTorch's order; with
        ``keep_vars``, the Parameters and buffer arrays themselves."""
        return _state.state_dict(self, destination, prefix, keep_vars)

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
        return _state.load_state(self, state, strict)

    # ----- description -----
    def extra_repr(self) -> str:
        """One line of the module's settings, shown by ``repr``."""
        return ""

    def __repr__(self) -> str:
        return module_repr(self)

    def summary(self, input_shape: tuple[int, ...], dtype: Any = np.float32) -> str:
        """A table of each layer's output shape and parameter count, and the total.

        Runs one forward pass on zeros of ``input_shape`` (batch dimension included)
        without recording a graph, like Keras's ``model.summary()``. Each layer's output
        is recorded by a temporary forward hook, removed afterwards.
        """
        return summarize(self, input_shape, dtype)


def zero_grads(params: Sequence[Tensor], set_to_none: bool) -> None:
    """``.grad = None`` for each of ``params``, or its gradient zeroed in place."""
    for p in params:
        if set_to_none or p.grad is None:
            p.grad = None
        elif p.grad.data.flags.writeable:
            p.grad.data[...] = 0
        else:
            p.grad = Tensor(np.zeros_like(p.grad.data))


def _registered_kind(module: Module, name: str) -> str | None:
    """'parameter', 'module' or 'buffer' if ``name`` is registered as one, else None."""
    if name in module._parameters:
        return "parameter"
    if name in module._modules:
        return "module"
    return "buffer" if name in module._buffers else None


def _buffer_value(module: Module, name: str, value: Any) -> np.ndarray | None:
    """What a buffer ``name`` keeps for ``value``: an array as it is, a Tensor's array, or
    None; anything else raises TypeError."""
    if isinstance(value, Tensor):
        return value.data
    if value is None or isinstance(value, np.ndarray):
        return value
    raise TypeError(
        f"{type(module).__name__}: cannot assign {type(value).__name__} as buffer {name!r} "
        "(an array, a Tensor or None expected)"
    )
