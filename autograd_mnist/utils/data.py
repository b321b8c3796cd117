"""PyTorch's ``torch.utils.data`` for map-style datasets: ``Dataset``, ``TensorDataset``,
``Subset``, ``random_split``, ``default_collate`` and a ``DataLoader`` that yields
Tensors, so that a loop written for PyTorch runs with its imports changed::

    from autograd_mnist.utils.data import DataLoader, TensorDataset

    train = TensorDataset(am.from_numpy(x_train), am.from_numpy(y_train))
    for xb, yb in DataLoader(train, batch_size=64, shuffle=True):
        loss = F.cross_entropy(model(xb), yb)  # xb, yb are Tensors; yb.size(0) works

A ``TensorDataset`` (or a ``Subset`` of one) with the default collate is batched in one
indexing of each tensor, not item by item: the same batches as stacking the items, without
a Python loop over them. Any other dataset is read an item at a time with ``dataset[i]``,
as PyTorch does, and ``default_collate`` stacks the items.

Differences from PyTorch (docs/pytorch.md): loading runs in the calling process
(``num_workers`` and ``pin_memory`` are accepted and change nothing but speed); the
``generator`` is a ``numpy.random.Generator`` (None: the package generator of
``am.manual_seed``, read at the start of each epoch); no ``sampler``, ``batch_sampler`` or
iterable-style datasets. :class:`autograd_mnist.data.DataLoader`, which the training
layer uses, is the plain-NumPy loader of two aligned arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from autograd_mnist._args import is_int
from autograd_mnist.ops import stack
from autograd_mnist.rng import get_rng
from autograd_mnist.tensor import Tensor

__all__ = [
    "DataLoader",
    "Dataset",
    "Subset",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]

T = TypeVar("T")


class Dataset(Generic[T]):
    """A map-style dataset: subclasses define ``__getitem__(i)`` for ``0 <= i < len``, and
    ``__len__`` (which :class:`DataLoader` needs)."""

    def __getitem__(self, index: int) -> T:
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Item ``i`` is ``tuple(t[i] for t in tensors)``; NumPy arrays are taken as Tensors
    (no copy).

    Raises:
        ValueError: if no tensor is given, one is 0-d, or their first dimensions differ.
    """

    def __init__(self, *tensors: Any) -> None:
        ts = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        if not ts or any(t.ndim == 0 for t in ts) or len({t.shape[0] for t in ts}) != 1:
            raise ValueError(
                "TensorDataset: expected tensors of the same first dimension; got shapes "
                f"{[t.shape for t in ts]}"
            )
        self.tensors = ts

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[T]):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset[T], indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: int) -> T:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Dataset[T],
    lengths: Sequence[int | float],
    generator: np.random.Generator | None = None,
) -> list[Subset[T]]:
    """Split ``dataset`` into non-overlapping random subsets of the given ``lengths``, as
    ``torch.utils.data.random_split``: counts that sum to ``len(dataset)``, or fractions
    that sum to 1 (each ``floor(fraction * len)``, the remainder given out one item at a
    time from the first subset on).

    Raises:
        ValueError: if the lengths neither sum to the dataset's length nor are fractions
            summing to 1, or one is negative.
    """
    n = len(dataset)
    total = sum(lengths)
    if lengths and math.isclose(total, 1) and total <= 1:  # fractions (PyTorch's test)
        sizes = [math.floor(n * float(v)) for v in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    elif all(is_int(v) for v in lengths):
        sizes = [int(v) for v in lengths]
    else:
        sizes = []
    if not lengths or any(s < 0 for s in sizes) or sum(sizes) != n or len(sizes) != len(lengths):
        raise ValueError(
            f"random_split: lengths {list(lengths)} must be counts summing to the dataset's "
            f"length {n}, or fractions summing to 1"
        )
    order = (generator if generator is not None else get_rng()).permutation(n).tolist()
    bounds = np.cumsum([0, *sizes]).tolist()
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def default_convert(item: Any) -> Any:
    """An item as ``batch_size=None`` yields it, as PyTorch's ``default_convert``: NumPy
    arrays of numbers become Tensors (no copy), inside tuples, lists and dicts too; all
    else is left as it is."""
    if isinstance(item, np.ndarray) and item.dtype.kind in "biufc":
        return Tensor(item)
    if isinstance(item, Mapping):
        return {k: default_convert(v) for k, v in item.items()}
    if isinstance(item, tuple) and hasattr(item, "_fields"):
        return type(item)(*(default_convert(v) for v in item))
    if isinstance(item, tuple | list):
        return type(item)(default_convert(v) for v in item)
    return item


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of items into a batch, as PyTorch's ``default_collate``: Tensors and
    NumPy arrays are stacked into a Tensor; Python floats become a float64 Tensor, ints
    an int64 one, bools a bool one, NumPy scalars a Tensor of their dtype; strings are
    left as the sequence they came in; tuples, lists and dicts are collated field by
    field (a tuple gives a list, a named tuple its own type).

    Raises:
        TypeError: for an item of any other type, or sequences of unequal lengths.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch))
    if isinstance(elem, np.ndarray | np.generic) and elem.dtype.kind in "biufc":
        return Tensor(np.stack(batch) if isinstance(elem, np.ndarray) else np.array(batch))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if len({len(item) for item in batch}) != 1:
            raise TypeError("default_collate: each item of the batch must have the same length")
        return [default_collate(s) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: cannot batch items of type {type(elem).__name__}; expected "
        "Tensors, NumPy arrays, numbers, strings, or tuples, lists and dicts of them"
    )


