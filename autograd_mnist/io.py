"""File and terminal helpers shared by the package: path type, atomic writes, progress bars.

Everything that writes a file the user may read while it is being rewritten (checkpoints,
IDX files, run files, downloads) goes through :func:`atomic_open`, so a reader sees either
the old file or the new one, never half of one. This module depends only on the standard
library and NumPy, so every other module (``data`` included) can use it.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import glob
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np

__all__ = [
    "PathLike",
    "PlainBar",
    "ProgressBar",
    "atomic_open",
    "is_utf8",
    "jsonable",
    "progress_bar",
    "temp_pattern",
    "write_csv",
    "write_json",
    "write_text",
]

_TEMP_SUFFIX = ".tmp"  # atomic_open's temporary files: ".<name>.<random>.tmp"

PathLike = str | os.PathLike[str]
"""A file path: ``str`` or any ``os.PathLike[str]`` such as :class:`pathlib.Path`."""


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: PathLike) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path`` for binary writing; rename it over ``path`` on success.

    Readers never see a half-written file: the data goes to a temporary file in the same
    directory, which is flushed, synced and moved into place with :func:`os.replace` when the
    ``with`` block ends without an exception. On an exception the temporary file is removed.
    A symbolic link is followed, as ``open(path, "wb")`` does: the file it points to is
    replaced and the link stays.

    Args:
        path: the destination file; its directory must exist.

    Yields:
        A binary file object open for writing.

    Raises:
        OSError: if the temporary file cannot be created, written, synced or renamed; the
            error names ``path`` as given, never the temporary file. An OSError raised in
            the ``with`` block that names no file (e.g. a full disk on ``write``) is made
            to name ``path`` too.
    """
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=_temp_prefix(target.name), suffix=_TEMP_SUFFIX
        )
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, mode)  # mkstemp makes 0o600; give what open() would have given
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and exc.filename in (None, tmp_name):
            raise _naming(exc, path) from exc
        raise


def _naming(exc: OSError, path: PathLike) -> OSError:
    """``exc`` as the same kind of OSError naming ``path`` (unchanged if it has no errno)."""
    if exc.errno is None:
        return exc
    return OSError(exc.errno, exc.strerror, os.fspath(path))  # OSError picks the subclass


def write_text(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as f:
        f.write(text.encode("utf-8"))


def is_utf8(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (a str holding a lone surrogate, such as a file
    name's undecodable byte, does not): keys and metadata written as JSON must."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars made plain, tuples made lists and nan/inf made None.

    Dict keys become ``str``; what JSON cannot hold otherwise is left for ``json`` to refuse.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # strict JSON has no nan or inf
    return value


def write_json(path: PathLike, obj: dict[str, Any]) -> None:
    """Write ``obj`` (through :func:`jsonable`) as indented JSON, atomically."""
    write_text(path, json.dumps(jsonable(obj), indent=2) + "\n")


def write_csv(path: PathLike, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV file (``\\n`` line ends) with one header row, atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text(path, buf.getvalue())


class ProgressBar(Protocol):
    """The part of tqdm's interface the package uses."""

    def update(self, n: int = 1) -> Any:
        """Advance by ``n`` steps."""
        ...

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        """Show ``name=value`` pairs after the bar."""
        ...

    def close(self) -> None:
        """Finish the bar."""
        ...


class PlainBar:
    """A minimal stand-in for tqdm when it is not installed: prints every 10%."""

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.n, self.post = total, desc, 0, ""
        self._next = max(1, total // 10)

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` steps; print a line at each tenth and at the end."""
        self.n += n
        if self.n >= self._next or self.n == self.total:
            print(f"{self.desc}: {self.n}/{self.total} {self.post}", flush=True)
            self._next += max(1, self.total // 10)

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        """Show ``name=value`` pairs in the next printed line."""
        self.post = " ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        """Nothing to clean up."""


def progress_bar(
    total: int | None, desc: str, *, plain: bool = True, **options: Any
) -> ProgressBar | None:
    """A ``tqdm.auto`` progress bar, or a fallback when tqdm is not installed.

    Args:
        total: the number of steps (None: unknown).
        desc: the label before the bar.
        plain: without tqdm, return a :class:`PlainBar` (which needs ``total``) if True,
            else None (no progress shown).
        **options: passed to tqdm, e.g. ``unit="B", unit_scale=True`` for a download or
            ``leave=False`` for a bar that disappears when closed.

    Returns:
        The bar (call ``update``, ``set_postfix``, ``close``), or None.
    """
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return PlainBar(total, desc) if plain and total is not None else None
    bar: ProgressBar = tqdm(total=total, desc=desc, **options)
    return bar


def temp_pattern(name: str) -> str:
    """The glob pattern of the temporary files :func:`atomic_open` makes for a file ``name``.

    Only an interrupted process (``kill -9``, a power cut) leaves such a file behind; a
    live writer's file has the same name, so remove them only when no other process
    writes there.
    """
    return f"{glob.escape(_temp_prefix(name))}*{_TEMP_SUFFIX}"


def _temp_prefix(name: str) -> str:
    return f".{name}."
