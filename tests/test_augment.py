"""random_shift: whole-pixel translations per image, zero fill, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist.data import random_shift


def _naive_shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(img)
    H, W = img.shape[-2:]
    for i in range(H):
        for j in range(W):
            si, sj = i - dy, j - dx
            if 0 <= si < H and 0 <= sj < W:
                out[..., i, j] = img[..., si, sj]
    return out


def test_each_image_is_one_of_the_allowed_shifts(rng: np.random.Generator) -> None:
    x = rng.random((16, 2, 7, 9)).astype(np.float32)
    y = random_shift(x, 2, rng=np.random.default_rng(5))
    assert y.shape == x.shape and y.dtype == x.dtype
    for n in range(len(x)):
        candidates = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(y[n], _naive_shift(x[n], dy, dx))
        ]
        assert candidates, f"image {n} is not a shift of its input"


def test_offsets_cover_the_range_and_match_the_generator(rng: np.random.Generator) -> None:
    x = rng.random((200, 1, 6, 6)).astype(np.float32) + 1.0  # no zeros: shifts identifiable
    y = random_shift(x, 1, rng=np.random.default_rng(7))
    dy, dx = np.random.default_rng(7).integers(-1, 2, size=(2, 200))
    for n in range(200):
        assert np.array_equal(y[n], _naive_shift(x[n], int(dy[n]), int(dx[n])))
    assert set(dy.tolist()) == {-1, 0, 1} and set(dx.tolist()) == {-1, 0, 1}


def test_zero_shift_is_identity_and_input_is_untouched(rng: np.random.Generator) -> None:
    x = rng.random((3, 1, 5, 5)).astype(np.float32)
    before = x.copy()
    assert random_shift(x, 0) is x
    random_shift(x, 2, rng=rng)
    assert np.array_equal(x, before)


def test_package_generator_makes_it_reproducible(rng: np.random.Generator) -> None:
    x = rng.random((8, 1, 5, 5)).astype(np.float32)
    am.manual_seed(3)
    a = random_shift(x, 2)
    am.manual_seed(3)
    b = random_shift(x, 2)
    assert np.array_equal(a, b)


def test_bad_arguments() -> None:
    with pytest.raises(
        ValueError, match=r"random_shift: expected images \(N, C, H, W\); got \(5, 5\)"
    ):
        random_shift(np.zeros((5, 5), np.float32), 1)
    with pytest.raises(ValueError, match="max_shift must be >= 0; got -1"):
        random_shift(np.zeros((1, 1, 5, 5), np.float32), -1)
