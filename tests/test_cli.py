"""The command line: train into a run folder, inspect it, and fail cleanly.

Data comes from ``synthetic_data`` through a patched ``config.load_data``: no network.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import needs_dot, run_python

from autograd_mnist import cli, config, runs, serialization, train
from autograd_mnist.checkpoint import load_checkpoint, restore_model
from autograd_mnist.data import Data, synthetic_data

DATA = synthetic_data(n_train=64, n_test=40, seed=2)
FILES = {"config.json", "metrics.csv", "checkpoint.npz", "summary.json"}


def _fake_load(calls: list[tuple[str, object]]) -> Callable[..., Data]:
    def load(dataset: str, data_dir: object = None) -> Data:
        calls.append((dataset, data_dir))
        return DATA

    return load


@pytest.fixture
def data_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(config, "load_data", _fake_load(calls))
    return calls


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One epoch of the R0 CNN on 64 synthetic images, trained through main()."""
    out = tmp_path_factory.mktemp("cli") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "load_data", _fake_load([]))
        code = cli.main(
            [
                "train",
                "--model",
                "cnn",
                "--epochs",
                "1",
                "--batch-size",
                "16",
                "--out",
                str(out),
                "--no-progress",
                "--seed",
                "1",
            ]
        )
    assert code == 0
    yield out


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_writes_the_run_folder(run_dir: Path) -> None:
    names = {p.name for p in run_dir.iterdir()}
    assert FILES <= names
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in (
        "model",
        "dataset",
        "epochs",
        "test_accuracy",
        "test_loss",
        "train_seconds",
        "seed",
        "peak_memory_mib",
        "seconds_per_epoch",
    ):
        assert key in summary, key
    assert summary["model"] == "cnn" and summary["dataset"] == "mnist"
    assert summary["epochs"] == 1 and summary["seed"] == 1
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and summary["train_seconds"] > 0
    assert summary["train_images"] == 64 and summary["test_images"] == 40
    config = json.loads((run_dir / "config.json").read_text())
    assert config["optimizer"] == "sgd" and config["lr"] == 0.03  # the cnn's defaults
    assert config["batch_size"] == 16  # the flag wins
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds"
    assert len(lines) == 2


