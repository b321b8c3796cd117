"""Save and load checkpoints: nested dicts of NumPy arrays and plain values, as ``.npz``.

The file is an ordinary ``.npz`` (zip of ``.npy`` members) that never needs unpickling:

- each array (or NumPy scalar) is a member named ``state/<key>/<key>/...`` after its place
  in the tree (list items by index), so ``np.load(path)["state/model/fc1.weight"]`` works;
- member ``__autograd_mnist__`` is a uint8 array holding a UTF-8 JSON document: the tree's
  structure, with plain values (None, bool, int of any size, float incl. nan/inf, str)
  inline and arrays referenced by member name. Tuples and lists are tagged apart, so both
  come back as they went in.

Keys are non-empty ``str`` without ``/`` (the separator); containers nest at most
:data:`MAX_DEPTH` levels. Reading never unpickles (an object array is refused) and is
bounded: before any array is allocated, every member's ``.npy`` header is read and its
declared size checked against the zip directory, the file's size and :data:`MAX_LOAD_BYTES`.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy

from .devices import check_device
from .io import PathLike, atomic_open, is_utf8

__all__ = ["MAX_DEPTH", "MAX_LOAD_BYTES", "load", "save"]

MAX_LOAD_BYTES = 1 << 30
"""Default cap (1 GiB) on the bytes a file's members may declare in total; ``load(...,
max_bytes=...)`` raises it. A model of this package checkpoints in a few MB."""

MAX_DEPTH = 64
"""Deepest nesting of dicts / lists / tuples that ``save`` writes and ``load`` reads."""

_META = "__autograd_mnist__"
_PREFIX = "state/"
_FORMAT = "autograd_mnist.checkpoint"
_VERSION = 1
_PLAIN = (type(None), bool, int, float, str)
_NPY = ".npy"
_MAX_HEADER = 10_000  # numpy's own limit on an .npy header (read_array's max_header_size)
_HEADER_LENGTH = {(1, 0): "<H", (2, 0): "<I"}  # .npy version -> format of the header length
_DEFLATE_RATIO = 1032  # deflate cannot expand data more than 1032-fold


def _where(keys: tuple[str, ...]) -> str:
    return "/".join(keys) if keys else "<root>"


def _encode(value: Any, keys: tuple[str, ...], arrays: dict[str, np.ndarray], path: str) -> Any:
    """Return the JSON node for ``value``, moving arrays into ``arrays``."""
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError(
                f"save: object array at key '{_where(keys)}' for '{path}'; got dtype "
                f"{array.dtype}, expected a non-object dtype (objects would need pickle)"
            )
        member = _PREFIX + "/".join(keys)
        arrays[member] = array
        return {"scalar" if isinstance(value, np.generic) else "array": member}
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Mapping | list | tuple) and len(keys) >= MAX_DEPTH:
        raise ValueError(
            f"save: nesting too deep at key '{_where(keys)}' for '{path}'; got a container at "
            f"depth {len(keys)}, expected at most {MAX_DEPTH} levels"
        )
    if isinstance(value, Mapping):
        node = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(
                    f"save: bad key under '{_where(keys)}' for '{path}'; got "
                    f"{type(k).__name__} {k!r}, expected str"
                )
            if not k or "/" in k or not is_utf8(k):
                raise ValueError(
                    f"save: bad key under '{_where(keys)}' for '{path}'; got {k!r}, "
                    "expected a non-empty str without '/' (and no lone surrogate: UTF-8)"
                )
            node[k] = _encode(v, (*keys, k), arrays, path)
        return {"dict": node}
    if isinstance(value, list | tuple):
        items = [_encode(v, (*keys, str(i)), arrays, path) for i, v in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": items}
    raise TypeError(
        f"save: unsupported value at key '{_where(keys)}' for '{path}'; got "
        f"{type(value).__name__}, expected ndarray, NumPy scalar, None, bool, int, float, str, "
        "or dict / list / tuple of those"
    )


def save(state: Mapping[str, Any], path: PathLike) -> None:
    """Write ``state`` to ``path`` as ``.npz``, atomically (temporary file + rename).

    Args:
        state: a dict with str keys whose values are NumPy arrays or scalars, plain values
            (None, bool, int, float, str), or dicts / lists / tuples of those, nested freely.
        path: the file to write (written as given; ``.npz`` is the customary suffix).
            Missing parent folders are created.

    Raises:
        TypeError: if ``state`` is not a mapping, a key is not a str, or a value has an
            unsupported type or is an object array (naming the path and key).
        ValueError: if a key is not a non-empty str without ``/`` (or is not UTF-8: a
            lone surrogate), or containers nest deeper than :data:`MAX_DEPTH` (naming the
            path and key).
        OSError: if the folder or file cannot be written; the error names ``path``.
    """
    where = os.fspath(path)
    if not isinstance(state, Mapping):
        kind = type(state).__name__
        if callable(getattr(state, "state_dict", None)):  # a Module or an optimizer
            raise TypeError(
                f"save: cannot save a whole {kind} to '{where}': this format never pickles "
                "objects; save its state instead, am.save(model.state_dict(), path), and "
                "load it into a new one, model.load_state_dict(am.load(path))"
            )
        raise TypeError(f"save: state for '{where}' must be a dict; got {kind}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, (), arrays, where)
    doc = json.dumps({"format": _FORMAT, "version": _VERSION, "tree": tree})
    members = {_META: np.frombuffer(doc.encode("utf-8"), dtype=np.uint8), **arrays}
    try:
        Path(where).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        folder = f"{exc.strerror} (creating folder '{exc.filename}')"
        raise OSError(exc.errno, folder, where) from exc  # OSError picks the subclass
    with atomic_open(where) as f:
        np.savez(f, allow_pickle=False, **members)


def _zip_entry_check(info: zipfile.ZipInfo, file_size: int, path: str) -> None:
    """Check one member's directory entry against the file before reading any of it."""
    where = f"load: member '{info.filename}' of '{path}'"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(
            f"{where}: got compression method {info.compress_type}, expected stored or "
            "deflated (what np.savez / np.savez_compressed write)"
        )
    if info.header_offset + info.compress_size > file_size:
        raise ValueError(
            f"{where}: got {info.compress_size} compressed bytes at offset "
            f"{info.header_offset}, expected them within the file's {file_size} bytes"
        )
    stored = info.compress_type == zipfile.ZIP_STORED
    most = info.compress_size if stored else _DEFLATE_RATIO * info.compress_size + 1024
    if info.file_size > most:
        raise ValueError(
            f"{where}: got {info.file_size} bytes claimed from {info.compress_size} compressed, "
            f"expected at most {most}"
        )


