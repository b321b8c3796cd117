"""Save and load checkpoints: nested dicts of NumPy arrays and plain values, as ``.npz``.

The file is an ordinary ``.npz`` (zip of ``.npy`` members) that never needs unpickling:

- each array (or NumPy scalar) is a member named ``state/<key>/<key>/...`` after its place
  in the tree (list items by index), so ``np.load(path)["state/model/fc1.weight"]`` works;
- member ``__autograd_mnist__`` is a uint8 array holding a UTF-8 JSON document: the tree's
  structure, with plain values (None, bool, int of any size, float incl. nan/inf, str)
  inline and arrays referenced by member name. Tuples and lists are tagged apart, so both
  come back as they went in.

Keys are non-empty ``str`` without ``/`` (the separator). Reading uses
``np.load(..., allow_pickle=False)``: an object array is refused, never unpickled.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from .io import PathLike, atomic_open

__all__ = ["load", "save"]

_META = "__autograd_mnist__"
_PREFIX = "state/"
_FORMAT = "autograd_mnist.checkpoint"
_VERSION = 1
_PLAIN = (type(None), bool, int, float, str)


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
    if isinstance(value, Mapping):
        node = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(
                    f"save: bad key under '{_where(keys)}' for '{path}'; got "
                    f"{type(k).__name__} {k!r}, expected str"
                )
            if not k or "/" in k:
                raise ValueError(
                    f"save: bad key under '{_where(keys)}' for '{path}'; got {k!r}, "
                    "expected a non-empty str without '/'"
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

    Raises:
        TypeError: if ``state`` is not a mapping, a key is not a str, or a value has an
            unsupported type or is an object array (naming the path and key).
        ValueError: if a key is not a non-empty str without ``/`` (naming the path and key).
    """
    where = os.fspath(path)
    if not isinstance(state, Mapping):
        raise TypeError(f"save: state for '{where}' must be a dict; got {type(state).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, (), arrays, where)
    doc = json.dumps({"format": _FORMAT, "version": _VERSION, "tree": tree})
    members = {_META: np.frombuffer(doc.encode("utf-8"), dtype=np.uint8), **arrays}
    with atomic_open(where) as f:
        np.savez(f, allow_pickle=False, **members)


def _member(npz: Any, member: str, path: str) -> np.ndarray:
    try:
        return np.asarray(npz[member])
    except KeyError:
        raise ValueError(f"load: '{path}' lacks member '{member}' named in its manifest") from None
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise ValueError(f"load: corrupt member '{member}' in '{path}': {exc}") from exc
        raise ValueError(
            f"load: refusing member '{member}' of '{path}'; got an object array, expected "
            "plain data (objects would need unpickling, which is never done)"
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"load: corrupt member '{member}' in '{path}': {exc}") from exc


def _decode(node: Any, npz: Any, path: str, used: set[str]) -> Any:
    if node is None or type(node) in _PLAIN:
        return node
    if isinstance(node, dict) and len(node) == 1:
        tag, body = next(iter(node.items()))
        if tag == "dict" and isinstance(body, dict):
            return {k: _decode(v, npz, path, used) for k, v in body.items()}
        if tag in ("list", "tuple") and isinstance(body, list):
            items = [_decode(v, npz, path, used) for v in body]
            return tuple(items) if tag == "tuple" else items
        if tag in ("array", "scalar") and isinstance(body, str):
            used.add(body)
            array = _member(npz, body, path)
            return array[()] if tag == "scalar" else array
    raise ValueError(f"load: corrupt manifest in '{path}'; got node {str(node)[:80]!r}")


def load(path: PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save`; dtypes, shapes and structure come back exact.

    A plain ``.npz`` without this module's manifest (e.g. from ``np.savez``) loads as a flat
    dict ``{member name: array}``.

    Args:
        path: the ``.npz`` file.

    Returns:
        The nested dict that was saved (arrays, NumPy scalars, plain values, lists, tuples).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not a readable ``.npz``, holds an object array (never
            unpickled), or its manifest is corrupt or disagrees with its members; the
            message names the path and the offending member.
    """
    where = os.fspath(path)
    try:
        npz = np.load(where, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"load: '{where}' is not a readable .npz file: {exc}") from exc
    if not hasattr(npz, "files"):
        raise ValueError(f"load: '{where}' holds a single array, expected an .npz archive")
    with npz:
        if _META not in npz.files:
            return {name: _member(npz, name, where) for name in npz.files}
        raw = _member(npz, _META, where)
        try:
            doc = json.loads(raw.tobytes().decode("utf-8"))
            tree, version = doc["tree"], doc["version"]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"load: corrupt manifest in '{where}': {exc}") from exc
        if raw.dtype != np.uint8 or version != _VERSION:
            raise ValueError(
                f"load: unsupported manifest in '{where}'; got version {version!r}, "
                f"expected {_VERSION}"
            )
        used: set[str] = set()
        state = _decode(tree, npz, where, used)
        extra = sorted(set(npz.files) - used - {_META})
        if extra:
            raise ValueError(f"load: '{where}' has members not in its manifest: {extra}")
    if isinstance(state, dict):
        return state
    raise ValueError(f"load: corrupt manifest in '{where}'; got a {type(state).__name__} root")
