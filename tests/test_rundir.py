"""Run folders never lose a user's files: exclusive folders, the lock, leftovers, divergence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import child_env

from autograd_mnist import config, models, runs, serialization, train
from autograd_mnist.checkpoint import RunInterrupted
from autograd_mnist.config import RunConfig
from autograd_mnist.data import synthetic_data
from autograd_mnist.errors import RunError, TrainingDiverged
from autograd_mnist.rundir import LOCK, RunLock, check_new, claim_existing, claim_new

DATA = synthetic_data(n_train=48, n_test=24, seed=1)
SMALL: dict[str, Any] = {
    "model": "mlp",
    "model_config": {"hidden": [16]},
    "batch_size": 16,
    "progress": False,
}


def _config(out: Path, **kw: Any) -> RunConfig:
    return RunConfig(out=str(out), **{"epochs": 1, **SMALL, **kw})


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


# ----- which folders a new run may use -----
def test_a_folder_of_user_files_is_refused_and_left_untouched(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    for name in ("metrics.csv", "summary.json", "loss.png", "accuracy.png", "notes.txt"):
        (out / name).write_text(f"the user's {name}\n")
    before = _snapshot(out)
    with pytest.raises(RunError, match=r"--out .*mine is a folder that is not empty.*notes\.txt"):
        runs.train_run(_config(out), data=DATA)
    assert _snapshot(out) == before  # nothing overwritten, nothing added (not even a lock)


def test_a_config_json_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"my": "settings"}\n')
    with pytest.raises(RunError, match="not an autograd-mnist run"):
        runs.train_run(_config(tmp_path), data=DATA)
    assert (tmp_path / "config.json").read_text() == '{"my": "settings"}\n'


def test_empty_new_and_nested_folders_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "a" / "b" / "new"):
        result = runs.train_run(_config(out), data=DATA)
        assert (out / "checkpoint.npz").is_file() and result.run_dir == out
        assert not (out / LOCK).exists()


def test_empty_out_and_a_file_as_out_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="bad out: got ''"):
        runs.train_run(RunConfig(out="", **SMALL), data=DATA)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="is a file, not a folder"):
        runs.train_run(_config(tmp_path / "file"), data=DATA)


def test_a_finished_run_is_refused_with_the_resume_command(tmp_path: Path) -> None:
    runs.train_run(_config(tmp_path), data=DATA)
    before = _snapshot(tmp_path)
    with pytest.raises(RunError, match=f"continue it with --resume {tmp_path}"):
        runs.train_run(_config(tmp_path), data=DATA)
    assert _snapshot(tmp_path) == before


# ----- a run stopped before its first checkpoint starts again in place -----
def test_ctrl_c_before_the_first_checkpoint_then_the_same_command_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_step = train.train_step

    def interrupted(*args: Any) -> tuple[float, int]:
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train_step", interrupted)
    with pytest.raises(RunInterrupted, match="run the same command again") as info:
        runs.train_run(_config(tmp_path), data=DATA)
    assert str(tmp_path) in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["config.json"]  # no lock left behind
    with pytest.raises(RunError, match="stopped before its first checkpoint.*--out"):
        runs.resume(tmp_path, data=DATA)
    monkeypatch.setattr(train, "train_step", real_step)
    result = runs.train_run(_config(tmp_path, seed=5), data=DATA)  # in place, new settings
    assert result.summary["epochs"] == 1
    assert json.loads((tmp_path / "config.json").read_text())["seed"] == 5


def test_disk_full_at_the_first_checkpoint_leaves_a_restartable_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync, calls = os.fsync, []

    def full(fd: int) -> None:  # config.json gets written; the checkpoint finds the disk full
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", full)
        with pytest.raises(OSError, match="No space left"):
            runs.train_run(_config(tmp_path), data=DATA)
    assert sorted(os.listdir(tmp_path)) == ["config.json"]  # temp file and lock removed
    runs.train_run(_config(tmp_path), data=DATA)
    assert (tmp_path / "checkpoint.npz").is_file()


def test_leftover_temp_files_and_a_stale_lock_are_cleaned_on_the_next_start(
    tmp_path: Path,
) -> None:
    runs.train_run(_config(tmp_path), data=DATA)
    dead = _dead_pid()
    (tmp_path / LOCK).write_text(f"{dead} {os.uname().nodename}\n")
    names = [".checkpoint.npz.abc123.tmp", ".metrics.csv.x.tmp", f".lock.{dead}.k2j4.tmp"]
    leftovers = [tmp_path / name for name in names]
    for path in leftovers:
        path.write_bytes(b"\0" * 1000)
    user_file = tmp_path / ".notes.tmp"  # not a temp file of a run file: kept
    user_file.write_text("mine")
    live = tmp_path / f".lock.{os.getpid()}.k2j4.tmp"  # a live process's lock in the making
    live.write_text("")
    runs.resume(tmp_path, epochs=2, data=DATA)
    assert not any(p.exists() for p in leftovers) and user_file.read_text() == "mine"
    assert live.exists()
    assert not (tmp_path / LOCK).exists()


# ----- the lock -----
def test_a_live_lock_refuses_a_second_process(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        runs.train_run(_config(tmp_path), data=DATA)
        (tmp_path / LOCK).write_text(f"{holder.pid} {os.uname().nodename}\n")
        with pytest.raises(RunError, match=f"in use by process {holder.pid}"):
            runs.resume(tmp_path, epochs=2, data=DATA)
        (tmp_path / "checkpoint.npz").unlink()
        (tmp_path / "metrics.csv").unlink()
        (tmp_path / "summary.json").unlink()
        (tmp_path / "model.safetensors").unlink()
        for png in tmp_path.glob("*.png"):
            png.unlink()
        with pytest.raises(RunError, match="in use by process"):
            runs.train_run(_config(tmp_path), data=DATA)  # restart in place: locked too
    finally:
        holder.kill()
        holder.wait()
    assert (tmp_path / LOCK).read_text().split()[0] == str(holder.pid)  # not ours: kept
    runs.train_run(_config(tmp_path), data=DATA)  # the holder is gone: the lock is stale


def test_lock_objects(tmp_path: Path) -> None:
    lock = RunLock(tmp_path).acquire()
    pid, host = (tmp_path / LOCK).read_text().split()
    assert int(pid) == os.getpid() and host == os.uname().nodename
    with pytest.raises(RunError, match="in use by process"):
        claim_existing(tmp_path)  # our own process holds it: not stale
    lock.release()
    lock.release()  # twice is harmless
    assert not (tmp_path / LOCK).exists()
    (tmp_path / LOCK).write_text("garbage")
    with pytest.raises(RunError, match="an unknown process"):
        RunLock(tmp_path).acquire()
    (tmp_path / LOCK).write_text(f"{_dead_pid()} some-other-host\n")
    with pytest.raises(RunError, match="on some-other-host"):  # cannot check another host
        RunLock(tmp_path).acquire()
    (tmp_path / LOCK).unlink()
    with claim_new(tmp_path / "run") as held:
        assert held.held and (tmp_path / "run" / LOCK).exists()
        with pytest.raises(RunError, match="in use"):
            RunLock(tmp_path / "run").acquire()
    check_new(tmp_path / "run")  # empty again: a new run may use it
    assert not (tmp_path / "run" / LOCK).exists()


_TRAINER = """
import sys, time
from pathlib import Path
from autograd_mnist import runs
from autograd_mnist.config import RunConfig
from autograd_mnist.data import synthetic_data
out, seed, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
data = synthetic_data(n_train=2000, n_test=100, seed=1)
while not go.exists():
    time.sleep(0.01)
