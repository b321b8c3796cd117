"""serve's preprocessing (a drawing made into an MNIST image) and its request checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograd_mnist.data import to_float
from autograd_mnist.serve.preprocess import (
    BOX,
    SIDE,
    area_matrix,
    center_of_mass,
    ink_box,
    to_mnist,
)
from autograd_mnist.serve.validate import MAX_BODY, BadRequest, parse_drawing


def stroke(shape: tuple[int, int] = (280, 280), at: tuple[int, int] = (0, 0)) -> np.ndarray:
    """A synthetic '7' in [0, 255]: a top bar and a slanted, anti-aliased down stroke."""
    img = np.zeros(shape)
    r, c = at
    img[r + 60 : r + 78, c + 80 : c + 190] = 255  # the bar: 18 px thick, 110 wide
    rows = np.arange(r + 78, r + 230)[:, None]
    cols = np.arange(shape[1])[None, :]
    centre = c + 190 - (rows - r - 78) * 0.45  # the down stroke leans left
    img[r + 78 : r + 230] = np.clip(255 * (10 - np.abs(cols - centre)), 0, 255)  # soft edges
    return img


def ink_extent(image: np.ndarray) -> tuple[int, int]:
    box = ink_box(image, threshold=0.0)
    assert box is not None
    return box[0].stop - box[0].start, box[1].stop - box[1].start


def test_a_stroke_becomes_an_mnist_image() -> None:
    out = to_mnist(stroke())
    assert out is not None
    assert out.shape == (SIDE, SIDE) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert max(ink_extent(out)) == BOX  # the larger side fills the 20 px box
    cy, cx = center_of_mass(out)
    assert abs(cy - SIDE / 2) <= 0.5 and abs(cx - SIDE / 2) <= 0.5  # centred by mass


def test_aspect_ratio_is_kept() -> None:
    tall = np.zeros((280, 280))
    tall[40:240, 120:170] = 255  # 200 x 50: becomes 20 x 5
    out = to_mnist(tall)
    assert out is not None
    assert ink_extent(out) == (20, 5)
    assert out.max() == 1.0  # full ink stays 255 / 255, the training data's scale


def test_translation_changes_nothing() -> None:
    a, b = to_mnist(stroke()), to_mnist(stroke(at=(-40, 60)))
    assert a is not None and b is not None
    np.testing.assert_array_equal(a, b)


def test_size_and_canvas_size_change_little() -> None:
    """The same digit drawn at half the size, on a smaller canvas: nearly the same image
    (up to the whole-pixel shift that centring by mass may round either way)."""
    big = to_mnist(stroke())
    small = to_mnist(stroke()[::2, ::2])
    assert big is not None and small is not None
    assert ink_extent(big) == ink_extent(small)
    shifts = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
    error = min(np.abs(big - np.roll(small, s, axis=(0, 1))).mean() for s in shifts)
    assert error < 0.01


def test_scaling_is_normalised_as_the_training_data() -> None:
    """Values are pixel / 255 (to_float): a 20x20 block of grey 51 stays 0.2."""
    img = np.zeros((100, 100))
    img[10:50, 30:70] = 51.0  # 40 x 40: shrinks 2x, uniform stays uniform
    out = to_mnist(img)
    assert out is not None
    inside = out[out > 0]
    assert inside.size == 400
    np.testing.assert_allclose(inside, to_float(np.array([51], np.uint8))[0], rtol=1e-6)


def test_a_blank_drawing_is_none() -> None:
    assert to_mnist(np.zeros((280, 280))) is None
    faint = np.full((280, 280), 0.04 * 255)  # below the ink threshold everywhere
    assert to_mnist(faint) is None


def test_a_single_dot_and_a_thin_line() -> None:
    dot = np.zeros((280, 280))
    dot[100, 100] = 255
    out = to_mnist(dot)
    assert out is not None and ink_extent(out) == (20, 20)
    line = np.zeros((280, 280))
    line[100, 20:260] = 255  # 1 x 240: 20 wide, at least a pixel high
    out = to_mnist(line)
    assert out is not None and ink_extent(out) == (1, 20)


def test_area_matrix_averages_and_keeps_mass() -> None:
    np.testing.assert_allclose(area_matrix(4, 2), [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    m = area_matrix(7, 3)  # uneven: partial pixels shared between outputs
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    np.testing.assert_allclose(m.sum(axis=0) * 7 / 3, 1.0)  # every input pixel fully used
    np.testing.assert_allclose(area_matrix(2, 4).sum(axis=1), 1.0)  # enlarging too


# ----- the request -----
def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_parse_a_good_drawing() -> None:
    img = stroke()[100:156, 100:140]  # any size from 28 to 560 a side, not only square
    out = parse_drawing(body({"image": img.tolist()}))
    assert out.shape == (56, 40) and out.dtype == np.float64
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"{not json", "bad JSON"),
        (b'{"image": "\xc3"}', "not UTF-8"),
        (b'{"image": [[NaN]]}', "NaN"),
        (b'{"image": [[Infinity]]}', "Infinity"),
        (body([1, 2]), "expected an object"),
        (body({"picture": []}), "keys ['picture']"),
        (body({"image": "abc"}), "list of rows"),
        (body({"image": [[0] * 28] * 27 + [[0] * 27]}), "rows of different lengths"),
        (body({"image": [["a"] * 28] * 28}), "2-D array of numbers"),
        (body({"image": [[None] * 28] * 28}), "2-D array of numbers"),
        (body({"image": [[[0]] * 28] * 28}), "3-D"),
        (body({"image": [[0] * 27] * 28}), "28x27"),
        (body({"image": [[0] * 600] * 30}), "30x600"),
        (body({"image": [[-1] * 28] * 28}), "[-1, -1]"),
        (body({"image": [[256] * 28] * 28}), "expected [0, 255]"),
        (b'{"image": [' + b",".join([b"[1e999" + b",0" * 27 + b"]"] * 28) + b"]}", "finite"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_requests_are_named(raw: bytes, words: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_drawing(raw)
    assert words in str(info.value)
    assert info.value.status == 400


def test_a_body_too_large_is_413() -> None:
    with pytest.raises(BadRequest, match="too large") as info:
        parse_drawing(b" " * (MAX_BODY + 1))
    assert info.value.status == 413
