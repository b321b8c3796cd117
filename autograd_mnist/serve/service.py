"""The server's work, free of any web framework: each answer is a JSON-ready dict.

:class:`Service` holds one trained model. :meth:`Service.predict` takes a request body
(see :mod:`autograd_mnist.serve.validate`), makes the drawing an MNIST image
(:func:`~autograd_mnist.serve.preprocess.to_mnist`), classifies it with our engine and
returns the probabilities, the 28x28 input and the first conv layer's feature maps.
Images travel as base64 bytes (:func:`encode_tiles`), not as lists of numbers, so an
answer is small and quick to draw on a canvas.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_mnist import functional as F
from autograd_mnist import nn, viz
from autograd_mnist.data.datasets import Split, dataset_info
from autograd_mnist.grad_mode import no_grad
from autograd_mnist.plots import feature_maps
from autograd_mnist.serve.loading import LoadedRun
from autograd_mnist.serve.preprocess import to_mnist
from autograd_mnist.serve.validate import parse_drawing
from autograd_mnist.tensor import Tensor

__all__ = ["NO_INK", "Service", "encode_tiles"]

NO_INK = "no ink: draw a digit (nothing was sent to the model)"
"""The answer's ``message`` for a blank drawing."""


def encode_tiles(tiles: np.ndarray, shared_scale: bool = False) -> dict[str, Any]:
    """``(K, h, w)`` (or ``(h, w)``) values as uint8 grey levels in base64, with their shape.

    Each tile is scaled from its own [min, max] to [0, 255] (``shared_scale``: all tiles
    from the smallest value of any to the largest, so that weak and strong responses
    compare).
    """
    values = np.asarray(tiles, dtype=np.float64)
    axes = tuple(range(values.ndim)) if shared_scale else (-2, -1)
    lo = values.min(axis=axes, keepdims=True)
    span = values.max(axis=axes, keepdims=True) - lo
    grey = np.round(255 * np.clip((values - lo) / np.where(span > 0, span, 1.0), 0, 1))
    data = base64.b64encode(grey.astype(np.uint8).tobytes()).decode("ascii")
    return {"shape": list(values.shape), "data": data}


def _first_conv(model: nn.Module) -> nn.Conv2d | None:
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


class Service:
    """One trained model, answering the page's requests.

    Args:
        run: the model and what it was trained on (:func:`~autograd_mnist.serve.loading.load_run`).
        test_data: gives the test images and labels (e.g.
            :func:`~autograd_mnist.serve.loading.read_test_split` bound to a data folder);
            called once, on the first "test image"; may raise :class:`MissingTestImages`.
        seed: seeds the choice of test images (None: unpredictable).
        test_dataset: the test images' dataset, naming their true labels (None: the
            run's; the model's answers keep the names of the dataset it was trained on).

    Attributes:
        run: as given.
        classes: the names of the model's ten classes (its training dataset's).
        test_classes: the names of the test images' true classes.
    """

    def __init__(
        self,
        run: LoadedRun,
        test_data: Callable[[], Split],
        seed: int | None = None,
        test_dataset: str | None = None,
    ) -> None:
        self.run = run
        self.classes = dataset_info(run.dataset).class_names()
        self.test_classes = dataset_info(test_dataset or run.dataset).class_names()
        self._test_data = test_data
        self._test: Split | None = None
        self._svg: bytes | None = None
        self._rng = np.random.default_rng(seed)
        self._conv = _first_conv(run.model)
        run.model.eval()

    def info(self) -> dict[str, Any]:
        """The model: name, checkpoint, dataset, class names and the first conv's filters."""
        filters = None
        note = f"model {self.run.name!r} has no conv layer: no filters or feature maps to show"
        if self._conv is not None:
            weight = self._conv.weight.data  # (C_out, C_in, kh, kw)
            filters = encode_tiles(weight.reshape(-1, *weight.shape[2:]))
            c, _, kh, kw = weight.shape
            note = f"first conv layer: {c} filters of {kh}x{kw}"
        return {
            "model": self.run.name,
            "checkpoint": self.run.path,
            "epoch": self.run.epoch,
            "dataset": dataset_info(self.run.dataset).title,
            "classes": self.classes,
            "filters": filters,
            "conv_note": note,
        }

    def classify(self, image: np.ndarray) -> dict[str, Any]:
        """The answer for one MNIST-style ``(28, 28)`` image in [0, 1]: probabilities, the
        top guess, the input and the first conv layer's feature maps (None without one)."""
        x = np.asarray(image, dtype=np.float32).reshape(1, 1, 28, 28)
        with no_grad():
            probs = F.softmax(self.run.model(Tensor(x)), 1).data[0]
        top = int(np.argmax(probs))
        maps = None
        stages = feature_maps(self.run.model, x) if self._conv is not None else []
        if stages:
            maps = encode_tiles(stages[0][1][0], shared_scale=True)
        return {
            "ink": True,
            "probabilities": [round(float(p), 6) for p in probs],
            "prediction": top,
            "label": self.classes[top],
            "input": _grey_levels(x[0, 0]),
            "feature_maps": maps,
        }

    def predict(self, body: bytes) -> dict[str, Any]:
        """The answer for a request body holding a drawing (see :meth:`classify`), or
        ``{"ink": False, "message": ...}`` for a blank one.

        Raises:
            BadRequest: for a body that is not a valid drawing, naming the problem.
        """
        image = to_mnist(parse_drawing(body))
        if image is None:
            return {"ink": False, "message": NO_INK}
        return self.classify(image)

    def test_image(self) -> dict[str, Any]:
        """A random test image with its true label and the model's answer for it.

        Raises:
            MissingTestImages: when the test images are not available.
        """
        if self._test is None:
            self._test = self._test_data()
        x, y = self._test
        i = int(self._rng.integers(len(x)))
        answer = self.classify(x[i, 0])
        true = {"index": i, "true_class": int(y[i]), "true_label": self.test_classes[y[i]]}
        return answer | true

    def graph_svg(self) -> bytes:
        """The model's computation graph for one image, as SVG, rendered once and kept in
        memory (nothing is written to disk).

        Raises:
            RuntimeError: if Graphviz's ``dot`` is not installed.
        """
        if self._svg is None:
            model = self.run.model
            for name, p in model.named_parameters():
                p.name = name
            logits = model(Tensor(np.zeros((1, 1, 28, 28), np.float32), name="image"))
            self._svg = viz.graph(logits, collapse=None).pipe("svg", "graph.svg")
        return self._svg


def _grey_levels(image: np.ndarray) -> dict[str, Any]:
    """An image in [0, 1] as :func:`encode_tiles` does, but not rescaled: the grey levels
    are exactly what the model saw (x 255)."""
    grey = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    return {"shape": list(grey.shape), "data": base64.b64encode(grey.tobytes()).decode("ascii")}
