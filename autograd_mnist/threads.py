"""How many threads the computation uses: ``set_num_threads`` / ``get_num_threads``
(PyTorch's names), and a default that follows the cores other processes leave idle.

One number covers both pools of threads that compute: NumPy's BLAS (set through
threadpoolctl) and the optimizer's blockwise update (:mod:`autograd_mnist.optim`).

The default. A BLAS thread that waits for a core another process holds costs far more than
it brings (on a 2-core machine with one busy process, R2's step on two threads took about
twice its step on one: ``benchmarks/compare_torch.py --user-loop --contend``). So unless
the user chose a number, the count is the number of cores the rest of the machine leaves
idle. Every :data:`REFRESH_SECONDS` at most, at a safe point (:func:`refresh`, called by
every optimizer's ``step`` and ``optim.blockwise`` (each parameter's SGD, Adam or AdamW
update), and by the CLI before a command; in the main thread, between NumPy calls, never
while a BLAS call of ours is running), the CPU time of the cores we may run on
(``/proc/stat``) minus our own process's CPU time gives the cores other processes used
since the last check; the cores they left idle (:func:`choose_threads`) are the count (at
least 1). The first check, having no interval yet, counts the runnable tasks instead.
Where ``/proc/stat`` is missing (not Linux), the count is every core.

The count can change the last bits of float32 results: OpenBLAS takes another code path
for some shapes on one thread than on two. So a training run keeps one count from start to
end (:func:`fixed`, used by :mod:`autograd_mnist.runs`, which records the count in the
checkpoint for its resume). Fix the count in a loop of your own when runs must match bit
for bit across processes.

A user's choice always wins and stops the adapting: :func:`set_num_threads`, one of
:data:`ENV_VARS` set when the count is first needed, or a BLAS thread count changed behind
our back (e.g. ``threadpoolctl.threadpool_limits``), noticed at the next check.

Also at the first safe point (or the first :func:`set_num_threads`),
:func:`autograd_mnist.runtime.make_idle_blas_threads_sleep` makes OpenBLAS's idle threads
sleep instead of spinning, whatever the import order, and
:func:`autograd_mnist.allocator.keep_large_blocks` keeps freed large blocks for reuse.
Importing the package changes nothing.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from threadpoolctl import ThreadpoolController

from autograd_mnist import allocator, runtime

_T = TypeVar("_T")

__all__ = [
    "ENV_VARS",
    "REFRESH_SECONDS",
    "SMALL_MATMUL",
    "SPARE",
    "CpuSample",
    "choose_threads",
    "env_threads",
    "fixed",
    "get_num_threads",
    "kernel_threads",
    "max_threads",
    "on_one_blas_thread",
    "others_load",
    "read_cpu_sample",
    "refresh",
    "set_num_threads",
]

ENV_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables through which a user fixes the BLAS thread count (first set wins)."""
REFRESH_SECONDS = 0.5
"""The default count is re-checked at most this often (reading ``/proc/stat``: ~30 us)."""
SPARE = 0.25
"""A core counts as idle if other processes used at most this much of it (on average over
the last interval): a thread sharing its core with a busy process slows the whole matmul."""
SMALL_MATMUL = 1 << 20
"""Matrix products of fewer multiply-adds than this run on one BLAS thread, whatever the
count (:func:`on_one_blas_thread`): waking a second thread costs more than it saves. R0
at batch 1 took 1.09-1.14 ms a step on two threads with this rule, 1.18-1.26 ms without
it, 1.10-1.14 ms on one thread. Every product of the presets below this size gives
OpenBLAS's same bits on one thread as on two (``tests/test_threads_small.py``), so no
result changes."""
STAT_PATH = "/proc/stat"
_TICK = 1.0 / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


def max_threads() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class CpuSample:
    """What :func:`read_cpu_sample` reads: the CPU time of our cores and of this process."""

    wall: float
    """``time.monotonic()`` when read, seconds."""
    busy: float
    """CPU-seconds every process spent on the cores we may run on, since boot."""
    own: float
    """CPU-seconds this process spent (all its threads: ``time.process_time()``)."""
    running: int
    """Runnable tasks on the whole machine at that moment (``procs_running``)."""


