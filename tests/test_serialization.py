"""Checkpoints: exact round trips, atomic writes, no pickle, helpful errors."""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from memory import traced_peak

from autograd_mnist.serialization import MAX_DEPTH, MAX_LOAD_BYTES, load, save

MIB = 1 << 20


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
    np.save(tmp_path / "one.npy", np.ones(2))
    with pytest.raises(ValueError, match=r"'.*one\.npy' holds a single array, expected an .npz"):
        load(tmp_path / "one.npy")


def test_manifest_member_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    save({"a": np.ones(2)}, path)
    with zipfile.ZipFile(path, "a") as zf, zf.open("extra.npy", "w") as f:
        np.lib.format.write_array(f, np.ones(1), allow_pickle=False)
    with pytest.raises(ValueError, match=r"members not in its manifest: \['extra'\]"):
        load(path)


# ----- hostile files: refused before anything big is allocated -----


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def _refused(path: Path, match: str, **kwargs: Any) -> None:
    """``load(path)`` raises ValueError matching ``match`` having allocated under 4 MiB."""
    peak, error = traced_peak(lambda: load(path, **kwargs))
    assert isinstance(error, ValueError), repr(error)
    assert path.name in str(error)
    with pytest.raises(ValueError, match=match):
        raise error
    assert peak < 4 * MIB, peak


def test_member_declaring_a_tebibyte_is_refused_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "tib.npz"  # a header declaring 2**37 float64 and no data: 236 bytes
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", _npy_header((2**37,)))
    assert path.stat().st_size < 500
    _refused(path, r"member 'x' of .*disagree; got 1099511627904 bytes declared, expected 128")


def test_total_declared_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "big.npz"  # 8 MiB of zeros deflate to about 8 KiB
    np.savez_compressed(path, w=np.zeros(MIB), b=np.zeros(3))
    assert path.stat().st_size < 64 << 10
    _refused(path, rf"declares too much data; got \d+ bytes, expected at most {MIB}", max_bytes=MIB)
    assert load(path)["w"].shape == (MIB,)  # deflate's best ratio passes the sanity check
    assert MAX_LOAD_BYTES == 1 << 30


def _patch_central(path: Path, offset: int, value: int) -> None:
    """Overwrite a uint32 field of the (only) central directory entry."""
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")
    data[entry + offset : entry + offset + 4] = struct.pack("<I", value)
    path.write_bytes(bytes(data))


def test_directory_claiming_more_than_its_compressed_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "claim.npz"  # a 4 MiB member claimed from a ~70-byte deflate stream
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.npy", _npy_header((4 * MIB,), "|u1"))
    _patch_central(path, 24, 4 * MIB + 128)  # uncompressed size, agreeing with the header
    _refused(path, r"member 'x.npy' of .*claimed from \d+ compressed, expected at most")
    _patch_central(path, 20, 1 << 30)  # compressed size: more than the file holds
    _refused(path, r"member 'x.npy' of .*expected them within the file's \d+ bytes")


def test_only_distinct_npy_members(tmp_path: Path) -> None:
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", b"hello")
    _refused(path, r"member 'notes.txt' of .*got 'notes.txt', expected distinct .npy members")
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate"):
        zf.writestr("x.npy", _npy_header((0,)))
        zf.writestr("x.npy", _npy_header((0,)))
    _refused(path, r"member 'x' of .*got a duplicate")


def test_any_other_failure_is_a_value_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.npz"
    save({"a": np.ones(2)}, path)

    def out_of_memory(*args: Any, **kwargs: Any) -> np.ndarray:
        raise MemoryError("Unable to allocate")

    monkeypatch.setattr(np.lib.format, "read_array", out_of_memory)
    with pytest.raises(ValueError, match=r"cannot read '.*c\.npz'; got MemoryError"):
        load(path)


def _nested(depth: int) -> dict[str, Any]:
    """A state whose innermost container sits at ``depth`` (the root dict is at 0)."""
    state: dict[str, Any] = {"leaf": np.ones(1)}
    for _ in range(depth):
        state = {"d": state}
    return state


def _manifest(path: Path, depth: int) -> None:
    """Write an .npz whose hand-made manifest nests ``depth`` dicts."""
    tree = '{"dict": {"d": ' * depth + "null" + "}}" * depth
    doc = '{"format": "autograd_mnist.checkpoint", "version": 1, "tree": ' + tree + "}"
    np.savez(path, __autograd_mnist__=np.frombuffer(doc.encode(), dtype=np.uint8))


def test_nesting_depth_is_capped_on_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "deep.npz"
    save(_nested(MAX_DEPTH - 1), path)
    _assert_same(load(path), _nested(MAX_DEPTH - 1))
    with pytest.raises(
        ValueError, match=rf"nesting too deep at key '(d/)+d' .*at most {MAX_DEPTH}"
    ):
        save(_nested(MAX_DEPTH), path)
    _manifest(path, 100)
    _refused(path, rf"corrupt manifest in '.*deep\.npz'; got nesting deeper than {MAX_DEPTH}")
    _manifest(path, 500)  # json.loads gives up (RecursionError) unless the stack is deep
    _refused(path, r"corrupt manifest in '.*deep\.npz'")


def test_save_creates_folders_and_errors_name_the_given_path(tmp_path: Path) -> None:
    path = tmp_path / "run" / "sub" / "ckpt.npz"
    save({"a": np.ones(2)}, path)
    np.testing.assert_array_equal(load(path)["a"], np.ones(2))
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError) as info:
        save({"a": np.ones(2)}, tmp_path / "file" / "ckpt.npz")
    assert str(tmp_path / "file" / "ckpt.npz") in str(info.value)
    assert ".tmp" not in str(info.value)
