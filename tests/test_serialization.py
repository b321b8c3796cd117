"""Checkpoints: exact round trips, atomic writes, no pickle, helpful errors."""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_mnist.serialization import load, save


def _state(rng: np.random.Generator) -> dict[str, Any]:
    gen = np.random.default_rng(5)
    return {
        "model": {
            "fc1.weight": rng.standard_normal((4, 3)).astype(np.float32),
            "fc1.bias": np.zeros(4, dtype=np.float32),
            "conv.weight": rng.standard_normal((2, 1, 3, 3)),  # float64
        },
        "optim": {
            "lr": 0.01,
            "betas": (0.9, 0.999),
            "step": 7,
            "m": [np.ones(3, dtype=np.float32), None, np.arange(2, dtype=np.int64)],
        },
        "rng": gen.bit_generator.state,  # 128-bit ints
        "epoch": 3,
        "name": "mlp ü",
        "done": False,
        "best": None,
        "nan": float("nan"),
        "scalar": np.float32(1.5),
        "empty": {},
        "blank": np.zeros((0, 3), dtype=np.uint8),
        "flags": np.array([True, False]),
        "text": np.array(["a", "bc"]),
        "big": 2**200,
        "nested": [[1, 2], (3, [4.0, "x"])],
    }


def _assert_same(a: Any, b: Any) -> None:
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def test_round_trip_is_exact(tmp_path: Path, rng: np.random.Generator) -> None:
    state = _state(rng)
    save(state, tmp_path / "ckpt.npz")
    _assert_same(state, load(tmp_path / "ckpt.npz"))


def test_restored_rng_state_reproduces_draws(tmp_path: Path) -> None:
    gen = np.random.default_rng(42)
    gen.standard_normal(10)
    save({"rng": gen.bit_generator.state}, tmp_path / "r.npz")
    expected = gen.standard_normal(5)
    fresh = np.random.default_rng()
    fresh.bit_generator.state = load(tmp_path / "r.npz")["rng"]
    np.testing.assert_array_equal(fresh.standard_normal(5), expected)


def test_arrays_are_npz_members(tmp_path: Path) -> None:
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    save({"model": {"fc.weight": w}, "hist": [np.ones(2)]}, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["state/model/fc.weight"], w)
        np.testing.assert_array_equal(npz["state/hist/0"], np.ones(2))


def test_atomic_no_temp_files_and_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    save({"a": np.ones(2)}, path)
    save({"a": np.zeros(3)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]
    np.testing.assert_array_equal(load(path)["a"], np.zeros(3))


def test_failed_save_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.npz"
    save({"a": np.ones(2)}, path)
    with pytest.raises(TypeError):
        save({"a": np.zeros(2), "b": object()}, path)

    def disk_full(f: Any, *args: Any, **kwargs: Any) -> None:
        f.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save({"a": np.zeros(2)}, path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]
    np.testing.assert_array_equal(load(path)["a"], np.ones(2))


def test_object_array_refused_on_save(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"object array at key 'opt/m' for '.*c\.npz'"):
        save({"opt": {"m": np.array([1, "a"], dtype=object)}}, tmp_path / "c.npz")


def test_object_array_refused_on_load_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([_Evil(marker)], dtype=object))
    with pytest.raises(ValueError, match=r"refusing member 'x' of '.*evil\.npz'.*object array"):
        load(path)
    assert not marker.exists()


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    ("key", "error"), [("a/b", ValueError), ("", ValueError), (3, TypeError), (("t",), TypeError)]
)
def test_bad_keys(tmp_path: Path, key: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"save: bad key under 'model' for '.*c\.npz'; got "):
        save({"model": {key: np.ones(1)}}, tmp_path / "c.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", 1 + 2j, Path("x")])
def test_unsupported_values(tmp_path: Path, value: Any) -> None:
    with pytest.raises(TypeError, match=r"save: unsupported value at key 'a/0' for '.*c\.npz'"):
        save({"a": [value]}, tmp_path / "c.npz")


def test_state_must_be_a_dict(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="must be a dict"):
        save([np.ones(1)], tmp_path / "c.npz")  # type: ignore[arg-type]


def test_plain_npz_loads_flat(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", w=np.ones(2), b=np.zeros(1))
    got = load(tmp_path / "p.npz")
    assert sorted(got) == ["b", "w"]


def test_not_an_npz(tmp_path: Path) -> None:
    (tmp_path / "junk.npz").write_bytes(b"definitely not a zip file")
    with pytest.raises(ValueError, match=r"junk\.npz"):
        load(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def test_manifest_member_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    save({"a": np.ones(2)}, path)
    with zipfile.ZipFile(path, "a") as zf, zf.open("extra.npy", "w") as f:
        np.lib.format.write_array(f, np.ones(1), allow_pickle=False)
    with pytest.raises(ValueError, match=r"members not in its manifest: \['extra'\]"):
        load(path)
