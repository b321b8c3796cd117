"""benchmarks/floor.py: the hand-written NumPy step of R0 computes what the engine does
(so that its time is a fair floor), and the script runs with and without PyTorch."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import numpy as np
import pytest
from helpers import ROOT, run_python
from test_benchmarks import WITHOUT_TORCH

FLOOR = ROOT / "benchmarks" / "floor.py"


def load_floor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_floor", FLOOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.random((40, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 40)


def test_hand_written_step_gives_the_engines_weights() -> None:
    floor = load_floor()
    images, labels = data()
    assert floor.check_same_weights(images, labels, steps=20) < floor.MATCH


@pytest.mark.parametrize("planted", ["lr", "pool", "weight"])
def test_weight_check_catches_a_wrong_hand_written_step(
    planted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is not vacuous: a step that differs from the engine's in one place (a
    learning rate 1% off, the pool's argmax misplaced, one starting weight 1% off) is far
    outside it."""
    floor = load_floor()
    images, labels = data()
    if planted == "lr":
        original = floor.NumpyStep.__init__

        def init(self: object, model: object) -> None:
            original(self, model)
            self.lr = np.float32(floor.LR * 1.01)  # type: ignore[attr-defined]

        monkeypatch.setattr(floor.NumpyStep, "__init__", init)
    elif planted == "pool":
        original_pool = floor.NumpyStep._pool

        def pool(self: object, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out, arg = original_pool(self, z)
            return out, (arg + 1) % 4

        monkeypatch.setattr(floor.NumpyStep, "_pool", pool)
    else:
        original = floor.NumpyStep.__init__

        def init(self: object, model: object) -> None:
            original(self, model)
            self.w2[3, 7] *= 1.01  # type: ignore[attr-defined]

        monkeypatch.setattr(floor.NumpyStep, "__init__", init)
    assert floor.check_same_weights(images, labels, steps=20) > 10 * floor.MATCH


@pytest.mark.parametrize("block_torch", [False, True])
def test_floor_script_runs(block_torch: bool) -> None:
    if not block_torch and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    args = [str(FLOOR), "--rounds", "1", "--steps", "20"]
    prefix = ["-c", WITHOUT_TORCH] if block_torch else []
    proc = run_python([*prefix, *args], cwd=ROOT, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    for line in (
        "hand-written step vs ours after 20 steps: largest weight difference",
        "ops per step: 13 recorded by the forward, 28 run by backward and the step",
        "the engine's cheapest op (x * y on one element, forward and backward):",
        "round    numpy     ours",
        "engine bookkeeping:",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert ("torch not found" in out) == block_torch
    assert ("ours/torch" in out) != block_torch
    assert "  med " in out