def test_train_draws_plots(run_dir: Path) -> None:
    pytest.importorskip("matplotlib")
    for name in ("loss.png", "accuracy.png"):
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate(
    run_dir: Path, data_calls: list[tuple[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _main(capsys, "evaluate", str(run_dir))
    assert code == 0
    assert data_calls == [("mnist", None)]  # the run's dataset by default
    model = restore_model(load_checkpoint(run_dir))
    (_, _), (x, y) = DATA
    ev = train.evaluate(model, x, y)
    assert f"test accuracy: {ev.accuracy:.2%}" in out
    assert f"test loss: {ev.loss:.4f}" in out
    assert "per-class accuracy" in out and "confusion matrix" in out
    cm = ev.confusion_matrix(y)
    row = "   3  " + "".join(f"{int(v):>4}" for v in cm[3])
    assert row in out.splitlines()
    code, out, _ = _main(
        capsys, "evaluate", str(run_dir / "checkpoint.npz"), "--dataset", "fashion", "--limit", "10"
    )
    assert code == 0 and data_calls[-1] == ("fashion", None)
    assert "test set: 10 images (fashion)" in out and "Ankle boot" in out


def test_predict(
    run_dir: Path, data_calls: list[tuple[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _main(capsys, "predict", str(run_dir), "--index", "7")
    assert code == 0
    model = restore_model(load_checkpoint(run_dir))
    (_, _), (x, y) = DATA
    pred = int(train.evaluate(model, x[7:8], y[7:8]).predictions[0])
    lines = out.splitlines()
    assert lines[0] == f"answer is {y[7]} / prediction is {pred}"
    probs = [float(line.split()[1]) for line in lines[2:12]]
    assert len(probs) == 10 and sum(probs) == pytest.approx(1.0, abs=1e-3)
    assert "<- prediction" in lines[2 + pred]


def test_show(
    run_dir: Path,
    data_calls: list[tuple[str, object]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("matplotlib")
    code, out, err = _main(capsys, "show", str(run_dir), "--out", str(tmp_path))
    assert code == 0, err
    for name in ("filters.png", "feature_maps.png", "misclassified.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
        assert f"wrote {tmp_path / name}" in out


def test_show_without_conv_layers(
    tmp_path: Path, data_calls: list[tuple[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    run = tmp_path / "mlp"
    assert (
        cli.main(
            ["train", "--model", "two-layer", "--epochs", "1", "--out", str(run), "--no-progress"]
        )
        == 0
    )
    code, out, _ = _main(capsys, "show", str(run))
    assert code == 0
    assert "no conv layer" in out and "skipped" in out
    assert (run / "misclassified.png").exists() and not (run / "filters.png").exists()


def test_feature_maps_before_and_after_pooling(run_dir: Path) -> None:
    from autograd_mnist import plots

    model = restore_model(load_checkpoint(run_dir))
    stages = plots.feature_maps(model, DATA[1][0][:2])
    assert [(name, maps.shape) for name, maps in stages] == [
        ("conv", (2, 32, 26, 26)),
        ("pooled", (2, 32, 13, 13)),
    ]


@needs_dot
def test_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "graph.svg"
    code, stdout, err = _main(capsys, "graph", "--model", "cnn", "-o", str(out))
    assert code == 0, err
    svg = out.read_text()
    assert "<svg" in svg
    for label in ("0.weight", "0.bias", "3.weight", "5.bias"):  # parameters named by the CLI
        assert label in svg, label
    assert str(out) in stdout


def test_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(capsys, "summary", "--model", "keras-cnn")
    assert code == 0
    assert "Total params: 3,222,954" in out and "(1, 16, 28, 28)" in out
    code, out, _ = _main(
        capsys, "summary", "--model", "mlp", "--model-config", '{"hidden": [40, 20]}'
    )
    assert code == 0 and "(1, 40)" in out and "(1, 20)" in out


def test_resume_through_the_cli(
    tmp_path: Path, data_calls: list[tuple[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "r"
    args = ["--model", "two-layer", "--batch-size", "16", "--no-progress"]
    assert cli.main(["train", *args, "--epochs", "1", "--out", str(run)]) == 0
    assert (
        cli.main(
            [
                "train",
                "--resume",
                str(run),
                "--epochs",
                "3",
                "--no-progress",
                "--data-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert data_calls[-1] == ("mnist", str(tmp_path))
    lines = (run / "metrics.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"]
    assert json.loads((run / "summary.json").read_text())["epochs"] == 3


def test_ctrl_c_exits_130_and_says_how_to_resume(
    tmp_path: Path,
    data_calls: list[tuple[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_step, calls = train.train_step, {"n": 0}

    def step(*args: object) -> tuple[float, int]:
        calls["n"] += 1
        if calls["n"] > 4:  # epoch 2 of 4 batches each
            raise KeyboardInterrupt
        return real_step(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(train, "train_step", step)
    run = tmp_path / "r"
    code, _, err = _main(
        capsys,
        "train",
        "--model",
        "two-layer",
        "--batch-size",
        "16",
        "--epochs",
        "3",
        "--out",
        str(run),
        "--no-progress",
    )
    assert code == 130
    assert str(run / "checkpoint.npz") in err
    assert f"autograd-mnist train --resume {run} --epochs 3" in err
    assert "Traceback" not in err
    assert load_checkpoint(run)["epoch"] == 1


def test_plots_skipped_without_matplotlib(
    tmp_path: Path,
    data_calls: list[tuple[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    run = tmp_path / "r"
    code, out, _ = _main(
        capsys, "train", "--model", "two-layer", "--epochs", "1", "--out", str(run), "--no-progress"
    )
    assert code == 0
    assert "plots skipped" in out and 'pip install -e ".[train]"' in out
    assert FILES <= {p.name for p in run.iterdir()}
    assert not (run / "loss.png").exists()
    code, _, err = _main(capsys, "show", str(run))
    assert code == 2
    assert "matplotlib" in err and 'pip install -e ".[train]"' in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "{tmp}/missing"], "no run folder or checkpoint at"),
        (["predict", "{tmp}"], "has no checkpoint.npz"),
        (["show", "{tmp}/garbage.npz"], "bad checkpoint"),
        (["evaluate", "{tmp}/other.npz"], "not an autograd-mnist run checkpoint"),
        (["predict", "{run}", "--index", "40"], "--index 40 is out of range"),
        (["train", "--resume", "{run}", "--model", "cnn"], "drop --model"),
        (["train", "--out", "{run}", "--model", "cnn", "--no-progress"], "already holds a run"),
        (
            ["train", "--model", "mlp", "--model-config", '{"depth": 2}', "--out", "{tmp}/x"],
            "cannot build model 'mlp'",
        ),
        (["train", "--resume", "{tmp}/missing"], "no run folder or checkpoint at"),
    ],
)
def test_errors_print_one_line_and_exit_2(
    argv: list[str],
    message: str,
    run_dir: Path,
    tmp_path: Path,
    data_calls: list[tuple[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "garbage.npz").write_bytes(b"PK\x03\x04 truncated")
    serialization.save({"weights": np.zeros(2)}, tmp_path / "other.npz")
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{run}", str(run_dir)) for a in argv]
    code, _, err = _main(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.startswith("autograd-mnist: error: ") and len(err.strip().splitlines()) == 1


def test_checkpoint_mismatch_names_keys_and_shapes(
    run_dir: Path,
    tmp_path: Path,
    data_calls: list[tuple[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ckpt = serialization.load(run_dir / "checkpoint.npz")
    ckpt["model_state"]["3.weight"] = np.zeros((64, 5408), np.float32)
    serialization.save(ckpt, tmp_path / "bad.npz")
    code, _, err = _main(capsys, "evaluate", str(tmp_path / "bad.npz"))
    assert code == 2
    assert "3.weight: checkpoint (64, 5408), model (128, 5408)" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert cli.main(["train", "--model", "resnet"]) == 2
    assert cli.main(["train", "--epochs", "0"]) == 2
    assert cli.main(["summary", "--model-config", "[1]"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0


def test_python_dash_m(tmp_path: Path) -> None:
    args = ["-m", "autograd_mnist", "summary", "--model", "two-layer"]
    result = run_python(args, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Total params: 39,760" in result.stdout
    result = run_python(["-m", "autograd_mnist", "evaluate", "nowhere"], cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr == "autograd-mnist: error: no run folder or checkpoint at nowhere\n"


def test_train_flags_of_the_recipe_reach_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--rotation, --scale, --ema and --label-smoothing end up in the run's config, and
    --resume refuses them (a run keeps its recipe)."""
    captured: dict[str, Any] = {}

    def fake_train_run(cfg: Any) -> Any:
        captured.update(vars(cfg))
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "train_run", fake_train_run)
    argv = ["train", "--rotation", "10", "--scale", "0.1", "--ema", "0.99"]
    assert cli.main([*argv, "--label-smoothing", "0.1", "--out", str(tmp_path / "r")]) == 130
    assert (captured["rotation"], captured["scale"]) == (10.0, 0.1)
    assert (captured["ema"], captured["label_smoothing"]) == (0.99, 0.1)
    for flag in ("--rotation", "--scale", "--ema", "--label-smoothing"):
        assert cli.main(["train", "--resume", str(tmp_path), flag, "1"]) == 2
