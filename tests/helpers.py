"""Helpers shared by the tests that run the package, an example or a benchmark as a child,
and by the command-line tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from autograd_mnist import cli, config

ROOT = Path(__file__).resolve().parents[1]

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
"""Skip a test that renders through Graphviz's ``dot`` program when it is not installed."""


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the repository first on PYTHONPATH (so a child
    imports this checkout, installed or not), updated with ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def run_python(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python *args`` with :func:`child_env` (plus ``env``) and capture its text
    output; the exit code is the caller's to check."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=child_env(env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def answer_load_data(monkeypatch: pytest.MonkeyPatch, data: Any) -> list[tuple[str, Any]]:
    """Make every ``config.load_data(dataset, data_dir)`` call return ``data`` (no
    network); the list it returns records the calls."""
    calls: list[tuple[str, Any]] = []

    def load(dataset: str, data_dir: Any = None) -> Any:
        calls.append((dataset, data_dir))
        return data

    monkeypatch.setattr(config, "load_data", load)
    return calls


def fails_cleanly(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI on ``argv``; assert it failed with exit code 2 and one
    ``autograd-mnist: error:`` line on stderr, and return that line."""
    code = cli.main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autograd-mnist: error: "), err
    return lines[0]
