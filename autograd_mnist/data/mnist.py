"""MNIST and Fashion-MNIST as NumPy arrays, the "Deep Learning from Scratch" way.

``load_mnist(normalize=True, flatten=True, one_hot_label=False)`` returns
``(x_train, t_train), (x_test, t_test)``. The first call finds the data (see
:func:`autograd_mnist.data.sources.default_sources`: the data folder, then downloads),
checks it against known sha256 digests, caches it in the data folder as the four IDX files
and in memory; later calls only reformat. Nothing is downloaded at import time.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..io import PathLike
from . import sources
from .datasets import DATASETS, FASHION_MNIST_CLASSES, Data, DatasetInfo, Split, dataset_info
from .idx import write_idx
from .sources import FILES, Arrays, ChecksumError

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "SHA256",
    "array_digest",
    "check_arrays",
    "clear_cache",
    "dataset_dir",
    "default_data_dir",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "load_raw",
    "one_hot",
    "to_float",
    "verify_digests",
]

SHA256: dict[str, dict[str, str]] = {
    "mnist": {
        "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "train_labels": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "test_labels": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    },
    # computed from Debian's dataset-fashion-mnist (upstream git 55506a9)
    "fashion-mnist": {
        "train_images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        "train_labels": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
        "test_images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        "test_labels": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    },
}
"""Dataset -> array key -> sha256 of the array's raw bytes (uint8, C order, images (N, 28, 28))."""

_CACHE: dict[tuple[str, str], Arrays] = {}


def default_data_dir() -> Path:
    """Return the data directory used when ``data_dir`` is not given.

    ``$AUTOGRAD_MNIST_DATA`` if set, else ``$XDG_CACHE_HOME/autograd_mnist``, else
    ``~/.cache/autograd_mnist``. Each dataset lives in its own subfolder (:func:`dataset_dir`).
    A relative ``$XDG_CACHE_HOME`` is ignored, as the XDG specification asks (it would put
    the cache wherever the command happens to run).
    """
    env = os.environ.get("AUTOGRAD_MNIST_DATA")
    if env:
        return Path(env).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or "").expanduser()
    base = cache if cache.is_absolute() else Path.home() / ".cache"
    return base / "autograd_mnist"


def dataset_dir(dataset: str, data_dir: PathLike | None = None) -> Path:
    """Return the folder holding ``dataset``'s four IDX files: ``<data_dir>/<dataset>``.

    Args:
        dataset: a :data:`DATASETS` name or folder: ``"mnist"``, ``"fashion"`` or
            ``"fashion-mnist"``.
        data_dir: the data directory; None means :func:`default_data_dir`.

    Raises:
        ValueError: for an unknown dataset.
    """
    try:
        folder = dataset_info(dataset).folder
    except ValueError as exc:
        raise ValueError(f"dataset_dir: {exc}") from None
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    return root / folder


def clear_cache() -> None:
    """Forget the arrays kept in memory by earlier loads (the files on disk stay)."""
    _CACHE.clear()


def load_raw(dataset: str, data_dir: PathLike | None = None) -> Arrays:
    """Return ``dataset``'s four verified raw arrays, fetching and caching them if needed.

    Sources are tried in order; one that fails (including running out of memory), or whose
    data does not match the known sha256 digests, is skipped. The first good one wins;
    unless it was the data folder itself, its arrays are written there as ``<name>.gz``
    IDX files.

    Args:
        dataset: a :data:`DATASETS` name or folder (as for :func:`dataset_dir`).
        data_dir: the data directory; None means :func:`default_data_dir`.

    Returns:
        ``{"train_images": uint8 (60000, 28, 28), "train_labels": uint8 (60000,),
        "test_images": uint8 (10000, 28, 28), "test_labels": uint8 (10000,)}``, read-only
        arrays shared with the in-memory cache.

    Raises:
        RuntimeError: if no source worked, listing each one and why, and how to supply the
            files by hand.
    """
    folder = dataset_dir(dataset, data_dir)
    key = (folder.name, str(folder.resolve()))
    if key not in _CACHE:
        arrays = _obtain(dataset_info(dataset), folder)
        for array in arrays.values():
            array.flags.writeable = False  # shared by every later call
        _CACHE[key] = arrays
    return _CACHE[key]


def _obtain(info: DatasetInfo, folder: Path) -> Arrays:
    name, dataset = info.title, info.folder
    digests = SHA256.get(dataset, {})
    failures = []
    for source in sources.default_sources(dataset, folder):
        if not isinstance(source, sources.DirectorySource):
            print(f"autograd_mnist: fetching {name} from {source.describe()}", file=sys.stderr)
        try:
            with tempfile.TemporaryDirectory(prefix="autograd_mnist-") as work:
                arrays = source.fetch(Path(work))
            check_arrays(arrays)
            verify_digests(arrays, digests)
        except (sources.SourceError, ValueError, OSError, MemoryError) as exc:
            reason = f"MemoryError: {exc}" if isinstance(exc, MemoryError) else str(exc)
            failures.append(f"{source.describe()}: {reason}")
            if not isinstance(source, sources.DirectorySource):
                print(f"autograd_mnist:   failed: {reason}", file=sys.stderr)
            continue
        if not (isinstance(source, sources.DirectorySource) and source.path == folder):
            _store(arrays, folder)
        return arrays
    tried = "\n".join(f"  {i}. {line}" for i, line in enumerate(failures, 1))
    files = ", ".join(f"{n}.gz" for n in FILES.values())
    raise RuntimeError(
        f"load_{dataset.replace('-', '_')}: could not obtain {name}; tried:\n{tried}\n"
        f"To use it offline, put the four IDX files ({files}; plain or gzipped) in {folder}"
    )


