"""A run folder's ownership: which folders a run may write into, the lock, leftover temp files.

Three rules keep a user's files safe:

- **A new run writes only into a folder of its own.** :func:`claim_new` accepts a folder
  that does not exist (it is created), an empty folder, or a run of ours that was stopped
  before its first checkpoint (only ``config.json`` in it: the run is started again in
  place). Any other folder is refused before anything is written into it, naming it and
  a few of the files it holds; a folder that already holds a checkpoint is refused with
  the ``--resume`` command that continues it.
- **One process per run.** A lock file (``.lock``, created exclusively, holding the
  process id and host name) is taken before anything is written and removed when the run
  ends, however it ends. A lock left by a process that no longer exists on this host
  (``kill -9``, a power cut) is stale: it is removed and taken over. A lock held by a live
  process refuses the second run, naming the process.
- **No leftovers.** An interrupted atomic write (see :func:`autograd_mnist.io.atomic_open`)
  can leave a hidden ``.<file>.<random>.tmp`` beside a run file; they are removed when a run
  next starts or resumes in that folder, under the lock.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import socket
import tempfile
from pathlib import Path
from types import TracebackType

from autograd_mnist.checkpoint import CHECKPOINT, FORMAT
from autograd_mnist.config import CONFIG
from autograd_mnist.errors import RunError
from autograd_mnist.io import temp_pattern
from autograd_mnist.report import CURVES, METRICS, SUMMARY
from autograd_mnist.weights import WEIGHTS

__all__ = [
    "LOCK",
    "RUN_FILES",
    "RunLock",
    "check_new",
    "claim_existing",
    "claim_new",
    "remove_temp_files",
]

LOCK = ".lock"
"""The lock file's name in a run folder."""
RUN_FILES = (CONFIG, CHECKPOINT, WEIGHTS, METRICS, SUMMARY, *CURVES)
"""The files a run writes into its folder."""

_LOCK_TEMP = f"{LOCK}.*.*.tmp"
_SHOWN = 5  # how many of a refused folder's entries the message names


class RunLock:
    """The exclusive lock of one run folder; a context manager that releases it on exit.

    Args:
        folder: the run folder (it must exist when :meth:`acquire` is called).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK
        self.held = False

    def acquire(self) -> RunLock:
        """Take the lock, removing a stale one first.

        Raises:
            RunError: if a live process holds it (naming the process and the lock file).
        """
        for _ in range(3):  # a stale lock removed by us (or another process): try again
            try:
                self._create()
            except FileExistsError:
                self._check_holder()
                continue
            except OSError as exc:
                raise RunError(f"cannot lock run folder {self.folder}: {exc.strerror}") from None
            self.held = True
            return self
        raise RunError(f"cannot lock run folder {self.folder}: {self.path} keeps reappearing")

    def _create(self) -> None:
        """Create the lock file with its contents in one step (a hard link of a full file).

        Raises:
            FileExistsError: if the lock file exists.
        """
        prefix = f"{LOCK}.{os.getpid()}."  # the pid tells a live writer's file from a leftover
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=prefix, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()} {socket.gethostname()}\n")
            os.link(tmp, self.path)  # atomic and exclusive: nobody sees a lock without its pid
        finally:
            os.unlink(tmp)

    def _check_holder(self) -> None:
        """Remove the lock file if its holder is gone; raise if it is alive."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return  # released meanwhile
        except OSError as exc:
            raise RunError(f"cannot read lock {self.path}: {exc.strerror}") from None
        parts = text.split()
        pid = int(parts[0]) if parts and parts[0].isdigit() else None
        host = parts[1] if len(parts) > 1 else None
        if pid is not None and host == socket.gethostname() and not _alive(pid):
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        holder = f"process {pid} on {host}" if pid is not None else "an unknown process"
        raise RunError(
            f"run folder {self.folder} is in use by {holder} (lock {self.path}); wait for it "
            "to finish, or delete the lock file if no such process is running"
        )

    def release(self) -> None:
        """Remove the lock file (if this object holds it)."""
        if self.held:
            self.held = False
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> RunLock:
        return self if self.held else self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OverflowError:  # not a pid at all
        return False
    return True


