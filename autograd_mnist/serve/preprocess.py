"""A drawing made into an MNIST image, the way the MNIST digits themselves were made.

LeCun, Cortes and Burges describe it: NIST's black-and-white digits were "size normalized
to fit in a 20x20 pixel box while preserving their aspect ratio", the anti-aliasing of
the normalisation giving grey levels, then "centered in a 28x28 image by computing the
center of mass of the pixels, and translating the image so as to position this point at
the center of the 28x28 field". :func:`to_mnist` does the same to a drawing, in NumPy
only (no per-pixel Python loop), and scales it as our training data is
(:func:`autograd_mnist.data.to_float`: ``pixel / 255``, float32 in [0, 1]).
"""

from __future__ import annotations

import numpy as np

from autograd_mnist.data import to_float

__all__ = ["BOX", "INK_THRESHOLD", "SIDE", "area_matrix", "center_of_mass", "ink_box", "to_mnist"]

SIDE = 28
"""An MNIST image's side, in pixels."""
BOX = 20
"""The side of the box the digit's larger side is scaled to."""
INK_THRESHOLD = 0.05
"""A pixel is ink for the bounding box when above this (on the [0, 1] scale): the faint
anti-aliased rim of a stroke's far edge does not widen the box."""


def ink_box(image: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[slice, slice] | None:
    """The rows and columns holding ink (pixels above ``threshold``), or None if none do."""
    ink = image > threshold
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def area_matrix(size: int, new_size: int) -> np.ndarray:
    """The ``(new_size, size)`` matrix resampling a line of pixels by area averaging.

    Output pixel ``i`` covers input interval ``[i, i + 1) * size / new_size``; its value
    is the mean of the input over that interval (each input pixel weighted by how much of
    it is covered), so shrinking is anti-aliased and every row of the matrix sums to 1.
    """
    scale = size / new_size
    lo = np.arange(new_size)[:, None] * scale  # (new_size, 1) interval starts
    j = np.arange(size)[None, :]  # (1, size) input pixels [j, j + 1)
    overlap = np.clip(np.minimum(lo + scale, j + 1) - np.maximum(lo, j), 0.0, None)
    weights: np.ndarray = overlap / scale
    return weights


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """The ``(row, column)`` centre of mass of a non-negative image with some mass, in pixel
    indices (a lone pixel at ``[r, c]`` has its centre at ``(r, c)``)."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def to_mnist(drawing: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray | None:
    """An MNIST-style ``(28, 28)`` float32 image in [0, 1] of a drawing, or None if blank.

    The ink's bounding box (pixels above ``threshold`` after scaling to [0, 1]) is cut
    out, scaled by area averaging so that its larger side is 20 pixels (aspect ratio kept),
    and placed in a 28x28 field so that its centre of mass falls on pixel ``(14, 14)``
    (rows and columns, as ``shape / 2``) to within half a pixel: the shift is a whole
    number of pixels, as a translation of the pixel grid. Ink shifted past the field's
    edge (a very lopsided drawing) is cut off.

    Args:
        drawing: ``(H, W)`` ink intensities in [0, 255], 255 the darkest (for a canvas, its
            alpha channel); any size, not necessarily square.
        threshold: see :data:`INK_THRESHOLD`.
    """
    image = to_float(drawing)
    box = ink_box(image, threshold)
    if box is None:
        return None
    digit = image[box]
    h, w = digit.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = area_matrix(h, new_h) @ digit.astype(np.float64) @ area_matrix(w, new_w).T
    cy, cx = center_of_mass(small)
    top, left = round(SIDE / 2 - cy), round(SIDE / 2 - cx)
    out = np.zeros((SIDE, SIDE), dtype=np.float32)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + new_h, SIDE), min(left + new_w, SIDE)
    out[r0:r1, c0:c1] = small[r0 - top : r1 - top, c0 - left : c1 - left]
    return np.clip(out, 0.0, 1.0)
