"""Walking a module tree: children, sub-modules, parameters and buffers with their dotted
names, as PyTorch's ``nn.Module`` methods (the base of :class:`~autograd_mnist.nn.Module`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from autograd_mnist.nn.module import Module, Parameter


class ModuleInitError(AttributeError, RuntimeError):
    """An attribute assigned to a Module before ``super().__init__()`` ran: PyTorch raises
    AttributeError; this is both (it was a RuntimeError here before)."""


def check_name(module: Module, kind: str, name: Any) -> None:
    """Refuse ``name`` for a new parameter or sub-module (``kind``) of ``module`` as
    PyTorch's ``register_parameter``/``add_module``: a name that is not a str (TypeError),
    empty, with a dot, or an attribute that is not already of that kind (KeyError). An
    attribute holding None is free (our layers keep an absent bias as a plain None)."""
    owner = type(module).__name__
    if not isinstance(name, str):
        raise TypeError(f"{owner}: {kind} name must be a str; got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{owner}: bad {kind} name {name!r} (empty or with a dot)")
    registry = module._parameters if kind == "parameter" else module._modules
    taken = name in module.__dict__ and module.__dict__[name] is not None
    if name not in registry and (taken or hasattr(type(module), name)):
        raise KeyError(f"{owner}: attribute {name!r} already exists (not a {kind})")


class ModuleTree:
    """The traversal methods of :class:`~autograd_mnist.nn.Module`: each module's own
    registries (``_parameters``, ``_modules``, ``_buffers``) walked in registration
    order, pre-order, without recursion."""

    _parameters: dict[str, Parameter]
    _modules: dict[str, Module]
    _buffers: dict[str, bool]  # name -> persistent (saved by state_dict)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their names, in registration order (a module
        registered under two names is listed once)."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, in registration order."""
        for _, m in self.named_children():
            yield m

    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, with dotted names (pre-order, iterative).

        A module reachable by several paths is listed once, under its first name, unless
        ``remove_duplicate`` is False (as PyTorch's).
        """
        stack: list[tuple[str, Module]] = [(prefix, self._as_module())]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            subs = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(subs))

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module, each once."""
        for _, m in self.named_modules():
            yield m

    def get_submodule(self, target: str) -> Module:
        """The sub-module at dotted path ``target`` ("" is this module), as PyTorch's.

        Raises:
            AttributeError: naming the first part of the path that is not a sub-module.
        """
        module: Module = self._as_module()
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(
                    f"{type(module).__name__} has no sub-module {part!r} (path {target!r})"
                )
            module = module._modules[part]
        return module

    def _named(
        self, kind: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        mods = (
            self.named_modules(prefix, remove_duplicate)
            if recurse
            else iter([(prefix, self._as_module())])
        )
        seen: set[int] = set()
        for name, module in mods:
            items = (
                module._parameters.items()
                if kind == "parameter"
                else ((k, getattr(module, k)) for k in module._buffers)
            )
            for k, v in items:
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{name}.{k}" if name else k), v

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (e.g. ``features.0.weight``), in order.

        A parameter shared by several modules (tied weights) is listed once, under its
        first name, unless ``remove_duplicate`` is False (as PyTorch's); with ``recurse``
        False, only this module's own.
        """
        yield from self._named("parameter", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> list[Parameter]:
        """Every parameter, each once, in a stable order: a list here (PyTorch gives an
        iterator; ``next(iter(m.parameters()))`` works in both), so optimizers can index it.
        """
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, np.ndarray]]:
        """Every buffer (not None) with its dotted name, persistent or not."""
        yield from self._named("buffer", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        """Every buffer (not None), each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _as_module(self) -> Module:
        return cast("Module", self)  # ModuleTree is only ever a base of Module
