"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 size per dimension, then the elements in C order,
big-endian. Files are often gzip-compressed: :func:`read_idx` detects gzip by its magic
bytes, :func:`write_idx` compresses when the path ends in ``.gz``. Reading is bounded by
:data:`MAX_IDX_BYTES` whatever the file holds (a gzip bomb costs no more than the cap).

Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from ..io import PathLike, atomic_open

# atomic_open lives in autograd_mnist.io; it stays importable from here.
__all__ = ["IDX_DTYPES", "MAX_IDX_BYTES", "atomic_open", "read_idx", "write_idx"]

IDX_DTYPES: dict[int, np.dtype[np.generic]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> big-endian element dtype."""

MAX_IDX_BYTES = 64 << 20
"""Default cap (64 MiB) on an IDX file's data after decompression; MNIST's largest file,
``train-images-idx3-ubyte``, holds 47,040,016 bytes. ``read_idx(..., max_bytes=...)``
raises it."""

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DIMS = 255  # the dimension count is one byte
_CHUNK = 1 << 18  # bytes read at a time when counting data past the payload
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)
_Stream = IO[bytes] | gzip.GzipFile


def _gunzipped(raw: IO[bytes]) -> _Stream:
    """``raw`` itself, or a streaming gunzip of it when it starts with gzip's magic bytes."""
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw, mode="rb") if magic == _GZIP_MAGIC else raw


def _read(f: _Stream, size: int, path: Path) -> bytes:
    """Read up to ``size`` bytes; a corrupt gzip stream becomes ValueError naming the file."""
    try:
        return f.read(size)
    except _GZIP_ERRORS as exc:
        raise ValueError(
            f"read_idx: corrupt gzip data in '{path}'; got {type(exc).__name__}: {exc}, "
            "expected a complete gzip stream"
        ) from exc


def _header(f: _Stream, path: Path) -> tuple[tuple[int, ...], np.dtype[np.generic], int]:
    """Read and check the header; return (shape, big-endian dtype, header length)."""
    head = _read(f, 4, path)
    if len(head) < 4:
        raise ValueError(
            f"read_idx: file too short for a header in '{path}'; got {len(head)} bytes, "
            "expected at least 4"
        )
    if head[0] != 0 or head[1] != 0:
        raise ValueError(
            f"read_idx: bad magic number in '{path}'; got 0x{head.hex()}, "
            "expected two zero bytes, a type code and a dimension count"
        )
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(
            f"read_idx: unknown type code in '{path}'; got 0x{code:02X}, expected one of {known}"
        )
    if ndim == 0:
        raise ValueError(f"read_idx: bad dimension count in '{path}'; got 0, expected >= 1")
    sizes = _read(f, 4 * ndim, path)
    if len(sizes) < 4 * ndim:
        raise ValueError(
            f"read_idx: truncated header in '{path}'; got {4 + len(sizes)} bytes, expected "
            f"{4 + 4 * ndim} for {ndim} dimensions"
        )
    shape = tuple(int.from_bytes(sizes[4 * i : 4 * i + 4], "big") for i in range(ndim))
    return shape, IDX_DTYPES[code], 4 + 4 * ndim


def _payload(f: _Stream, path: Path, expected: int, what: str, max_bytes: int) -> bytes:
    """Read exactly ``expected`` bytes, then make sure nothing follows (counting up to the cap)."""
    if expected > max_bytes:
        raise ValueError(
            f"read_idx: file too large in '{path}'; got a header declaring {expected} bytes "
            f"for {what}, expected at most {max_bytes} (read_idx's max_bytes)"
        )
    data = _read(f, expected, path)
    extra = 0
    while extra <= max_bytes - expected and (chunk := _read(f, _CHUNK, path)):
        extra += len(chunk)
    if len(data) != expected or extra:
        problem = "truncated payload" if len(data) < expected else "extra bytes after payload"
        got = str(len(data) + extra) if extra <= max_bytes - expected else f"over {max_bytes}"
        raise ValueError(
            f"read_idx: {problem} in '{path}'; got {got} bytes, expected {expected} for {what}"
        )
    return data


def read_idx(path: PathLike, *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a NumPy array.

    The header is validated exactly: the magic number, the type code, the dimension count
    and the payload length, which must equal the product of the sizes times the element
    size, neither shorter (truncated) nor longer (padded). Memory stays bounded whatever
    the file holds: gzip data is decompressed as a stream, a header declaring more than
    ``max_bytes`` is refused before the payload is read, and data past the payload is
    counted (up to the cap), never kept.

    Args:
        path: the file to read; gzip is recognised by its magic bytes, not by the name.
        max_bytes: the largest payload accepted (default :data:`MAX_IDX_BYTES`, 64 MiB).

    Returns:
        An array of the header's shape, in native byte order: uint8, int8, int16, int32,
        float32 or float64 (e.g. MNIST images: (60000, 28, 28) uint8; labels: (60000,)).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not valid IDX (bad magic, unknown type code, bad
            dimension count, wrong payload length), declares more than ``max_bytes``, or
            its gzip stream is corrupt; the message names the file and what is wrong.
    """
    p = Path(path)
    with p.open("rb") as raw, _gunzipped(raw) as f:
        shape, dtype, header = _header(f, p)
        what = f"shape {shape} of {dtype.newbyteorder('=').name}"
        data = _payload(f, p, dtype.itemsize * math.prod(shape), what, max_bytes)
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
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
