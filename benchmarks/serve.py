"""Round-trip time of a prediction against a real ``autograd-mnist serve`` server.

The server is the package's own app (:func:`autograd_mnist.serve.app.create_app`) run by
uvicorn on 127.0.0.1 (a free port) in a thread of this process; the client posts 280x280
drawings, as the page does (JSON rows of alpha values 0-255), over one keep-alive HTTP
connection and reads the JSON answer. One round trip = send, server parses, checks,
preprocesses, classifies, computes the feature maps and encodes the answer, client reads
and parses it. The BLAS settings are the command's (``ensure_blas_thread_timeout``, one thread). The
model is RUN's (a run folder or checkpoint), else the latest run under
``runs/``, else a freshly built ``best`` (untrained weights: the same arithmetic). Then the
server's share is broken down, in-process, by stage. Nothing is written.

    python benchmarks/serve.py [RUN] [--requests 200] [--warmup 20]
    PYTHONPATH=. python benchmarks/serve.py          # from a bare checkout
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import uvicorn

from autograd_mnist.models import build_model
from autograd_mnist.runtime import BLAS_THREAD_TIMEOUT_VAR, ensure_blas_thread_timeout
from autograd_mnist.serve import LoadedRun, MissingTestImages, Service, latest_run, load_run
from autograd_mnist.serve.app import create_app, one_blas_thread
from autograd_mnist.serve.preprocess import to_mnist
from autograd_mnist.serve.validate import parse_drawing

SIDE = 280  # the page's canvas


def drawings(n: int, seed: int = 0) -> list[bytes]:
    """``n`` request bodies: a thick slanted stroke ('1'/'7'-like) at random places."""
    gen = np.random.default_rng(seed)
    rows, cols = np.indices((SIDE, SIDE))
    bodies = []
    for _ in range(n):
        top, left, lean = gen.integers(20, 80), gen.integers(60, 180), gen.uniform(-0.5, 0.5)
        centre = left + (rows - top) * lean
        ink = (rows >= top) & (rows < top + 180) & (np.abs(cols - centre) < 9)
        image = np.where(ink, 255, 0)
        bodies.append(json.dumps({"image": image.tolist()}).encode())
    return bodies


def no_test_images() -> tuple[np.ndarray, np.ndarray]:
    raise MissingTestImages("not used by this benchmark")


def pick_run(run: str | None) -> tuple[LoadedRun, str]:
    found = run or latest_run("runs")
    if found is not None:
        loaded = load_run(found)
        return loaded, f"{loaded.name} from {loaded.path} (epoch {loaded.epoch})"
    model = build_model("best")
    model.eval()
    fresh = LoadedRun(model, "best", "(none)", 0, "mnist")
    return fresh, "best, freshly built (no run given and none under runs/)"


def start_server(service: Service) -> tuple[uvicorn.Server, threading.Thread, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            sys.exit("the server did not start")
        time.sleep(0.05)
    return server, thread, port


def round_trips(port: int, bodies: list[bytes], warmup: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    times = []
    for i, body in enumerate(bodies):
        t0 = time.perf_counter()
        conn.request("POST", "/api/predict", body, headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
        elapsed = time.perf_counter() - t0
        if response.status != 200 or not answer.get("ink"):
            sys.exit(f"bad answer {response.status}: {str(answer)[:200]}")
        if i >= warmup:
            times.append(elapsed)
    conn.close()
    return times


def stage_ms(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", help="run folder or checkpoint (default: see above)")
    parser.add_argument("--requests", type=int, default=200, help="timed round trips")
    parser.add_argument("--warmup", type=int, default=20, help="untimed round trips first")
    args = parser.parse_args()
    ensure_blas_thread_timeout()  # as the `autograd-mnist` command does (may re-execute)

    loaded, described = pick_run(args.run)
    service = Service(loaded, no_test_images)
    bodies = drawings(args.requests + args.warmup)
    print(f"command: {shlex.join([os.path.basename(sys.executable), *sys.argv])}")
    blas = ", ".join(
        f"{var}={os.environ.get(var, 'unset')}"
        for var in ("OPENBLAS_NUM_THREADS", BLAS_THREAD_TIMEOUT_VAR)
    )
    print(f"model: {described}; {blas}; {os.cpu_count()} cpus")
    print(f"request body: {len(bodies[0]):,} bytes (280x280 JSON rows, as the page sends)")
    with one_blas_thread():  # as `autograd-mnist serve` runs
        server, thread, port = start_server(service)
        try:
            times = round_trips(port, bodies, args.warmup)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    ms = np.array(times) * 1e3
    print(f"== round trip, {len(ms)} requests after {args.warmup} warm-up, one connection")
    print(
        f"median {np.median(ms):.1f} ms   p90 {np.percentile(ms, 90):.1f} ms   "
        f"min {ms.min():.1f} ms   max {ms.max():.1f} ms"
    )
    body = bodies[0]
    drawing = parse_drawing(body)
    image = to_mnist(drawing)
    assert image is not None
    n = min(50, max(5, args.requests))
    print("== the server's share, in-process, median of", n)
    with one_blas_thread():
        print(f"parse + check JSON  {stage_ms(lambda: parse_drawing(body), n):6.2f} ms")
        print(f"preprocess (MNIST)  {stage_ms(lambda: to_mnist(drawing), n):6.2f} ms")
        print(f"classify + maps     {stage_ms(lambda: service.classify(image), n):6.2f} ms")
        print(f"whole predict()     {stage_ms(lambda: service.predict(body), n):6.2f} ms")


if __name__ == "__main__":
    main()
