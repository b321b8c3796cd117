"""set_num_threads / get_num_threads, the load-following default (on faked /proc/stat
readings), the user's choice winning, the CLI's --threads, and the run-time BLAS timeout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import run_python
from threadpoolctl import ThreadpoolController

import autograd_mnist as am
from autograd_mnist import _parallel, cli, runtime, threads
from autograd_mnist.optim import _blockwise

STAT = """\
cpu  {a} 0 0 900 0 0 0 0 0 0
cpu0 {c0} 5 10 400 7 1 2 3 0 0
cpu1 {c1} 0 0 500 0 0 0 0 0 0
intr 1 2 3
procs_running {running}
procs_blocked 0
"""


def _blas_threads() -> int:
    libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    return int(libs[0].get_num_threads())


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from no setting and no thread variables; the BLAS count is restored."""
    for var in threads.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    before = _blas_threads()
    threads._reset()
    yield
    threads._reset()
    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api == "blas":
            lib.set_num_threads(before)


def _sample(wall: float, busy: float, own: float, running: int = 1) -> threads.CpuSample:
    return threads.CpuSample(wall=wall, busy=busy, own=own, running=running)


class FakeMachine:
    """Replaces read_cpu_sample and the clock: ``others`` cores busy besides us."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cores: int = 2) -> None:
        self.now, self.busy, self.own, self.running = 100.0, 0.0, 0.0, 1
        monkeypatch.setattr(threads, "max_threads", lambda: cores)
        monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(cores)))
        monkeypatch.setattr(threads, "read_cpu_sample", self.read)
        monkeypatch.setattr(threads.time, "monotonic", lambda: self.now)

    def read(self, cpus: set[int], path: str | None = None) -> threads.CpuSample:
        return _sample(self.now, self.busy, self.own, self.running)

    def run(self, seconds: float, others: float, ours: float) -> None:
        """``seconds`` pass with others keeping ``others`` cores busy and us ``ours``."""
        self.now += seconds
        self.busy += seconds * (others + ours)
        self.own += seconds * ours


# ----- set / get -----


def test_set_get_round_trip_sets_the_blas_too() -> None:
    am.set_num_threads(1)
    assert am.get_num_threads() == 1 and _blas_threads() == 1
    am.set_num_threads(2)
    assert am.get_num_threads() == 2 and _blas_threads() == 2
    assert threads.kernel_threads() == 2


@pytest.mark.parametrize("bad", [0, -1])
def test_set_num_threads_rejects_counts_below_one(bad: int) -> None:
    with pytest.raises(ValueError, match=f"set_num_threads: got {bad}, expected an int >= 1"):
        am.set_num_threads(bad)


@pytest.mark.parametrize("bad", [True, 1.5, "2", None])
def test_set_num_threads_rejects_non_ints(bad: Any) -> None:
    with pytest.raises(TypeError, match="set_num_threads: got .* expected an int >= 1"):
        am.set_num_threads(bad)


def test_blockwise_runs_on_one_thread_when_told(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoPool:
        def map(self, *args: Any) -> Any:
            raise AssertionError("the pool was used with one thread")

        submit = map

    monkeypatch.setattr(_parallel, "_pool", NoPool())
    am.set_num_threads(1)
    p = np.ones(_blockwise.PARALLEL_MIN * 2, np.float32)

    def halve(pk: np.ndarray, scratch: np.ndarray) -> None:
        pk *= np.float32(0.5)

    _blockwise.blockwise(halve, [p], np.empty((2, _blockwise.BLOCK), np.float32))
    assert np.all(p == 0.5)


# ----- the default: idle cores -----


def test_read_cpu_sample_sums_busy_time_of_our_cores(tmp_path: Path) -> None:
    path = tmp_path / "stat"
    path.write_text(STAT.format(a=1, c0=100, c1=50, running=4))
    s0 = threads.read_cpu_sample({0}, str(path))
    s01 = threads.read_cpu_sample({0, 1}, str(path))
    assert s0 is not None and s01 is not None
    tick = threads._TICK
    assert s0.busy == pytest.approx((100 + 5 + 10 + 1 + 2 + 3) * tick)  # not idle, iowait
    assert s01.busy == pytest.approx(s0.busy + 50 * tick)
    assert s0.running == 4
    assert threads.read_cpu_sample({0}, str(tmp_path / "missing")) is None


def test_others_load_subtracts_our_own_time() -> None:
    a, b = _sample(0.0, 10.0, 1.0), _sample(0.5, 11.0, 1.5)  # 1 CPU-s in 0.5 s, half ours
    assert threads.others_load(a, b) == pytest.approx(1.0)
    assert threads.others_load(b, b) == 0.0
    assert threads.others_load(a, _sample(0.5, 10.0, 1.5)) == 0.0  # never negative


@pytest.mark.parametrize(
    ("cores", "others", "expected"),
    [(2, 0.0, 2), (2, 0.2, 2), (2, 0.3, 1), (2, 1.0, 1), (2, 4.0, 1), (8, 2.8, 5), (1, 0, 1)],
)
def test_choose_threads_counts_idle_cores(cores: int, others: float, expected: int) -> None:
    assert threads.choose_threads(cores, others) == expected


def test_default_follows_the_load_and_rechecks_at_most_every_half_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = FakeMachine(monkeypatch)
    m.running = 2  # one other runnable task at the first check
    threads.refresh()
    assert am.get_num_threads() == 1 and _blas_threads() == 1
    m.run(0.6, others=0.0, ours=1.0)  # the machine went quiet
    threads.refresh()
    assert am.get_num_threads() == 2 and _blas_threads() == 2
    m.run(0.2, others=1.0, ours=1.0)  # busy again, but too soon to look
    threads.refresh()
    assert am.get_num_threads() == 2
    m.run(0.4, others=1.0, ours=1.0)
    threads.refresh()
    assert am.get_num_threads() == 1 and threads.kernel_threads() == 1


def test_an_explicit_count_wins_over_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    m = FakeMachine(monkeypatch)
    am.set_num_threads(2)
    m.run(1.0, others=2.0, ours=1.0)
    threads.refresh()
    assert am.get_num_threads() == 2 and _blas_threads() == 2


def test_a_thread_variable_wins_over_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    m = FakeMachine(monkeypatch)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    m.running = 5
    threads.refresh()
    assert am.get_num_threads() == 2 and _blas_threads() == 2


def test_a_change_made_behind_our_back_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    m = FakeMachine(monkeypatch)
    threads.refresh()  # quiet: 2
    assert _blas_threads() == 2
    ThreadpoolController().limit(limits=1, user_api="blas")  # the user, with threadpoolctl
    m.run(1.0, others=0.0, ours=1.0)
    threads.refresh()
    assert am.get_num_threads() == 1 and _blas_threads() == 1


def test_refresh_does_nothing_outside_the_main_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    m = FakeMachine(monkeypatch)
    m.running = 3
    worker = threading.Thread(target=threads.refresh)
    worker.start()
    worker.join()
    assert threads._state.current is None and not threads._state.started


def test_env_threads_reads_the_first_valid_variable() -> None:
    env = {"OPENBLAS_NUM_THREADS": "", "OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "1"}
    assert threads.env_threads(env) == 3
    assert threads.env_threads({"OMP_NUM_THREADS": "zero"}) is None
    assert threads.env_threads({"OPENBLAS_NUM_THREADS": "0"}) is None


# ----- the command line -----


def test_cli_threads_is_applied_before_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(threads, "set_num_threads", calls.append)
    assert cli.main(["train", "--threads", "1", "--resume", "no-such-run"]) == 2
    assert cli.main(["evaluate", "no-such-run", "--threads", "3"]) == 2
    assert calls == [1, 3]


def test_cli_threads_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["train", "--threads", "0"]) == 2
    assert "expected an integer >= 1" in capsys.readouterr().err


# ----- idle BLAS threads sleep, at run time -----

SLEEP_CHILD = """\
import numpy as np
a = np.ones((256, 256), np.float32); a @ a  # the pool has started, with the default timeout
import os
from autograd_mnist import runtime
print(runtime.make_idle_blas_threads_sleep(), runtime.blas_thread_timeout(),
      os.environ.get("OPENBLAS_THREAD_TIMEOUT"), float((a @ a)[0, 0]))
