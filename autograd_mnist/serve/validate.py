"""The prediction request, checked: every problem becomes a :class:`BadRequest` naming it.

A request body is JSON: ``{"image": [[p, p, ...], ...]}``, the drawing as ``H`` rows of
``W`` ink intensities in [0, 255] (a canvas's alpha channel), ``MIN_SIDE <= H, W <=
MAX_SIDE``, at most ``MAX_BODY`` bytes. Nothing in it is evaluated: it is parsed by
:func:`json.loads` (with ``NaN`` and ``Infinity`` refused) and turned into a float array
by NumPy.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

__all__ = ["MAX_BODY", "MAX_SIDE", "MIN_SIDE", "BadRequest", "parse_drawing"]

MAX_BODY = 2**20
"""The largest request body accepted, in bytes (a 280x280 drawing of full ink is ~0.3 MB)."""
MIN_SIDE = 28
"""The smallest drawing side accepted, in pixels (an MNIST image's)."""
MAX_SIDE = 560
"""The largest drawing side accepted, in pixels (twice the page's canvas)."""


class BadRequest(ValueError):
    """A request the server refuses; ``status`` is its HTTP status (400, 413 or 415)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _no_constant(name: str) -> Any:
    raise BadRequest(f"bad JSON: {name} is not a number here; expected pixels in [0, 255]")


def _parse_json(body: bytes) -> Any:
    if len(body) > MAX_BODY:
        raise BadRequest(
            f"request body too large: got {len(body)} bytes, expected <= {MAX_BODY}", 413
        )
    try:
        return json.loads(body, parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"bad JSON: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"bad JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BadRequest("bad JSON: nested too deeply") from None


def parse_drawing(body: bytes) -> np.ndarray:
    """The drawing in a request body, as a float64 ``(H, W)`` array in [0, 255].

    Raises:
        BadRequest: for a body too large (413), not JSON, not an object with an ``image``,
            not a rectangular 2-D array of numbers, a side out of range, a pixel that is not
            finite or out of [0, 255]; the message names the problem and what was expected.
    """
    payload = _parse_json(body)
    if not isinstance(payload, dict) or "image" not in payload:
        got = f"keys {sorted(payload)}" if isinstance(payload, dict) else type(payload).__name__
        raise BadRequest(f'bad request: got {got}, expected an object {{"image": [[...], ...]}}')
    rows = payload["image"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise BadRequest("bad image: expected a list of rows, each a list of numbers")
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise BadRequest(f"bad image: rows of different lengths {sorted(widths)[:5]}")
    try:
        image = np.array(rows)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadRequest(f"bad image: not an array of numbers ({exc})") from None
    if image.ndim != 2 or image.dtype.kind not in "iuf":
        what = f"{image.ndim}-D" if image.ndim != 2 else f"values of type {image.dtype.kind!r}"
        raise BadRequest(f"bad image: got {what}, expected a 2-D array of numbers")
    h, w = image.shape
    if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
        raise BadRequest(
            f"bad image shape: got {h}x{w}, expected each side in [{MIN_SIDE}, {MAX_SIDE}]"
        )
    image = image.astype(np.float64)
    if not np.isfinite(image).all():
        raise BadRequest("bad image: a pixel is not a finite number")
    lo, hi = float(image.min()), float(image.max())
    if lo < 0 or hi > 255:
        raise BadRequest(f"bad image: pixels in [{lo:g}, {hi:g}], expected [0, 255]")
    return image