def _is_ours(name: str) -> bool:
    """A file a run stopped before its first checkpoint may hold (or a live lock's temp)."""
    return name in (CONFIG, LOCK) or _is_run_temp(name) or fnmatch.fnmatchcase(name, _LOCK_TEMP)


def _is_run_temp(name: str) -> bool:
    """A temp file of an atomic write of one of :data:`RUN_FILES`."""
    return any(fnmatch.fnmatchcase(name, temp_pattern(f)) for f in RUN_FILES)


def _is_leftover(name: str) -> bool:
    """A temp file of a run file, or of a lock whose process is gone (see ``_create``)."""
    if _is_run_temp(name):
        return True
    parts = name.split(".")  # ".lock.<pid>.<random>.tmp": ['', 'lock', pid, random, 'tmp']
    return (
        fnmatch.fnmatchcase(name, _LOCK_TEMP)
        and len(parts) == 5
        and parts[2].isdigit()
        and not _alive(int(parts[2]))
    )


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir()) if _is_leftover(p.name)]


def remove_temp_files(folder: Path) -> list[Path]:
    """Remove the temp files that interrupted writes of :data:`RUN_FILES` left in ``folder``.

    Call it only while holding the folder's lock: a live writer's temp file looks the same.

    Returns:
        The files removed.
    """
    removed = []
    for path in _leftovers(folder):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _is_our_config(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("format") == FORMAT


def _refusal(folder: Path) -> str | None:
    """Why a new run may not use the existing directory ``folder`` (None: it may)."""
    entries = sorted(p.name for p in folder.iterdir())
    if CHECKPOINT in entries:
        return (
            f"{folder} already holds a run; continue it with --resume {folder}, "
            "or choose another --out"
        )
    others = [e for e in entries if not _is_ours(e)]
    if not others and (CONFIG not in entries or _is_our_config(folder / CONFIG)):
        return None  # empty, or a run stopped before its first checkpoint
    shown = ", ".join(others[:_SHOWN] or [CONFIG]) + (", ..." if len(others) > _SHOWN else "")
    return (
        f"--out {folder} is a folder that is not empty and is not an autograd-mnist run "
        f"(it holds {shown}); nothing was written into it: choose a new or empty folder"
    )


def check_new(folder: Path) -> None:
    """Refuse ``folder`` for a new run, as :func:`claim_new` would, without writing anything.

    Raises:
        RunError: as :func:`claim_new` (except for the lock).
    """
    if folder.exists() and not folder.is_dir():
        raise RunError(f"--out {folder} is a file, not a folder: choose another --out")
    if folder.is_dir() and (why := _refusal(folder)) is not None:
        raise RunError(why)


def claim_new(folder: Path) -> RunLock:
    """Create (or reuse, see the module docs) ``folder`` for a new run and lock it.

    Returns:
        The held lock; release it (``with`` or :meth:`RunLock.release`) when the run ends.

    Raises:
        RunError: if ``folder`` is a file, a folder of other files, a run with a
            checkpoint, or locked by a live process; nothing is written in those cases.

    Example:
        >>> with claim_new(Path("runs/a")):  # doctest: +SKIP
        ...     ...  # train, writing into runs/a
    """
    check_new(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create run folder {folder}: {exc.strerror}") from None
    lock = RunLock(folder).acquire()
    try:
        why = _refusal(folder)  # again, under the lock: another process may have been first
        if why is not None:
            raise RunError(why)
        remove_temp_files(folder)
    except BaseException:
        lock.release()
        raise
    return lock


def claim_existing(folder: Path) -> RunLock:
    """Lock an existing run folder (to resume it) and remove its leftover temp files.

    Raises:
        RunError: if a live process holds the lock.
    """
    lock = RunLock(folder).acquire()
    remove_temp_files(folder)
    return lock
