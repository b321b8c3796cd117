"""``autograd-mnist serve``: a local web page to draw a digit on and watch the model answer.

- :mod:`~autograd_mnist.serve.preprocess`: a drawing made into an MNIST image (NumPy only).
- :mod:`~autograd_mnist.serve.validate`: the prediction request, checked.
- :mod:`~autograd_mnist.serve.loading`: the run to serve and the test images (read only).
- :mod:`~autograd_mnist.serve.service`: the answers, free of any web framework.
- :mod:`~autograd_mnist.serve.app`: the Starlette app and uvicorn (the ``serve`` extra,
  imported when used); the page's HTML, CSS and JavaScript are in ``static/``.

See ``docs/serve.md``.
"""

from __future__ import annotations

from autograd_mnist.serve.loading import (
    LoadedRun,
    MissingTestImages,
    latest_run,
    load_run,
    read_test_split,
)
from autograd_mnist.serve.preprocess import to_mnist
from autograd_mnist.serve.service import Service
from autograd_mnist.serve.validate import BadRequest, parse_drawing

__all__ = [
    "BadRequest",
    "LoadedRun",
    "MissingTestImages",
    "Service",
    "latest_run",
    "load_run",
    "parse_drawing",
    "read_test_split",
    "to_mnist",
]
