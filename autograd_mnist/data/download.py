"""Bounded downloads: https (or local ``file://``) only, capped in size and in time.

A mirror is a stranger: it may stream without end, announce a terabyte, trickle one byte
every few seconds, or redirect to plain http. :func:`download` refuses all of these before
they cost more than :data:`MAX_DOWNLOAD_BYTES` of disk or :data:`DOWNLOAD_DEADLINE` seconds.
What it writes is still only trusted after its contents pass the sha256 digests checked by
:mod:`autograd_mnist.data.mnist`.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ..io import atomic_open, progress_bar

__all__ = [
    "DOWNLOAD_DEADLINE",
    "DOWNLOAD_SCHEMES",
    "DOWNLOAD_TIMEOUT",
    "MAX_DOWNLOAD_BYTES",
    "check_url",
    "download",
]

DOWNLOAD_TIMEOUT = 10.0
"""Seconds to wait for a mirror to connect or send the next chunk."""

DOWNLOAD_DEADLINE = 300.0
"""Seconds one file may take in all; a mirror that trickles is given up after this."""

MAX_DOWNLOAD_BYTES = 64 << 20
"""Most bytes accepted for one file (64 MiB); MNIST's largest ``.gz`` file is under 10 MB."""

DOWNLOAD_SCHEMES = ("https", "file")
"""URL schemes :func:`download` accepts: https, and ``file://`` for local mirrors and tests."""

_CHUNK = 1 << 20

_now = time.monotonic  # one name for the clock, so tests can drive it


def check_url(url: str) -> None:
    """Refuse a URL whose scheme is not in :data:`DOWNLOAD_SCHEMES`.

    Raises:
        ValueError: naming the URL and its scheme.
    """
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in DOWNLOAD_SCHEMES:
        raise ValueError(
            f"download: refusing {url!r}; got scheme {scheme or 'none'!r}, expected one of "
            f"{', '.join(DOWNLOAD_SCHEMES)}"
        )


def _announced(response: Any, url: str, max_bytes: int) -> int | None:
    """The Content-Length the server announces (None if none); refuse one over the cap."""
    length = str(response.headers.get("Content-Length") or "").strip()
    total = int(length) if length.isdigit() else None
    if total is not None and total > max_bytes:
        raise ValueError(
            f"download: {url} is too large; got Content-Length {total}, expected at most "
            f"{max_bytes} bytes"
        )
    return total


def download(
    url: str,
    dest: Path,
    timeout: float = DOWNLOAD_TIMEOUT,
    *,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> None:
    """Download ``url`` to ``dest`` atomically, with a tqdm progress bar when tqdm is installed.

    Args:
        url: an ``https://`` or ``file://`` URL (see :data:`DOWNLOAD_SCHEMES`); a redirect
            to another scheme is refused too.
        dest: the file to write (via a temporary file renamed into place; nothing is left
            behind on failure).
        timeout: seconds to wait for the connection and for each chunk.
        max_bytes: most bytes accepted; None means :data:`MAX_DOWNLOAD_BYTES`.
        deadline: seconds the whole file may take; None means :data:`DOWNLOAD_DEADLINE`.
            It is checked after each chunk, so a stalled read can add up to ``timeout``.

    Raises:
        ValueError: for a refused scheme, or a file announced or found larger than
            ``max_bytes`` (naming the URL).
        TimeoutError: if the file takes longer than ``deadline`` (an OSError).
        OSError: on any other network or file error (``urllib.error.URLError`` is one).
    """
    cap = MAX_DOWNLOAD_BYTES if max_bytes is None else max_bytes
    limit = DOWNLOAD_DEADLINE if deadline is None else deadline
    check_url(url)
    start = _now()
    request = urllib.request.Request(url, headers={"User-Agent": "autograd_mnist"})
    with urllib.request.urlopen(request, timeout=timeout) as response, atomic_open(dest) as out:
        check_url(response.geturl())  # where a redirect led
        total = _announced(response, url, cap)
        # hidden when stderr is not a terminal (disable=None); nothing shown without tqdm
        bar = progress_bar(total, dest.name, plain=False, unit="B", unit_scale=True, disable=None)
        written = 0
        try:
            while chunk := response.read(min(_CHUNK, cap + 1 - written)):
                written += len(chunk)
                if written > cap:
                    raise ValueError(
                        f"download: {url} is too large; got more than {cap} bytes, expected "
                        f"at most {cap}"
                    )
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
                if (elapsed := _now() - start) > limit:
                    raise TimeoutError(
                        f"download: {url} too slow; got {written} bytes in {elapsed:.0f} s, "
                        f"expected the whole file within {limit:g} s"
                    )
        finally:
            if bar is not None:
                bar.close()
