"""Each fused primitive (ops/fused.py) equals the composite of primitive ops it names.

In float64 on Hypothesis-drawn shapes and values: the outputs, the first-order gradients
(through the plain backward and through the recorded one) and the second-order ones (the
gradient of a random contraction of the first-order gradients) agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from autograd_mnist import ops
from autograd_mnist.autograd import grad
from autograd_mnist.tensor import Tensor
from autograd_mnist.testing import class_targets, float_arrays, shapes

Fn = Callable[..., Tensor]
RTOL, ATOL = 1e-9, 1e-10


def _close(a: Tensor | None, b: Tensor | None, like: Tensor) -> None:
    """Equal gradients; None (an input the result does not depend on) counts as zeros."""
    zeros = np.zeros(like.shape)
    np.testing.assert_allclose(
        zeros if a is None else a.data, zeros if b is None else b.data, rtol=RTOL, atol=ATOL
    )


def check_equal(fused: Fn, composite: Fn, arrays: Sequence[np.ndarray], seed: int) -> None:
    """fused(*xs) == composite(*xs): values, gradients of orders 1 and 2 for every input."""
    rng = np.random.default_rng(seed)
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    y_fused, y_comp = fused(*xs), composite(*xs)
    assert y_fused.shape == y_comp.shape and y_fused.dtype == y_comp.dtype == np.float64
    np.testing.assert_allclose(y_fused.data, y_comp.data, rtol=RTOL, atol=ATOL)
    g = Tensor(rng.standard_normal(y_fused.shape))  # a random upstream gradient

    def first(fn: Fn, create_graph: bool) -> tuple[Tensor | None, ...]:
        return grad((fn(*xs) * g).sum(), xs, create_graph=create_graph, allow_unused=True)

    plain = first(fused, False)  # the fast path (no graph of the backward)
    recorded, reference = first(fused, True), first(composite, True)
    for x, a, b, c in zip(xs, plain, recorded, reference):
        _close(a, c, x)
        _close(b, c, x)

    # Second order: d/dx of sum_i <grad_i, v_i>, v random.
    vs = [Tensor(rng.standard_normal(x.shape)) for x in xs]

    def second(grads: Sequence[Tensor | None]) -> tuple[Tensor | None, ...]:
        terms = [(gi * v).sum() for gi, v in zip(grads, vs) if gi is not None and gi.requires_grad]
        if not terms:  # the gradients are constant: no second derivative
            return (None,) * len(xs)
        return grad(sum(terms[1:], terms[0]), xs, allow_unused=True)

    for x, a, b in zip(xs, second(recorded), second(reference)):
        _close(a, b, x)


# ----- Linear == matmul(x, W.T) + b -----


@st.composite
def linear_inputs(draw: st.DrawFn) -> tuple[list[np.ndarray], bool]:
    lead = draw(shapes(min_dims=0, max_dims=2))
    n_in, n_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = draw(float_arrays(lead + (n_in,)))
    if x.ndim == 2 and draw(st.booleans()):
        x = np.asfortranarray(x)  # a flattened batch-last conv output: Linear's other path
    arrays = [x, draw(float_arrays((n_out, n_in)))]
    bias = draw(st.booleans())
    if bias:
        arrays.append(draw(float_arrays((n_out,))))
    return arrays, bias


@given(linear_inputs(), st.integers(0, 2**16))
def test_linear_equals_matmul_with_transposed_weight_plus_bias(
    inputs: tuple[list[np.ndarray], bool], seed: int
) -> None:
    arrays, bias = inputs

    def composite(x: Tensor, w: Tensor, *b: Tensor) -> Tensor:
        y = ops.matmul(x, ops.transpose(w, 0, 1))
        return ops.add(y, b[0]) if bias else y

    check_equal(ops.linear, composite, arrays, seed)


# ----- CrossEntropy == mean((1 - s) * -log_softmax(x)[range(N), t] + s * mean_k(...)) -----


@st.composite
def cross_entropy_inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, str, float]:
    n, k = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    x = draw(float_arrays((n, k), min_value=-5.0, max_value=5.0))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return x, draw(class_targets(n, k)), reduction, draw(st.sampled_from([0.0, 0.1, 0.37, 1.0]))


@given(cross_entropy_inputs(), st.integers(0, 2**16))
def test_cross_entropy_equals_picked_negative_log_softmax(
    inputs: tuple[np.ndarray, np.ndarray, str, float], seed: int
) -> None:
    x, target, reduction, smoothing = inputs
    reduce = {"mean": ops.mean, "sum": ops.sum, "none": lambda t: t}[reduction]

    def fused(x: Tensor) -> Tensor:
        return ops.cross_entropy(x, target, reduction, smoothing)

    def composite(x: Tensor) -> Tensor:
        logp = ops.log_softmax(x, 1)
        picked = ops.getitem(logp, (np.arange(x.shape[0]), target))  # (N,)
        losses = ops.mul(ops.neg(picked), 1.0 - smoothing)
        losses = ops.add(losses, ops.mul(ops.neg(ops.mean(logp, 1)), smoothing))
        return reduce(losses)

    check_equal(fused, composite, [x], seed)


# ----- BatchNorm == (x - mean) / sqrt(var + eps) * w + b, batch statistics -----


@st.composite
def batch_norm_inputs(draw: st.DrawFn) -> list[np.ndarray]:
    c = draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (1, 2), (2, 2), (3, 1)]))
    n = draw(st.integers(1 if spatial else 2, 4))  # at least 2 values per channel
    x = draw(float_arrays((n, c) + spatial))
    return [x, draw(float_arrays((c,))), draw(float_arrays((c,)))]


@given(batch_norm_inputs(), st.sampled_from([1e-5, 0.1]), st.integers(0, 2**16))
def test_batch_norm_equals_normalise_scale_shift(
    arrays: list[np.ndarray], eps: float, seed: int
) -> None:
    ndim = arrays[0].ndim
    axes = (0,) if ndim == 2 else (0, 2, 3)
    shape = (-1,) if ndim == 2 else (-1, 1, 1)

    def fused(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        mu = x.data.mean(axis=axes, keepdims=True)  # the statistics, as functional computes them
        var = ((x.data - mu) ** 2).mean(axis=axes, keepdims=True)
        return ops.batch_norm(x, w, b, mu, var, axes, eps)

    def composite(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        xc = ops.sub(x, ops.mean(x, axes, keepdim=True))
        var = ops.mean(ops.mul(xc, xc), axes, keepdim=True)
        xhat = ops.mul(xc, ops.pow(ops.add(var, eps), -0.5))
        return ops.add(ops.mul(xhat, ops.reshape(w, shape)), ops.reshape(b, shape))

    check_equal(fused, composite, arrays, seed)
