"""Plain-NumPy data layer: IDX files, MNIST / Fashion-MNIST loading, mini-batches.

Nothing here downloads at import time; see ``docs/data.md`` for sources and offline use.
"""

from __future__ import annotations

from .augment import affine, random_affine, random_shift
from .datasets import DATASETS, FASHION_MNIST_CLASSES, Data, DatasetInfo, Split, dataset_info
from .idx import read_idx, write_idx
from .loader import DataLoader
from .mnist import (
    clear_cache,
    dataset_dir,
    default_data_dir,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    load_raw,
    one_hot,
    to_float,
)
from .sources import ChecksumError
from .synthetic import synthetic_data

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "ChecksumError",
    "Data",
    "DataLoader",
    "DatasetInfo",
    "Split",
    "affine",
    "clear_cache",
    "dataset_dir",
    "dataset_info",
    "default_data_dir",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "load_raw",
    "one_hot",
    "random_affine",
    "random_shift",
    "read_idx",
    "synthetic_data",
    "to_float",
    "write_idx",
]
