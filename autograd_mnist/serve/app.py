"""The web app: Starlette routes around a :class:`~autograd_mnist.serve.service.Service`.

Starlette and uvicorn are optional (the ``serve`` extra) and imported when the app is made.

Routes (all answers JSON unless said; errors are ``{"error": "..."}``):

- ``GET /``: the page; ``GET /static/<file>``: its script and style sheet, shipped in the
  package (:data:`STATIC`), read once into memory.
- ``GET /api/model``: :meth:`Service.info`.
- ``POST /api/predict``: a drawing (``Content-Type: application/json``) ->
  :meth:`Service.predict`; 400 for a bad body, 413 for one over
  :data:`~autograd_mnist.serve.validate.MAX_BODY` bytes, 415 for another content type.
- ``GET /api/test-image``: :meth:`Service.test_image`; 404 when the test images are not
  in the data folder.
- ``GET /graph.svg``: the model's computation graph (``image/svg+xml``); 503 without
  Graphviz's ``dot``.

The handlers run on the event loop, one request at a time: a prediction takes a few
milliseconds, and the model is never used by two requests at once.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from autograd_mnist.errors import RunError
from autograd_mnist.serve.loading import MissingTestImages
from autograd_mnist.serve.service import Service
from autograd_mnist.serve.validate import MAX_BODY, BadRequest

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = [
    "INSTALL",
    "LOCAL_HOSTS",
    "STATIC",
    "bind",
    "create_app",
    "is_loopback",
    "one_blas_thread",
    "read_static",
    "run",
]

INSTALL = 'the serve extra: pip install -e ".[serve]" (Starlette, uvicorn)'
"""What ``serve`` needs and how to install it."""
STATIC: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
"""The page's files, in the package's ``static/`` folder, and their content types."""
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
"""``Host`` names (any port) accepted when serving on a loopback address: a page of another
site, its name made to resolve to 127.0.0.1 (DNS rebinding), is refused."""
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def read_static() -> dict[str, bytes]:
    """The page's files (:data:`STATIC`), read from the installed package."""
    folder = importlib.resources.files("autograd_mnist.serve") / "static"
    return {name: (folder / name).read_bytes() for name in STATIC}


def create_app(service: Service, allowed_hosts: tuple[str, ...] | None = LOCAL_HOSTS) -> Starlette:
    """The Starlette app serving ``service``.

    Args:
        service: the model and its data.
        allowed_hosts: ``Host`` headers accepted (None: any, for a server bound to a
            non-loopback address on purpose).

    Raises:
        ImportError: without Starlette, saying how to install it.
    """
    try:
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route
    except ImportError as exc:
        raise ImportError(f"serve needs {INSTALL}; {exc}") from None

    files = read_static()

    def reply(content: bytes, media_type: str, status: int = 200) -> Response:
        return Response(content, status, headers=_HEADERS, media_type=media_type)

    def answer(payload: dict[str, Any], status: int = 200) -> Response:
        return JSONResponse(payload, status, headers=_HEADERS)

    async def page(request: Request) -> Response:
        return reply(files["index.html"], STATIC["index.html"])

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return answer({"error": f"no file {name!r}; expected one of {sorted(STATIC)}"}, 404)
        return reply(files[name], STATIC[name])

    async def model(request: Request) -> Response:
        return answer(service.info())

    async def predict(request: Request) -> Response:
        try:
            return answer(service.predict(await _body(request)))
        except BadRequest as exc:
            return answer({"error": str(exc)}, exc.status)

    async def test_image(request: Request) -> Response:
        try:
            return answer(service.test_image())
        except MissingTestImages as exc:
            return answer({"error": f"test images not available: {exc}"}, 404)

    async def graph(request: Request) -> Response:
        try:
            return reply(service.graph_svg(), "image/svg+xml")
        except RuntimeError as exc:
            return reply(str(exc).encode(), "text/plain; charset=utf-8", 503)

    routes = [
        Route("/", page),
        Route("/static/{name}", static),
        Route("/api/model", model),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/test-image", test_image),
        Route("/graph.svg", graph),
    ]
    middleware = []
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    return Starlette(routes=routes, middleware=middleware)


async def _body(request: Request) -> bytes:
    """The request's body, refused (as a :class:`BadRequest`) when it is not JSON or longer
    than ``MAX_BODY`` bytes, before more than that is read."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise BadRequest(
            f"bad content type: got {kind or 'none'!r}, expected 'application/json'", 415
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BadRequest(f"request body too large: {declared} bytes, expected <= {MAX_BODY}", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadRequest(f"request body too large: over {MAX_BODY} bytes", 413)
    return bytes(body)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (``--host``) is a loopback address: only this machine can connect."""
    return host in ("localhost", "::1") or host.startswith("127.")


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """NumPy's BLAS on one thread within the block (threadpoolctl), as serving wants it.

    One image's matrices are too small to share out: on this project's 2-core machine, busy
    with other work, the best model's answer took 3-10 ms (median; p90 16-23 ms) with two
    BLAS threads and 0.9 ms with one (measured in turns, in one process).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` as uvicorn binds one (``SO_REUSEADDR``; IPv6
    for an address with a colon), for :func:`run` to serve on: a port in use or an address
    that is not this machine's fails here, before anything is announced.

    Raises:
        RunError: if the address cannot be bound, naming it and the reason.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family)
    except OSError as exc:
        raise RunError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:  # in use, not an address of this machine, ...
        sock.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        raise RunError(
            f"cannot serve on {host}:{port}: {reason}; choose another --port or --host"
        ) from None
    return sock


def run(
    service: Service,
    host: str = "127.0.0.1",
    port: int = 8000,
    sock: socket.socket | None = None,
) -> None:
    """Serve ``service`` with uvicorn until Ctrl-C (access log off, warnings shown), BLAS
    on one thread (:func:`one_blas_thread`).

    On a loopback ``host`` only the local ``Host`` names are accepted (:data:`LOCAL_HOSTS`).

    Args:
        service: what to serve.
        host, port: the address (the ``Host`` check and messages use them).
        sock: a socket already bound to them (:func:`bind`; None: bound here); it is
            closed when serving ends.

    Raises:
        ImportError: without uvicorn or Starlette, saying how to install them.
        RunError: if the address cannot be bound, or the server does not start.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(f"serve needs {INSTALL}; {exc}") from None
    app = create_app(service, LOCAL_HOSTS if is_loopback(host) else None)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    with sock if sock is not None else bind(host, port) as listener, one_blas_thread():
        try:
            server.run(sockets=[listener])
        except KeyboardInterrupt:  # Ctrl-C after uvicorn's own shutdown: done
            pass
        except SystemExit:  # uvicorn's exit when it cannot start; else (SIGTERM) pass it on
            if server.started:
                raise
            raise RunError(f"the server on {host}:{port} did not start") from None
