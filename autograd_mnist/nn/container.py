"""Containers: Sequential (layers applied in order) and ModuleList (a list of modules whose
parameters are registered)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, overload

from autograd_mnist.nn.module import Module

__all__ = ["ModuleList", "Sequential"]


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
