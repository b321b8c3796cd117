"""Mini-batches over NumPy arrays."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ..rng import get_rng

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate ``(xb, yb)`` mini-batches of two aligned arrays, like PyTorch's DataLoader.

    Each pass (epoch) over the loader draws a fresh permutation when ``shuffle`` is on, from
    ``rng`` or, when it is None, from the package generator
    (:func:`autograd_mnist.rng.get_rng`, seeded by ``manual_seed``), looked up at the start
    of each epoch. NumPy's global random state is never used.

    Example:
        >>> loader = DataLoader(x_train, t_train, batch_size=100, shuffle=True)  # doctest: +SKIP
        >>> for xb, yb in loader:  # xb (100, 784), yb (100,)  # doctest: +SKIP
        ...     ...

    Args:
        x: inputs, (N, ...).
        y: targets, (N, ...), aligned with ``x`` along the first axis.
        batch_size: samples per batch, >= 1; the last batch may be smaller.
        shuffle: draw a new order every epoch; else (the default, as PyTorch's) keep the
            data order.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        rng: the generator used for shuffling; None means the package generator.

    Unlike PyTorch's, it takes two arrays, not a dataset, and yields NumPy arrays:
    ``DataLoader(dataset)`` raises TypeError pointing to
    :class:`autograd_mnist.utils.data.DataLoader`, PyTorch's loader of datasets.

    Raises:
        ValueError: if ``x`` and ``y`` differ in length (naming both shapes), either is 0-d,
            or ``batch_size`` < 1.
        TypeError: if ``y`` is missing (a dataset given instead of two arrays),
            ``batch_size`` is not an integer, or ``rng`` is not a ``numpy.random.Generator``.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray | None = None,
        batch_size: int = 128,
        shuffle: bool = False,
        drop_last: bool = False,
        rng: np.random.Generator | None = None,
    ) -> None:
        if y is None:  # DataLoader(dataset): PyTorch's habit
            raise TypeError(
                f"DataLoader: got one {type(x).__name__} and no y, expected two aligned "
                "arrays x and y (not a dataset); for a dataset, use PyTorch's loader: "
                "autograd_mnist.utils.data.DataLoader(dataset, batch_size=...)"
            )
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"DataLoader: rng must be a numpy.random.Generator or None; got "
                f"{type(rng).__name__}, e.g. rng=np.random.default_rng(seed)"
            )
        self.x = np.asarray(x)
        self.y = np.asarray(y)
        if self.x.ndim == 0 or self.y.ndim == 0 or len(self.x) != len(self.y):
            raise ValueError(
                f"DataLoader: x and y must have the same length; got x {self.x.shape}, "
                f"y {self.y.shape}, expected equal first dimensions"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise TypeError(
                f"DataLoader: batch_size must be an int; got {type(batch_size).__name__}, "
                "expected int >= 1"
            )
        if batch_size < 1:
            raise ValueError(f"DataLoader: bad batch_size; got {batch_size}, expected >= 1")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = rng

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = len(self.x)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(xb, yb)`` batches for one epoch (copies if shuffled, views if not)."""
        n = len(self.x)
        order = None
        if self.shuffle:
            order = (self.rng if self.rng is not None else get_rng()).permutation(n)
        for b in range(len(self)):
            lo, hi = b * self.batch_size, min((b + 1) * self.batch_size, n)
            if order is None:
                yield self.x[lo:hi], self.y[lo:hi]
            else:
                idx = order[lo:hi]
                yield self.x[idx], self.y[idx]
