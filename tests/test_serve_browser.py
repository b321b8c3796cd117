"""``autograd-mnist serve`` end to end: the real server, driven in headless Chromium.

Debian's ``chromium`` (installed by ``.ci/run``) is driven by Playwright's Python package;
the test skips without either. The server runs as ``python -m autograd_mnist serve`` on a
free port, with a model trained on synthetic data and synthetic test images in tmp_path.

Environment (both optional):

- ``AUTOGRAD_MNIST_SCREENSHOT``: where to save the screenshot (default
  ``<tmp_path>/serve.png``), e.g. ``docs/images/serve.png`` for the README's.
- ``AUTOGRAD_MNIST_SERVE_RUN``: a run folder to serve instead (a real trained model, for
  that screenshot); its test images then come from the user's data folder.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import child_env
from test_serve import make_run, write_test_images

CHROMIUM = Path("/usr/bin/chromium")
# the flags this machine's Chromium needs (no sandbox as root; no background connections)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason=f"no {CHROMIUM} (Debian's chromium package)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_up(url: str, server: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited ({server.returncode}): {server.communicate()}")
        try:
            with urllib.request.urlopen(f"{url}api/model", timeout=2) as response:
                json.load(response)
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not answer at {url} within {seconds} s")


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("uvicorn")
    pytest.importorskip("starlette")
    real = os.environ.get("AUTOGRAD_MNIST_SERVE_RUN")
    args = [real] if real else [str(make_run(tmp_path / "run"))]
    if not real:
        write_test_images(tmp_path / "data")
        args += ["--data-dir", str(tmp_path / "data")]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "autograd_mnist", "serve", *args, "--port", str(port)],
        cwd=tmp_path,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url, server)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=30)


def draw_seven(page: object, box: dict[str, float]) -> None:
    """A '7' in one stroke with the mouse (pointer events): a bar, then down to the left."""
    points = [(75, 60), (205, 60), (175, 120), (150, 180), (130, 235)]
    x0, y0 = box["x"], box["y"]
    mouse = page.mouse  # type: ignore[attr-defined]
    mouse.move(x0 + points[0][0], y0 + points[0][1])
    mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        for t in range(1, 11):
            mouse.move(x0 + ax + (bx - ax) * t / 10, y0 + ay + (by - ay) * t / 10)
    mouse.up()


def test_draw_a_digit_and_load_a_test_image(server_url: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    shot = Path(os.environ.get("AUTOGRAD_MNIST_SCREENSHOT") or tmp_path / "serve.png")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1150})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server_url)
            expect(page.locator("#model")).to_contain_text("model best")
            expect(page.locator("#bars .bar-row")).to_have_count(10)
            assert page.locator("#guess").text_content() == "?"

            draw_seven(page, page.locator("#pad").bounding_box())
            expect(page.locator("#guess")).to_have_text(re.compile(r"^[0-9]$"))
            expect(page.locator("#bars .bar-row.top")).to_have_count(1)
            top = page.locator("#bars .bar-row.top .label").text_content()
            assert page.locator("#guess").text_content() == top
            assert page.locator("#bars .bar-row.top .p").text_content() != "0.0%"
            expect(page.locator("#status")).to_contain_text(f"prediction: {top}")
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)

            page.locator("#test").click()
            expect(page.locator("#truth")).to_have_text(
                re.compile(r"^true label: [0-9] \(test image \d+\)$")
            )
            expect(page.locator("#guess")).to_have_text(re.compile(r"^[0-9]$"))

            page.locator("#clear").click()
            expect(page.locator("#guess")).to_have_text("?")

            # without test images the server answers 404 (tests/test_serve.py): the button says so
            missing = {"error": "test images not available: no t10k-images-idx3-ubyte[.gz]"}
            page.route(
                "**/api/test-image",
                lambda route: route.fulfill(status=404, json=missing),
            )
            page.locator("#test").click()
            expect(page.locator("#test")).to_have_text("no test images")
            expect(page.locator("#test")).to_be_disabled()
            expect(page.locator("#status")).to_contain_text("test images not available")
            assert not errors, errors
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
