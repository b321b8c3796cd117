"""The one-call property test of an op: forward against NumPy, gradcheck, gradgradcheck."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from autograd_mnist.gradcheck import ATOL, EPS, RTOL, function_name, gradcheck, gradgradcheck
from autograd_mnist.tensor import FLOAT_DTYPES, Tensor, raw

__all__ = ["check_forward", "check_op"]


def _is_float_array(v: Any) -> bool:
    return isinstance(v, np.ndarray) and v.dtype in FLOAT_DTYPES


def check_forward(
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    *args: Any,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> None:
    """Assert ``fn(*tensors)`` equals ``reference(*arrays)`` in shape, dtype and value.

    Float arrays in ``args`` become Tensors; other arguments pass through. The reference
    gets copies of the same values as NumPy arrays. When all float inputs share one dtype,
    the output must have it too (float32 in, float32 out), except where the reference
    gives integers or booleans (indices, masks): there the output must too.

    Args:
        fn: the op on Tensors.
        reference: the same computation on NumPy arrays.
        *args: the arguments (float arrays become Tensors).
        rtol: relative tolerance.
        atol: absolute tolerance.

    Raises:
        AssertionError: naming the function and the mismatch.
    """
    name = function_name(fn)
    arrays = [np.array(a) if _is_float_array(a) else raw(a) for a in args]
    ins = [Tensor(np.array(a)) if _is_float_array(a) else a for a in args]
    result = fn(*ins)
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    expected = reference(*arrays)
    exps = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    if len(outs) != len(exps):
        raise AssertionError(f"{name}: {len(outs)} outputs, reference gives {len(exps)}")
    dtypes = {a.dtype for a in args if _is_float_array(a)}
    for k, (o, e) in enumerate(zip(outs, exps)):
        o_arr, e_arr = np.asarray(raw(o)), np.asarray(e)
        if o_arr.shape != e_arr.shape:
            raise AssertionError(
                f"{name}: output {k} has shape {o_arr.shape}; reference {e_arr.shape}"
            )
        if e_arr.dtype.kind in "biu" and o_arr.dtype.kind != e_arr.dtype.kind:  # indices
            raise AssertionError(
                f"{name}: output {k} has dtype {o_arr.dtype}; reference {e_arr.dtype}"
            )
        if e_arr.dtype.kind not in "biu" and len(dtypes) == 1 and o_arr.dtype not in dtypes:
            raise AssertionError(
                f"{name}: output {k} has dtype {o_arr.dtype}; inputs are {next(iter(dtypes))}"
            )
        np.testing.assert_allclose(
            o_arr, e_arr, rtol=rtol, atol=atol, err_msg=f"{name}: output {k} vs reference"
        )


def check_op(
    fn: Callable[..., Any],
    *inputs: st.SearchStrategy[Any],
    args: st.SearchStrategy[Sequence[Any]] | None = None,
    reference: Callable[..., Any] | None = None,
    grad: bool = True,
    gradgrad: bool = True,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    grad_rtol: float = RTOL,
    grad_atol: float = ATOL,
    eps: float = EPS,
    max_examples: int | None = None,
    seed: int = 0,
) -> None:
    """Property-test an op in one call (no ``@given`` needed): forward, gradient, Hessian.

    For every example Hypothesis draws, it checks (in float64, the dtype the strategies
    produce by default):

    1. ``fn`` against the NumPy ``reference`` (shape, dtype, values within rtol/atol),
       if a reference is given;
    2. :func:`~autograd_mnist.gradcheck.gradcheck` (if ``grad``);
    3. :func:`~autograd_mnist.gradcheck.gradgradcheck` (if ``gradgrad``).

    Float arrays drawn become the differentiated Tensor inputs; anything else (dims, index
    arrays, integer targets, strides, arrays inside tuples) is passed to ``fn`` and
    ``reference`` unchanged. Call it from a plain test function (or a script), not from
    inside another ``@given`` test: Hypothesis does not nest. The active Hypothesis
    profile (``settings.load_profile``) sets the example count unless ``max_examples``
    is given; its deadline is ignored (an example takes hundreds of calls of ``fn``).

    Args:
        fn: the op, called as ``fn(*drawn)`` on Tensors; returns a Tensor (or a tuple).
        *inputs: one strategy per positional argument of ``fn``.
        args: instead of ``inputs``, one strategy drawing the whole argument tuple (use it
            when arguments depend on each other, e.g. an array and a valid ``dim``).
        reference: NumPy forward taking the same arguments as arrays, or None.
        grad: run gradcheck.
        gradgrad: run gradgradcheck (only meaningful if ``fn`` is twice differentiable).
        rtol: forward tolerance, relative (default 1e-10, for float64).
        atol: forward tolerance, absolute (default 1e-12, for float64).
        grad_rtol: gradcheck relative tolerance (default ``gradcheck.RTOL``, 1e-5).
        grad_atol: gradcheck absolute tolerance (default ``gradcheck.ATOL``, 1e-9).
        eps: finite-difference step (default ``gradcheck.EPS``, 1e-4; Richardson also
            steps eps / 2). Keep it below the inputs' distance to any kink.
        max_examples: override the active Hypothesis profile's example count.
        seed: seed of gradcheck's random cotangent.

    Raises:
        AssertionError: forward mismatch; GradcheckError: gradient mismatch. Hypothesis
        shrinks the failing example and prints it.

    Example:
        >>> import numpy as np
        >>> from autograd_mnist.testing import check_op, float_arrays, positive_arrays
        >>> check_op(lambda a, b: a / b, float_arrays((2, 3)), positive_arrays((3,)),
        ...          reference=np.divide, max_examples=5)
    """
    if (args is None) == (not inputs):
        if args is None:
            raise InvalidArgument("check_op: give input strategies or args=, not neither")
        raise InvalidArgument("check_op: give input strategies or args=, not both")
    strategy: st.SearchStrategy[Sequence[Any]] = args if args is not None else st.tuples(*inputs)

    def run(values: Sequence[Any]) -> None:
        values = tuple(values)
        if reference is not None:
            check_forward(fn, reference, *values, rtol=rtol, atol=atol)
        ins = [Tensor(np.array(v), requires_grad=True) if _is_float_array(v) else v for v in values]
        if grad:
            gradcheck(fn, *ins, eps=eps, atol=grad_atol, rtol=grad_rtol, seed=seed)
        if gradgrad:
            gradgradcheck(fn, *ins, eps=eps, atol=grad_atol, rtol=grad_rtol, seed=seed)

    # No deadline: one example runs fn hundreds of times (a gradgradcheck of a small conv
    # takes longer than Hypothesis's default 200 ms), so a deadline would fail by timing.
    overrides: dict[str, Any] = {"deadline": None}
    if max_examples is not None:
        overrides["max_examples"] = max_examples
    settings(**overrides)(given(strategy)(run))()
