"""Run folders: defaults, files, checkpoints, bit-for-bit resume, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_mnist import data, models, runs, serialization, train
from autograd_mnist.checkpoint import RunInterrupted, load_checkpoint, restore_model
from autograd_mnist.config import RunConfig
from autograd_mnist.data import synthetic_data
from autograd_mnist.errors import RunError

DATA = synthetic_data(n_train=48, n_test=24, seed=1)

# An MLP with batch norm (running buffers) and dropout (RNG draws every step), Adam
# (per-parameter state) and a cosine schedule: everything resume must restore.
MLP: dict[str, Any] = {
    "model": "mlp",
    "model_config": {"hidden": [24, 16], "dropout": 0.3, "batch_norm": True},
    "optimizer": "adam",
    "lr": 1e-2,
    "batch_size": 16,
    "schedule": "cosine",
    "augment": 1,  # random shifts draw from the package generator: resume must restore it
    "seed": 3,
    "progress": False,
}
# The same with every later ingredient, each with state resume must restore: a one-cycle
# schedule stepped per batch, random affine transforms (more generator draws), an EMA of
# the weights and buffers, label smoothing.
MODERN: dict[str, Any] = {
    **MLP,
    "schedule": "onecycle",
    "augment": 2,
    "rotation": 10.0,
    "scale": 0.1,
    "ema": 0.9,
    "label_smoothing": 0.1,
}
RECIPES = {"plain": MLP, "modern": MODERN}


def _weights_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k, value in a.items():
        assert value.dtype == b[k].dtype, k
        assert np.array_equal(value, b[k]), f"{k} differs"


def _history(run_dir: Path) -> list[dict[str, float]]:
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    return [dict(zip(header, map(float, r.split(",")))) for r in rows[1:]]


def test_resolved_fills_model_defaults_and_checks_values(tmp_path: Path) -> None:
    cfg = RunConfig(model="cnn", out=str(tmp_path / "r")).resolved()
    for key, value in models.TRAIN_DEFAULTS["cnn"].items():
        assert getattr(cfg, key) == value
    assert RunConfig(model="cnn", lr=0.5, out="x").resolved().lr == 0.5
    assert Path(RunConfig().resolved().out or "").parent == Path("runs")
    bad_values: list[dict[str, Any]] = [
        {"model": "nope"},
        {"epochs": 0},
        {"schedule": "linear"},
        {"optimizer": "lbfgs"},
        {"dataset": "cifar"},
        {"limit": 0},
        {"lr": -1.0},
        {"lr": float("nan")},
        {"model": ["mlp"]},
        {"schedule": ["step"]},
        {"model_config": [1]},
        {"out": ""},
        {"data_dir": 5},
        {"progress": "yes"},
    ]
    for bad in bad_values:
        (name,) = bad
        with pytest.raises(RunError, match=f"bad {name}|unknown model"):
            RunConfig(**bad).resolved()


def test_run_folder_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runs.train_run(RunConfig(out=str(out), epochs=2, limit=40, **MLP), data=DATA)
    assert result.run_dir == out
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mlp" and config["epochs"] == 2 and config["limit"] == 40
    history = _history(out)
    assert [h["epoch"] for h in history] == [1, 2]
    assert set(history[0]) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "lr",
        "seconds",
    }
    assert history[1]["lr"] < history[0]["lr"]  # cosine schedule stepped
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train_images"] == 40 and summary["test_images"] == 24
    assert summary["test_accuracy"] == pytest.approx(history[-1]["test_accuracy"])
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert summary["peak_memory_mib"] > 10
    ckpt = load_checkpoint(out)
    assert ckpt["epoch"] == 2 and ckpt["model"]["name"] == "mlp"
    assert ckpt["config"]["seed"] == 3 and len(ckpt["history"]) == 2
    _weights_equal(ckpt["model_state"], result.model.state_dict())


@pytest.mark.parametrize("recipe", list(RECIPES))
@pytest.mark.parametrize("how", ["extend", "interrupt"])
def test_resume_is_bit_for_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, recipe: str
) -> None:
    MLP = RECIPES[recipe]  # noqa: N806 - the recipe under test
    if how == "extend" and MLP["schedule"] == "onecycle":
        # A cycle planned over 1 epoch is not the first half of one over 2 (the cycle is
        # recomputed for the new total): extending equals a longer run for per-epoch
        # schedules only. The one-cycle schedule is checked by the "interrupt" case.
        MLP = {**MLP, "schedule": "cosine"}  # noqa: N806
    straight = runs.train_run(RunConfig(out=str(tmp_path / "a"), epochs=2, **MLP), data=DATA)

    b = tmp_path / "b"
    if how == "extend":  # a one-epoch run, later continued to two
        runs.train_run(RunConfig(out=str(b), epochs=1, **MLP), data=DATA)
        resumed = runs.resume(b, epochs=2, data=DATA)
    else:  # Ctrl-C in the middle of epoch 2
        calls = {"n": 0}
        real_step = train.train_step

        def step(*args: object) -> tuple[float, int]:
            calls["n"] += 1
            if calls["n"] == 5:  # 3 batches per epoch: the 2nd batch of epoch 2
                raise KeyboardInterrupt
            return real_step(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(train, "train_step", step)
        with pytest.raises(RunInterrupted) as info:
            runs.train_run(RunConfig(out=str(b), epochs=2, **MLP), data=DATA)
        assert info.value.epochs_done == 1
        assert str(b / "checkpoint.npz") in str(info.value)
        assert f"--resume {b}" in str(info.value)
        assert load_checkpoint(b)["epoch"] == 1
        monkeypatch.setattr(train, "train_step", real_step)
        resumed = runs.resume(b, data=DATA)

    _weights_equal(straight.model.state_dict(), resumed.model.state_dict())
    a_ckpt, b_ckpt = load_checkpoint(tmp_path / "a"), load_checkpoint(b)
    _weights_equal(a_ckpt["model_state"], b_ckpt["model_state"])
    assert a_ckpt["rng"] == b_ckpt["rng"]
    assert a_ckpt["scheduler"] == b_ckpt["scheduler"]
    assert (a_ckpt["ema"] is None) == (b_ckpt["ema"] is None) == (recipe == "plain")
    if a_ckpt["ema"] is not None:
        _weights_equal(a_ckpt["ema"], b_ckpt["ema"])
    for i, state in a_ckpt["optimizer"]["state"].items():
        for k, v in state.items():
            assert np.array_equal(v, b_ckpt["optimizer"]["state"][i][k]), (i, k)
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in _history(tmp_path / "a")]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in _history(b)]
    config = json.loads((b / "config.json").read_text())
    assert config["epochs"] == 2 and config["resumed"][0]["from_epoch"] == 1


def test_resume_rejects_fewer_epochs_than_done(tmp_path: Path) -> None:
    runs.train_run(RunConfig(out=str(tmp_path), epochs=1, **MLP), data=DATA)
    with pytest.raises(RunError, match="epochs"):
        runs.resume(tmp_path, epochs=0, data=DATA)


def test_checkpoint_that_does_not_fit_names_keys_and_shapes(tmp_path: Path) -> None:
    cfg = RunConfig(model="two-layer", out=str(tmp_path), epochs=1, batch_size=16, progress=False)
    runs.train_run(cfg, data=DATA)
    path = tmp_path / "checkpoint.npz"
    ckpt = serialization.load(path)
    # the weights are for hidden=50 (the run settings say the same model: else refused first)
    ckpt["model"]["config"] = ckpt["config"]["model_config"] = {"hidden": 20}
    serialization.save(ckpt, path)
    with pytest.raises(RunError, match=r"1\.weight: checkpoint \(50, 784\), model \(20, 784\)"):
        runs.resume(tmp_path, epochs=2, data=DATA)
    ckpt["model"]["config"] = ckpt["config"]["model_config"] = {}
    del ckpt["model_state"]["3.bias"]
    serialization.save(ckpt, path)
    with pytest.raises(RunError, match=r"missing keys \['3\.bias'\]"):
        restore_model(load_checkpoint(tmp_path))


def test_missing_and_corrupt_checkpoints(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no run folder or checkpoint"):
        load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(RunError, match="has no checkpoint.npz"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.npz").write_bytes(b"not a zip file")
    with pytest.raises(RunError, match="bad checkpoint"):
        load_checkpoint(tmp_path)
    serialization.save({"weights": np.zeros(3)}, tmp_path / "checkpoint.npz")
    with pytest.raises(RunError, match="not an autograd-mnist run checkpoint"):
        load_checkpoint(tmp_path / "checkpoint.npz")


def test_refuses_to_overwrite_a_run(tmp_path: Path) -> None:
    cfg = RunConfig(model="two-layer", out=str(tmp_path), epochs=1, progress=False)
    runs.train_run(cfg, data=DATA)
    with pytest.raises(RunError, match="already holds a run"):
        runs.train_run(cfg, data=DATA)


def test_bad_data_and_bad_model_config(tmp_path: Path) -> None:
    (x, y), test = DATA
    with pytest.raises(RunError, match=r"bad train data: got images \(48, 28, 28\)"):
        runs.train_run(RunConfig(out=str(tmp_path)), data=((x[:, 0], y), test))
    with pytest.raises(RunError, match="cannot build model 'mlp'"):
        runs.train_run(
            RunConfig(model="mlp", model_config={"depth": 3}, out=str(tmp_path)), data=DATA
        )


def test_flat_images_and_limit(tmp_path: Path) -> None:
    (x, y), (xt, yt) = DATA
    flat = ((x.reshape(48, 784), y), (xt.reshape(24, 784), yt))
    result = runs.train_run(
        RunConfig(
            model="two-layer", out=str(tmp_path), epochs=1, limit=10, batch_size=5, progress=False
        ),
        data=flat,
    )
    assert result.summary["train_images"] == 10


def test_synthetic_data_is_shaped_like_mnist_and_learnable() -> None:
    (x, y), (xt, yt) = synthetic_data(200, 100)
    assert x.shape == (200, 1, 28, 28) and x.dtype == np.float32
    assert y.dtype == np.int64 and set(np.unique(y)) <= set(range(10))
    assert 0.0 <= x.min() and x.max() <= 1.0 and xt.shape == (100, 1, 28, 28)
    # nearest class mean already separates the classes: the data is learnable
    means = np.stack([x[y == k].mean(axis=0) for k in range(10)])
    dist = ((xt[:, None] - means[None]) ** 2).sum(axis=(2, 3, 4))
    assert np.mean(np.argmin(dist, axis=1) == yt) > 0.9


def test_every_model_has_every_training_default() -> None:
    keys = set(models.TRAIN_DEFAULTS[models.DEFAULT_MODEL])
    assert set(models.TRAIN_DEFAULTS) == set(models.MODELS)
    for name, defaults in models.TRAIN_DEFAULTS.items():
        assert set(defaults) == keys, name
        cfg = RunConfig(model=name, out="x").resolved()  # every default passes the checks
        assert all(getattr(cfg, k) == v for k, v in defaults.items())


def test_schedules_and_datasets_come_from_one_table(tmp_path: Path) -> None:
    for name in train.SCHEDULES:
        RunConfig(schedule=name, out=str(tmp_path)).resolved()
    with pytest.raises(RunError, match=r"expected one of \['none', 'step', 'cosine', 'onecycle'\]"):
        RunConfig(schedule="linear", out=str(tmp_path)).resolved()
    with pytest.raises(RunError, match=r"expected one of \['fashion', 'mnist'\]"):
        RunConfig(dataset="fashion-mnist", out=str(tmp_path)).resolved()
    assert runs.DATASETS is data.DATASETS and runs.SCHEDULES is train.SCHEDULES


def test_old_names_stay_importable_from_runs() -> None:
    """runs re-exports what it held before the split (users and examples import them)."""
    old = {
        "DATASETS", "INSTALL_HINT", "RunConfig", "RunError", "RunInterrupted", "RunResult",
        "check_data", "checkpoint_path", "checkpoint_state", "load_checkpoint", "load_data",
        "make_model", "peak_memory_mib", "restore_model", "resume", "synthetic_data",
        "train_run", "write_plots", "Data", "Split", "SCHEDULES", "CHECKPOINT",
    }  # fmt: skip
    assert old <= set(runs.__all__)
    assert all(hasattr(runs, name) for name in runs.__all__)
    assert runs.RunError is RunError and runs.load_checkpoint is load_checkpoint
    assert models.r0_cnn is models.cnn  # deprecated alias


def test_a_run_records_its_thread_count_and_resume_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from autograd_mnist import threads

    monkeypatch.setattr(threads, "_state", threads._State())  # no setting yet
    for var in threads.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    seen: list[int] = []
    real_step = train.train_step

    def step(*args: object) -> tuple[float, int]:
        seen.append(threads.get_num_threads())
        return real_step(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(train, "train_step", step)
    mlp = RECIPES["plain"]
    with threads.fixed(1):  # the count the run starts with
        runs.train_run(RunConfig(out=str(tmp_path / "r"), epochs=1, **mlp), data=DATA)
    assert load_checkpoint(tmp_path / "r")["threads"] == 1 and set(seen) == {1}
    seen.clear()
    runs.resume(tmp_path / "r", epochs=2, data=DATA)  # no choice now: the recorded count
    assert set(seen) == {1} and load_checkpoint(tmp_path / "r")["threads"] == 1
    assert "note:" not in capsys.readouterr().out
    threads.set_num_threads(2)  # the user's choice wins, with a note
    seen.clear()
    runs.resume(tmp_path / "r", epochs=3, data=DATA)
    assert set(seen) == {2} and "computed on 1 threads, this resume on 2" in capsys.readouterr().out
    threads.set_num_threads(1)
