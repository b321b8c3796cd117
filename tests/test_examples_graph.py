"""examples/plot_graph.py runs end to end and writes the picture where --out says."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT, needs_dot, run_python


@needs_dot
@pytest.mark.parametrize("extra", [[], ["--grad"]])
def test_plot_graph_example(tmp_path: Path, extra: list[str]) -> None:
    out = tmp_path / "mlp.svg"
    script = str(ROOT / "examples" / "plot_graph.py")
    result = run_python([script, "--out", str(out), *extra], cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert str(out.resolve()) in result.stdout
    svg = out.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    for label in ("fc1.weight", "fc2.bias", "Linear", "ReLU", "CrossEntropy"):
        assert label in svg
    assert ("grad norm" in svg) == bool(extra)
    assert not (tmp_path / "graph.svg").exists()  # --out honoured, no default file
