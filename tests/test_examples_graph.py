"""examples/plot_graph.py runs end to end and writes the picture where --out says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
@pytest.mark.parametrize("extra", [[], ["--grad"]])
def test_plot_graph_example(tmp_path: Path, extra: list[str]) -> None:
    out = tmp_path / "mlp.svg"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "plot_graph.py"), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(out.resolve()) in result.stdout
    svg = out.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    for label in ("fc1.weight", "fc2.bias", "Linear", "ReLU", "CrossEntropy"):
        assert label in svg
    assert ("grad norm" in svg) == bool(extra)
    assert not (tmp_path / "graph.svg").exists()  # --out honoured, no default file