class DataLoader:
    """Batches of a map-style ``dataset``, as PyTorch's ``DataLoader``: each epoch (each
    ``iter``) takes the items in order, or in a fresh random order with ``shuffle``, and
    merges ``batch_size`` of them with ``collate_fn`` (default: :func:`default_collate`,
    so batches are Tensors). ``batch_size=None`` yields the items one by one, unbatched
    (through ``collate_fn``, default :func:`default_convert`).

    Args:
        dataset: anything with ``__getitem__`` and ``__len__``.
        batch_size: items per batch (>= 1; default 1, as PyTorch), or None.
        shuffle: a new random order each epoch, from ``generator``.
        collate_fn: merges a list of items into a batch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: a ``numpy.random.Generator``; None: the package generator
            (``am.manual_seed``), read at the start of each epoch.
        num_workers, pin_memory: accepted for PyTorch's loops; loading runs in the calling
            process whatever they are.

    Raises:
        TypeError: for a dataset without ``__len__`` and ``__getitem__``, a ``batch_size``
            that is not an int or None, or a ``generator`` that is not a NumPy Generator.
        ValueError: for ``batch_size`` < 1, ``num_workers`` < 0, or ``drop_last`` without a
            batch size.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(
                f"DataLoader: dataset must have __getitem__ and __len__ (a map-style "
                f"dataset); got {type(dataset).__name__}"
            )
        if batch_size is not None and not is_int(batch_size):
            raise TypeError(f"DataLoader: batch_size must be an int or None; got {batch_size!r}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1; got {batch_size}")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last needs a batch_size; got batch_size=None")
        if not is_int(num_workers) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0; got {num_workers!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                "DataLoader: generator must be a numpy.random.Generator or None; got "
                f"{type(generator).__name__}, e.g. generator=np.random.default_rng(seed)"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.num_workers, self.pin_memory = int(num_workers), bool(pin_memory)
        self.collate_fn = collate_fn
        self.generator = generator

    def __len__(self) -> int:
        """Batches per epoch (items, with ``batch_size=None``)."""
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        rng = self.generator if self.generator is not None else get_rng()
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        if self.batch_size is None:
            for i in order.tolist():
                yield (self.collate_fn or default_convert)(self.dataset[i])
            return
        source = _tensor_source(self.dataset) if self.collate_fn is None else None
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            if source is not None:  # one indexing of each tensor: the stacked items
                tensors, base = source
                rows = idx if base is None else base[idx]
                yield [Tensor(t.data[rows]) for t in tensors]
            else:
                items = [self.dataset[i] for i in idx.tolist()]
                yield (self.collate_fn or default_collate)(items)


def _tensor_source(dataset: Any) -> tuple[tuple[Tensor, ...], np.ndarray | None] | None:
    """(tensors, row indices or None for all) when ``dataset`` is a TensorDataset or a
    Subset (of a Subset...) of one, else None."""
    rows: np.ndarray | None = None
    while isinstance(dataset, Subset):
        here = np.asarray(dataset.indices, dtype=np.intp)
        rows = here if rows is None else here[rows]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and not any(t.requires_grad for t in dataset.tensors):
        return dataset.tensors, rows
    return None  # (tensors that require grad: stacked by the op, which records it)
