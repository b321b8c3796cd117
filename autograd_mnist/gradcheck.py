"""Gradient checking against central differences (public: prove your own ops with it).

``numerical_gradient`` is the textbook element-by-element central difference (R1 in
``docs/reference_experiments.md``). ``gradcheck`` compares an op's backward with it, in
float64, contracting the output with a seeded random cotangent ``w`` (L = sum(w * fn(x)))
so that a backward that ignores its upstream gradient cannot pass. ``gradgradcheck`` does
the same for the gradient itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_mnist.autograd import grad
from autograd_mnist.tensor import Tensor

#: Inputs with more elements than this are checked along random directions instead.
MAX_ELEMENTS = 200
#: Number of random directions for large inputs.
DIRECTIONS = 12


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the numerical one."""


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
        arr[idx] = orig + eps
        f1 = _scalar(f(arr))
        arr[idx] = orig - eps
        f2 = _scalar(f(arr))
        arr[idx] = orig
        out[idx] = (f1 - f2) / (2 * eps)
    return out


def _scalar(v: Any) -> float:
    if isinstance(v, Tensor):
        v = v.data
    return float(np.asarray(v).sum())


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
    """float64 copies of the inputs; which positions are differentiated."""
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
        raise ValueError("gradcheck: no float input to differentiate")
    return xs, diff


class _Objective:
    """L(x) = sum_k sum(w_k * out_k(x)) with seeded random cotangents w_k."""

    def __init__(self, fn: Callable[..., Any], xs: list[Any], seed: int) -> None:
        self.fn = fn
        self.xs = xs
        outs = _outputs(fn(*xs))
        rng = np.random.default_rng(seed)
        self.ws = [np.asarray(rng.standard_normal(o.shape)) for o in outs]

    def value(self) -> float:
        # Recorded, not under no_grad: fn may itself differentiate (gradgradcheck).
        outs = _outputs(self.fn(*self.xs))
        return float(sum(np.sum(w * o.data) for w, o in zip(self.ws, outs)))

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


def _numerical(obj: _Objective, x: Tensor, eps: float, dirs: np.ndarray | None) -> np.ndarray:
    """Per-element central differences, or directional ones along ``dirs`` rows."""
    arr = x.data
    if dirs is None:
        return numerical_gradient(lambda _: obj.value(), arr, eps)
    out = np.empty(len(dirs))
    orig = arr.copy()
    for k, v in enumerate(dirs):
        arr[...] = orig + eps * v.reshape(arr.shape)
        f1 = obj.value()
        arr[...] = orig - eps * v.reshape(arr.shape)
        f2 = obj.value()
        out[k] = (f1 - f2) / (2 * eps)
    arr[...] = orig
    return out


def _compare(
    name: str,
    i: int,
    shape: tuple[int, ...],
    num: np.ndarray,
    ana: np.ndarray,
    atol: float,
    rtol: float,
    directional: bool,
) -> str | None:
    err = np.abs(num - ana)
    bad = err > atol + rtol * np.abs(num)
    if not bad.any():
        return None
    worst = np.unravel_index(int(np.argmax(err - rtol * np.abs(num))), num.shape)
    rel = err / np.maximum(np.abs(num), 1e-300)
    where = f"direction {worst[0]}" if directional else f"element {tuple(int(j) for j in worst)}"
    return (
        f"gradcheck: {name}: input {i} (shape {shape}): worst at {where}: "
        f"numerical {num[worst]:.10g}, analytical {ana[worst]:.10g}; "
        f"max abs error {err.max():.3g}, max rel error {rel.max():.3g} "
        f"(atol {atol:g}, rtol {rtol:g}, {int(bad.sum())} of {bad.size} values off)"
    )


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s backward against central differences, in float64.

    Float inputs are copied to float64. If some inputs are Tensors with
    ``requires_grad=True``, only those are checked; otherwise every float input is.
    Integer inputs (labels, indices) are passed through unchanged. Pass every tensor ``fn``
    uses as an input: a float32 tensor captured inside ``fn`` would mix dtypes.

    Besides the values it checks gradient shape and dtype, zero gradients for a zero
    cotangent, identical results from two backward runs, and unchanged inputs. Inputs with
    more than ``MAX_ELEMENTS`` elements are checked along ``DIRECTIONS`` random directions.

    Args:
        fn: maps the inputs to a Tensor (or a tuple of Tensors).
        *inputs: Tensors, arrays, or other arguments.
        eps: finite-difference step.
        atol: absolute tolerance.
        rtol: relative tolerance (relative to the numerical value).
        raise_exception: raise on failure (default) instead of returning False.
        seed: seed of the random cotangent and directions.

    Returns:
        True when every check passes (False on failure if ``raise_exception`` is False).

    Raises:
        GradcheckError: naming the function, the input, the worst element's index, the
            numerical and analytical values and the max absolute and relative errors.
    """
    name = function_name(fn)
    xs, diff = _prepare(inputs)
    before = [np.array(xs[i].data) for i in diff]
    obj = _Objective(fn, xs, seed)
    try:
        ana = obj.analytical(diff)
        again = obj.analytical(diff)
        zero = obj.analytical(diff, scale=0.0)
        for i, a, b, z, x0 in zip(diff, ana, again, zero, before):
            if not np.array_equal(xs[i].data, x0):
                raise GradcheckError(f"gradcheck: {name}: input {i} was modified in place")
            if not np.array_equal(a, b):
                raise GradcheckError(
                    f"gradcheck: {name}: input {i}: two backward runs gave different gradients"
                )
            if np.any(z != 0):
                raise GradcheckError(
                    f"gradcheck: {name}: input {i}: a zero upstream gradient gave a nonzero "
                    f"gradient (max {np.abs(z).max():.3g})"
                )
        rng = np.random.default_rng(seed + 1)
        for i, a in zip(diff, ana):
            x = xs[i]
            dirs = None
            if x.numel() > MAX_ELEMENTS:
                dirs = rng.standard_normal((DIRECTIONS, x.numel()))
            num = _numerical(obj, x, eps, dirs)
            expected = a if dirs is None else dirs @ a.reshape(-1)
            msg = _compare(name, i, x.shape, num, expected, atol, rtol, dirs is not None)
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
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: :func:`gradcheck` applied to the gradient of ``fn``.

    The gradient is g(x) = d/dx sum(w * fn(x)) for a fixed seeded cotangent ``w``, computed
    with ``create_graph=True``; its backward (a Hessian-vector product) is compared with
    central differences of g.

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
    )
