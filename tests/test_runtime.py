"""runtime.ensure_blas_thread_timeout: set before OpenBLAS loads, by re-executing if need be,
never in-process from Python calls, never at import."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import pytest
from helpers import run_python

from autograd_mnist import cli, runtime

VAR = runtime.BLAS_THREAD_TIMEOUT_VAR

# The child reports its pid each time it starts: a re-executed child starts twice, same pid.
CHILD = """\
import os, sys
print("start", os.getpid(), os.environ.get("OPENBLAS_THREAD_TIMEOUT"), flush=True)
import autograd_mnist  # loads NumPy, so the variable can only apply by re-executing
from autograd_mnist import runtime
ok = runtime.ensure_blas_thread_timeout()
print("after", os.getpid(), ok, os.environ.get("OPENBLAS_THREAD_TIMEOUT"), sys.argv[1:])
"""


@pytest.fixture(autouse=True)
def _unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the variable (children inherit this environment)."""


def _run_child(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> list[list[str]]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    result = run_python([str(script), *args], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    return [line.split(" ", 4) for line in result.stdout.splitlines()]


def test_script_is_reexecuted_with_the_variable(tmp_path: Path) -> None:
    lines = _run_child(tmp_path, "--flag", "x")
    assert [line[0] for line in lines] == ["start", "start", "after"]
    (_, pid1, before), (_, pid2, again), after = lines[0], lines[1], lines[2]
    assert before == "None" and again == runtime.BLAS_THREAD_TIMEOUT  # the new process has it
    assert pid1 == pid2 == after[1]  # exec: same process, same command line
    assert after[2:] == ["True", "20", "['--flag', 'x']"]


def test_a_value_the_user_set_is_kept_without_reexecuting(tmp_path: Path) -> None:
    lines = _run_child(tmp_path, env={VAR: "8"})
    assert [line[0] for line in lines] == ["start", "after"]
    assert lines[1][2:4] == ["True", "8"]


def test_import_changes_nothing() -> None:
    code = "import os, autograd_mnist; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    result = run_python(["-c", code])
    assert result.stdout.strip() == "None", result.stderr


def test_python_dash_c_is_not_reexecuted() -> None:
    code = (
        "import os, autograd_mnist.runtime as r; print(r.ensure_blas_thread_timeout(), "
        "os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    )
    result = run_python(["-c", code])
    assert result.stdout.strip() == "False None", result.stderr


def _no_exec(*args: object) -> NoReturn:
    raise AssertionError(f"os.execv called with {args}")


def test_in_process_main_never_execs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "execv", _no_exec)
    assert cli.main(["summary", "--model", "two-layer"]) == 0
    assert VAR not in os.environ
    assert "Total params" in capsys.readouterr().out


def test_main_without_argv_applies_it_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(runtime, "ensure_blas_thread_timeout", lambda: calls.append("x") or True)
    monkeypatch.setattr(sys, "argv", ["autograd-mnist", "summary", "--model", "two-layer"])
    assert cli.main() == 0
    assert calls == ["x"]


def test_interactive_sessions_are_never_reexecuted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "execv", _no_exec)
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)  # a REPL
    assert runtime.ensure_blas_thread_timeout() is False
    assert VAR not in os.environ
