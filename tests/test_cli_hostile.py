"""The command line against hostile files and arguments: one line on stderr, exit code 2.

Data comes from ``synthetic_data`` through a patched ``config.load_data``: no network.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import answer_load_data, child_env, fails_cleanly

from autograd_mnist import cli, models, runs, serialization
from autograd_mnist.config import RunConfig
from autograd_mnist.data import synthetic_data

DATA = synthetic_data(n_train=32, n_test=16, seed=4)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every ``config.load_data(dataset, data_dir)`` call, answered with synthetic data."""
    return answer_load_data(monkeypatch, DATA)


@pytest.fixture
def run(tmp_path: Path, loads: list[tuple[str, Any]]) -> Path:
    """A one-epoch run of a small MLP, trained through the CLI."""
    out = tmp_path / "run"
    argv = ["train", "--model", "mlp", "--model-config", '{"hidden": [8]}', "--epochs", "1"]
    argv += ["--schedule", "cosine"]
    assert cli.main([*argv, "--batch-size", "16", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.mark.parametrize("text", ["[]", '{"resumed": 5}', "{not json", '"a string"'])
def test_a_damaged_config_json_is_an_error_never_a_rewrite(
    run: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    (run / "config.json").write_text(text)
    line = fails_cleanly(capsys, "train", "--resume", str(run), "--epochs", "2")
    assert f"bad {run / 'config.json'}" in line
    assert (run / "config.json").read_text() == text  # the run's history is not thrown away
    assert not (run / ".lock").exists()


def test_a_checkpoint_in_a_folder_of_its_own_resumes_and_gets_a_config_json(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alone = tmp_path / "alone"
    alone.mkdir()
    (run / "checkpoint.npz").rename(alone / "checkpoint.npz")
    assert cli.main(["train", "--resume", str(alone), "--epochs", "2", "--no-progress"]) == 0
    doc = json.loads((alone / "config.json").read_text())
    assert doc["epochs"] == 2 and doc["resumed"][0]["from_epoch"] == 1


def test_resume_refuses_a_folder_that_is_not_a_run_and_writes_nothing(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"  # a user's folder: a checkpoint beside files of their own
    mine.mkdir()
    (run / "checkpoint.npz").rename(mine / "checkpoint.npz")
    (mine / "metrics.csv").write_text("my,own\n1,2\n")
    (mine / "summary.json").write_text('{"mine": true}\n')
    before = {p.name: p.read_bytes() for p in mine.iterdir()}
    for target in (mine, mine / "checkpoint.npz"):
        line = fails_cleanly(capsys, "train", "--resume", str(target), "--epochs", "2")
        assert f"--resume {mine} is not an autograd-mnist run folder" in line, line
        assert "metrics.csv, summary.json" in line and "nothing was written" in line
        assert {p.name: p.read_bytes() for p in mine.iterdir()} == before  # not even a lock
    (mine / "config.json").write_text('{"my": "settings"}\n')  # a config.json not of a run
    line = fails_cleanly(capsys, "train", "--resume", str(mine), "--epochs", "2")
    assert "its config.json was not written by an autograd-mnist run" in line, line
    (mine / "config.json").unlink()
    (run / "config.json").unlink()  # a run folder whose config.json was deleted: refused too
    (run / "checkpoint.npz").write_bytes(before["checkpoint.npz"])
    line = fails_cleanly(capsys, "train", "--resume", str(run), "--epochs", "2")
    assert "is not an autograd-mnist run folder" in line


def test_a_run_made_before_config_json_had_a_format_still_resumes(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads((run / "config.json").read_text())
    del doc["format"], doc["trained_on"]  # as runs wrote it then
    (run / "config.json").write_text(json.dumps(doc))
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert json.loads((run / "config.json").read_text())["format"] == "autograd_mnist.run"


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(ckpt: dict[str, Any]) -> None:
        node = ckpt
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


TAMPERED: dict[str, Callable[[dict[str, Any]], None]] = {
    "epoch text": _set(("epoch",), "one"),
    "epoch negative": _set(("epoch",), -1),
    "epoch beyond history": _set(("epoch",), 7),
    "model a list": _set(("model",), [1, 2]),
    "model name unknown": _set(("model", "name"), "resnet"),
    "model config a list": _set(("model", "config"), [1]),
    "model config hidden 0": _set(("model", "config"), {"hidden": [0]}),
    "model state a list": _set(("model_state",), [1]),
    "weights of text": _set(("model_state", "1.weight"), np.array([["a"] * 784] * 8)),
    "optimizer a string": _set(("optimizer",), "adam"),
    "optimizer state garbage": _set(("optimizer",), {"state": 5, "param_groups": "x"}),
    "scheduler garbage": _set(("scheduler",), {"last_epoch": "x"}),
    "threads 0": _set(("threads",), 0),
    "threads text": _set(("threads",), "many"),
    "ema a list": _set(("ema",), [1]),
    "rng garbage": _set(("rng",), {"bit_generator": "nope"}),
    "config a list": _set(("config",), [1]),
    "config model_config a list": _set(("config", "model_config"), [1]),
    "config lr text": _set(("config", "lr"), "fast"),
    "config batch size 0": _set(("config", "batch_size"), 0),
    "config model a list": _set(("config", "model"), ["mlp"]),
    "history not a list": _set(("history",), {"epoch": 1}),
    "history entry junk": _set(("history",), [{"epoch": 1, "loss": "x"}]),
}


@pytest.mark.parametrize("change", list(TAMPERED), ids=list(TAMPERED))
@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_tampered_checkpoint_fields(
    run: Path, capsys: pytest.CaptureFixture[str], change: str, command: str
) -> None:
    path = run / "checkpoint.npz"
    ckpt = serialization.load(path)
    TAMPERED[change](ckpt)
    serialization.save(ckpt, path)
    argv = ["evaluate", str(run)] if command == "evaluate" else ["train", "--resume", str(run)]
    if command == "evaluate" and change.startswith(("config", "optimizer", "scheduler", "rng")):
        cli.main(argv)  # evaluate needs only the model: it may well work
        return
    line = fails_cleanly(capsys, *argv, *(["--epochs", "2"] if command == "resume" else []))
    assert str(run) in line or "model" in line, line


@pytest.mark.parametrize(
    ("model", "model_config"),
    [
        ("mlp", '{"hidden": [0]}'),
        ("mlp", '{"hidden": 0}'),
        ("mlp", '{"hidden": [-3]}'),
        ("mlp", '{"hidden": [2.5]}'),
        ("two-layer", '{"hidden": 0}'),
        ("two-layer", '{"hidden": true}'),
        ("best", '{"channels": [0, 8]}'),
        ("best", '{"hidden": 0}'),
        ("mlp", '{"dropout": 2}'),
        ("mlp", '{"activation": "tanh"}'),
        # the wrong type, which used to build another model or fail with a raw TypeError
        ("mlp", '{"batch_norm": "false"}'),
        ("mlp", '{"batch_norm": 0}'),
        ("mlp", '{"dropout": true}'),
        ("mlp", '{"dropout": "0.5"}'),
        ("mlp", '{"weight_init": "abc"}'),
        ("mlp", '{"weight_init": true}'),
        ("mlp", '{"activation": ["relu"]}'),
        ("two-layer", '{"hidden": [40, 20]}'),
        ("two-layer", '{"weight_std": "0.1"}'),
        ("two-layer", '{"weight_std": false}'),
        ("best", '{"pool_first": 1}'),
        ("best", '{"dropout": "0.3"}'),
        ("fast", '{"hidden": 1.5}'),
    ],
)
def test_bad_model_configs_fail_cleanly(
    tmp_path: Path,
    loads: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
    model: str,
    model_config: str,
) -> None:
    (option,) = json.loads(model_config)
    for argv in (
        ["train", "--model", model, "--model-config", model_config, "--out", str(tmp_path / "r")],
        ["summary", "--model", model, "--model-config", model_config],
        ["graph", "--model", model, "--model-config", model_config, "-o", str(tmp_path / "g.svg")],
    ):
        line = fails_cleanly(capsys, *argv)
        assert f"cannot build model {model!r}" in line, line
        assert f": {option}: got " in line, line  # names the option
    assert not (tmp_path / "r").exists()


def test_a_checkpoint_never_decides_where_data_is_read_or_written(
    run: Path, loads: list[tuple[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run / "checkpoint.npz"
    ckpt = serialization.load(path)
    ckpt["config"]["data_dir"] = str(tmp_path / "elsewhere")
    serialization.save(ckpt, path)
    loads.clear()
    for argv in (["evaluate", str(run)], ["predict", str(run)]):
        assert cli.main(argv) == 0
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert [d for _, d in loads] == [None, None, None]  # $AUTOGRAD_MNIST_DATA or the cache
    assert cli.main(["evaluate", str(run), "--data-dir", str(tmp_path / "mine")]) == 0
    assert loads[-1] == ("mnist", str(tmp_path / "mine"))  # the command line decides
    assert not (tmp_path / "elsewhere").exists()


def test_evaluate_says_when_the_model_was_trained_on_other_data(
    tmp_path: Path, loads: list[tuple[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = RunConfig(model="mlp", model_config={"hidden": [8]}, epochs=1, progress=False)
    runs.train_run(cfg, data=DATA, out=str(tmp_path / "r"))
    capsys.readouterr()
    assert cli.main(["evaluate", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "note: this model was trained on arrays passed from Python, not on mnist; "
        "the figures below are on the mnist test set"
    )
    line = fails_cleanly(capsys, "train", "--resume", str(tmp_path / "r"), "--epochs", "2")
    assert "runs.resume(folder, data=...)" in line


def test_a_closed_pipe_ends_quietly() -> None:
    """``autograd-mnist summary | head -0``: no "Broken pipe" error, exit as by SIGPIPE."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograd_mnist", "summary", "--model", "keras-cnn"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the child writes anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 128 + signal.SIGPIPE
    assert err == ""


def test_hostile_checkpoint_files_are_one_line_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tib = tmp_path / "tib.npz"  # a member header declaring 1 TiB, and no data
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2**37,)}
    )
    with zipfile.ZipFile(tib, "w") as zf:
        zf.writestr("x.npy", header.getvalue())
    deep = tmp_path / "deep.npz"  # a manifest nested 500 deep
    tree = '{"dict": {"d": ' * 500 + "null" + "}}" * 500
    doc = '{"format": "autograd_mnist.checkpoint", "version": 1, "tree": ' + tree + "}"
    np.savez(deep, __autograd_mnist__=np.frombuffer(doc.encode(), dtype=np.uint8))
    for path in (tib, deep):
        line = fails_cleanly(capsys, "evaluate", str(path))
        assert f"bad checkpoint {path}" in line, line
        run = tmp_path / path.stem
        run.mkdir()
        path.rename(run / "checkpoint.npz")
        line = fails_cleanly(capsys, "train", "--resume", str(run))
        assert f"bad checkpoint {run / 'checkpoint.npz'}" in line, line


def test_resume_writes_only_into_a_run_folder(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "metrics.csv").write_text("the user's\n")
    (run / "checkpoint.npz").rename(downloads / "model.npz")
    line = fails_cleanly(capsys, "train", "--resume", str(downloads / "model.npz"))
    assert "a run continues in its own folder" in line
    assert sorted(p.name for p in downloads.iterdir()) == ["metrics.csv", "model.npz"]


def test_divergence_is_one_line_without_numpy_warnings(
    tmp_path: Path, loads: list[tuple[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--model", "mlp", "--optimizer", "sgd", "--lr", "inf", "--no-progress"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning would fail the command
        line = fails_cleanly(capsys, *argv, "--out", str(tmp_path / "r"))
    assert "training diverged: " in line and "(learning rate inf)" in line
    assert f"no checkpoint was written; start again in place with --out {tmp_path / 'r'}" in line


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every ``models.build_model`` config; a model with a 100,000-unit layer is refused
    by the spy instead of being built (what a run would do is allocate gigabytes)."""
    calls: list[dict[str, Any]] = []
    real = models.build_model

    def spy(name: str, **config: Any) -> Any:
        calls.append(config)
        if "100000" in str(config):
            raise ValueError("the spy refused to build a huge model")
        return real(name, **config)

    monkeypatch.setattr(models, "build_model", spy)
    return calls


@pytest.mark.parametrize("command", ["evaluate", "predict", "show", "export", "resume"])
def test_a_config_asking_for_a_huge_model_is_refused_before_it_is_built(
    run: Path, builds: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = run / "checkpoint.npz"
    ckpt = serialization.load(path)
    huge = {"hidden": [100000]}  # 79 million numbers where the file holds 6,370
    ckpt["model"]["config"] = ckpt["config"]["model_config"] = huge
    serialization.save(ckpt, path)
    argv = {
        "evaluate": ["evaluate", str(run)],
        "predict": ["predict", str(run)],
        "show": ["show", str(run), "--force"],
        "export": ["export", str(run), "--format", "safetensors", "-o", str(run / "x.st")],
        "resume": ["train", "--resume", str(run), "--epochs", "2"],
    }[command]
    line = fails_cleanly(capsys, *argv)
    assert f"bad checkpoint {path}: model: cannot build model 'mlp'" in line, line
    assert "it would hold 79,500,010 numbers, but the weights hold 6,370" in line, line
    assert huge not in builds


def _set_lr(value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the optimizer's saved lr, in every place its state keeps one."""

    def change(ckpt: dict[str, Any]) -> None:
        state = ckpt["optimizer"]
        for group in [state["hyper"], *state.get("groups", [])]:
            group["lr"] = value

    return change


def _nan_weights(ckpt: dict[str, Any]) -> None:
    for value in ckpt["model_state"].values():
        value[...] = np.nan


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set_lr("x"), "optimizer group 0: lr: got 'x', expected a finite number"),
        (_set_lr(True), "optimizer group 0: lr: got True, expected a finite number"),
        (_set_lr(float("nan")), "optimizer group 0: lr: got nan, expected a finite number"),
        (_set(("config", "model"), "two-layer"), "model 'two-layer', but the weights are of"),
        (_set(("config", "model_config"), {"hidden": [9]}), "model_config {'hidden': [9]}"),
        (_nan_weights, "entry 'model_state': 1.weight holds nan or inf values"),
    ],
    ids=["lr text", "lr bool", "lr nan", "config model", "config model_config", "nan weights"],
)
def test_tampered_checkpoints_are_refused_before_the_resume_is_recorded(
    run: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    path = run / "checkpoint.npz"
    ckpt = serialization.load(path)
    change(ckpt)
    serialization.save(ckpt, path)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    line = fails_cleanly(capsys, "train", "--resume", str(run), "--epochs", "2")
    assert line.startswith(f"autograd-mnist: error: bad checkpoint {path}: "), line
    assert message in line, line
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # config.json too


def test_predict_refuses_nan_weights_naming_the_checkpoint(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run / "checkpoint.npz"
    ckpt = serialization.load(path)
    _nan_weights(ckpt)
    serialization.save(ckpt, path)
    line = fails_cleanly(capsys, "predict", str(run))
    assert f"bad checkpoint {path}: entry 'model_state': 1.weight holds nan" in line, line


def test_resume_with_fewer_epochs_names_the_option_not_the_checkpoint(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["train", "--resume", str(run), "--epochs", "3", "--no-progress"]) == 0
    line = fails_cleanly(capsys, "train", "--resume", str(run), "--epochs", "2")
    assert "bad checkpoint" not in line, line
    assert "bad --epochs: got 2, expected an int >= 3: the run has done 3 epochs" in line
