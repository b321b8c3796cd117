"""examples/tutorial.ipynb runs top to bottom in a real kernel, on synthetic data, offline.

The kernel is the ``python3`` kernelspec, which ipykernel resolves to this interpreter; it
inherits this process's environment, so the quick switch and PYTHONPATH reach it.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest
from helpers import ROOT, child_env

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
pytest.importorskip("ipykernel", reason="the dev extra installs ipykernel")
pytest.importorskip("matplotlib", reason="the tutorial draws with matplotlib")

NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"
ACCURACY = re.compile(r"test accuracy: ([0-9.]+) on \d+ (\w+) test images")
FLOOR = 0.9  # the synthetic classes are easy: one epoch on 2,000 images scores 1.0


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every output of every cell, after executing the notebook in a fresh kernel."""
    mp = pytest.MonkeyPatch()
    cwd = tmp_path_factory.mktemp("tutorial")
    env = child_env(
        {
            "AUTOGRAD_MNIST_TUTORIAL_QUICK": "1",
            "AUTOGRAD_MNIST_DATA": str(cwd / "no-data-here"),  # any load attempt would fail
        }
    )
    env.pop("MPLBACKEND", None)  # the kernel's inline backend draws the figures
    for key, value in env.items():
        mp.setenv(key, value)
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
        )
        client.execute()
    finally:
        mp.undo()
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _text(outputs: list[dict[str, Any]]) -> str:
    return "".join(out["text"] for out in outputs if out["output_type"] == "stream")


def test_committed_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "the tutorial lost its code"
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_runs_without_errors(outputs: list[dict[str, Any]]) -> None:
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert errors == []
    assert "Traceback" not in _text(outputs)


def test_trains_above_the_floor_on_synthetic_data(outputs: list[dict[str, Any]]) -> None:
    found = ACCURACY.findall(_text(outputs))
    assert len(found) == 1, _text(outputs)
    accuracy, data = found[0]
    assert data == "synthetic"
    assert float(accuracy) >= FLOOR


def test_draws_graphs_and_figures(outputs: list[dict[str, Any]]) -> None:
    shown = [o["data"] for o in outputs if o["output_type"] == "display_data"]
    pngs = sum("image/png" in d for d in shown)
    svgs = sum("image/svg+xml" in d for d in shown)
    # data sample, loss curve, filters, feature maps (no mistakes on synthetic data)
    assert pngs >= 4
    if shutil.which("dot") is not None:
        assert svgs == 4  # the four computation graphs
    else:
        assert "digraph autograd" in _text(outputs)  # printed as DOT text instead


def test_gradients_and_checks_print_what_the_text_says(outputs: list[dict[str, Any]]) -> None:
    text = _text(outputs)
    assert "dy/dx = 12.0  d2y/dx2 = 12.0  d3y/dx3 = 6.0" in text
    assert "gradcheck: True" in text and "gradgradcheck: True" in text
    assert "gradcheck of the wrong backward: False" in text
