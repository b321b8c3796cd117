"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 size per dimension, then the elements in C order,
big-endian. Files are often gzip-compressed: :func:`read_idx` detects gzip by its magic
bytes, :func:`write_idx` compresses when the path ends in ``.gz``.

Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from ..io import PathLike, atomic_open

# atomic_open lives in autograd_mnist.io; it stays importable from here.
__all__ = ["IDX_DTYPES", "atomic_open", "read_idx", "write_idx"]

IDX_DTYPES: dict[int, np.dtype[np.generic]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> big-endian element dtype."""

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DIMS = 255  # the dimension count is one byte


def _read_bytes(path: Path) -> bytes:
    """Return the file's bytes, gunzipped when they start with the gzip magic."""
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(
            f"read_idx: corrupt gzip data in '{path}'; got {type(exc).__name__}: {exc}, "
            "expected a complete gzip stream"
        ) from exc


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a NumPy array.

    The header is validated exactly: the magic number, the type code, the dimension count
    and the payload length, which must equal the product of the sizes times the element
    size, neither shorter (truncated) nor longer (padded).

    Args:
        path: the file to read; gzip is recognised by its magic bytes, not by the name.

    Returns:
        An array of the header's shape, in native byte order: uint8, int8, int16, int32,
        float32 or float64 (e.g. MNIST images: (60000, 28, 28) uint8; labels: (60000,)).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not valid IDX (bad magic, unknown type code, bad
            dimension count, wrong payload length) or its gzip stream is corrupt; the
            message names the file and what is wrong.
    """
    p = Path(path)
    data = _read_bytes(p)
    if len(data) < 4:
        raise ValueError(
            f"read_idx: file too short for a header in '{p}'; got {len(data)} bytes, "
            "expected at least 4"
        )
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"read_idx: bad magic number in '{p}'; got 0x{data[:4].hex()}, "
            "expected two zero bytes, a type code and a dimension count"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(
            f"read_idx: unknown type code in '{p}'; got 0x{code:02X}, expected one of {known}"
        )
    if ndim == 0:
        raise ValueError(f"read_idx: bad dimension count in '{p}'; got 0, expected >= 1")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"read_idx: truncated header in '{p}'; got {len(data)} bytes, expected "
            f"{header} for {ndim} dimensions"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[code]
    expected = dtype.itemsize * math.prod(shape)
    got = len(data) - header
    if got != expected:
        problem = "truncated payload" if got < expected else "extra bytes after payload"
        raise ValueError(
            f"read_idx: {problem} in '{p}'; got {got} bytes, expected {expected} for shape "
            f"{shape} of {dtype.newbyteorder('=').name}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable native-order copy


def _type_code(array: np.ndarray) -> int:
    """Return the IDX type code for the array's dtype, or raise TypeError."""
    for code, dtype in IDX_DTYPES.items():
        if array.dtype.kind == dtype.kind and array.dtype.itemsize == dtype.itemsize:
            return code
    raise TypeError(
        f"write_idx: unsupported dtype; got {array.dtype}, expected uint8, int8, int16, "
        "int32, float32 or float64"
    )


def write_idx(path: PathLike, array: np.ndarray) -> None:
    """Write an array as an IDX file, atomically; gzip-compressed if ``path`` ends in ``.gz``.

    Args:
        path: the destination; its directory must exist. A ``.gz`` suffix selects gzip.
        array: an array with 1 to 255 dimensions, each of size < 2**32, of dtype uint8,
            int8, int16, int32, float32 or float64.

    Raises:
        TypeError: if the dtype has no IDX type code (e.g. int64: cast it first).
        ValueError: if the array has no dimensions, too many, or a size that does not fit
            in a uint32.
    """
    a = np.asarray(array)
    code = _type_code(a)
    if not 1 <= a.ndim <= _MAX_DIMS:
        raise ValueError(
            f"write_idx: unsupported number of dimensions; got shape {a.shape}, "
            f"expected 1 to {_MAX_DIMS} dimensions"
        )
    if any(n >= 2**32 for n in a.shape):
        raise ValueError(
            f"write_idx: dimension too large; got shape {a.shape}, expected sizes < 2**32"
        )
    header = bytes([0, 0, code, a.ndim]) + b"".join(n.to_bytes(4, "big") for n in a.shape)
    payload = np.ascontiguousarray(a, dtype=IDX_DTYPES[code]).tobytes()
    target = Path(path)
    with atomic_open(target) as f:
        if target.name.endswith(".gz"):
            # mtime=0 and no file name: the same array always gives the same bytes
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=6) as g:
                g.write(header)
                g.write(payload)
        else:
            f.write(header)
            f.write(payload)
