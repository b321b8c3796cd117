"""``autograd-mnist serve``: the service, its endpoints (Starlette's test client), the
command line, the page's files and the test images. Models are trained on synthetic data;
test images are synthetic too (CI has no MNIST)."""

from __future__ import annotations

import base64
import importlib.resources
import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT, needs_dot, run_python

from autograd_mnist import cli
from autograd_mnist.config import RunConfig
from autograd_mnist.data import FASHION_MNIST_CLASSES, Split, synthetic_data, write_idx
from autograd_mnist.data.sources import FILES
from autograd_mnist.errors import RunError
from autograd_mnist.runs import train_run
from autograd_mnist.serve import (
    MissingTestImages,
    Service,
    app,
    latest_run,
    load_run,
    read_test_split,
)
from autograd_mnist.serve.service import NO_INK, encode_tiles
from autograd_mnist.serve.validate import MAX_BODY

DATA = synthetic_data(n_train=64, n_test=20, seed=3)


def make_run(folder: Path, model: str = "best", **config: Any) -> Path:
    """A run of ``model`` trained for one epoch on synthetic data, in ``folder``."""
    cfg = RunConfig(model=model, epochs=1, batch_size=32, out=str(folder), progress=False)
    train_run(cfg, data=DATA, **config)
    return folder


def write_test_images(data_dir: Path, split: Split = DATA[1]) -> Path:
    """``split`` as the two MNIST test IDX files in ``<data_dir>/mnist``."""
    folder = data_dir / "mnist"
    folder.mkdir(parents=True)
    x, y = split
    write_idx(folder / f"{FILES['test_images']}.gz", np.round(x[:, 0] * 255).astype(np.uint8))
    write_idx(folder / f"{FILES['test_labels']}.gz", y.astype(np.uint8))
    return folder


def drawing(value: float = 255) -> np.ndarray:
    img = np.zeros((280, 280))
    img[50:230, 120:150] = value
    return img


def request_body(image: np.ndarray) -> bytes:
    return json.dumps({"image": image.astype(int).tolist()}).encode()


@pytest.fixture(scope="module")
def best_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("serve") / "best")


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("serve") / "mlp", "mlp", model_config={"hidden": [16]})


def synthetic_test_data() -> Split:
    return DATA[1]


def no_test_data() -> Split:
    raise MissingTestImages("no t10k-images-idx3-ubyte[.gz] in /nowhere")


# ----- the service, without a web framework -----
def test_service_predicts_a_drawing(best_run: Path) -> None:
    service = Service(load_run(best_run), synthetic_test_data)
    answer = service.predict(request_body(drawing()))
    assert answer["ink"] is True
    probs = np.array(answer["probabilities"])
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-4
    assert answer["prediction"] == int(np.argmax(probs))
    assert answer["label"] == str(answer["prediction"])
    seen = np.frombuffer(base64.b64decode(answer["input"]["data"]), np.uint8).reshape(28, 28)
    assert seen.max() == 255 and answer["input"]["shape"] == [28, 28]  # grey levels as seen
    maps = answer["feature_maps"]
    assert maps["shape"] == [32, 28, 28]
    assert len(base64.b64decode(maps["data"])) == 32 * 28 * 28


def test_a_blank_drawing_is_answered_not_classified(best_run: Path) -> None:
    service = Service(load_run(best_run), synthetic_test_data)
    assert service.predict(request_body(np.zeros((280, 280)))) == {
        "ink": False,
        "message": NO_INK,
    }


def test_info_shows_the_first_conv_filters(best_run: Path) -> None:
    info = Service(load_run(best_run), synthetic_test_data).info()
    assert info["model"] == "best" and info["epoch"] == 1 and info["dataset"] == "MNIST"
    assert info["classes"] == [str(k) for k in range(10)]
    assert info["filters"]["shape"] == [32, 3, 3]
    assert "32 filters of 3x3" in info["conv_note"]


def test_a_model_without_conv_says_so(mlp_run: Path) -> None:
    service = Service(load_run(mlp_run), synthetic_test_data)
    info = service.info()
    assert info["filters"] is None and "has no conv layer" in info["conv_note"]
    answer = service.predict(request_body(drawing()))
    assert answer["ink"] is True and answer["feature_maps"] is None


