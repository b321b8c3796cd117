"""examples/custom_op.py runs and its checks pass; docs/custom_ops.md shows the same code."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import numpy as np
import pytest
from helpers import ROOT, run_python

import autograd_mnist as am

EXAMPLE = ROOT / "examples" / "custom_op.py"
DOC = ROOT / "docs" / "custom_ops.md"
CHECKS = [
    "ok: forward, backward, large inputs",
    "ok: gradcheck (first derivative",
    "ok: gradgradcheck (second derivative",
    "ok: gradcheck rejects a backward with a sign slip",
    "ok: check_op on 10 random arrays",
    "all checks passed",
]


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("custom_op_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_checks_pass(example: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert example.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for line in CHECKS:
        assert line in out, out


def test_softplus_values_gradients_and_dtypes(example: ModuleType) -> None:
    x64 = np.linspace(-50.0, 50.0, 11)
    for dtype in (np.float64, np.float32):
        x = am.Tensor(x64.astype(dtype), requires_grad=True)
        y = example.softplus(x)
        y.backward(np.ones_like(x.data))
        assert y.dtype == dtype and np.asarray(x.grad).dtype == dtype
        np.testing.assert_allclose(y.data, np.logaddexp(0.0, x64), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(x.grad), 1 / (1 + np.exp(-x64)), rtol=1e-6)


def test_example_runs_as_a_script() -> None:
    result = run_python([str(EXAMPLE), "--quick"])
    assert result.returncode == 0, result.stdout + result.stderr
    for line in CHECKS:
        assert line in result.stdout, result.stdout


def test_doc_code_is_the_example_code() -> None:
    source = EXAMPLE.read_text()
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 4
    for block in blocks:
        assert block in source, f"docs/custom_ops.md block not in examples/custom_op.py:\n{block}"