try:
    runs.train_run(RunConfig(out=out, model="mlp", model_config={"hidden": [64]}, epochs=epochs,
                             batch_size=8, seed=seed, progress=False), data=data)
except runs.RunError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
"""


def test_two_trainings_into_one_folder_at_once(tmp_path: Path) -> None:
    out, go = tmp_path / "run", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _TRAINER, str(out), str(seed), str(go)],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    time.sleep(0.5)
    go.touch()  # both start at once
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser_err = next(err for code, _, err in results if code == 2)
    assert "in use by process" in loser_err or "already holds a run" in loser_err
    seeds = {
        json.loads((out / "config.json").read_text())["seed"],
        serialization.load(out / "checkpoint.npz")["config"]["seed"],
        json.loads((out / "summary.json").read_text())["seed"],
    }
    assert len(seeds) == 1  # one run's files only
    assert not (out / LOCK).exists()


def test_kill_9_then_sigterm_leave_nothing_that_blocks(tmp_path: Path) -> None:
    out, go = tmp_path / "run", tmp_path / "go"
    go.touch()
    args = [sys.executable, "-c", _TRAINER, str(out), "1", str(go)]
    proc = subprocess.Popen(args, env=child_env())
    deadline = time.monotonic() + 120
    while not (out / "config.json").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (out / LOCK).exists()  # kill -9 runs no cleanup: the lock is stale
    if (out / "checkpoint.npz").exists():  # a busy machine let the child finish an epoch
        runs.resume(out, data=synthetic_data(n_train=2000, n_test=100, seed=1))
    else:
        runs.train_run(RunConfig(out=str(out), **{**SMALL, "epochs": 1}), data=DATA)
    assert not (out / LOCK).exists()

    term = tmp_path / "term"
    code = (
        "import signal, sys; from autograd_mnist import cli; "
        "signal.signal(signal.SIGTERM, cli._terminate); "
        f"sys.argv = ['x', {str(term)!r}, '1', {str(go)!r}, '100']; exec({_TRAINER!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=child_env())
    while not (term / "config.json").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert not (term / LOCK).exists() and not list(term.glob(".*.tmp"))


# ----- divergence (NumPy warns about the overflows on the way: expected here) -----
_diverging = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@_diverging
def test_a_diverging_run_stops_before_any_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(TrainingDiverged, match=r"loss is nan at step \d+ of epoch 1") as info:
        runs.train_run(_config(tmp_path, lr=float("inf"), optimizer="sgd"), data=DATA)
    assert "no checkpoint was written; start again in place" in str(info.value)
    assert isinstance(info.value, RunError) and isinstance(info.value, ValueError)
    assert sorted(os.listdir(tmp_path)) == ["config.json"]
    runs.train_run(_config(tmp_path, lr=1e-3), data=DATA)  # the cure, in place


@_diverging
@pytest.mark.parametrize("lr", [float("inf"), 1e30])
def test_non_finite_learning_rates_diverge_cleanly(tmp_path: Path, lr: float) -> None:
    with pytest.raises(TrainingDiverged, match="training diverged"):
        runs.train_run(_config(tmp_path, lr=lr, optimizer="sgd"), data=DATA)


@_diverging
@pytest.mark.parametrize("how", ["loss", "weight"])
def test_the_last_good_checkpoint_is_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    runs.train_run(_config(tmp_path), data=DATA)
    good = (tmp_path / "checkpoint.npz").read_bytes()
    real_step, steps = train.train_step, []

    def poisoned(model: Any, *args: Any) -> tuple[float, int]:
        loss, correct = real_step(model, *args)
        steps.append(loss)
        if how == "loss":
            return float("nan"), correct
        if len(steps) == 3:  # the epoch's last step: the loss was fine, the weights are not
            next(iter(model.parameters())).data[0, 0] = np.inf
        return loss, correct

    monkeypatch.setattr(train, "train_step", poisoned)
    with pytest.raises(TrainingDiverged) as info:
        runs.resume(tmp_path, epochs=3, data=DATA)
    message = str(info.value)
    expected = {"loss": "the loss is nan at step 1 of epoch 2", "weight": "a weight is not"}[how]
    assert expected in message
    assert f"last good checkpoint (epoch 1) is kept: {tmp_path / 'checkpoint.npz'}" in message
    assert info.value.epoch == 2
    assert (tmp_path / "checkpoint.npz").read_bytes() == good
    assert not (tmp_path / LOCK).exists()


@_diverging
def test_fit_raises_on_a_non_finite_loss_in_a_plain_loop() -> None:
    model = models.build_model("mlp", hidden=[8])
    opt = train.make_optimizer("sgd", model.parameters(), float("inf"))
    (x, y), test = DATA
    with pytest.raises(TrainingDiverged, match="learning rate inf") as info:
        train.fit(model, opt, (x.reshape(len(x), -1), y), epochs=3, batch_size=8, progress=False)
    assert info.value.step is not None and info.value.loss is not None


def test_runs_started_in_the_same_second_get_their_own_default_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default ``runs/<stamp>`` is created exclusively: a run that finds it taken by
    another started in the same second (here: while this one loaded its data) takes
    ``<stamp>-2``, never the other's folder, and never fails."""
    monkeypatch.chdir(tmp_path)
    stamp = Path("runs", "20250101-120000")
    monkeypatch.setattr(config, "_fresh_run_dir", lambda parent: parent / stamp.name)

    def the_other_run_claims_it_meanwhile(dataset: str, data_dir: Any = None) -> Any:
        stamp.mkdir(parents=True, exist_ok=True)
        (stamp / "checkpoint.npz").write_bytes(b"the other run's")
        return DATA

    monkeypatch.setattr(config, "load_data", the_other_run_claims_it_meanwhile)
    cfg = RunConfig(**{"epochs": 1, **SMALL})  # no out: the default folder
    first = runs.train_run(cfg)
    assert first.run_dir == Path("runs", "20250101-120000-2")
    assert (stamp / "checkpoint.npz").read_bytes() == b"the other run's"
    second = runs.train_run(cfg)
    assert second.run_dir == Path("runs", "20250101-120000-3")
    recorded = json.loads((second.run_dir / "config.json").read_text())
    assert recorded["out"] == str(second.run_dir)
    assert runs.load_checkpoint(second.run_dir)["config"]["out"] == str(second.run_dir)


def test_an_empty_path_is_never_the_working_folder(tmp_path: Path) -> None:
    runs.train_run(_config(tmp_path / "r"), data=DATA)
    for call in (lambda: runs.resume(""), lambda: runs.load_checkpoint("")):
        with pytest.raises(RunError, match="no run folder or checkpoint at ''"):
            call()
    with pytest.raises(RunError, match="bad data_dir: got ''") as caught:
        runs.resume(tmp_path / "r", epochs=2, data_dir="")
    assert "bad checkpoint" not in str(caught.value)
