"""affine / random_affine: per-image rotation, zoom and translation, bilinear, zero fill.

Checked against a per-pixel loop written from the definition, against np.rot90 and
random_shift where they must agree exactly, and for reproducibility.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist.data import affine, random_affine, random_shift


def _naive_affine(img: np.ndarray, angle: float, tx: float, ty: float, s: float) -> np.ndarray:
    """One (C, H, W) image, pixel by pixel: output (i, j) reads the input at the inverse
    transform of its offset from the centre, bilinear between the 4 neighbours, 0 outside."""
    C, H, W = img.shape
    cy, cx = (H - 1) / 2, (W - 1) / 2
    t = math.radians(angle)
    out = np.zeros(img.shape)

    def pixel(r: int, c: int) -> np.ndarray:
        return img[:, r, c] if 0 <= r < H and 0 <= c < W else np.zeros(C)

    for i in range(H):
        for j in range(W):
            xo, yo = j - cx - tx, i - cy - ty
            x = (math.cos(t) * xo - math.sin(t) * yo) / s + cx
            y = (math.sin(t) * xo + math.cos(t) * yo) / s + cy
            r, c = math.floor(y), math.floor(x)
            fy, fx = y - r, x - c
            out[:, i, j] = (
                (1 - fy) * (1 - fx) * pixel(r, c)
                + (1 - fy) * fx * pixel(r, c + 1)
                + fy * (1 - fx) * pixel(r + 1, c)
                + fy * fx * pixel(r + 1, c + 1)
            )
    return out


def test_matches_the_per_pixel_definition(rng: np.random.Generator) -> None:
    x = rng.random((6, 2, 7, 9)).astype(np.float32)
    angle = rng.uniform(-40, 40, 6)
    tx, ty, s = rng.uniform(-3, 3, 6), rng.uniform(-3, 3, 6), rng.uniform(0.7, 1.3, 6)
    y = affine(x, angle, (tx, ty), s)
    for n in range(6):
        want = _naive_affine(x[n], angle[n], tx[n], ty[n], s[n])
        np.testing.assert_allclose(y[n], want, atol=1e-5)


def test_identity_parameters_give_the_input_back(rng: np.random.Generator) -> None:
    x = rng.random((4, 1, 28, 28)).astype(np.float32)
    assert np.array_equal(affine(x), x)
    assert np.array_equal(random_affine(x, 0, rng=rng), x)
    assert np.array_equal(random_affine(x, 0, (0.0, 0.0), (1.0, 1.0), rng=rng), x)


def test_whole_pixel_translation_equals_random_shift(rng: np.random.Generator) -> None:
    x = rng.random((50, 2, 8, 8)).astype(np.float32)
    shifted = random_shift(x, 3, rng=np.random.default_rng(11))
    dy, dx = np.random.default_rng(11).integers(-3, 4, size=(2, 50))  # random_shift's draws
    assert np.array_equal(affine(x, 0.0, (dx.astype(float), dy.astype(float))), shifted)


@pytest.mark.parametrize(("angle", "k"), [(90, 1), (-90, -1), (180, 2), (270, 3)])
def test_rotation_by_quarter_turns_equals_rot90(
    rng: np.random.Generator, angle: float, k: int
) -> None:
    """Positive angles turn counter-clockwise as displayed (row 0 on top): np.rot90's
    sense, and torchvision's."""
    for size in (6, 7):  # even and odd sides: the centre is between pixels or on one
        x = rng.random((3, 2, size, size)).astype(np.float32)
        assert np.array_equal(affine(x, angle), np.rot90(x, k, axes=(-2, -1)))


def test_zoom_about_the_centre_and_zero_fill(rng: np.random.Generator) -> None:
    x = rng.random((1, 1, 9, 9)).astype(np.float32) + 1.0  # no zeros in the input
    y = affine(x, 0.0, scale=0.5)  # half size: the border is outside the input
    assert y[0, 0, 4, 4] == x[0, 0, 4, 4]  # the centre pixel stays
    assert (y[0, 0, 0] == 0).all() and (y[0, 0, :, -1] == 0).all()
    assert (affine(x, 0.0, (20.0, 0.0)) == 0).all()  # moved out entirely


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_kept_and_input_untouched(rng: np.random.Generator, dtype: type) -> None:
    x = rng.random((5, 3, 10, 12)).astype(dtype)
    before = x.copy()
    y = random_affine(x, 15, (0.1, 0.2), (0.9, 1.1), rng=rng)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert np.array_equal(x, before)


def test_draws_per_image_in_the_documented_order(rng: np.random.Generator) -> None:
    x = rng.random((8, 1, 10, 12)).astype(np.float32)
    y = random_affine(x, 20, (0.1, 0.2), (0.8, 1.2), rng=np.random.default_rng(4))
    g = np.random.default_rng(4)
    angle = g.uniform(-20, 20, 8)
    tx, ty = g.uniform(-1.2, 1.2, 8), g.uniform(-2.0, 2.0, 8)  # 0.1 * W, 0.2 * H
    s = g.uniform(0.8, 1.2, 8)
    assert np.array_equal(y, affine(x, angle, (tx, ty), s))
    assert len({float(np.abs(y[n] - x[n]).sum()) for n in range(8)}) == 8  # each its own


def test_package_generator_makes_it_reproducible(rng: np.random.Generator) -> None:
    x = rng.random((8, 1, 28, 28)).astype(np.float32)
    am.manual_seed(3)
    a = random_affine(x, 12, (0.1, 0.1), (0.9, 1.1))
    am.manual_seed(3)
    b = random_affine(x, 12, (0.1, 0.1), (0.9, 1.1))
    assert np.array_equal(a, b) and not np.array_equal(a, x)


def test_bad_arguments() -> None:
    x = np.zeros((2, 1, 5, 5), np.float32)
    cases = [
        (lambda: affine(np.zeros((5, 5))), r"affine: expected images \(N, C, H, W\); got \(5, 5\)"),
        (lambda: affine(x, np.zeros(3)), r"affine: angle must be a number or \(2,\); got shape"),
        (lambda: affine(x, scale=0.0), r"affine: scale must be > 0; got 0.0"),
        (lambda: random_affine(np.zeros((5, 5)), 1), r"random_affine: expected images"),
        (lambda: random_affine(x, -1), r"random_affine: degrees must be >= 0; got -1"),
        (lambda: random_affine(x, 0, (0.5, 1.5)), r"translate must be \(a, b\) in \[0, 1\]"),
        (lambda: random_affine(x, 0, (0.5,)), r"translate must be \(a, b\) in \[0, 1\]"),
        (lambda: random_affine(x, 0, None, (1.2, 0.8)), r"scale must be \(lo, hi\), 0 < lo"),
        (lambda: random_affine(x, 0, None, (0.0, 1.0)), r"scale must be \(lo, hi\), 0 < lo"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