def _npy_dtype(f: IO[bytes], where: str) -> tuple[int, np.dtype[Any]]:
    """Read an ``.npy`` header (not its data); return (bytes declared in all, dtype)."""
    version = npy.read_magic(f)
    if version not in _HEADER_LENGTH:
        raise ValueError(f"{where}: got .npy version {version}, expected 1.0 or 2.0")
    fmt = _HEADER_LENGTH[version]
    prefix = f.read(struct.calcsize(fmt))
    if len(prefix) != struct.calcsize(fmt):
        raise ValueError(f"{where}: got a truncated .npy header, expected its length")
    (length,) = struct.unpack(fmt, prefix)
    if length > _MAX_HEADER:
        raise ValueError(f"{where}: got a {length}-byte header, expected at most {_MAX_HEADER}")
    header = io.BytesIO(prefix + f.read(length))
    reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
    shape, _fortran, dtype = reader(header)
    if any(n < 0 for n in shape):
        raise ValueError(f"{where}: got shape {shape}, expected sizes >= 0")
    size = dtype.itemsize * math.prod(shape)
    return 8 + len(prefix) + length + size, dtype


def _members(zf: zipfile.ZipFile, path: str, max_bytes: int) -> dict[str, zipfile.ZipInfo]:
    """Check every member before any array is allocated; return {name without .npy: entry}.

    Each member must be an ``.npy`` whose header declares exactly the bytes the zip
    directory gives it, which must fit the file (:func:`_zip_entry_check`); the total must
    not exceed ``max_bytes``. ``zipfile`` stops at the directory's size and checks the CRC.
    """
    file_size = os.stat(path).st_size
    total = sum(info.file_size for info in zf.infolist())
    if total > max_bytes:
        raise ValueError(
            f"load: '{path}' declares too much data; got {total} bytes, expected at most "
            f"{max_bytes} (raise load(..., max_bytes=...) for a bigger file you trust)"
        )
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename.removesuffix(_NPY)
        where = f"load: member '{name}' of '{path}'"
        if name == info.filename or name in members:
            problem = "a duplicate" if name in members else f"'{info.filename}'"
            if info.filename.endswith(".pkl"):
                problem += " (a pickle: torch.save's .pt? never unpickled here)"
            raise ValueError(f"{where}: got {problem}, expected distinct .npy members")
        _zip_entry_check(info, file_size, path)
        with zf.open(info) as f:
            declared, dtype = _npy_dtype(f, where)
        if dtype.hasobject:
            raise ValueError(
                f"load: refusing member '{name}' of '{path}'; got an object array, expected "
                "plain data (objects would need unpickling, which is never done)"
            )
        if declared != info.file_size:
            raise ValueError(
                f"{where}: header and zip directory disagree; got {declared} bytes declared, "
                f"expected {info.file_size} (the member's size)"
            )
        members[name] = info
    return members


class _Archive:
    """An open ``.npz`` whose members passed :func:`_members`; reads them on demand."""

    def __init__(self, zf: zipfile.ZipFile, path: str, max_bytes: int) -> None:
        self.zf, self.path = zf, path
        self.members = _members(zf, path, max_bytes)

    def array(self, name: str) -> np.ndarray:
        if name not in self.members:
            raise ValueError(f"load: '{self.path}' lacks member '{name}' named in its manifest")
        with self.zf.open(self.members[name]) as f:
            return np.asarray(npy.read_array(f, allow_pickle=False))


