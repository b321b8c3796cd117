"""Batch normalisation's NumPy kernels: batch statistics, the normalisation, and its plain
(first-order) backward, per channel.

Each runs one channel at a time when the tensor is batch-last (conv2d's output, see
:mod:`autograd_mnist._layout`): a channel is then one contiguous row of H*W*N values,
small enough to stay in the cache while every pass over it runs, so the tensor crosses
main memory once per kernel instead of once per NumPy call. Other layouts, and (N, C)
inputs, take whole-array NumPy calls. Both paths compute the same formulas; only the
order of floating-point summation differs. Channels are shared out to threads
(:func:`autograd_mnist._parallel.parallel_for`); a channel's values are computed the same
way by whichever thread, so results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np

from autograd_mnist._layout import is_batch_last, nchw_view
from autograd_mnist._parallel import parallel_for

__all__ = ["affine", "batch_stats", "normalize", "normalize_backward"]


def _rows(a: np.ndarray) -> np.ndarray | None:
    """A batch-last (N, C, H, W) array as the C-contiguous (C, H*W*N) matrix of its
    channels (a view), or None for any other layout or rank."""
    if a.ndim != 4 or not is_batch_last(a):
        return None
    return a.transpose(1, 2, 3, 0).reshape(a.shape[1], -1)


def _as_nchw(rows: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A (C, H*W*N) result back as the (N, C, H, W) view of ``like``'s shape."""
    N, C, H, W = like.shape
    return nchw_view(rows.reshape(C, H, W, N))


def batch_stats(x: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """x's mean and biased variance over ``axes``, shaped (1, C) or (1, C, 1, 1) (kept
    dimensions), in x's dtype. The variance is two-pass: the mean of (x - mean)**2."""
    rows = _rows(x)
    keep = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    if rows is None:
        mu = x.mean(axis=axes, keepdims=True)
        return mu, ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    C, M = rows.shape
    mu, var = np.empty(C, dtype=x.dtype), np.empty(C, dtype=x.dtype)

    def body(lo: int, hi: int) -> None:
        centred = np.empty(M, dtype=x.dtype)
        for c in range(lo, hi):
            mu[c] = rows[c].mean()
            np.subtract(rows[c], mu[c], out=centred)
            var[c] = np.einsum("i,i->", centred, centred) / M

    parallel_for(C, body, rows.size)
    return mu.reshape(keep), var.reshape(keep)


def normalize(
    x: np.ndarray, mean: np.ndarray, invstd: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(y, xhat): ``xhat = (x - mean) * invstd`` and ``y = xhat * w + b``, with ``mean`` and
    ``invstd`` of kept-dimension shape and ``w``, ``b`` (C,). Both results are laid out
    like x when x is batch-last."""
    rows = _rows(x)
    shape = mean.shape
    if rows is None:
        xhat = (x - mean) * invstd
        return xhat * w.reshape(shape) + b.reshape(shape), xhat
    mu, inv = mean.reshape(-1), invstd.reshape(-1)
    xhat, y = np.empty_like(rows), np.empty_like(rows)

    def body(lo: int, hi: int) -> None:
        for c in range(lo, hi):
            np.subtract(rows[c], mu[c], out=xhat[c])
            xhat[c] *= inv[c]
            np.multiply(xhat[c], w[c], out=y[c])
            y[c] += b[c]

    parallel_for(rows.shape[0], body, rows.size)
    return _as_nchw(y, x), _as_nchw(xhat, x)


def normalize_backward(
    g: np.ndarray, xhat: np.ndarray, invstd: np.ndarray, w: np.ndarray, axes: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db) of :func:`normalize` with the statistics taken from x over ``axes``:
    ``db = sum(g)``, ``dw = sum(g * xhat)`` and
    ``dx = (w * invstd) * (g - db / m - xhat * dw / m)``, m values per channel."""
    rows, grows = _rows(xhat), _rows(g)
    if rows is None or grows is None:
        shape = invstd.shape
        m = g.size // w.shape[0]
        db = g.sum(axis=axes)
        dw = (g * xhat).sum(axis=axes)
        centred = g - (db / m).reshape(shape) - xhat * (dw / m).reshape(shape)
        return centred * (w.reshape(shape) * invstd), dw, db
    C, M = rows.shape
    inv = invstd.reshape(-1)
    dx = np.empty_like(grows)
    dw, db = np.empty(C, dtype=g.dtype), np.empty(C, dtype=g.dtype)

    def body(lo: int, hi: int) -> None:
        for c in range(lo, hi):
            gc, d = grows[c], dx[c]
            db[c] = gc.sum()
            dw[c] = np.einsum("i,i->", gc, rows[c])
            np.multiply(rows[c], dw[c] / M, out=d)
            np.subtract(gc, d, out=d)
            d -= db[c] / M
            d *= w[c] * inv[c]

    parallel_for(C, body, rows.size)
    return _as_nchw(dx, g), dw, db


def affine(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``x * scale + shift`` per channel (``scale``, ``shift`` (C,)): batch norm in
    evaluation, with the running statistics folded into them. Laid out like x when x is
    batch-last."""
    rows = _rows(x)
    if rows is None:
        shape = (-1,) + (1,) * (x.ndim - 2)
        y: np.ndarray = x * scale.reshape(shape) + shift.reshape(shape)
        return y
    out = np.empty_like(rows)

    def body(lo: int, hi: int) -> None:
        for c in range(lo, hi):
            np.multiply(rows[c], scale[c], out=out[c])
            out[c] += shift[c]

    parallel_for(rows.shape[0], body, rows.size)
    return _as_nchw(out, x)
