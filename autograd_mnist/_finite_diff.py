"""Finite differences: the textbook central difference and its Richardson extrapolation.

``numerical_gradient`` (public, re-exported by :mod:`autograd_mnist.gradcheck`) is the
element-by-element central difference of R1 in ``docs/reference_experiments.md``.
``derivatives`` gives the derivatives of a scalar objective along each element or along
given directions, by Richardson extrapolation of the central difference,

    D(h) = (f(x + h v) - f(x - h v)) / (2 h),    R(h) = (4 D(h/2) - D(h)) / 3,

whose error is O(h**4) instead of O(h**2): with h = 1e-4 the truncation error is below
1e-12 for the smooth functions the checker meets, and the rounding error (about
1e-16 |f| / h) is a hundred times smaller than with the plain central difference's usual
h = 1e-6. ``termwise``, what ``gradcheck`` uses, applies it to a sum of terms, term by term,
with a bound on each derivative's rounding error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from autograd_mnist.tensor import Tensor

#: A function of the step t: the objective at x + t * v.
Path = Callable[[float], float]
#: ``accept(k, derivative, floor)``: does the k-th derivative pass with that rounding floor?
Accept = Callable[[int, float, float], bool]


def central(phi: Path, h: float) -> float:
    """The central difference (phi(h) - phi(-h)) / (2 h): error O(h**2)."""
    return (phi(h) - phi(-h)) / (2 * h)


def richardson(phi: Path, h: float) -> float:
    """Richardson extrapolation (4 D(h/2) - D(h)) / 3 of the central difference D: O(h**4)."""
    return (4 * central(phi, h / 2) - central(phi, h)) / 3


def _scalar(v: Any) -> float:
    if isinstance(v, Tensor):
        v = v.data
    return float(np.asarray(v).sum())


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, eps: float = 1e-4) -> np.ndarray:
    """Central-difference gradient of a scalar function, one element at a time.

    Each element of ``x`` is perturbed by +eps and -eps in place, ``(f1 - f2) / (2 eps)``
    recorded, and the element restored.

    Args:
        f: maps the array ``x`` (modified in place) to a scalar (number, 0-d array or
            one-element Tensor).
        x: the point, an ndarray (or a Tensor, whose ``.data`` is used).
        eps: the step.

    Returns:
        An array of ``x``'s shape and dtype.
    """
    arr = x.data if isinstance(x, Tensor) else x
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"numerical_gradient: x must be an ndarray; got {type(x).__name__}")
    out = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        orig = arr[idx].copy()

        def phi(t: float, idx: tuple[int, ...] = idx, orig: Any = orig) -> float:
            arr[idx] = orig + t
            return _scalar(f(arr))

        out[idx] = central(phi, eps)
        arr[idx] = orig
    return out


def derivatives(
    value: Callable[[], float],
    arr: np.ndarray,
    h: float,
    directions: np.ndarray | None = None,
    rule: Callable[[Path, float], float] = richardson,
) -> np.ndarray:
    """Derivatives of ``value()`` with respect to ``arr``, which it reads; ``arr`` is restored.

    Args:
        value: the objective, evaluated at the current contents of ``arr``.
        arr: the point, perturbed in place.
        h: the step (``rule`` also evaluates at h / 2).
        directions: None for one derivative per element (an array of ``arr``'s shape), or
            rows of directions, each of ``arr.size`` values (one derivative per row).
        rule: :func:`richardson` (default) or :func:`central`.

    Returns:
        The partial derivatives (``arr``'s shape), or one directional derivative per row.
    """
    orig = arr.copy()
    try:
        if directions is None:
            out = np.empty(arr.shape)
            for idx in np.ndindex(arr.shape):

                def along_element(t: float, idx: tuple[int, ...] = idx) -> float:
                    arr[idx] = orig[idx] + t
                    return value()

                out[idx] = rule(along_element, h)
                arr[idx] = orig[idx]
            return out
        result = np.empty(len(directions))
        for k, v in enumerate(directions):
            step = v.reshape(arr.shape)

            def along(t: float, step: np.ndarray = step) -> float:
                arr[...] = orig + t * step
                return value()

            result[k] = rule(along, h)
        return result
    finally:
        arr[...] = orig


def termwise(
    terms: Callable[[], np.ndarray],
    arr: np.ndarray,
    h: float,
    directions: np.ndarray | None,
    accept: Accept,
    rounding: float,
    probe: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Derivatives of ``sum(terms())`` as :func:`derivatives` gives them, and for each a
    bound on its rounding error (the rounding floor).

    The terms are differenced one by one, then summed: a term the step leaves unchanged
    (or NaN on both sides) adds nothing. The floor, ``rounding`` * eps_mach * sum|term| / h,
    sums the terms that changed, so a large term that does not depend on the element cannot
    hide an error in one that does. Where a derivative fails ``accept`` with that floor, the
    terms a step of ``probe`` changes (they depend on the element, too little for h to show)
    count too.

    Returns:
        The derivatives and their floors, each shaped as :func:`derivatives`'s result.
    """
    floors: list[float] = []

    def floor(changed: np.ndarray) -> float:
        size = np.abs(changed[np.isfinite(changed)]).sum()
        return rounding * float(np.finfo(np.float64).eps) * float(size) / h

    def change(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        same = (a == b) | (np.isnan(a) & np.isnan(b))  # a NaN on both sides: unchanged
        with np.errstate(invalid="ignore"):  # inf - inf, where unchanged
            return ~same, np.where(same, 0.0, a - b)

    def rule(phi: Any, step: float) -> float:
        p1, m1, p2, m2 = (np.asarray(phi(t)) for t in (step / 2, -step / 2, step, -step))
        (moved1, d1), (moved2, d2) = change(p1, m1), change(p2, m2)
        num = float(np.sum(4 * d1 / step - d2 / (2 * step)) / 3)
        moved = moved1 | moved2
        if not accept(len(floors), num, floor(p2[moved])):
            try:
                with np.errstate(all="ignore"):  # the probe may leave fn's domain
                    moved |= (phi(probe) != p2) | (phi(-probe) != p2)
            except Exception:  # outside fn's domain: count every term
                moved[...] = True
        floors.append(floor(p2[moved]))
        return num

    num = derivatives(cast(Callable[[], float], terms), arr, h, directions, rule)
    return num, np.reshape(floors, num.shape)
