"""The allocator setting (glibc's malloc keeps large freed blocks): applied once, at the
first training step, never over a user's own malloc settings."""

from __future__ import annotations

import platform

import pytest
from helpers import run_python

from autograd_mnist import allocator, threads

CHILD = """\
from autograd_mnist import allocator
print(allocator.keep_large_blocks(), allocator.keep_large_blocks())
"""


def _child(env: dict[str, str] | None = None) -> str:
    result = run_python(["-c", CHILD], env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_thresholds_are_raised_once_on_glibc() -> None:
    assert _child() == "True True"


@pytest.mark.parametrize("var", allocator.USER_VARS)
def test_a_users_malloc_setting_wins(var: str) -> None:
    value = "glibc.malloc.arena_max=2" if var == "GLIBC_TUNABLES" else "131072"
    assert _child({var: value}) == "False False"


def test_the_first_training_step_applies_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(allocator, "keep_large_blocks", lambda: calls.append(1) or True)
    monkeypatch.setattr(threads, "_state", threads._State())  # nothing started yet
    threads.refresh()
    threads.refresh()
    assert calls == [1]