def _decode(node: Any, archive: _Archive, used: set[str], depth: int) -> Any:
    if node is None or type(node) in _PLAIN:
        return node
    path = archive.path
    if isinstance(node, dict) and len(node) == 1:
        tag, body = next(iter(node.items()))
        if tag in ("dict", "list", "tuple") and depth >= MAX_DEPTH:
            raise ValueError(
                f"load: corrupt manifest in '{path}'; got nesting deeper than {MAX_DEPTH} "
                f"levels, expected at most {MAX_DEPTH}"
            )
        if tag == "dict" and isinstance(body, dict):
            return {k: _decode(v, archive, used, depth + 1) for k, v in body.items()}
        if tag in ("list", "tuple") and isinstance(body, list):
            items = [_decode(v, archive, used, depth + 1) for v in body]
            return tuple(items) if tag == "tuple" else items
        if tag in ("array", "scalar") and isinstance(body, str):
            used.add(body)
            array = archive.array(body)
            return array[()] if tag == "scalar" else array
    raise ValueError(f"load: corrupt manifest in '{path}'; got node {str(node)[:80]!r}")


def _read_state(archive: _Archive) -> dict[str, Any]:
    where = archive.path
    if _META not in archive.members:
        return {name: archive.array(name) for name in archive.members}
    raw = archive.array(_META)
    try:
        doc = json.loads(raw.tobytes().decode("utf-8"))
        tree, version = doc["tree"], doc["version"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ValueError(f"load: corrupt manifest in '{where}': {exc}") from exc
    if raw.dtype != np.uint8 or version != _VERSION:
        raise ValueError(
            f"load: unsupported manifest in '{where}'; got version {version!r}, expected {_VERSION}"
        )
    used: set[str] = set()
    state = _decode(tree, archive, used, 0)
    extra = sorted(set(archive.members) - used - {_META})
    if extra:
        raise ValueError(f"load: '{where}' has members not in its manifest: {extra}")
    if isinstance(state, dict):
        return state
    raise ValueError(f"load: corrupt manifest in '{where}'; got a {type(state).__name__} root")


def _is_npy(path: str) -> bool:
    """Whether the file starts with the ``.npy`` magic (``np.save``'s output, not an archive)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(npy.MAGIC_PREFIX)) == npy.MAGIC_PREFIX
    except OSError:
        return False


def load(
    path: PathLike,
    map_location: Any = None,
    *,
    weights_only: bool | None = None,
    max_bytes: int = MAX_LOAD_BYTES,
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save`; dtypes, shapes and structure come back exact.

    A plain ``.npz`` without this module's manifest (e.g. from ``np.savez``) loads as a flat
    dict ``{member name: array}``. Nothing is allocated before every member has been
    checked: its ``.npy`` header must declare exactly the size the zip directory gives it,
    that size must be possible for the compressed bytes in the file, and all members
    together must declare at most ``max_bytes``.

    Args:
        path: the ``.npz`` file.
        map_location: PyTorch's argument, for ``torch.load(path, map_location=device)``:
            None or the CPU (``"cpu"``, ``am.device("cpu")``), the only device.
        weights_only: PyTorch's argument (``torch.load(path, weights_only=True)``): a bool
            or None, which changes nothing, since the format holds only arrays and plain
            values and is never unpickled.
        max_bytes: the most bytes the members may declare in total (default
            :data:`MAX_LOAD_BYTES`, 1 GiB); raise it for a bigger file you trust.

    Returns:
        The nested dict that was saved (arrays, NumPy scalars, plain values, lists, tuples).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        TypeError: if ``weights_only`` is not a bool or None.
        ValueError: for a ``map_location`` other than the CPU; if the file is not a
            readable ``.npz``, declares more than ``max_bytes`` or sizes its file cannot
            hold, holds an object array (never unpickled), or its manifest is corrupt,
            nested deeper than :data:`MAX_DEPTH` or disagrees with its members; the
            message names the path and the offending member. Any other failure while
            reading the file (e.g. MemoryError) is also raised as ValueError naming the
            path.
    """
    check_device("load", map_location, "map_location")
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be a bool or None; got {weights_only!r}")
    where = os.fspath(path)
    try:
        zf = zipfile.ZipFile(where)
    except FileNotFoundError:
        raise
    except Exception as exc:  # BadZipFile, OSError, or whatever a hostile directory provokes
        if _is_npy(where):
            raise ValueError(
                f"load: '{where}' holds a single array, expected an .npz archive"
            ) from None
        raise ValueError(f"load: '{where}' is not a readable .npz file: {exc}") from exc
    with zf:
        try:
            return _read_state(_Archive(zf, where, max_bytes))
        except ValueError:
            raise
        except Exception as exc:  # whatever else a hostile file provokes: one clear error
            raise ValueError(
                f"load: cannot read '{where}'; got {type(exc).__name__}: {exc}"
            ) from exc