"""


def _sleep_child(env: dict[str, str] | None = None) -> list[str]:
    if runtime.blas_thread_timeout() is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS that reports its thread timeout")
    result = run_python(["-c", SLEEP_CHILD], env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_idle_blas_threads_sleep_after_numpy_was_imported_first() -> None:
    # Read by OpenBLAS, and gone from the environment again; matmuls still work.
    assert _sleep_child() == ["True", "20", "None", "256.0"]


def test_a_timeout_the_user_set_is_kept() -> None:
    assert _sleep_child({"OPENBLAS_THREAD_TIMEOUT": "8"}) == ["True", "8", "8", "256.0"]


# ----- one count for a whole run -----


def test_fixed_pins_the_default_choice_and_adapting_resumes_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = FakeMachine(monkeypatch)
    m.running = 2  # one other runnable task: the default's choice is 1
    with threads.fixed() as n:
        assert n == 1 and am.get_num_threads() == 1 and _blas_threads() == 1
        m.run(1.0, others=0.0, ours=1.0)  # the machine went quiet: not looked at inside
        threads.refresh()
        assert am.get_num_threads() == 1 and _blas_threads() == 1
    m.run(1.0, others=0.0, ours=1.0)
    threads.refresh()  # outside the block the default adapts again
    assert am.get_num_threads() == 2 and _blas_threads() == 2


def test_fixed_takes_a_given_count_unless_the_user_chose_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeMachine(monkeypatch)
    with threads.fixed(2) as n:
        assert n == 2 and _blas_threads() == 2
    am.set_num_threads(1)
    with threads.fixed(2) as n:  # the user's choice wins over a recorded count
        assert n == 1 and _blas_threads() == 1
    assert am.get_num_threads() == 1  # and is still theirs after the block


def test_a_choice_made_inside_fixed_is_kept_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    m = FakeMachine(monkeypatch)
    with threads.fixed(2):
        am.set_num_threads(1)
    m.run(1.0, others=0.0, ours=1.0)
    threads.refresh()
    assert am.get_num_threads() == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_fixed_rejects_bad_counts(bad: Any) -> None:
    with pytest.raises(ValueError, match="fixed"), threads.fixed(bad):
        pass


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adam", "SGD"])
def test_every_optimizer_step_is_a_safe_point(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Optimizers whose update bypasses the blockwise kernel re-check the count too."""
    calls: list[int] = []
    monkeypatch.setattr(threads, "refresh", lambda: calls.append(1))
    p = am.tensor(np.ones(3, np.float32), requires_grad=True)
    (p * p).sum().backward()
    getattr(am.optim, name)([p], lr=0.1).step()
    assert calls
