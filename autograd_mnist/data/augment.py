"""Data augmentation for image batches (plain NumPy, vectorised over the batch)."""

from __future__ import annotations

import numpy as np

from ..rng import get_rng


def random_shift(
    images: np.ndarray, max_shift: int, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Translate each image by its own random whole-pixel offset, filling with zeros.

    Offsets dy, dx are drawn uniformly from [-max_shift, max_shift] per image; the batch is
    handled by one gather, with no Python loop over images or pixels.

    Args:
        images: (N, C, H, W).
        max_shift: the largest offset in pixels (0 returns ``images`` unchanged).
        rng: generator for the offsets; default the package generator (``manual_seed``).

    Returns:
        A new (N, C, H, W) array of the same dtype.

    Raises:
        ValueError: for a wrong rank or a negative ``max_shift``.
    """
    if images.ndim != 4:
        raise ValueError(f"random_shift: expected images (N, C, H, W); got {images.shape}")
    if max_shift < 0:
        raise ValueError(f"random_shift: max_shift must be >= 0; got {max_shift}")
    if max_shift == 0:
        return images
    gen = rng if rng is not None else get_rng()
    N, C, H, W = images.shape
    s = int(max_shift)
    padded = np.pad(images, ((0, 0), (0, 0), (s, s), (s, s)))  # (N, C, H+2s, W+2s)
    dy, dx = gen.integers(-s, s + 1, size=(2, N))
    rows = (np.arange(H) + s - dy[:, None])[:, None, :, None]  # (N, 1, H, 1)
    cols = (np.arange(W) + s - dx[:, None])[:, None, None, :]  # (N, 1, 1, W)
    n = np.arange(N)[:, None, None, None]
    c = np.arange(C)[None, :, None, None]
    return padded[n, c, rows, cols]  # type: ignore[no-any-return]