def test_test_image_has_its_true_label(best_run: Path) -> None:
    service = Service(load_run(best_run), synthetic_test_data, seed=0)
    answer = service.test_image()
    i = answer["index"]
    assert answer["true_class"] == int(DATA[1][1][i]) and answer["true_label"] == str(
        answer["true_class"]
    )
    seen = np.frombuffer(base64.b64decode(answer["input"]["data"]), np.uint8)
    np.testing.assert_array_equal(seen, np.round(DATA[1][0][i, 0] * 255).ravel())


def test_encode_tiles_scales_each_tile_or_all() -> None:
    tiles = np.array([[[-1.0, 1.0]], [[2.0, 5.0]]])  # (2, 1, 2)
    own = np.frombuffer(base64.b64decode(encode_tiles(tiles)["data"]), np.uint8)
    np.testing.assert_array_equal(own, [0, 255, 0, 255])
    shared = np.frombuffer(base64.b64decode(encode_tiles(tiles, True)["data"]), np.uint8)
    np.testing.assert_array_equal(shared, [0, 85, 128, 255])
    flat = encode_tiles(np.ones((2, 3)))  # a constant tile: all 0, no division by zero
    assert flat["shape"] == [2, 3] and base64.b64decode(flat["data"]) == bytes(6)


# ----- the endpoints -----
@pytest.fixture
def client_for() -> Callable[..., Any]:
    testclient = pytest.importorskip("starlette.testclient")
    pytest.importorskip("httpx")

    def make(run: Path, test_data: Callable[[], Split] = synthetic_test_data) -> Any:
        service = Service(load_run(run), test_data, seed=1)
        return testclient.TestClient(app.create_app(service), base_url="http://127.0.0.1:8000")

    return make


def test_the_page_and_its_files(best_run: Path, client_for: Callable[..., Any]) -> None:
    client = client_for(best_run)
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<canvas id="pad" width="280" height="280"' in page.text
    assert "the way MNIST's own digits were made" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name, kind in app.STATIC.items():
        got = client.get(f"/static/{name}")
        assert got.status_code == 200 and got.headers["content-type"] == kind
    missing = client.get("/static/secret.py")
    assert missing.status_code == 404 and "no file 'secret.py'" in missing.json()["error"]
    assert client.get("/static/..%2F__init__.py").status_code == 404


def test_predict_endpoint(best_run: Path, client_for: Callable[..., Any]) -> None:
    client = client_for(best_run)
    got = client.post("/api/predict", json={"image": drawing().astype(int).tolist()})
    assert got.status_code == 200
    assert got.json()["ink"] is True and len(got.json()["probabilities"]) == 10
    blank = client.post("/api/predict", json={"image": [[0] * 280] * 280})
    assert blank.status_code == 200 and blank.json() == {"ink": False, "message": NO_INK}
    assert client.get("/api/model").json()["model"] == "best"


@pytest.mark.parametrize(
    ("content", "headers", "status", "words"),
    [
        (b"{oops", {}, 400, "bad JSON"),
        (b'{"image": [[NaN]]}', {}, 400, "NaN"),
        (json.dumps({"image": [[300] * 28] * 28}).encode(), {}, 400, "expected [0, 255]"),
        (json.dumps({"image": [[0] * 28] * 20}).encode(), {}, 400, "20x28"),
        (b"x" * (MAX_BODY + 1), {}, 413, "too large"),
        (b"{}", {"content-type": "text/plain"}, 415, "'text/plain'"),
    ],
)
def test_predict_refuses_bad_requests(
    best_run: Path,
    client_for: Callable[..., Any],
    content: bytes,
    headers: dict[str, str],
    status: int,
    words: str,
) -> None:
    client = client_for(best_run)
    sent = {"content-type": "application/json", **headers}
    got = client.post("/api/predict", content=content, headers=sent)
    assert got.status_code == status
    assert words in got.json()["error"]


