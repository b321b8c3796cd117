"""Gradient checking against finite differences (public: prove your own ops with it).

``gradcheck`` compares an op's backward with Richardson-extrapolated central differences
(``autograd_mnist._finite_diff``), in float64, contracting the output with a seeded random
cotangent ``w`` (L = sum(w * fn(x))) so that a backward that ignores its upstream gradient
cannot pass. Its defaults reject a backward off by a relative 1e-4 (PyTorch's rtol is 1e-3).
``gradgradcheck`` does the same for the gradient itself. ``numerical_gradient`` is the
textbook element-by-element central difference (R1 in ``docs/reference_experiments.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_mnist._finite_diff import Accept, numerical_gradient, termwise
from autograd_mnist.autograd import grad
from autograd_mnist.func import jvp
from autograd_mnist.tensor import Tensor

__all__ = [
    "ATOL",
    "DIRECTIONS",
    "EPS",
    "MAX_ELEMENTS",
    "ROUNDING",
    "RTOL",
    "GradcheckError",
    "function_name",
    "gradcheck",
    "gradgradcheck",
    "numerical_gradient",
]

#: Default step h of the Richardson-extrapolated central difference (it also uses h / 2).
EPS = 1e-4
#: Default relative tolerance: a backward off by a relative 1e-4 fails.
RTOL = 1e-5
#: Default absolute tolerance, for entries whose true value is (near) zero.
ATOL = 1e-9
#: The rounding floor added to atol, in units of eps_mach * sum|w * fn(x)| / eps over the
#: terms the step changes: each central difference turns their rounding into about
#: 2 / (2 eps) of it, Richardson's weights 4/3 and 1/3 make that about 3, and fn rounds in
#: several places.
ROUNDING = 10.0
#: The larger step that finds the terms that depend on an element the step eps cannot move.
PROBE = 1.0
#: Inputs with more elements than this are checked along random directions instead.
MAX_ELEMENTS = 200
#: Number of random directions for large inputs and in fast mode.
DIRECTIONS = 12


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the numerical one."""


