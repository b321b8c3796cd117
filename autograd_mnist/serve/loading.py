"""What the server serves: a run's model, found and loaded, and test images read from the cache.

Nothing here writes: the checkpoint is only read, and test images come from the IDX files
already in the data folder (``autograd-mnist train`` leaves them there); unlike
:func:`autograd_mnist.data.load_dataset`, a missing file is reported, never downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd_mnist import nn
from autograd_mnist.checkpoint import CHECKPOINT, load_checkpoint, restore_model
from autograd_mnist.config import RunConfig
from autograd_mnist.data import dataset_dir, read_idx, to_float
from autograd_mnist.data.datasets import Split, dataset_info
from autograd_mnist.data.sources import FILES, find_idx
from autograd_mnist.io import PathLike

__all__ = ["LoadedRun", "MissingTestImages", "latest_run", "load_run", "read_test_split"]


def latest_run(parent: PathLike = "runs") -> Path | None:
    """The run folder under ``parent`` whose checkpoint was written last, or None.

    A run folder is a direct subfolder holding a ``checkpoint.npz``; runs stopped before
    their first checkpoint are skipped.
    """
    folder = Path(parent)
    if not folder.is_dir():
        return None
    found = [p for p in folder.glob(f"*/{CHECKPOINT}") if p.is_file()]
    if not found:
        return None
    return max(found, key=lambda p: (p.stat().st_mtime, str(p))).parent


@dataclass
class LoadedRun:
    """A run's model, ready to serve.

    Attributes:
        model: the network, in eval mode.
        name: the model preset's name (``"best"``, ``"mlp"``...).
        path: the checkpoint file read.
        epoch: epochs trained.
        dataset: the dataset it was trained on (``"mnist"`` or ``"fashion"``).
    """

    model: nn.Module
    name: str
    path: str
    epoch: int
    dataset: str


def load_run(run_or_checkpoint: PathLike) -> LoadedRun:
    """Load a run folder's (or a checkpoint file's) model, in eval mode.

    Raises:
        RunError: for a missing or bad checkpoint (see
            :func:`~autograd_mnist.checkpoint.load_checkpoint`).
    """
    ckpt = load_checkpoint(run_or_checkpoint)
    dataset = ckpt["config"].get("dataset", RunConfig.dataset)
    return LoadedRun(
        model=restore_model(ckpt),
        name=ckpt["model"]["name"],
        path=ckpt["path"],
        epoch=int(ckpt["epoch"]),
        dataset=dataset if isinstance(dataset, str) else RunConfig.dataset,
    )


class MissingTestImages(RuntimeError):
    """The test images are not in the data folder; the message says where they were sought."""


def _idx_file(folder: Path, name: str) -> Path:
    found = find_idx(folder, name)
    if found is not None:
        return found
    raise MissingTestImages(
        f"no {name}[.gz] in {folder}: `autograd-mnist train` downloads the data there "
        "(or set --data-dir / $AUTOGRAD_MNIST_DATA)"
    )


def read_test_split(dataset: str, data_dir: PathLike | None = None) -> Split:
    """The test images ``(N, 1, 28, 28)`` float32 in [0, 1] and int64 labels ``(N,)``,
    scaled as for training, read from the IDX files in the data folder (no download).

    Raises:
        MissingTestImages: if a file is missing, unreadable or of the wrong shape.
    """
    folder = dataset_dir(dataset_info(dataset).folder, data_dir)
    images_file = _idx_file(folder, FILES["test_images"])
    labels_file = _idx_file(folder, FILES["test_labels"])
    try:
        images, labels = read_idx(images_file), read_idx(labels_file)
    except (OSError, ValueError) as exc:
        raise MissingTestImages(f"cannot read the test images in {folder}: {exc}") from None
    ok = images.ndim == 3 and images.shape[1:] == (28, 28) and labels.shape == (len(images),)
    if not ok or not len(images) or images.dtype != np.uint8 or labels.max() > 9:
        raise MissingTestImages(
            f"bad test images in {folder}: got images {images.shape} {images.dtype}, labels "
            f"{labels.shape}; expected uint8 (N, 28, 28) and labels 0-9 (N,)"
        )
    return to_float(images)[:, None], labels.astype(np.int64)
