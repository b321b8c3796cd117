"""benchmarks/floor.py: each hand-written NumPy step (R0's, R2's) computes what the engine
does, so that its time is a fair floor; the check catches a step wrong in one place; and
the script runs with and without PyTorch."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import numpy as np
import pytest
from helpers import ROOT, run_python
from test_benchmarks import WITHOUT_TORCH

FLOOR = ROOT / "benchmarks" / "floor.py"


@pytest.fixture
def floor(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its sibling _user_loop
    spec = importlib.util.spec_from_file_location("bench_floor", FLOOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


@pytest.mark.parametrize("label", ["r0", "r2"])
def test_hand_written_step_gives_the_engines_weights(floor: ModuleType, label: str) -> None:
    images, labels = data(512)
    assert floor.check_same_weights(label, images, labels, 4) < floor.MATCH


@pytest.mark.parametrize("label", ["r0", "r2"])
@pytest.mark.parametrize("planted", ["lr", "pool", "weight"])
def test_weight_check_catches_a_wrong_hand_written_step(
    floor: ModuleType, label: str, planted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is not vacuous: a step that differs from the engine's in one place (a
    learning rate 1% off, the pool's argmax misplaced, a row of starting weights 1% off) is far
    outside it."""
    images, labels = data(512)
    hand = floor.HAND[label]
    original = hand.__init__

    def init(self: object, model: object) -> None:
        original(self, model)
        if planted == "lr" and label == "r0":
            self.lr = self.lr * np.float32(1.01)  # type: ignore[attr-defined]
        elif planted == "lr":
            self.opt.param_groups[0]["lr"] *= 1.01  # type: ignore[attr-defined]
        elif planted == "weight":
            self.w2[3] *= 1.01  # type: ignore[attr-defined]

    monkeypatch.setattr(hand, "__init__", init)
    if planted == "pool":
        pool = floor._pool
        monkeypatch.setattr(floor, "_pool", lambda z: (pool(z)[0], (pool(z)[1] + 1) % 4))
    assert floor.check_same_weights(label, images, labels, 4) > 10 * floor.MATCH


@pytest.mark.parametrize("block_torch", [False, True])
def test_floor_script_runs(block_torch: bool) -> None:
    if not block_torch and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    args = [str(FLOOR), "--rounds", "1", "--steps", "4"]
    prefix = ["-c", WITHOUT_TORCH] if block_torch else []
    proc = run_python([*prefix, *args], cwd=ROOT, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    for line in (
        "the engine's cheapest op (x * y on one element, forward and backward):",
        "== r0: cnn, batch 1, sgd",
        "ops per step: 13 recorded by the forward, 28 run by backward and the step",
        "== r2: keras_cnn, batch 128, adam",
        "ops per step: 14 recorded by the forward, 34 run by backward and the step",
        "round    numpy     ours",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert out.count("hand-written step vs ours after 5 steps: weights differ by") == 2
    # R0's bookkeeping is positive; with a short run, R2's may come out either way.
    assert out.count("engine bookkeeping:") + out.count("faster than the NumPy floor") == 2
    assert "engine bookkeeping:" in out.split("== r2")[0]
    assert out.count("torch not found") == (2 if block_torch else 0)
    assert out.count("ours/torch") == (0 if block_torch else 2)
