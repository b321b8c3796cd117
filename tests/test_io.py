"""autograd_mnist.io: atomic text/JSON/CSV writes and the progress bar with its fallback."""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_mnist.io import (
    PlainBar,
    atomic_open,
    is_utf8,
    jsonable,
    progress_bar,
    write_csv,
    write_json,
    write_text,
)


def test_atomic_open_replaces_on_success_and_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    write_text(path, "old\n")
    os.chmod(path, 0o640)
    with pytest.raises(RuntimeError), atomic_open(path) as f:
        f.write(b"half")
        raise RuntimeError("boom")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary file left
    write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the file's mode is kept


def test_atomic_open_follows_a_symlink_as_open_does(tmp_path: Path) -> None:
    """Saving through a link replaces the file it points to; the link stays a link (it was
    replaced by a plain file, and the target kept its old contents)."""
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "model.npz"
    target.write_text("old")
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new" and link.read_text() == "new"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["model.npz"]
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "runs" / "fresh.txt")
    write_text(dangling, "made")  # as open(..., "w"): the target is created
    assert dangling.is_symlink() and (tmp_path / "runs" / "fresh.txt").read_text() == "made"


def test_is_utf8_refuses_lone_surrogates() -> None:
    assert is_utf8("weight é") and not is_utf8("key\udcff")


def test_atomic_open_errors_name_the_target_not_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-folder" / "f.txt"
    with pytest.raises(FileNotFoundError) as info:
        write_text(missing, "x")
    assert str(info.value) == f"[Errno 2] No such file or directory: '{missing}'"
    path = tmp_path / "f.txt"
    with (
        pytest.raises(OSError, match=rf"No space left on device: '{path}'"),
        atomic_open(path) as f,
    ):
        f.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")  # as a full disk's write
    other = tmp_path / "other.txt"  # an error about another file is left as it is
    with pytest.raises(FileNotFoundError, match="other.txt"), atomic_open(path):
        other.read_text()

    def cross_device(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link", src, dst)

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(OSError) as failed:
        write_text(path, "x")
    assert str(failed.value) == f"[Errno {errno.EXDEV}] Invalid cross-device link: '{path}'"
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone


def test_jsonable_and_write_json(tmp_path: Path) -> None:
    value = {"a": np.float32(0.5), 1: (np.int64(3), float("nan")), "b": [float("inf"), "x"]}
    assert jsonable(value) == {"a": 0.5, "1": [3, None], "b": [None, "x"]}
    write_json(tmp_path / "v.json", value)
    text = (tmp_path / "v.json").read_text()
    assert json.loads(text) == {"a": 0.5, "1": [3, None], "b": [None, "x"]}
    assert text.endswith("}\n") and "  " in text  # indented, one final newline


def test_write_csv(tmp_path: Path) -> None:
    write_csv(tmp_path / "m.csv", ["epoch", "loss"], [(1, 0.5), (2, 0.25)])
    assert (tmp_path / "m.csv").read_bytes() == b"epoch,loss\n1,0.5\n2,0.25\n"


def test_plain_bar_prints_every_tenth(capsys: pytest.CaptureFixture[str]) -> None:
    bar = PlainBar(20, "epoch 1/1")
    bar.set_postfix(loss="0.1")
    for _ in range(20):
        bar.update(1)
    bar.close()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10 and lines[-1] == "epoch 1/1: 20/20 loss=0.1"


def test_progress_bar_without_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import tqdm.auto now fails
    assert isinstance(progress_bar(5, "x"), PlainBar)
    assert progress_bar(5, "x", plain=False) is None
    assert progress_bar(None, "download") is None  # a plain bar needs a total


def test_progress_bar_with_tqdm() -> None:
    tqdm = pytest.importorskip("tqdm")
    bar = progress_bar(3, "x", disable=True)
    assert isinstance(bar, tqdm.tqdm)
    assert bar is not None
    bar.update(3)
    bar.close()
