"""Hypothesis strategies and a one-call property test for ops (public: test your own ops).

Everything here builds on :mod:`hypothesis.extra.numpy`. Arrays are small (sides 1-5,
0-4 dimensions) so full Jacobians stay cheap, finite, and by default in [-3, 3]. Inputs
near a non-differentiable point are never shifted by a constant; instead the strategies
below generate valid inputs directly:

- :func:`away_from_zero`: |x| >= 1e-3 (relu, abs), or >= 1e-2 for denominators;
- :func:`positive_arrays`: x >= 1e-2 (log, sqrt, fractional powers);
- :func:`distinct_arrays`: values spaced >= 1e-3 apart (max, max-pooling), made as a
  scaled permutation plus a small jitter.

:func:`check_op` runs one Hypothesis test in a single call: the forward against a NumPy
reference, :func:`~autograd_mnist.gradcheck.gradcheck` and
:func:`~autograd_mnist.gradcheck.gradgradcheck`.

Example:
    >>> import numpy as np
    >>> from autograd_mnist import functional as F
    >>> from autograd_mnist.testing import check_op, float_arrays
    >>> check_op(F.tanh, float_arrays(), reference=np.tanh, max_examples=5)

Modules: :mod:`~autograd_mnist.testing.strategies` (shapes, dims, targets, arrays),
:mod:`~autograd_mnist.testing.geometry` (conv and pooling configurations),
:mod:`~autograd_mnist.testing.checks` (:func:`check_forward`, :func:`check_op`); every
name is re-exported here.

Hypothesis is a test extra: this package is imported only by tests and by users who have it
(``import autograd_mnist`` does not import it).
"""

from __future__ import annotations

try:
    import hypothesis as _hypothesis  # noqa: F401 - every module below builds on it
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "autograd_mnist.testing needs Hypothesis; install it with `pip install hypothesis` "
        '(or, in the repository folder, the dev extra: `pip install -e ".[dev]"`)'
    ) from e

from autograd_mnist.testing.checks import check_forward, check_op
from autograd_mnist.testing.geometry import (
    ConvGeometry,
    PoolGeometry,
    conv2d_geometries,
    pool2d_geometries,
)
from autograd_mnist.testing.strategies import (
    Shape,
    ShapeLike,
    away_from_zero,
    broadcast_sources,
    broadcastable_shapes,
    class_targets,
    distinct_arrays,
    float_arrays,
    matmul_shapes,
    one_dim,
    pad_widths,
    positive_arrays,
    reduction_dims,
    reshape_targets,
    shapes,
)

__all__ = [
    "ConvGeometry",
    "PoolGeometry",
    "Shape",
    "ShapeLike",
    "away_from_zero",
    "broadcast_sources",
    "broadcastable_shapes",
    "check_forward",
    "check_op",
    "class_targets",
    "conv2d_geometries",
    "distinct_arrays",
    "float_arrays",
    "matmul_shapes",
    "one_dim",
    "pad_widths",
    "pool2d_geometries",
    "positive_arrays",
    "reduction_dims",
    "reshape_targets",
    "shapes",
]
