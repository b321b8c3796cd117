"""Containers: Sequential (layers applied in order) and ModuleList (a list of modules whose
parameters are registered)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from autograd_mnist.nn.module import Module

__all__ = ["ModuleList", "Sequential"]


class Sequential(Module):
    """Layers applied in order, as PyTorch's: built from modules or from one
    ``OrderedDict`` (or dict) of named modules; indexable (a slice is a new Sequential of
    the same layers, under their names), iterable, and editable with ``append``,
    ``extend``, ``insert``, assignment and deletion by index (``insert`` and ``del``
    renumber the layers 0, 1, ..., as PyTorch's).

    Raises:
        TypeError: when an item is not a Module.
        IndexError: for an index out of range.
    """

    def __init__(self, *layers: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            for name, named in layers[0].items():
                self.add_module(str(name), _module(named, f"item {name!r}"))
            return
        for i, layer in enumerate(layers):
            setattr(self, str(i), _module(layer, f"item {i}"))

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def _renumber(self, items: list[Module]) -> None:
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def _key(self, index: int, where: str) -> str:
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"Sequential.{where}: index {index} out of range for length {n}")
        return list(self._modules)[index % n]

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        if isinstance(index, slice):
            keys = list(self._modules)[index]
            return Sequential(OrderedDict((k, self._modules[k]) for k in keys))
        return self._modules[self._key(index, "__getitem__")]

    def __setitem__(self, index: int, module: Module) -> None:
        self._modules[self._key(index, "__setitem__")] = _module(module, "__setitem__")

    def __delitem__(self, index: int | slice) -> None:
        keys = list(self._modules)
        drop = keys[index] if isinstance(index, slice) else [self._key(index, "__delitem__")]
        self._renumber([m for k, m in self._modules.items() if k not in drop])  # as PyTorch

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by the current length); returns self."""
        self.add_module(str(len(self._modules)), _module(module, "append"))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append every module of ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before ``index`` (as ``list.insert``); returns self."""
        items = list(self._modules.values())
        items.insert(index, _module(module, "insert"))
        self._renumber(items)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


def _module(m: Any, where: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"Sequential: {where} is {type(m).__name__}, not a Module")
    return m


class ModuleList(Module):
    """A list of modules, registered as sub-modules ``"0"``, ``"1"``, ... (so their
    parameters are the list's, and ``state_dict`` names them ``"0.weight"``), as PyTorch.

    Supports ``append``, ``extend``, ``insert``, indexing (negative and slices; a slice
    is a new ModuleList of the same modules), assignment and deletion by index, ``len``,
    iteration and ``+=``. Like PyTorch's, it has no ``forward``: index or iterate it in
    your own module's forward.

    Args:
        modules: optional iterable of modules.

    Raises:
        TypeError: when an item is not a Module.
        IndexError: for an index out of range.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _set(self, items: list[Module]) -> None:
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def _item(self, m: Any, where: str) -> Module:
        if not isinstance(m, Module):
            raise TypeError(f"ModuleList.{where}: expected a Module; got {type(m).__name__}")
        return m

    def _index(self, index: int, where: str) -> int:
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"ModuleList.{where}: index {index} out of range for length {n}")
        return index % n

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        self._modules[str(len(self._modules))] = self._item(module, "append")
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of ``modules``; returns self."""
        for m in modules:
            self._modules[str(len(self._modules))] = self._item(m, "extend")
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before ``index`` (as ``list.insert``)."""
        items = list(self._modules.values())
        items.insert(index, self._item(module, "insert"))
        self._set(items)

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> ModuleList: ...

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[self._index(index, "__getitem__")]

    def __setitem__(self, index: int, module: Module) -> None:
        i = self._index(index, "__setitem__")
        self._modules[str(i)] = self._item(module, "__setitem__")

    def __delitem__(self, index: int | slice) -> None:
        items = list(self._modules.values())
        if isinstance(index, slice):
            del items[index]
        else:
            del items[self._index(index, "__delitem__")]
        self._set(items)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))
