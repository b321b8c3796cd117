"""examples/export_onnx.py runs with --quick (synthetic data, offline) and ONNX Runtime's
accuracy equals ours. Skipped without onnx and onnxruntime."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT, run_python

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def test_export_onnx_example_quick(tmp_path: Path) -> None:
    env = {"OPENBLAS_NUM_THREADS": "1", "AUTOGRAD_MNIST_DATA": str(tmp_path / "no-data-here")}
    result = run_python(
        [str(ROOT / "examples" / "export_onnx.py"), "--quick"], cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ours = re.search(r"autograd_mnist: ([\d.]+)%", result.stdout)
    theirs = re.search(r"ONNX Runtime: +([\d.]+)%", result.stdout)
    assert ours and theirs and ours.group(1) == theirs.group(1), result.stdout
    assert "same prediction for 64 of 64 test images" in result.stdout
    for name in ("model.onnx", "model.safetensors"):
        assert (tmp_path / "runs" / "example-onnx" / name).is_file()
    assert not (tmp_path / "no-data-here").exists()