def test_a_declared_length_over_the_cap_is_refused_unread(
    best_run: Path, client_for: Callable[..., Any]
) -> None:
    client = client_for(best_run)
    headers = {"content-type": "application/json", "content-length": str(10 * MAX_BODY)}
    got = client.post("/api/predict", content=b"{}", headers=headers)
    assert got.status_code == 413 and str(10 * MAX_BODY) in got.json()["error"]


def test_only_local_host_names_and_the_right_methods(
    best_run: Path, client_for: Callable[..., Any]
) -> None:
    client = client_for(best_run)
    assert client.get("/api/model", headers={"host": "attacker.example"}).status_code == 400
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.get("/api/model", headers={"host": host}).status_code == 200, host
    assert client.get("/api/predict").status_code == 405
    assert app.is_loopback("127.0.0.1") and app.is_loopback("localhost")
    assert not app.is_loopback("0.0.0.0")


def test_test_image_endpoint(best_run: Path, client_for: Callable[..., Any]) -> None:
    got = client_for(best_run).get("/api/test-image")
    assert got.status_code == 200 and got.json()["true_label"] in [str(k) for k in range(10)]
    missing = client_for(best_run, no_test_data).get("/api/test-image")
    assert missing.status_code == 404
    assert missing.json()["error"].startswith("test images not available: no t10k-images")


@needs_dot
def test_graph_svg_is_rendered_once(best_run: Path, client_for: Callable[..., Any]) -> None:
    client = client_for(best_run)
    first = client.get("/graph.svg")
    assert first.status_code == 200 and first.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in first.content and b"Conv2d" in first.content
    assert client.get("/graph.svg").content == first.content


