"""IDX reading and writing: round trips, header validation, gzip handling."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from memory import traced_peak

from autograd_mnist.data import read_idx, write_idx
from autograd_mnist.data.idx import MAX_IDX_BYTES

MIB = 1 << 20

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
SHAPES = [(7,), (3, 4), (2, 3, 5), (1, 2, 1, 3)]


def _random(rng: np.random.Generator, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip(
    tmp_path: Path, rng: np.random.Generator, dtype: type, shape: tuple[int, ...], suffix: str
) -> None:
    a = _random(rng, dtype, shape)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, a)
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    assert b.shape == shape
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_header_is_the_documented_format(tmp_path: Path) -> None:
    labels = np.array([5, 0, 4], dtype=np.uint8)
    write_idx(tmp_path / "labels", labels)
    assert (tmp_path / "labels").read_bytes() == bytes.fromhex("00000801 00000003 050004")
    images = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)
    write_idx(tmp_path / "images", images)
    raw = (tmp_path / "images").read_bytes()
    assert raw[:16] == bytes.fromhex("00000803 00000002 00000002 00000003")
    assert raw[16:] == images.tobytes()


def test_big_endian_payload(tmp_path: Path) -> None:
    write_idx(tmp_path / "a", np.array([1], dtype=np.int32))
    assert (tmp_path / "a").read_bytes()[-4:] == b"\x00\x00\x00\x01"


def test_gzip_detected_by_magic_not_name(tmp_path: Path) -> None:
    a = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", a)
    os.replace(tmp_path / "a.gz", tmp_path / "plain-name")
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), a)
    write_idx(tmp_path / "b", a)
    os.replace(tmp_path / "b", tmp_path / "b.gz")  # named .gz but not gzipped
    np.testing.assert_array_equal(read_idx(tmp_path / "b.gz"), a)


def test_gz_write_is_deterministic(tmp_path: Path) -> None:
    a = np.arange(100, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", a)
    first = (tmp_path / "a.gz").read_bytes()
    write_idx(tmp_path / "a.gz", a)
    assert (tmp_path / "a.gz").read_bytes() == first


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    write_idx(tmp_path / "a.gz", np.zeros(3, dtype=np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gz"]
    with pytest.raises(TypeError):
        write_idx(tmp_path / "b", np.zeros(3, dtype=np.int64))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gz"]


def _write_raw(path: Path, data: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_payload(tmp_path: Path, gz: bool) -> None:
    path = _write_raw(
        tmp_path / "t.idx", bytes.fromhex("00000803 00000002 00000002 00000002") + bytes(7), gz
    )
    with pytest.raises(ValueError, match=r"truncated payload.*t\.idx.*got 7 bytes, expected 8"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_padded_payload(tmp_path: Path, gz: bool) -> None:
    path = _write_raw(tmp_path / "p.idx", bytes.fromhex("00000801 00000002") + bytes(3), gz)
    with pytest.raises(ValueError, match=r"extra bytes.*p\.idx.*got 3 bytes, expected 2"):
        read_idx(path)


def test_bad_magic(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "m.idx", bytes.fromhex("01000801 00000001 00"))
    with pytest.raises(ValueError, match=r"bad magic number in .*m\.idx.*0x01000801"):
        read_idx(path)


def test_bad_type_code(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "c.idx", bytes.fromhex("00000a01 00000001 00"))
    with pytest.raises(ValueError, match=r"unknown type code in .*c\.idx.*0x0A"):
        read_idx(path)


def test_zero_dimensions(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "z.idx", bytes.fromhex("00000800"))
    with pytest.raises(ValueError, match=r"dimension count in .*z\.idx"):
        read_idx(path)


@pytest.mark.parametrize("data", [b"", b"\x00\x00", bytes.fromhex("00000803 00000001")])
def test_truncated_header(tmp_path: Path, data: bytes) -> None:
    path = _write_raw(tmp_path / "h.idx", data)
    with pytest.raises(ValueError, match=r"h\.idx"):
        read_idx(path)


def test_truncated_gzip(tmp_path: Path) -> None:
    good = gzip.compress(bytes.fromhex("00000801 00000004") + bytes(4))
    path = _write_raw(tmp_path / "g.gz", good[:-6])
    with pytest.raises(ValueError, match=r"corrupt gzip data in .*g\.gz"):
        read_idx(path)


def test_corrupt_gzip(tmp_path: Path) -> None:
    good = bytearray(gzip.compress(bytes.fromhex("00000801 00000004") + bytes(400)))
    good[12:20] = b"\xff" * 8  # clobber the deflate stream
    path = _write_raw(tmp_path / "c.gz", bytes(good))
    with pytest.raises(ValueError, match=r"corrupt gzip data in .*c\.gz"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_header_declaring_more_than_the_cap_is_refused_before_reading(
    tmp_path: Path, gz: bool
) -> None:
    header = bytes.fromhex("00000802 00100000 00001000")  # uint8 (2**20, 2**12): 4 GiB
    path = _write_raw(tmp_path / "huge.idx", header + bytes(100), gz)
    peak, error = traced_peak(lambda: read_idx(path))
    assert isinstance(error, ValueError) and peak < MIB, (error, peak)
    with pytest.raises(ValueError, match=r"file too large in .*huge\.idx.*declaring 4294967296"):
        raise error
    assert MAX_IDX_BYTES == 64 * MIB > 47_040_016  # MNIST's largest file fits


def test_gzip_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    header = bytes.fromhex("00000803 00000002 0000001c 0000001c")  # uint8 (2, 28, 28)
    with gzip.open(tmp_path / "bomb.gz", "wb", compresslevel=9) as g:
        g.write(header + bytes(1568))
        for _ in range(8):
            g.write(bytes(MIB))  # 8 MiB past the payload, about 8 KiB on disk
    path = tmp_path / "bomb.gz"
    assert path.stat().st_size < 16 << 10
    peak, error = traced_peak(lambda: read_idx(path))  # counted in chunks, never kept
    assert isinstance(error, ValueError) and peak < 4 * MIB, (error, peak)
    with pytest.raises(
        ValueError, match=r"extra bytes.*bomb\.gz.*got 8390176 bytes, expected 1568"
    ):
        raise error
    peak, error = traced_peak(lambda: read_idx(path, max_bytes=2 * MIB))
    assert isinstance(error, ValueError) and peak < 4 * MIB, (error, peak)
    with pytest.raises(ValueError, match=rf"extra bytes.*got over {2 * MIB} bytes, expected 1568"):
        raise error


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize("dtype", [np.int64, np.uint16, np.bool_, np.complex64])
def test_write_rejects_unsupported_dtype(tmp_path: Path, dtype: type) -> None:
    with pytest.raises(TypeError, match=r"write_idx: unsupported dtype"):
        write_idx(tmp_path / "x", np.zeros(2, dtype=dtype))


def test_write_rejects_scalar(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"write_idx: unsupported number of dimensions"):
        write_idx(tmp_path / "x", np.array(3, dtype=np.uint8))


def test_empty_array_round_trip(tmp_path: Path) -> None:
    write_idx(tmp_path / "e", np.zeros((0, 28, 28), dtype=np.uint8))
    assert read_idx(tmp_path / "e").shape == (0, 28, 28)
