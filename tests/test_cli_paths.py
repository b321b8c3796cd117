"""The command line and the user's paths: an empty path is never the working folder, and
``show`` and ``graph`` never replace a file of the user's without ``--force``.

Data comes from ``synthetic_data`` through a patched ``config.load_data``: no network.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import answer_load_data, fails_cleanly

from autograd_mnist import cli, config
from autograd_mnist.checkpoint import load_checkpoint, restore_model
from autograd_mnist.cli import evaluate
from autograd_mnist.cli._options import PATHS
from autograd_mnist.data import synthetic_data

DATA = synthetic_data(n_train=48, n_test=24, seed=5)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every ``config.load_data(dataset, data_dir)`` call, answered with synthetic data."""
    return answer_load_data(monkeypatch, DATA)


def _train(out: Path, model: str) -> Path:
    argv = ["train", "--model", model, "--epochs", "1", "--batch-size", "16", "--no-progress"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One-epoch runs of the R0 CNN and of the two-layer net on synthetic data."""
    folder = tmp_path_factory.mktemp("paths")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "load_data", lambda dataset, data_dir=None: DATA)
        return {m: _train(folder / m, m) for m in ("cnn", "two-layer")}


# ----- empty paths -----
EMPTY = [
    (["train", "--resume", ""], "--resume"),
    (["train", "--out", ""], "--out"),
    (["train", "--data-dir", "", "--out", "{tmp}/r"], "--data-dir"),
    (["evaluate", ""], "RUN_OR_CHECKPOINT"),
    (["evaluate", "{run}", "--data-dir", ""], "--data-dir"),
    (["predict", ""], "RUN_OR_CHECKPOINT"),
    (["predict", "{run}", "--data-dir", ""], "--data-dir"),
    (["show", ""], "RUN_OR_CHECKPOINT"),
    (["show", "{run}", "--out", ""], "--out"),
    (["show", "{run}", "--data-dir", ""], "--data-dir"),
    (["export", "", "--format", "safetensors"], "RUN_OR_CHECKPOINT"),
    (["export", "{run}", "--format", "safetensors", "-o", ""], "-o"),
    (["graph", "-o", ""], "-o"),
    (["serve", ""], "RUN_OR_CHECKPOINT"),
    (["serve", "{run}", "--data-dir", ""], "--data-dir"),
]


@pytest.mark.parametrize(("argv", "name"), EMPTY, ids=[" ".join(a) for a, _ in EMPTY])
def test_an_empty_path_is_refused_in_one_line_and_nothing_is_read_or_written(
    argv: list[str],
    name: str,
    runs_dir: dict[str, Path],
    tmp_path: Path,
    loads: list[tuple[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "cwd"  # where '' would point
    work.mkdir()
    monkeypatch.chdir(work)
    run = runs_dir["two-layer"]
    before = sorted(p.name for p in run.iterdir())
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{run}", str(run)) for a in argv]
    line = fails_cleanly(capsys, *argv)
    assert (
        line
        == f"autograd-mnist: error: {name}: got an empty path '', expected a file or folder path"
    )
    assert loads == [] and list(work.iterdir()) == [] and not (tmp_path / "r").exists()
    assert sorted(p.name for p in run.iterdir()) == before


def _path_arguments() -> set[tuple[str, str]]:
    """(command, dest) of every argument that names a file or folder."""
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = set()
    for command, p in sub.choices.items():
        for action in p._actions:
            looks_like_a_path = action.metavar in ("DIR", "PATH", "RUN_DIR", "RUN_OR_CHECKPOINT")
            if action.dest in PATHS or looks_like_a_path:
                found.add((command, action.dest))
    return found


def test_every_path_argument_is_checked_and_tested() -> None:
    found = _path_arguments()
    assert {dest for _, dest in found} <= set(PATHS)  # a new path argument: add it to PATHS
    tested = set()
    for argv, name in EMPTY:
        (dest,) = [d for d, shown in PATHS.items() if shown == name]
        tested.add((argv[0], dest))
    assert found == tested


# ----- show and graph never replace a user's file without --force -----
def test_show_into_a_folder_of_the_users_refuses_existing_files(
    runs_dir: dict[str, Path],
    tmp_path: Path,
    loads: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("matplotlib")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "feature_maps.png").write_text("the user's picture")
    line = fails_cleanly(capsys, "show", str(runs_dir["cnn"]), "--out", str(mine))
    assert line.endswith(
        f"{mine / 'feature_maps.png'} exists; pass --force to overwrite it, or --out to write "
        "elsewhere"
    )
    assert sorted(p.name for p in mine.iterdir()) == ["feature_maps.png"]  # nothing written
    assert (mine / "feature_maps.png").read_text() == "the user's picture"
    assert cli.main(["show", str(runs_dir["cnn"]), "--out", str(mine), "--force"]) == 0
    assert (mine / "feature_maps.png").read_bytes()[:4] == b"\x89PNG"


def test_show_beside_a_checkpoint_outside_a_run_folder_refuses_existing_files(
    runs_dir: dict[str, Path],
    tmp_path: Path,
    loads: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("matplotlib")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    shutil.copy(runs_dir["two-layer"] / "checkpoint.npz", downloads / "model.npz")
    (downloads / "misclassified.png").write_text("the user's picture")
    line = fails_cleanly(capsys, "show", str(downloads / "model.npz"))
    assert f"{downloads / 'misclassified.png'} exists; pass --force" in line
    assert (downloads / "misclassified.png").read_text() == "the user's picture"


def test_show_replaces_a_run_folders_own_figures(
    runs_dir: dict[str, Path],
    tmp_path: Path,
    loads: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("matplotlib")
    run = tmp_path / "run"
    shutil.copytree(runs_dir["cnn"], run)
    for _ in range(2):  # the second time, the figures are the run's own: replaced
        assert cli.main(["show", str(run)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("model", ["cnn", "two-layer"])
def test_the_files_show_checks_are_the_files_it_writes(
    model: str,
    runs_dir: dict[str, Path],
    tmp_path: Path,
    loads: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "figures"
    assert cli.main(["show", str(runs_dir[model]), "--out", str(out)]) == 0
    written = {p.name for p in out.iterdir()}
    checked = set(evaluate.figure_files(restore_model(load_checkpoint(runs_dir[model]))))
    assert written and written <= checked


def test_graph_refuses_an_existing_file_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for argv, path in ((["graph"], "graph.svg"), (["graph", "-o", "g.dot"], "g.dot")):
        (tmp_path / path).write_text("the user's graph")
        argv = [*argv, "--model", "two-layer"]
        line = fails_cleanly(capsys, *argv)
        assert line.endswith(
            f"{path} exists; pass --force to overwrite it, or -o to write elsewhere"
        )
        assert (tmp_path / path).read_text() == "the user's graph"
    assert cli.main(["graph", "-o", "g.dot", "--model", "two-layer", "--force"]) == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


# ----- show --images has a ceiling -----
def test_show_images_is_capped_and_the_cap_is_in_the_help(
    runs_dir: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert evaluate.MAX_IMAGES == 16
    for n in ("17", "100000"):
        assert cli.main(["show", str(runs_dir["cnn"]), "--images", n]) == 2
        err = capsys.readouterr().err
        assert f"argument --images: expected an integer from 1 to 16; got {n}" in err
    assert cli.main(["show", "--help"]) == 0
    assert "1 to 16" in " ".join(capsys.readouterr().out.split())
