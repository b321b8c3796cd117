"""Containers, as PyTorch's: Sequential (layers applied in order), ModuleList and
ModuleDict (modules in a list or by name, registered), ParameterList (parameters in a
list, registered)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from autograd_mnist.nn._summary import list_repr
from autograd_mnist.nn.module import Module, Parameter

__all__ = ["ModuleDict", "ModuleList", "ParameterList", "Sequential"]


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
        """Insert ``module`` before ``index``; returns self.

        Raises:
            IndexError: for an index outside ``[-len, len]``, as PyTorch's (``list.insert``
                would append or prepend).
        """
        items, n = list(self._modules.values()), len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} out of range for length {n}")
        items.insert(index, _module(module, "insert"))
        self._renumber(items)
        return self

    def pop(self, index: int | slice) -> Module | Sequential:
        """Remove the layer (or the slice's layers) at ``index`` and return it, as PyTorch's."""
        item = self[index]
        del self[index]
        return item

    def __add__(self, other: Sequential) -> Sequential:
        """A new Sequential of this one's layers, then ``other``'s (numbered 0, 1, ...)."""
        if not isinstance(other, Sequential):
            raise ValueError(f"Sequential: + takes another Sequential; got {type(other).__name__}")
        return Sequential(*self, *other)

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

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        """A new ModuleList of this one's modules, then ``other``'s."""
        return ModuleList([*self, *other])

    def pop(self, index: int | slice) -> Module | ModuleList:
        """Remove the module (or the slice's modules) at ``index`` and return it."""
        item = self[index]
        del self[index]
        return item

    def __repr__(self) -> str:  # a run of equal modules is one line, as PyTorch's
        return list_repr(self)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class ModuleDict(Module):
    """Modules by name, registered as sub-modules under their keys (so ``state_dict``
    names them ``"key.weight"``), as PyTorch's: ``d[key]``, ``d[key] = m``, ``del d[key]``,
    ``in``, ``len``, iteration over the keys, ``keys/values/items``, ``update``, ``pop``.
    No ``forward``, as PyTorch's.

    Raises:
        TypeError: for a value that is not a Module or a key that is not a str.
        KeyError: for a missing key.
    """

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module {key!r}; keys {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys are str; got {type(key).__name__}")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} must be a Module; got {type(module).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - the KeyError for a missing key
        del self._modules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._modules)

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        """``(key, module)`` pairs, in insertion order."""
        return list(self._modules.items())

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from ``(key, module)`` pairs."""
        pairs = modules.items() if isinstance(modules, Mapping | ModuleDict) else modules
        for i, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ValueError(
                    f"ModuleDict.update: element {i} has length {len(pair)}; a (key, module) "
                    "pair is required"
                )
            self[pair[0]] = pair[1]

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self._modules[key]
        return module


class ParameterList(Module):
    """Parameters in a list, registered as ``"0"``, ``"1"``, ... (so an optimizer built
    from ``parameters()`` finds them and ``state_dict`` saves them), as PyTorch's: indexing,
    ``len``, iteration, ``append``, ``extend``. A Tensor or array given is wrapped as a
    Parameter (float32 unless it is float already).
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end (wrapped as a Parameter if it is not one); returns self."""
        p = value if isinstance(value, Parameter) else Parameter(value)
        self.register_parameter(str(len(self._parameters)), p)
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every value of ``values``; returns self."""
        for v in values:
            self.append(v)
        return self

    def _key(self, index: int) -> str:
        n = len(self._parameters)
        if not -n <= index < n:
            raise IndexError(f"ParameterList: index {index} out of range for length {n}")
        return list(self._parameters)[index]

    @overload
    def __getitem__(self, index: int) -> Parameter: ...

    @overload
    def __getitem__(self, index: slice) -> ParameterList: ...

    def __getitem__(self, index: int | slice) -> Parameter | ParameterList:
        if isinstance(index, slice):  # the same Parameters, renumbered, as PyTorch's
            return ParameterList(list(self._parameters.values())[index])
        return self._parameters[self._key(index)]

    def __setitem__(self, index: int, value: Any) -> None:
        p = value if isinstance(value, Parameter) else Parameter(value)
        self.register_parameter(self._key(index), p)

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))
