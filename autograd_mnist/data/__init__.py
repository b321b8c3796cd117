"""Plain-NumPy data layer: IDX files, MNIST / Fashion-MNIST loading, mini-batches.

Nothing here downloads at import time; see ``docs/data.md`` for sources and offline use.
"""

from __future__ import annotations

from .augment import random_shift
from .idx import read_idx, write_idx
from .loader import DataLoader
from .mnist import (
    FASHION_MNIST_CLASSES,
    clear_cache,
    dataset_dir,
    default_data_dir,
    load_fashion_mnist,
    load_mnist,
    load_raw,
    one_hot,
    to_float,
)
from .sources import ChecksumError

__all__ = [
    "FASHION_MNIST_CLASSES",
    "ChecksumError",
    "DataLoader",
    "clear_cache",
    "dataset_dir",
    "default_data_dir",
    "load_fashion_mnist",
    "load_mnist",
    "load_raw",
    "one_hot",
    "random_shift",
    "read_idx",
    "to_float",
    "write_idx",
]
