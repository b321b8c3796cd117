"""The datasets the package knows, by name: one table, read by the loaders and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DATASETS", "FASHION_MNIST_CLASSES", "Data", "DatasetInfo", "Split", "dataset_info"]

Split = tuple[np.ndarray, np.ndarray]
"""One split: ``(images, labels)``."""
Data = tuple[Split, Split]
"""A dataset: ``((x_train, t_train), (x_test, t_test))``."""

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of :data:`DATASETS`.

    Attributes:
        title: the display name, e.g. ``"Fashion-MNIST"``.
        folder: its subfolder of the data directory, also its key in
            :data:`autograd_mnist.data.mnist.SHA256`; accepted wherever a dataset name is
            (``dataset_dir("fashion-mnist")``).
        classes: the names of classes 0-9, or None when the class is the digit itself.
    """

    title: str
    folder: str
    classes: tuple[str, ...] | None = None

    def class_names(self) -> list[str]:
        """The names of classes 0-9 (``"0"``..``"9"`` for digits)."""
        return list(self.classes) if self.classes else [str(k) for k in range(10)]


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("MNIST", "mnist"),
    "fashion": DatasetInfo("Fashion-MNIST", "fashion-mnist", FASHION_MNIST_CLASSES),
}
"""Dataset name (the CLI's ``--dataset``, a run's ``dataset``) -> :class:`DatasetInfo`."""


def dataset_info(dataset: str) -> DatasetInfo:
    """The :data:`DATASETS` entry named ``dataset`` (a key or an entry's ``folder``).

    Raises:
        ValueError: for an unknown dataset.
    """
    for key, info in DATASETS.items():
        if dataset in (key, info.folder):
            return info
    names = sorted({*DATASETS, *(info.folder for info in DATASETS.values())})
    raise ValueError(f"unknown dataset; got {dataset!r}, expected one of {names}")
