"""Memory layouts: every place the engine chooses how an array is stored, and why.

Values never depend on the layout; speed does. Tensors are NCHW by shape, but conv2d's
output is **batch-last** in memory: its one matmul gives a C-contiguous (OC, OH*OW*N)
matrix, returned as the NCHW tensor (N, OC, OH, OW) by a transposing view
(``NCHW_FROM_BATCH_LAST``, :func:`nchw_view`) of that (C, H, W, N) buffer. Keeping the
layout costs no copy and pays downstream:

- NumPy's elementwise ops keep their input's layout (relu and the gradients stay batch-last);
- pooling and padding allocate their results in their input's layout (:func:`empty_as`,
  :func:`zeros_as`, :func:`copy_as`), so a max-pool of a batch-last tensor is batch-last;
- every per-kernel-offset view that pooling and :func:`batch_last` (im2col) take has the
  batch as a contiguous inner run, where an NCHW array gives runs of one element;
- flattening (C, H, W) of a batch-last tensor is a view, a column-major (N, C*H*W)
  matrix; Linear recognises it (:func:`column_major`): its forward multiplies
  ``W @ x^T`` (no transposed operand, faster in BLAS) and returns the column-major
  transpose, and its backward gives the input gradient the same layout, so reshaping that
  gradient back is a view too.

A leaf's ``.grad`` is stored like the leaf's data (:func:`leaf_grad`): C order for the
parameters, which the optimizer updates through flat views (:func:`flat_views`), and
batch-last for a batch-last image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from autograd_mnist.tensor import Tensor

#: Axis order taking a (C, H, W, N) buffer to the (N, C, H, W) view of it.
NCHW_FROM_BATCH_LAST = (3, 0, 1, 2)


def batch_last(x: np.ndarray, padding: tuple[int, int] = (0, 0)) -> np.ndarray:
    """x (N, C, H, W), zero-padded by (PH, PW), as a C-contiguous (C, H + 2 PH, W + 2 PW, N)
    array: a view when x is batch-last already and unpadded, else one copy."""
    PH, PW = padding
    if not (PH or PW):
        return np.ascontiguousarray(x.transpose(1, 2, 3, 0))
    N, C, H, W = x.shape
    out = np.zeros((C, H + 2 * PH, W + 2 * PW, N), dtype=x.dtype)
    out[:, PH : PH + H, PW : PW + W] = x.transpose(1, 2, 3, 0)
    return out


def nchw_view(a: np.ndarray) -> np.ndarray:
    """a (C, H, W, N) viewed as (N, C, H, W): a batch-last tensor when ``a`` is C-contiguous."""
    return a.transpose(NCHW_FROM_BATCH_LAST)


def is_batch_last(a: np.ndarray) -> bool:
    """Whether a (N, C, H, W) is stored as a C-contiguous (C, H, W, N) buffer."""
    return bool(a.transpose(1, 2, 3, 0).flags.c_contiguous)


def empty_as(like: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """An uninitialised array of ``shape`` (``like``'s rank), with ``like``'s axis order in
    memory (NumPy's order 'K')."""
    return np.empty_like(like, shape=tuple(shape))


def zeros_as(like: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Zeros of ``shape`` (``like``'s rank), with ``like``'s axis order in memory."""
    return np.zeros_like(like, shape=tuple(shape))


def copy_as(a: np.ndarray) -> np.ndarray:
    """A dense copy of ``a`` (a strided view, say) keeping its axis order in memory."""
    return a.copy(order="K")


def column_major(a: np.ndarray) -> bool:
    """A 2-D array stored column by column (and not also row by row)."""
    return a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous


def is_dense(a: np.ndarray) -> bool:
    """Whether ``a``'s elements fill one block of memory without gaps, in some axis order
    (C order, batch-last...); broadcast, reversed and sliced views do not."""
    step = a.itemsize
    for n, s in sorted(zip(a.shape, a.strides), key=lambda ns: ns[1]):
        if n > 1 and s != step:
            return False
        step *= n
    return True


def leaf_grad(a: np.ndarray, like: np.ndarray, given: set[int]) -> np.ndarray:
    """``a`` as a leaf's ``.grad``: writeable, dense in the leaf's own layout (``like``),
    shared with no one else.

    Broadcast and strided views are copied, and so is an array whose ``id`` is in ``given``:
    one already handed to the caller or to another leaf (``Add.backward`` returns one
    gradient for both of its inputs). The kept array's ``id`` is added to ``given``.
    """
    if id(a) in given or not (is_dense(a) and a.strides == like.strides and a.flags.writeable):
        out = np.empty_like(like)  # dense, in like's axis order
        out[...] = a
        a = out
    given.add(id(a))
    return a


def accumulate(leaf: Tensor, g: Tensor, given: set[int], create_graph: bool) -> Tensor:
    """The leaf's new ``.grad``: ``leaf.grad + g``, or ``g`` as the leaf's own: never an
    array shared with the caller or another leaf (``Add.backward`` returns one gradient
    for both inputs), so an in-place change of one ``.grad`` (``grad.zero_()``) changes no
    other. With ``create_graph`` a copy is a recorded ``g * 1``, keeping the graph."""
    if leaf.grad is not None:
        return leaf.grad + g  # a new array
    if not create_graph:
        return type(g)(leaf_grad(g.data, leaf.data, given))
    if id(g.data) in given:
        g = g * 1  # a copy that keeps the graph of g
    given.add(id(g.data))
    return g


def flat_views(arrays: Sequence[np.ndarray]) -> list[np.ndarray] | None:
    """1-D views of ``arrays`` when every one is C-contiguous (so that element i of each
    view is the same element of each array), else None."""
    if not all(a.flags.c_contiguous for a in arrays):
        return None
    return [a.reshape(-1) for a in arrays]
