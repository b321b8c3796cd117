"""Bounded downloads: https / file:// only, capped in size and time. No network: the
responses are local files or fakes standing in for ``urllib.request.urlopen``."""

from __future__ import annotations

import itertools
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autograd_mnist.data import download as dl
from autograd_mnist.data import sources

MIB = 1 << 20


class _Endless:
    """A response that streams zeros without end (or ``size`` bytes), counting reads."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url, self.headers, self.reads = url, headers or {}, 0

    def __enter__(self) -> _Endless:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def geturl(self) -> str:
        return self.url

    def read(self, n: int) -> bytes:
        self.reads += 1
        return bytes(n)


def _serve(monkeypatch: pytest.MonkeyPatch, response: _Endless) -> None:
    def urlopen(request: Any, timeout: float) -> _Endless:
        return response

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


def test_file_urls_download(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"abc" * 1000)
    dl.download(src.as_uri(), tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == b"abc" * 1000


def test_endless_stream_stops_at_the_cap_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = _Endless("https://mirror.example/x.gz")
    _serve(monkeypatch, response)
    dest = tmp_path / "x.gz"
    with pytest.raises(ValueError, match=r"x\.gz is too large; got more than 3145728 bytes"):
        dl.download(response.url, dest, max_bytes=3 * MIB)
    assert response.reads == 4  # three 1 MiB chunks and the one byte too many
    assert list(tmp_path.iterdir()) == []  # no partial file, no temporary file
    assert dl.MAX_DOWNLOAD_BYTES == 64 * MIB  # the default, read at call time
    monkeypatch.setattr(dl, "MAX_DOWNLOAD_BYTES", 2 * MIB)
    with pytest.raises(ValueError, match=r"got more than 2097152 bytes"):
        dl.download(response.url, dest)


def test_announced_size_over_the_cap_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = _Endless("https://mirror.example/x.gz", {"Content-Length": str(1 << 40)})
    _serve(monkeypatch, response)
    with pytest.raises(ValueError, match=r"got Content-Length 1099511627776, expected at most"):
        dl.download(response.url, tmp_path / "x.gz")
    assert response.reads == 0 and list(tmp_path.iterdir()) == []


def test_deadline_for_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    response = _Endless("https://mirror.example/x.gz")
    _serve(monkeypatch, response)
    clock: Iterator[float] = itertools.count(0.0, 100.0)  # each look at the clock: +100 s
    monkeypatch.setattr(dl, "_now", lambda: next(clock))
    with pytest.raises(TimeoutError, match=r"too slow; got 4194304 bytes in 400 s, .*within 300 s"):
        dl.download(response.url, tmp_path / "x.gz")  # DOWNLOAD_DEADLINE: 300 s
    assert response.reads == 4 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["http://mirror.example/x.gz", "ftp://m/x.gz", "x.gz"])
def test_only_https_and_file_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    response = _Endless(url)
    _serve(monkeypatch, response)
    with pytest.raises(ValueError, match=r"download: refusing .*expected one of https, file"):
        dl.download(url, tmp_path / "x.gz")
    with pytest.raises(ValueError, match="refusing"):
        sources.MirrorSource(url)
    assert response.reads == 0


def test_redirect_to_http_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    response = _Endless("http://mirror.example/x.gz")  # where https:// was redirected to
    _serve(monkeypatch, response)
    with pytest.raises(ValueError, match=r"refusing 'http://mirror.example/x.gz'"):
        dl.download("https://mirror.example/x.gz", tmp_path / "x.gz")
    assert response.reads == 0 and list(tmp_path.iterdir()) == []


def test_a_mirror_over_the_cap_is_a_failed_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, _Endless("https://mirror.example/"))
    monkeypatch.setattr(dl, "MAX_DOWNLOAD_BYTES", MIB)
    with pytest.raises(sources.SourceError, match=r"train-images-idx3-ubyte\.gz: ValueError: "):
        sources.MirrorSource("https://mirror.example/").fetch(tmp_path)
