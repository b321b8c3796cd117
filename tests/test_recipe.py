"""The training recipe's settings: RunConfig's new fields, the presets' defaults, and old
runs (made before these settings existed) still loading, evaluating and resuming as
they were trained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT, run_python

from autograd_mnist import models, runs, serialization
from autograd_mnist.checkpoint import load_checkpoint, restore_model
from autograd_mnist.config import ADDED_SETTINGS, RunConfig
from autograd_mnist.data import synthetic_data
from autograd_mnist.errors import RunError

DATA = synthetic_data(n_train=32, n_test=16, seed=5)
SMALL: dict[str, Any] = {
    "model": "mlp",
    "model_config": {"hidden": [12], "batch_norm": True},
    "batch_size": 16,
    "augment": 1,
    "seed": 1,
    "progress": False,
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rotation", -1),
        ("rotation", 200),
        ("rotation", "10"),
        ("scale", 1.0),
        ("scale", -0.1),
        ("ema", 1.0),
        ("ema", float("nan")),
        ("ema", True),
        ("label_smoothing", 1.5),
        ("label_smoothing", None),  # filled from the defaults: only an explicit bad one fails
    ],
)
def test_new_settings_are_checked(name: str, value: Any) -> None:
    cfg = RunConfig(out="x", **{name: value})
    if value is None:
        assert getattr(cfg.resolved(), name) == models.TRAIN_DEFAULTS["best"][name]
        return
    with pytest.raises(RunError, match=f"bad {name}: got {value!r}, expected"):
        cfg.resolved()


def test_every_preset_has_every_setting_and_the_references_keep_theirs() -> None:
    keys = set(models.TRAIN_DEFAULTS["best"])
    assert set(ADDED_SETTINGS) <= keys
    for name in models.MODELS:
        assert set(models.TRAIN_DEFAULTS[name]) == keys, name
    for name in ("cnn", "keras-cnn", "two-layer", "mlp"):  # R0-R4: plain recipes
        assert {k: models.TRAIN_DEFAULTS[name][k] for k in ADDED_SETTINGS} == ADDED_SETTINGS
    fast = RunConfig(model="fast", out="x").resolved()
    assert fast.schedule in ("onecycle", "cosine") and fast.epochs is not None


def test_old_config_gets_the_new_settings_off_not_todays_defaults() -> None:
    old = RunConfig(out="x").resolved().to_dict()
    for key in ADDED_SETTINGS:
        del old[key]
    cfg = RunConfig.from_dict(old).resolved()
    for key, off in ADDED_SETTINGS.items():
        assert getattr(cfg, key) == off, key


def _make_old(run_dir: Path) -> None:
    """Turn a run's checkpoint into one written before the new settings existed."""
    path = run_dir / "checkpoint.npz"
    ckpt = serialization.load(path)
    del ckpt["ema"]
    for key in ADDED_SETTINGS:
        del ckpt["config"][key]
    serialization.save(ckpt, path)


def test_old_checkpoint_evaluates_and_resumes_bit_for_bit(tmp_path: Path) -> None:
    straight = runs.train_run(RunConfig(out=str(tmp_path / "a"), epochs=2, **SMALL), data=DATA)
    old = tmp_path / "old"
    runs.train_run(RunConfig(out=str(old), epochs=1, **SMALL), data=DATA)
    _make_old(old)
    ckpt = load_checkpoint(old)
    model = restore_model(ckpt)  # no average recorded: the trained weights
    assert np.array_equal(model.state_dict()["1.weight"], ckpt["model_state"]["1.weight"])
    resumed = runs.resume(old, epochs=2, data=DATA)
    for k, v in straight.model.state_dict().items():
        assert np.array_equal(v, resumed.model.state_dict()[k]), k


def test_every_ingredient_changes_the_run(tmp_path: Path) -> None:
    """Each setting reaches training: switching it on changes the trained weights."""
    base = runs.train_run(RunConfig(out=str(tmp_path / "base"), epochs=1, **SMALL), data=DATA)
    ref = base.model.state_dict()["1.weight"]
    for i, change in enumerate(
        [{"rotation": 10.0}, {"scale": 0.1}, {"ema": 0.5}, {"label_smoothing": 0.1}]
    ):
        cfg = RunConfig(out=str(tmp_path / str(i)), epochs=1, **{**SMALL, **change})
        other = runs.train_run(cfg, data=DATA).model.state_dict()["1.weight"]
        assert not np.array_equal(ref, other), change


def test_validation_script_runs_offline() -> None:
    """benchmarks/validate_recipe.py (how the presets were chosen), on synthetic data."""
    script = str(ROOT / "benchmarks" / "validate_recipe.py")
    args = ["--synthetic", "--model", "fast", "--set", "epochs=1", "--set", "ema=0.9"]
    proc = run_python([script, *args], cwd=ROOT, env={"OPENBLAS_NUM_THREADS": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "validation accuracy" in proc.stdout and '"ema": 0.9' in proc.stdout


@pytest.mark.parametrize(
    ("name", "then", "implied", "layers"),
    [
        # fast before pool_first: batch norm before the pooling
        ("fast", {"channels": [4, 8], "hidden": 16}, {"pool_first": False}, "Conv2d BatchNorm2d"),
        # best before its third block: two conv blocks, then Flatten at index 8
        ("best", {"hidden": 16}, {"channels": [32, 64]}, "Conv2d MaxPool2d"),
    ],
)
def test_run_saved_in_an_earlier_layout_evaluates_and_resumes_in_it(
    tmp_path: Path, name: str, then: dict[str, Any], implied: dict[str, Any], layers: str
) -> None:
    """A run of an earlier preset layout (its configs do not name the option that changed,
    ``implied``) rebuilds in that layout, resumes bit for bit, and its result file loads
    again after the resume."""
    from autograd_mnist import weights
    from autograd_mnist.io import write_json

    # No schedule: a one-cycle schedule spans the epochs a run is started with.
    common: dict[str, Any] = {**SMALL, "model": name, "ema": 0.9, "schedule": "none"}
    trained = {**common, "model_config": {**then, **implied}}
    straight = runs.train_run(RunConfig(out=str(tmp_path / "a"), epochs=2, **trained), data=DATA)
    old = tmp_path / "old"
    runs.train_run(RunConfig(out=str(old), epochs=1, **trained), data=DATA)
    path = old / "checkpoint.npz"
    ckpt = serialization.load(path)
    ckpt["model"]["config"] = dict(then)
    ckpt["config"]["model_config"] = dict(then)
    serialization.save(ckpt, path)
    doc = json.loads((old / "config.json").read_text(encoding="utf-8"))
    write_json(old / "config.json", {**doc, "model_config": dict(then)})
    model = restore_model(load_checkpoint(old))
    names = [type(m).__name__ for m in model]
    assert " ".join(names[:2]) == layers and len(names) == 13  # 16 with a third block
    resumed = runs.resume(old, epochs=2, data=DATA)
    for k, v in straight.model.state_dict().items():
        assert np.array_equal(v, resumed.model.state_dict()[k]), k
    again = weights.load_preset(old / "model.safetensors")
    for k, v in again.state_dict().items():
        assert np.array_equal(v, resumed.model.state_dict()[k]), k
