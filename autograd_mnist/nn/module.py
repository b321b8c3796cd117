"""Module, Parameter and Sequential: containers that register parameters by attribute."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import numpy as np

from autograd_mnist.grad_mode import no_grad
from autograd_mnist.tensor import Tensor

#: ``hook(module, inputs, output)``, run after ``module.forward``; ``inputs`` is the tuple of
#: positional arguments. A result other than None replaces the output.
ForwardHook = Callable[["Module", tuple[Any, ...], Any], Any]


class RemovableHandle:
    """What :meth:`Module.register_forward_hook` returns: ``remove()`` unregisters the hook.

    Removing twice, or after the hook is gone, does nothing. Also a context manager that
    removes the hook on exit (``with module.register_forward_hook(h): ...``).
    """

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, ForwardHook]) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        """Unregister the hook."""
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()


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
    which runs ``forward`` and then the module's forward hooks, if it has any
    (:meth:`register_forward_hook`).
    """

    training: bool
    _parameters: dict[str, Parameter]
    _modules: dict[str, Module]
    _buffers: dict[str, None]
    _forward_hooks: dict[int, ForwardHook]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_forward_hooks", {})
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
        out = self.forward(*args, **kwargs)
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

    # ----- state -----
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed by dotted name."""
        state = {k: p.data.copy() for k, p in self.named_parameters()}
        state.update({k: np.array(b, copy=True) for k, b in self.named_buffers()})
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy ``state`` into the parameters and buffers (in place).

        Args:
            state: a mapping like the one ``state_dict`` returns.
            strict: require exactly the same keys.

        Raises:
            ValueError: naming every missing, unexpected or mis-shaped key (nothing is
                changed when any is found).
        """
        targets: dict[str, tuple[Module, str, np.ndarray]] = {}
        for prefix, module in self.named_modules():
            for k, p in module._parameters.items():
                targets[f"{prefix}.{k}" if prefix else k] = (module, k, p.data)
            for k in module._buffers:
                targets[f"{prefix}.{k}" if prefix else k] = (module, k, getattr(module, k))
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        shapes = [
            f"{k}: checkpoint {np.shape(state[k])}, model {targets[k][2].shape}"
            for k in targets
            if k in state and np.shape(state[k]) != targets[k][2].shape
        ]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if shapes:
            problems.append("shape mismatches: " + "; ".join(shapes))
        if problems:
            raise ValueError(f"load_state_dict ({type(self).__name__}): " + ", ".join(problems))
        for k, (_, _, target) in targets.items():
            if k in state:
                target[...] = np.asarray(state[k], dtype=target.dtype)

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
        log: list[tuple[Module, Any]] = []

        def record(module: Module, inputs: tuple[Any, ...], out: Any) -> None:
            log.append((module, out))

        modes = [(m, m.training) for m in self.modules()]
        unique = {id(m): m for m in self.modules()}  # a shared layer gets one hook
        handles: list[RemovableHandle] = []
        self.eval()
        try:
            handles += [m.register_forward_hook(record) for m in unique.values()]
            with no_grad():
                self(Tensor(np.zeros(input_shape, dtype=dtype)))
        finally:
            for handle in handles:
                handle.remove()
            for m, mode in modes:
                object.__setattr__(m, "training", mode)
        names = {id(m): n for n, m in self.named_modules()}
        rows = [("Layer (type)", "Output shape", "Params")]
        for module, out in log:
            if module is self or module._modules:
                continue
            count = sum(p.numel() for p in module._parameters.values())
            shape = tuple(out.shape) if isinstance(out, Tensor) else "?"
            rows.append(
                (
                    f"{names.get(id(module), '?')} ({type(module).__name__})",
                    str(shape),
                    f"{count:,}",
                )
            )
        total = sum(p.numel() for p in self.parameters())
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        w2 = max(len(r[2]) for r in rows)
        rule = "-" * (w0 + w1 + w2 + 4)
        out_lines = [rule]
        for i, (a, b, c) in enumerate(rows):
            out_lines.append(f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}")
            if i == 0:
                out_lines.append(rule)
        out_lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}", rule]
        return "\n".join(out_lines)


class Sequential(Module):
    """Layers applied in order; indexable (``model[0]``) and iterable."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is {type(layer).__name__}, not a Module")
            setattr(self, str(i), layer)

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())
