"""A run folder's ownership: which folders a run may write into, the lock, leftover temp files.

Three rules keep a user's files safe:

- **A new run writes only into a folder of its own.** :func:`claim_new` accepts a folder
  that does not exist (it is created), an empty folder, or a run of ours that was stopped
  before its first checkpoint (only ``config.json`` in it: the run is started again in
  place). Any other folder is refused before anything is written into it, naming it and
  a few of the files it holds; a folder that already holds a checkpoint is refused with
  the ``--resume`` command that continues it. The default folder, ``runs/<stamp>``, is
  created exclusively (:func:`claim_fresh`): two runs started in the same second get
  ``runs/<stamp>`` and ``runs/<stamp>-2``.
- **A resume writes only into a run folder.** :func:`claim_existing` accepts a folder
  whose ``config.json`` a run of ours wrote (:func:`is_run_folder`), or one that holds
  nothing but a ``checkpoint.npz`` (copied there to be continued). A folder of other files
  (a user's ``metrics.csv`` beside a checkpoint) is refused before anything is written.
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
from typing import Any

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
    "check_resumable",
    "claim_existing",
    "claim_fresh",
    "claim_new",
    "is_run_folder",
    "read_config",
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


def _is_ours_name(name: str) -> bool:
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


_FIX = f"fix it, or copy the run's {CHECKPOINT} into a new empty folder and resume that"
_LEGACY_KEYS = {"model", "model_config", "epochs", "seed", "out", "created", "resumed"}


def _is_ours(doc: object) -> bool:
    """A ``config.json`` document a run wrote: with our ``format``, or one of a run made
    before the format was recorded (every setting, ``created`` and a list ``resumed``)."""
    if not isinstance(doc, dict):
        return False
    legacy = _LEGACY_KEYS <= doc.keys() and isinstance(doc["resumed"], list)
    return doc.get("format") == FORMAT or ("format" not in doc and legacy)


def _is_our_config(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return _is_ours(doc)


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a run folder of ours: its ``config.json`` was written by a run."""
    return _is_our_config(folder / CONFIG)


def read_config(path: Path) -> dict[str, Any]:
    """A run's ``config.json`` ({} if missing); a damaged one is an error, never rewritten.

    Raises:
        RunError: if it cannot be read, is not JSON, or is not the object a run writes.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read {path}: {exc}") from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RunError(f"bad {path}: not JSON ({exc}); {_FIX}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("resumed", []), list):
        raise RunError(
            f"bad {path}: got {str(doc)[:60]!r}, expected the JSON object a run writes (with "
            f"a list 'resumed'); {_FIX}"
        )
    return doc


def _refusal(folder: Path) -> str | None:
    """Why a new run may not use the existing directory ``folder`` (None: it may)."""
    entries = sorted(p.name for p in folder.iterdir())
    if CHECKPOINT in entries:
        return (
            f"{folder} already holds a run; continue it with --resume {folder}, "
            "or choose another --out"
        )
    others = [e for e in entries if not _is_ours_name(e)]
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


def claim_fresh(first: Path) -> RunLock:
    """Create the default run folder ``first`` (``runs/<stamp>``) exclusively and lock it;
    if it exists, ``<stamp>-2``, ``<stamp>-3``... instead: two runs started in the same
    second never pick the same folder.

    Returns:
        The held lock; its ``folder`` is the folder created.

    Raises:
        RunError: if the folder cannot be created.
    """
    try:
        first.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create run folder {first}: {exc.strerror}") from None
    for k in range(1, 1000):
        folder = first if k == 1 else first.with_name(f"{first.name}-{k}")
        try:
            folder.mkdir()  # exclusive: whoever creates it owns it
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunError(f"cannot create run folder {folder}: {exc.strerror}") from None
        return RunLock(folder).acquire()
    raise RunError(f"cannot create run folder {first}: {first}-2 to -999 exist too")


def check_resumable(folder: Path) -> None:
    """Refuse to resume in ``folder`` unless it is a run folder of ours, or holds nothing
    but ``checkpoint.npz`` (and a lock or temp files of ours).

    Raises:
        RunError: for a damaged ``config.json`` (naming it), a ``config.json`` that is not
            a run's, or a folder that holds other files; nothing is written in those cases.
    """
    config = folder / CONFIG
    if config.exists():
        if _is_ours(read_config(config)):  # a damaged one raises, naming the file
            return
        why = f"its {CONFIG} was not written by an autograd-mnist run"
    else:
        others = sorted(p.name for p in folder.iterdir() if p.name != CHECKPOINT)
        others = [e for e in others if not _is_ours_name(e)]
        if not others:
            return  # a checkpoint copied into a folder of its own
        shown = ", ".join(others[:_SHOWN]) + (", ..." if len(others) > _SHOWN else "")
        why = f"it has no {CONFIG} of a run and holds {shown}"
    raise RunError(
        f"--resume {folder} is not an autograd-mnist run folder ({why}); nothing was written "
        f"into it: copy its {CHECKPOINT} into a new empty folder and resume that"
    )


def claim_existing(folder: Path) -> RunLock:
    """Lock a run folder to resume it (see :func:`check_resumable`) and remove its
    leftover temp files.

    Raises:
        RunError: if it is not a run folder of ours, or a live process holds the lock.
    """
    check_resumable(folder)  # before the lock: nothing is written into a folder of others
    lock = RunLock(folder).acquire()
    try:
        check_resumable(folder)  # again, under the lock
        remove_temp_files(folder)
    except BaseException:
        lock.release()
        raise
    return lock