def test_graph_without_dot_is_503(
    best_run: Path, client_for: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")  # no `dot` to be found
    got = client_for(best_run).get("/graph.svg")
    assert got.status_code == 503 and "dot" in got.text


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@needs_dot
def test_nothing_is_written_to_disk(
    tmp_path: Path, client_for: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(tmp_path / "run")
    data = tmp_path / "data"
    write_test_images(data)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = tree(tmp_path)
    client = client_for(run, lambda: read_test_split("mnist", data))
    for path in ("/", "/static/app.js", "/api/model", "/api/test-image", "/graph.svg"):
        assert client.get(path).status_code == 200, path
    assert client.post("/api/predict", json={"image": [[255] * 40] * 40}).status_code == 200
    assert client.post("/api/predict", content=b"{bad", headers={}).status_code == 415
    assert tree(tmp_path) == before


# ----- runs, test images and the command line -----
def test_latest_run_is_the_last_checkpoint_written(tmp_path: Path) -> None:
    assert latest_run(tmp_path / "none") is None
    assert latest_run(tmp_path) is None
    for k, name in enumerate(["b", "a", "c"]):
        (tmp_path / name).mkdir()
        (tmp_path / name / "checkpoint.npz").write_bytes(b"")
        os.utime(tmp_path / name / "checkpoint.npz", (1000 + k, 1000 + k))
    (tmp_path / "started").mkdir()  # no checkpoint yet: not a candidate
    (tmp_path / "started" / "config.json").write_text("{}")
    assert latest_run(tmp_path) == tmp_path / "c"


def test_read_test_split_from_the_data_folder(tmp_path: Path) -> None:
    folder = write_test_images(tmp_path)
    x, y = read_test_split("mnist", tmp_path)
    assert x.shape == (20, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y, DATA[1][1])
    np.testing.assert_allclose(x, DATA[1][0], atol=0.5 / 255)
    (folder / f"{FILES['test_labels']}.gz").unlink()
    with pytest.raises(MissingTestImages, match="no t10k-labels-idx1-ubyte"):
        read_test_split("mnist", tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [f"{FILES['test_images']}.gz"]


def test_serve_without_a_run_says_how_to_train_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "autograd-mnist train" in err and "runs/" in err


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_serve_refuses_a_bad_port(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--port", port]) == 2
    assert "--port" in capsys.readouterr().err


def test_serve_serves_the_latest_run_on_localhost(
    tmp_path: Path, best_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Service, str, int]] = []
    monkeypatch.setattr(app, "bind", lambda host, port: None)  # no real port taken
    monkeypatch.setattr(app, "run", lambda s, host, port, sock: calls.append((s, host, port)))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "r1").symlink_to(best_run, target_is_directory=True)
    assert cli.main(["serve"]) == 0
    ((service, host, port),) = calls
    assert (host, port) == ("127.0.0.1", 8000)
    assert service.run.path == str(Path("runs", "r1", "checkpoint.npz"))
    assert cli.main(["serve", str(best_run), "--port", "8123", "--host", "0.0.0.0"]) == 0
    assert calls[1][1:] == ("0.0.0.0", 8123)
    assert cli.main(["serve", str(best_run), "--dataset", "fashion"]) == 0
    assert calls[2][0].test_classes == list(FASHION_MNIST_CLASSES)
    assert calls[2][0].classes == [str(k) for k in range(10)]


def test_a_port_in_use_or_an_address_not_of_this_machine_is_one_line_before_serving(
    mlp_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for argv, reason in (
            (["--port", str(port)], f"cannot serve on 127.0.0.1:{port}: Address already in use"),
            (["--host", "192.0.2.1"], "cannot serve on 192.0.2.1:8000: "),  # TEST-NET-1
        ):
            assert cli.main(["serve", str(mlp_run), *argv]) == 2
            out, err = capsys.readouterr()
            assert out == ""  # nothing announced
            assert err.startswith(f"autograd-mnist: error: {reason}") and err.count("\n") == 1
            assert "--port or --host" in err


def test_a_server_that_does_not_start_is_an_error_not_an_exit(
    mlp_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: sys.exit(3))
    service = Service(load_run(mlp_run), synthetic_test_data)
    sock = app.bind("127.0.0.1", 0)
    with pytest.raises(RunError, match="the server on 127.0.0.1:0 did not start"):
        app.run(service, "127.0.0.1", 0, sock=sock)
    assert sock.fileno() == -1  # closed


def test_the_page_ships_in_the_package() -> None:
    """The files are found through importlib.resources, and pyproject's package-data globs
    cover every one of them (so a non-editable install has them)."""
    tomllib = pytest.importorskip("tomllib")
    folder = importlib.resources.files("autograd_mnist.serve") / "static"
    for name in app.STATIC:
        assert (folder / name).is_file(), name
    assert set(app.read_static()) == set(app.STATIC)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["autograd_mnist.serve"]
    static = ROOT / "autograd_mnist" / "serve"
    shipped = {p.name for g in globs for p in static.glob(g)}
    assert shipped == {p.name for p in (static / "static").iterdir()} == set(app.STATIC)


def test_the_page_loads_nothing_from_elsewhere() -> None:
    """No CDN: the page's files name no other site."""
    for name, text in app.read_static().items():
        assert b"http://" not in text and b"https://" not in text and b"//cdn" not in text, name


def test_the_benchmark_runs(tmp_path: Path) -> None:
    """benchmarks/serve.py against a real server, a few requests (no figures checked)."""
    pytest.importorskip("uvicorn")
    script = ROOT / "benchmarks" / "serve.py"
    proc = run_python([str(script), "--requests", "3", "--warmup", "1"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "freshly built" in proc.stdout and "== round trip, 3 requests" in proc.stdout
    assert "median" in proc.stdout and "p90" in proc.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("missing", ["uvicorn", "starlette.applications"])
def test_serve_without_the_extra_says_how_to_install_it(
    best_run: Path,
    missing: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # import fails
    assert cli.main(["serve", str(best_run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[serve]"' in err


def test_serving_uses_one_blas_thread() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with app.one_blas_thread():
        blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)


def test_test_images_of_another_dataset_keep_their_names(best_run: Path) -> None:
    service = Service(load_run(best_run), synthetic_test_data, seed=0, test_dataset="fashion")
    answer = service.test_image()
    assert answer["true_label"] == FASHION_MNIST_CLASSES[answer["true_class"]]
    assert answer["label"] == str(answer["prediction"])  # the model's own classes: digits
