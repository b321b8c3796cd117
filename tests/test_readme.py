"""The README's Python tour runs as written (in a temporary folder: it draws graph.svg)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (the tour draws a graph)")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 4, "the tour lost its examples"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile("\n".join(blocks), str(README), "exec"), namespace)  # noqa: S102
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith("<?xml")


def test_readme_test_command_is_the_ci_command() -> None:
    ci = (README.parent / ".ci" / "run").read_text()
    command = "HYPOTHESIS_PROFILE=ci python -m pytest -q"
    assert command in README.read_text()
    assert command in ci