def _store(arrays: Arrays, folder: Path) -> None:
    """Cache the arrays as IDX files; a read-only data folder only earns a warning."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for key, name in FILES.items():
            write_idx(folder / f"{name}.gz", arrays[key])
        print(f"autograd_mnist: cached in {folder}", file=sys.stderr)
    except OSError as exc:
        warnings.warn(f"autograd_mnist: could not cache data in {folder}: {exc}", stacklevel=3)


def array_digest(array: np.ndarray) -> str:
    """Return the sha256 hex digest of the array's raw bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def check_arrays(arrays: Mapping[str, np.ndarray]) -> None:
    """Check the four arrays' keys, dtypes, shapes and label range.

    Raises:
        ValueError: naming the file (array key) and what is wrong.
    """
    if set(arrays) != set(FILES):
        raise ValueError(f"got arrays {sorted(arrays)}, expected {sorted(FILES)}")
    for split in ("train", "test"):
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        name_x, name_y = FILES[f"{split}_images"], FILES[f"{split}_labels"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(f"{name_x}: got {x.dtype} {x.shape}, expected uint8 (N, 28, 28)")
        if y.dtype != np.uint8 or y.shape != (x.shape[0],):
            raise ValueError(f"{name_y}: got {y.dtype} {y.shape}, expected uint8 ({x.shape[0]},)")
        if y.size and int(y.max()) > 9:
            raise ValueError(f"{name_y}: got a label {int(y.max())}, expected labels 0..9")


def verify_digests(arrays: Mapping[str, np.ndarray], digests: Mapping[str, str]) -> None:
    """Compare each array's :func:`array_digest` with ``digests``.

    Raises:
        ChecksumError: naming the file and both digests.
    """
    for key, expected in digests.items():
        got = array_digest(arrays[key])
        if got != expected:
            raise ChecksumError(f"sha256 mismatch for {FILES[key]}; got {got}, expected {expected}")


def to_float(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels to float32 in [0, 1]: ``images / 255``; shape kept."""
    return np.asarray(images).astype(np.float32) / np.float32(255.0)


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Encode integer class labels as one-hot rows.

    Args:
        labels: integer array (N,) with values in ``[0, num_classes)``.
        num_classes: number of classes (columns).

    Returns:
        float32 array (N, num_classes).

    Raises:
        TypeError: if ``labels`` is not an integer array.
        ValueError: if ``labels`` is not 1-D or holds a value outside ``[0, num_classes)``.
    """
    t = np.asarray(labels)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers; got {t.dtype}, expected an int dtype")
    if t.ndim != 1:
        raise ValueError(f"one_hot: labels must be 1-D; got shape {t.shape}, expected (N,)")
    if t.size and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise ValueError(
            f"one_hot: label out of range; got min {int(t.min())}, max {int(t.max())}, "
            f"expected 0 <= label < {num_classes}"
        )
    rows: np.ndarray = np.eye(num_classes, dtype=np.float32)[t]  # (N, num_classes)
    return rows


def _split(
    images: np.ndarray, labels: np.ndarray, normalize: bool, flatten: bool, one_hot_label: bool
) -> Split:
    x = to_float(images) if normalize else images.copy()
    x = x.reshape(len(x), 784) if flatten else x.reshape(len(x), 1, 28, 28)  # (N, 784) | NCHW
    t = one_hot(labels) if one_hot_label else labels.astype(np.int64)
    return x, t


def load_dataset(
    dataset: str,
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: PathLike | None = None,
) -> Data:
    """Load a :data:`DATASETS` entry (name or folder) as :func:`load_mnist` loads MNIST.

    Raises:
        ValueError: for an unknown dataset.
        RuntimeError: if no source worked; the message lists each failure.
    """
    raw = load_raw(dataset, data_dir)
    train = _split(raw["train_images"], raw["train_labels"], normalize, flatten, one_hot_label)
    test = _split(raw["test_images"], raw["test_labels"], normalize, flatten, one_hot_label)
    return train, test


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: PathLike | None = None,
) -> Data:
    """Load MNIST as ``(x_train, t_train), (x_test, t_test)`` (60,000 and 10,000 images).

    Args:
        normalize: if True, pixels become float32 in [0, 1] (pixel / 255); else uint8.
        flatten: if True, images are (N, 784); else (N, 1, 28, 28) (NCHW).
        one_hot_label: if True, labels are float32 (N, 10) one-hot rows; else int64 (N,).
        data_dir: the data directory (the files live in its ``mnist/`` subfolder); None
            means :func:`default_data_dir`.

    Returns:
        ``(x_train, t_train), (x_test, t_test)``, fresh arrays the caller may modify.

    Raises:
        RuntimeError: if the data is neither in the data folder nor obtainable from any
            source; the message lists each source's failure and where to put the files.
    """
    return load_dataset("mnist", normalize, flatten, one_hot_label, data_dir)


def load_fashion_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    data_dir: PathLike | None = None,
) -> Data:
    """Load Fashion-MNIST exactly as :func:`load_mnist` loads MNIST.

    Classes 0-9 are named in :data:`FASHION_MNIST_CLASSES`. The files live in the data
    directory's ``fashion-mnist/`` subfolder.

    Args:
        normalize: if True, pixels become float32 in [0, 1] (pixel / 255); else uint8.
        flatten: if True, images are (N, 784); else (N, 1, 28, 28) (NCHW).
        one_hot_label: if True, labels are float32 (N, 10) one-hot rows; else int64 (N,).
        data_dir: the data directory; None means :func:`default_data_dir`.

    Returns:
        ``(x_train, t_train), (x_test, t_test)``, fresh arrays the caller may modify.

    Raises:
        RuntimeError: if no source worked; the message lists each failure.
    """
    return load_dataset("fashion", normalize, flatten, one_hot_label, data_dir)