def read_cpu_sample(cpus: set[int], path: str | None = None) -> CpuSample | None:
    """Read ``path`` (default :data:`STAT_PATH`, ``/proc/stat``) for the cores in ``cpus``,
    and this process's CPU time; None if the file cannot be read.

    Busy time is user + nice + system + irq + softirq + steal (steal: a hypervisor gave the
    core to another machine); idle and iowait are not busy.
    """
    try:
        with open(path or STAT_PATH) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    busy_ticks, running = 0, 0
    for line in lines:
        if not line.startswith(("cpu", "procs_running")):
            continue  # e.g. the long "intr" line: not split for nothing
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
            busy_ticks += user + nice + system + irq + softirq + steal
        elif name == "procs_running":
            running = int(fields[0])
    return CpuSample(time.monotonic(), busy_ticks * _TICK, time.process_time(), running)


def others_load(before: CpuSample, after: CpuSample) -> float:
    """Cores other processes kept busy between the two samples (average, >= 0)."""
    wall = after.wall - before.wall
    if wall <= 0:
        return 0.0
    return max(0.0, (after.busy - before.busy) - (after.own - before.own)) / wall


def choose_threads(cores: int, others: float) -> int:
    """The thread count for ``cores`` cores of which other processes keep ``others`` busy:
    the idle ones (at least 1), a core counting as idle if others used at most
    :data:`SPARE` of it."""
    return max(1, min(cores, math.floor(cores - others + SPARE)))


def env_threads(environ: Any = None) -> int | None:
    """The count a user fixed in :data:`ENV_VARS` (the first set to an integer >= 1)."""
    environ = os.environ if environ is None else environ
    for var in ENV_VARS:
        value = str(environ.get(var, "")).strip()
        if value.isdigit() and int(value) >= 1:
            return int(value)
    return None


@dataclass
class _State:
    """The process's thread setting (one per process; changed under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    started: bool = False  # the first safe point has passed (idle BLAS threads sleep)
    explicit: int | None = None  # the user's count; None: adapt
    pinned: bool = False  # explicit was set by fixed(), not by the user
    current: int | None = None  # the count in use (None: not decided yet)
    applied: int | None = None  # what we last gave the BLAS (to notice others' changes)
    sample: CpuSample | None = None
    next_check: float = 0.0
    blas: list[Any] | None = None  # threadpoolctl's controllers of the BLAS libraries


_state = _State()


def _blas(s: _State) -> list[Any]:
    """The loaded BLAS libraries' threadpoolctl controllers (found once)."""
    if s.blas is None:
        s.blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    return s.blas


def _blas_threads(s: _State) -> int | None:
    libs = _blas(s)
    return int(libs[0].get_num_threads()) if libs else None


def _apply(s: _State, n: int) -> None:
    """Give the BLAS ``n`` threads (if that is not what it has) and make ``n`` current."""
    if s.applied != n:
        for lib in _blas(s):
            lib.set_num_threads(n)
    s.current = s.applied = n


def _start(s: _State) -> None:
    """First use: idle BLAS threads sleep, large freed blocks stay in the process
    (:mod:`autograd_mnist.allocator`); a count from the environment is the user's."""
    if not s.started:
        s.started = True
        runtime.make_idle_blas_threads_sleep()
        allocator.keep_large_blocks()
        if s.explicit is None:
            s.explicit = env_threads()
            if s.explicit is not None:
                _apply(s, s.explicit)  # usually what the BLAS read at load already


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for the BLAS and our own kernels, from now on (as
    ``torch.set_num_threads``). Stops the default's adapting to the machine's load.

    Call it from the thread that computes, between computations (not while another thread
    of this process runs a matmul). More threads than cores is allowed, as in PyTorch.

    Raises:
        TypeError: if ``n`` is not an int.
        ValueError: if ``n`` < 1.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: got {type(n).__name__} {n!r}, expected an int >= 1")
    if n < 1:
        raise ValueError(f"set_num_threads: got {n}, expected an int >= 1")
    s = _state
    with s.lock:
        _start(s)
        s.explicit, s.pinned = n, False
        s.applied = None  # apply even if it equals what we set before
        _apply(s, n)


