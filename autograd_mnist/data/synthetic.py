"""A small learnable stand-in for MNIST, for examples and tests that must run offline."""

from __future__ import annotations

import numpy as np

from .datasets import Data, Split

__all__ = ["synthetic_data"]


def synthetic_data(n_train: int = 64, n_test: int = 32, seed: int = 0) -> Data:
    """A small learnable stand-in for MNIST: each class is a fixed random pattern plus noise.

    Shapes and dtypes match :func:`autograd_mnist.config.load_data` (float32
    ``(N, 1, 28, 28)`` in [0, 1], int64 labels ``(N,)``), so examples and tests run offline
    in seconds. The draws come from their own ``seed``, not the package generator.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` with ``n_train`` and ``n_test`` images.
    """
    gen = np.random.default_rng(seed)
    prototypes = (gen.random((10, 1, 28, 28)) < 0.25).astype(np.float32)  # (10, 1, 28, 28)

    def split(n: int) -> Split:
        y = gen.integers(0, 10, size=n).astype(np.int64)
        noise = gen.random((n, 1, 28, 28), dtype=np.float32)
        x = np.clip(0.7 * prototypes[y] + 0.3 * noise, 0.0, 1.0).astype(np.float32)
        return x, y

    return split(n_train), split(n_test)
