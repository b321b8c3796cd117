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
        max_shift: the largest offset in pixels (0 returns ``images`` itself, no copy).
        rng: generator for the offsets; default the package generator (``manual_seed``).

    Returns:
        A new (N, C, H, W) array of the same dtype (``images`` itself when ``max_shift``
        is 0).

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


def affine(
    images: np.ndarray,
    angle: np.ndarray | float = 0.0,
    translate: tuple[np.ndarray | float, np.ndarray | float] = (0.0, 0.0),
    scale: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Rotate, scale and translate each image by its own parameters, bilinear, zero fill.

    The transform of image n maps a point p (in pixels, relative to the image centre
    ``((H - 1) / 2, (W - 1) / 2)``) to ``scale[n] * R(angle[n]) p + translate[n]``; each
    output pixel reads the input at the inverse image of its centre, interpolated from
    the 4 neighbouring pixels (0 outside the image). The whole batch is one gather of the
    4 neighbours: no Python loop over images or pixels.

    Sign conventions are torchvision's (``transforms.functional.affine``): a positive
    angle turns the image counter-clockwise as displayed (row 0 at the top), so
    ``angle=90`` on a square image equals ``np.rot90(image, axes=(-2, -1))``; a positive
    translation moves the content right (x) and down (y), as :func:`random_shift` does.
    Unlike torchvision, translations are not rounded to whole pixels, and there is no
    shear.

    Args:
        images: (N, C, H, W).
        angle: rotation in degrees, a number or an (N,) array.
        translate: (tx, ty) in pixels, numbers or (N,) arrays.
        scale: zoom factor (> 1 enlarges), a number or an (N,) array.

    Returns:
        A new (N, C, H, W) array of the same dtype (computed in float32; integer images
        are rounded to the nearest value, as torchvision does).

    Raises:
        ValueError: for a wrong rank, parameters of the wrong length or not finite, or a
            scale <= 0.
    """
    if images.ndim != 4:
        raise ValueError(f"affine: expected images (N, C, H, W); got {images.shape}")
    N, C, H, W = images.shape
    params = {"angle": angle, "tx": translate[0], "ty": translate[1], "scale": scale}
    a, tx, ty, s = (_per_image(name, v, N) for name, v in params.items())
    if (s <= 0).any():
        raise ValueError(f"affine: scale must be > 0; got {s.min()}")
    theta = np.deg2rad(a)
    f32 = np.float32
    cos = (np.cos(theta) / s).astype(f32)[:, None, None]
    sin = (np.sin(theta) / s).astype(f32)[:, None, None]
    yo = ((np.arange(H) - (H - 1) / 2)[None, :, None] - ty[:, None, None]).astype(f32)
    xo = ((np.arange(W) - (W - 1) / 2)[None, None, :] - tx[:, None, None]).astype(f32)
    # Where each output pixel reads, (N, H, W); in place: fresh temporaries cost page faults.
    sx = np.multiply(cos, xo, out=np.empty((N, H, W), f32))
    sx -= sin * yo
    sx += f32((W - 1) / 2)
    sy = np.multiply(sin, xo, out=np.empty((N, H, W), f32))
    sy += cos * yo
    sy += f32((H - 1) / 2)
    return _bilinear(images, sy, sx)


def _per_image(name: str, value: np.ndarray | float, n: int) -> np.ndarray:
    """``value`` as a float64 (n,) array (a number is repeated)."""
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(f"affine: {name} must be a number or ({n},); got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"affine: {name} must be finite; got {v[~np.isfinite(v)][0]}")
    return v


def _bilinear(images: np.ndarray, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
    """images (N, C, H, W) sampled at rows ``sy`` and columns ``sx`` (N, H', W', float32),
    zero outside: one gather (``np.take``) of the 4 neighbours for the whole batch."""
    N, C, H, W = images.shape
    # Clipped to [-1, H] ([-1, W]): a read beyond lands on the zero border padded around.
    np.clip(sy, -1, H, out=sy)
    np.clip(sx, -1, W, out=sx)
    y0, x0 = np.floor(sy), np.floor(sx)
    wy, wx = (sy - y0)[:, None], (sx - x0)[:, None]  # (N, 1, H', W')
    padded = np.pad(images.astype(np.float32, copy=False), ((0, 0), (0, 0), (1, 2), (1, 2)))
    rows, cols = H + 3, W + 3
    # Flat index of each top-left neighbour in its padded image (exact in float32).
    y0 += 1
    y0 *= cols
    y0 += x0
    y0 += 1
    start = np.arange(N * C).reshape(N, C, 1, 1) * (rows * cols)
    top_left = start + y0[:, None].astype(np.intp)  # (N, C, H', W')
    corners = np.array([0, 1, cols, cols + 1]).reshape(4, 1, 1, 1, 1)  # tl, tr, bl, br
    v = np.take(padded, top_left + corners)  # (4, N, C, H', W')
    v[1] -= v[0]
    v[1] *= wx
    v[0] += v[1]  # the top row, interpolated
    v[3] -= v[2]
    v[3] *= wx
    v[2] += v[3]  # the bottom row
    v[2] -= v[0]
    v[2] *= wy
    v[0] += v[2]
    if images.dtype.kind in "iub":  # round, as torchvision does: truncating would darken
        np.rint(v[0], out=v[0])
    out: np.ndarray = v[0].astype(images.dtype, copy=False)
    return out


def random_affine(
    images: np.ndarray,
    degrees: float,
    translate: tuple[float, float] | None = None,
    scale: tuple[float, float] | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Rotate, scale and translate each image at random (torchvision's ``RandomAffine``).

    Per image, draws (in this order, from ``rng``) an angle uniform in
    ``[-degrees, degrees]``, a horizontal and a vertical translation uniform in
    ``[-translate[0] * W, translate[0] * W]`` and ``[-translate[1] * H, translate[1] * H]``
    pixels, and a scale uniform in ``[scale[0], scale[1]]``, then applies :func:`affine`
    (bilinear, zero fill; see it for the sign conventions). Unlike torchvision, the
    translation is not rounded to whole pixels, ``degrees`` is a single bound (not a
    range) and there is no shear.

    Args:
        images: (N, C, H, W).
        degrees: the largest rotation in degrees (>= 0).
        translate: (a, b), the largest translations as fractions of the width and height
            (each in [0, 1]); None for none.
        scale: (lo, hi) with 0 < lo <= hi; None for none.
        rng: generator for the parameters; default the package generator
            (``manual_seed``), so that a resumed run draws the same parameters.

    Returns:
        A new (N, C, H, W) array of the same dtype.

    Raises:
        ValueError: for a wrong rank or a bad ``degrees``, ``translate`` or ``scale``.
    """
    if images.ndim != 4:
        raise ValueError(f"random_affine: expected images (N, C, H, W); got {images.shape}")
    if not 0 <= degrees < np.inf:
        raise ValueError(
            f"random_affine: degrees must be >= 0; got {degrees!r}, expected a finite bound"
        )
    tr = (0.0, 0.0) if translate is None else tuple(translate)
    if len(tr) != 2 or not all(0.0 <= t <= 1.0 for t in tr):
        raise ValueError(f"random_affine: translate must be (a, b) in [0, 1]; got {translate!r}")
    sc = (1.0, 1.0) if scale is None else tuple(scale)
    if len(sc) != 2 or not 0.0 < sc[0] <= sc[1]:
        raise ValueError(f"random_affine: scale must be (lo, hi), 0 < lo <= hi; got {scale!r}")
    gen = rng if rng is not None else get_rng()
    N, _, H, W = images.shape
    angle = gen.uniform(-degrees, degrees, N)
    tx = gen.uniform(-tr[0] * W, tr[0] * W, N)
    ty = gen.uniform(-tr[1] * H, tr[1] * H, N)
    zoom = gen.uniform(sc[0], sc[1], N)
    return affine(images, angle, (tx, ty), zoom)
