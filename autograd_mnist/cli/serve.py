"""``serve``: a trained run's model on a local web page (see ``docs/serve.md``)."""

from __future__ import annotations

import argparse
import functools
from typing import Any

from autograd_mnist.cli._options import add_data_args
from autograd_mnist.errors import RunError
from autograd_mnist.serve import Service, app, latest_run, load_run, read_test_split

__all__ = ["RUNS", "cmd_serve", "register"]

RUNS = "runs"
"""Where ``serve`` looks for the latest run when none is given (``train``'s default parent)."""


def _port(text: str) -> int:
    """A TCP port, 1-65535 (argparse ``type``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number; got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 1..65535; got {value}")
    return value


def register(sub: Any) -> None:
    """Add the ``serve`` sub-parser to ``sub``."""
    p = sub.add_parser("serve", help="a local web page: draw a digit, the model classifies it")
    p.add_argument(
        "run",
        nargs="?",
        metavar="RUN_OR_CHECKPOINT",
        help=f"default: the run under {RUNS}/ whose checkpoint was written last",
    )
    p.add_argument("--port", type=_port, default=8000, help="default 8000")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only)",
    )
    add_data_args(p, "the run's; for the test images")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """``serve``: load the run, bind the address, then serve the page until Ctrl-C."""
    run = args.run or latest_run(RUNS)
    if run is None:
        raise RunError(
            f"no trained run under {RUNS}/ to serve; train one with: autograd-mnist train "
            "(or name a run folder: autograd-mnist serve RUN)"
        )
    loaded = load_run(run)
    dataset = args.dataset or loaded.dataset
    test_data = functools.partial(read_test_split, dataset, args.data_dir)
    service = Service(loaded, test_data, test_dataset=dataset)
    where = "this machine only" if app.is_loopback(args.host) else "reachable from the network"
    sock = app.bind(args.host, args.port)  # before announcing: a port in use is one line
    print(f"serving model {loaded.name} from {loaded.path}")
    print(f"open http://{args.host}:{args.port}/ ({where}); Ctrl-C to stop", flush=True)
    app.run(service, args.host, args.port, sock=sock)
    return 0