def get_num_threads() -> int:
    """The number of threads the BLAS and the optimizer's update use now (as
    ``torch.get_num_threads``): the count set by :func:`set_num_threads` or the
    environment, else the default's current choice (it may change with the machine's
    load; before the first training step, the BLAS's own count)."""
    s = _state
    if s.explicit is not None:
        return s.explicit
    if s.current is not None:
        return s.current
    return env_threads() or _blas_threads(s) or max_threads()


def on_one_blas_thread(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` with the BLAS held at one thread, then given back the count it had:
    for a call too small to gain from more (see :data:`SMALL_MATMUL`). With one thread
    already, just the call.

    The count is process-wide: a large matmul another Python thread runs meanwhile runs
    on one thread too. For OpenBLAS, threadpoolctl lets one Python thread only (the first
    to set a count) change it; from another, the call runs with the count as it is.
    """
    s = _state
    libs = _blas(s)
    counts = [lib.get_num_threads() for lib in libs]
    if all(n is None or n <= 1 for n in counts):
        return fn(*args)
    for lib in libs:
        lib.set_num_threads(1)
    try:
        return fn(*args)
    finally:
        for lib, n in zip(libs, counts):
            if n is not None:
                lib.set_num_threads(n)


def kernel_threads() -> int:
    """Threads for our own kernels (the blockwise update, ``_parallel``): the current
    count, or every core before the count is decided."""
    s = _state
    n = s.explicit or s.current
    return n if n is not None else max_threads()


def refresh() -> None:
    """A safe point: re-check the default count if :data:`REFRESH_SECONDS` have passed.

    Cheap when there is nothing to do (a clock read). Only in the main thread: another
    thread of this process might be inside a BLAS call.
    """
    s = _state
    if (s.started and s.explicit is not None) or time.monotonic() < s.next_check:
        return
    if threading.current_thread() is not threading.main_thread():
        return
    with s.lock:
        _start(s)
        if s.explicit is None:
            _adapt(s)


@contextlib.contextmanager
def fixed(n: int | None = None) -> Iterator[int]:
    """One thread count for the whole block (a training run), so that its results do not
    depend on the machine's load (the count can change float32 results' last bits).

    The count is the user's, if one was chosen (:func:`set_num_threads` or the
    environment); else ``n`` (e.g. the count a run was started with, when it resumes);
    else the default's choice at the start of the block. The default's adapting pauses
    inside the block and resumes after it.

    Yields:
        The count in use.

    Raises:
        ValueError: for an ``n`` that is not an int >= 1 (or None).
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"fixed: got {n!r}, expected an int >= 1 or None")
    s = _state
    with s.lock:
        _start(s)
        if s.explicit is None:
            if n is None:
                _adapt(s)  # choose now (this may find a count set behind our back: theirs)
                n = s.current if s.explicit is None else s.explicit
            if s.explicit is None:
                assert n is not None
                s.explicit, s.pinned, s.applied = n, True, None
                _apply(s, n)
        count = s.explicit
    try:
        yield count
    finally:
        with s.lock:
            if s.pinned:  # not replaced by a user's choice inside the block
                s.explicit, s.pinned = None, False


def _adapt(s: _State) -> None:
    """Pick the count from the cores others left idle since the last check."""
    cores = max_threads()
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:
        cpus = set(range(cores))
    sample = read_cpu_sample(cpus)
    s.next_check = time.monotonic() + REFRESH_SECONDS
    if sample is None:  # no /proc/stat: every core
        _apply(s, cores)
        return
    if s.applied is not None and _blas_threads(s) not in (None, s.applied):
        s.explicit = s.current = _blas_threads(s)  # changed by someone else: theirs
        return
    if s.sample is None:  # first check: others' runnable tasks now (we are one)
        others = float(max(0, sample.running - 1))
    else:
        others = others_load(s.sample, sample)
    s.sample = sample
    _apply(s, choose_threads(cores, others))


def _reset() -> None:
    """Forget every setting (for tests): the next safe point starts over."""
    global _state
    _state = _State()