def function_name(fn: Callable[..., Any]) -> str:
    """A readable name of ``fn`` for messages (``MyOp.apply`` for a Function's apply)."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # MyOp.apply: name the op, not the base class's "Function"
        return f"{owner.__qualname__}.{fn.__name__}"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return str(name) if name else repr(fn)


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)) and all(isinstance(r, Tensor) for r in result):
        return list(result)
    raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors; got {result!r}")


def _prepare(inputs: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """float64 copies of the inputs; which positions are differentiated.

    PyTorch's form, one tuple or list of inputs (``gradcheck(fn, (x, y))``), is unpacked.
    """
    if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):
        inputs = inputs[0]
    marked = [isinstance(x, Tensor) and x.requires_grad for x in inputs]
    xs: list[Any] = []
    diff: list[int] = []
    for i, x in enumerate(inputs):
        arr = x.data if isinstance(x, Tensor) else x
        if isinstance(arr, np.ndarray) and arr.dtype.kind == "f":
            wants = marked[i] if any(marked) else True
            xs.append(Tensor(arr.astype(np.float64, copy=True), requires_grad=wants))
            if wants:
                diff.append(i)
        else:
            xs.append(x)
    if not diff:
        got = [type(x).__name__ if not isinstance(x, Tensor) else str(x.dtype) for x in inputs]
        raise ValueError(
            f"gradcheck: no float input to differentiate; got inputs {got}, expected float "
            "Tensors or arrays, as separate arguments or one tuple"
        )
    return xs, diff


class _Objective:
    """L(x) = sum_k sum(w_k * out_k(x)) with seeded random cotangents w_k."""

    def __init__(self, fn: Callable[..., Any], xs: list[Any], seed: int) -> None:
        self.fn = fn
        self.xs = xs
        rng = np.random.default_rng(seed)
        self.ws = [np.asarray(rng.standard_normal(o.shape)) for o in _outputs(fn(*xs))]

    def terms(self) -> np.ndarray:
        """The terms w_k * out_k(x) that L adds up, flat. Recorded, not under no_grad: fn
        may itself differentiate (gradgradcheck)."""
        outs = _outputs(self.fn(*self.xs))
        return np.concatenate([np.zeros(0), *(np.ravel(w * o.data) for w, o in zip(self.ws, outs))])

    def derivatives(
        self, arr: np.ndarray, eps: float, dirs: np.ndarray | None, tol: Accept
    ) -> tuple[np.ndarray, np.ndarray]:
        """L's derivatives along each element of ``arr`` (or direction) and their rounding
        floors (:func:`~autograd_mnist._finite_diff.termwise`)."""
        return termwise(self.terms, arr, eps, dirs, tol, ROUNDING, PROBE)

    def analytical(self, diff: list[int], scale: float = 1.0) -> list[np.ndarray]:
        targets = [self.xs[i] for i in diff]
        try:
            gs = _contracted_grads(self.fn, self.xs, self.ws, targets, scale, False)
        except RuntimeError as e:  # e.g. the engine's check of each gradient's shape/dtype
            raise GradcheckError(
                f"gradcheck: {function_name(self.fn)}: backward failed: {e}"
            ) from e
        result = []
        for t, g in zip(targets, gs):
            if g.shape != t.shape or g.dtype != t.dtype:
                raise GradcheckError(
                    f"gradcheck: gradient has shape {g.shape} and dtype {g.dtype}; expected "
                    f"the input's shape {t.shape} and dtype {t.dtype}"
                )
            result.append(np.array(g.data))
        return result


def _contracted_grads(
    fn: Callable[..., Any],
    xs: list[Any],
    ws: list[np.ndarray],
    targets: list[Tensor],
    scale: float,
    create_graph: bool,
) -> tuple[Tensor, ...]:
    """d/d(targets) of sum_k sum(scale * w_k * out_k) for out = fn(*xs); zeros where unused.

    Outputs that do not require grad (constant in the inputs) contribute nothing.
    """
    outs = _outputs(fn(*xs))
    live = [(o, w) for o, w in zip(outs, ws) if o.requires_grad]
    if not live:
        return tuple(Tensor(np.zeros_like(t.data)) for t in targets)
    gs = grad(
        [o for o, _ in live],
        targets,
        grad_outputs=[Tensor(np.asarray(w * scale)) for _, w in live],
        create_graph=create_graph,
        allow_unused=True,
    )
    return tuple(Tensor(np.zeros_like(t.data)) if g is None else g for t, g in zip(targets, gs))


def _compare(
    name: str,
    i: int,
    shape: tuple[int, ...],
    num: np.ndarray,
    ana: np.ndarray,
    atol: float,
    rtol: float,
    directional: bool,
    floor: np.ndarray,
    mode: str = "",
) -> str | None:
    """None if |ana - num| <= atol + floor + rtol * |num| everywhere (a NaN fails); else
    the report."""
    err = np.abs(num - ana)
    bad = ~(err <= atol + floor + rtol * np.abs(num)) | ~np.isfinite(num)
    if not bad.any():
        return None
    excess = np.where(bad, np.nan_to_num(err - floor - rtol * np.abs(num), nan=np.inf), -np.inf)
    worst = np.unravel_index(int(np.argmax(excess)), num.shape)
    rel = err / np.maximum(np.abs(num), 1e-300)
    where = f"direction {worst[0]}" if directional else f"element {tuple(int(j) for j in worst)}"
    return (
        f"gradcheck: {name}: input {i} (shape {shape}){mode}: worst at {where}: "
        f"numerical {num[worst]:.10g}, analytical {ana[worst]:.10g}; "
        f"max abs error {err.max():.3g}, max rel error {rel.max():.3g} "
        f"(atol {atol:g}, rtol {rtol:g}, rounding floor {floor[worst]:.2g}, "
        f"{int(bad.sum())} of {bad.size} values off)"
        + ("" if np.isfinite(num[worst]) else "; fn is not finite within eps: lower eps")
    )


def _forward_products(
    name: str, obj: _Objective, diff: list[int], i: int, tangents: np.ndarray
) -> np.ndarray:
    """sum_k <w_k, J_k t> for each row t of ``tangents`` (input ``i``'s direction, zero on
    the other inputs), by forward mode: :func:`autograd_mnist.func.jvp`."""
    xs = obj.xs

    def of_diff(*ts: Tensor) -> tuple[Tensor, ...]:
        args = list(xs)
        for d, t in zip(diff, ts):
            args[d] = t
        return tuple(_outputs(obj.fn(*args)))

    primals = tuple(xs[d] for d in diff)
    out = np.empty(len(tangents))
    for k, t in enumerate(tangents):
        v = tuple(Tensor(t.reshape(xs[d].shape) if d == i else np.zeros(xs[d].shape)) for d in diff)
        try:
            _, products = jvp(of_diff, primals, v)
        except RuntimeError as e:
            raise GradcheckError(f"gradcheck: {name}: forward mode (jvp) failed: {e}") from e
        out[k] = sum(float(np.sum(w * p.data)) for w, p in zip(obj.ws, products))
    return out


def _directions(rng: np.random.Generator, n: int) -> np.ndarray:
    """``DIRECTIONS`` random directions in R^n, each scaled to a largest entry of 1: a step
    of eps along one moves no element by more than eps (kink margins hold as per element)."""
    dirs = rng.standard_normal((DIRECTIONS, n))
    scaled: np.ndarray = dirs / np.abs(dirs).max(axis=1, keepdims=True, initial=0.0)  # n = 0
    return scaled


def _check_backward_runs(
    name: str, obj: _Objective, diff: list[int], before: list[np.ndarray]
) -> list[np.ndarray]:
    """The analytical gradients, after checking the inputs still equal ``before`` (their
    values before any forward), the gradients are finite, two backward runs agree and a
    zero cotangent gives zero gradients."""
    ana = obj.analytical(diff)
    again = obj.analytical(diff)
    zero = obj.analytical(diff, scale=0.0)
    for i, a, b, z, x0 in zip(diff, ana, again, zero, before):
        if not np.array_equal(obj.xs[i].data, x0, equal_nan=True):
            raise GradcheckError(f"gradcheck: {name}: input {i} was modified in place")
        if not np.isfinite(a).all():
            at = tuple(int(j) for j in np.argwhere(~np.isfinite(a))[0])
            raise GradcheckError(
                f"gradcheck: {name}: input {i} (shape {a.shape}): the backward gave {a[at]} "
                f"at element {at} ({int((~np.isfinite(a)).sum())} of {a.size} not finite)"
            )
        if not np.array_equal(a, b):
            raise GradcheckError(
                f"gradcheck: {name}: input {i}: two backward runs gave different gradients"
            )
        if np.any(z != 0):
            raise GradcheckError(
                f"gradcheck: {name}: input {i}: a zero upstream gradient gave a nonzero "
                f"gradient (max {np.abs(z).max():.3g})"
            )
    return ana


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_exception: bool = True,
    seed: int = 0,
    fast_mode: bool = False,
    check_forward_ad: bool = False,
) -> bool:
    """Check ``fn``'s backward against finite differences, in float64.

    Float inputs are copied to float64. If some inputs are Tensors with
    ``requires_grad=True``, only those are checked; otherwise every float input is.
    Integer inputs (labels, indices) are passed through unchanged. Inputs come as separate
    arguments, ``gradcheck(fn, x, y)``, or as PyTorch passes them, one tuple (or list)
    ``gradcheck(fn, (x, y))``. Pass every tensor ``fn`` uses as an input: a float32 tensor
    captured inside ``fn`` would mix dtypes.

    The objective is L = sum(w * fn(x)) for a seeded random cotangent ``w``; its numerical
    derivative is the Richardson extrapolation (4 D(eps/2) - D(eps)) / 3 of the central
    difference D, accurate to about 1e-10 relative in float64. An entry passes when
    |analytical - numerical| <= atol + rtol * |numerical| + the rounding floor (a bound on
    the difference's rounding, from the terms of L the step changes); a NaN never passes.

    Each input is checked element by element, or, if it has more than ``MAX_ELEMENTS``
    elements or ``fast_mode`` is True, along ``DIRECTIONS`` random directions v (comparing
    w^T J v with the analytical gradient's dot product with v): the cost no longer grows
    with the input's size, and a wrong entry shows only through the dot products.

    With ``check_forward_ad``, forward mode is checked too: the Jacobian-vector products
    w^T J v of :func:`autograd_mnist.func.jvp` (built from the backward's own backward) are
    compared with the same numerical directional derivatives, v running over the elements
    (or the random directions) of each input.

    Besides the values it checks gradient shape and dtype, zero gradients for a zero
    cotangent, identical results from two backward runs, and unchanged inputs.

    Args:
        fn: maps the inputs to a Tensor (or a tuple of Tensors).
        *inputs: Tensors, arrays, or other arguments.
        eps: finite-difference step h (the extrapolation also steps h / 2). Keep it
            below the distance to the nearest kink of a non-smooth op.
        atol: absolute tolerance.
        rtol: relative tolerance (relative to the numerical value).
        raise_exception: raise on failure (default) instead of returning False.
        seed: seed of the random cotangent and directions.
        fast_mode: check every input along random directions (for large inputs).
        check_forward_ad: also check forward mode (``func.jvp``) against the same
            numerical derivatives.

    Returns:
        True when every check passes (False on failure if ``raise_exception`` is False).

    Raises:
        GradcheckError: naming the function, the input, the worst element's index (or
            direction's), the numerical and analytical values and the max absolute and
            relative errors.
    """
    name = function_name(fn)
    xs, diff = _prepare(inputs)
    before = [np.array(xs[i].data) for i in diff]
    obj = _Objective(fn, xs, seed)
    try:
        ana = _check_backward_runs(name, obj, diff, before)
        rng = np.random.default_rng(seed + 1)
        for i, a in zip(diff, ana):
            x = xs[i]
            dirs = None
            if fast_mode or x.numel() > MAX_ELEMENTS:
                dirs = _directions(rng, x.numel())
            expected = a if dirs is None else dirs @ a.reshape(-1)
            flat = expected.reshape(-1)

            def tol(k: int, num: float, floor: float, flat: np.ndarray = flat) -> bool:
                return bool(abs(num - flat[k]) <= atol + floor + rtol * abs(num))

            num, floor = obj.derivatives(x.data, eps, dirs, tol)
            along = dirs is not None
            msg = _compare(name, i, x.shape, num, expected, atol, rtol, along, floor)
            if not msg and check_forward_ad:
                tangents = np.eye(x.numel()) if dirs is None else dirs
                fwd = _forward_products(name, obj, diff, i, tangents).reshape(num.shape)
                mode = " forward mode (jvp)"
                msg = _compare(name, i, x.shape, num, fwd, atol, rtol, along, floor, mode)
            if msg:
                raise GradcheckError(msg)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    raise_exception: bool = True,
    seed: int = 0,
    fast_mode: bool = False,
) -> bool:
    """Check second derivatives: :func:`gradcheck` applied to the gradient of ``fn``.

    The gradient is g(x) = d/dx sum(w * fn(x)) for a fixed seeded cotangent ``w``, computed
    with ``create_graph=True``; its backward (a Hessian-vector product) is compared with
    finite differences of g.

    Args and Returns: as :func:`gradcheck`.
    """
    xs, diff = _prepare(inputs)
    outs = _outputs(fn(*xs))
    rng = np.random.default_rng(seed + 7)
    ws = [np.asarray(rng.standard_normal(o.shape)) for o in outs]

    def first_order(*args: Any) -> tuple[Tensor, ...]:
        return _contracted_grads(fn, list(args), ws, [args[i] for i in diff], 1.0, True)

    first_order.__qualname__ = f"grad of {function_name(fn)}"
    return gradcheck(
        first_order,
        *xs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        seed=seed,
        fast_mode=fast_mode,
    )
