"""Define a new op (softplus) as a Function, run it, and prove its gradients.

The walk-through is docs/custom_ops.md; its code blocks are this file, verbatim.

    python examples/custom_op.py          # prints each check as it passes
"""

from __future__ import annotations

import argparse

import numpy as np

import autograd_mnist as am
from autograd_mnist import Function, Tensor, gradcheck, gradgradcheck
from autograd_mnist import functional as F


# --- 1. the op ---
class Softplus(Function):
    """y = log(1 + e**x);  dy/dx = sigmoid(x)."""

    @staticmethod
    def forward(ctx: Softplus, x: np.ndarray) -> np.ndarray:
        # log(1 + e**x) = max(x, 0) + log(1 + e**-|x|): e**-|x| <= 1 never overflows, and
        # log1p keeps full precision when e**-|x| is tiny (large |x|).
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx: Softplus, g: Tensor) -> Tensor:
        (x,) = ctx.inputs
        # Built from the engine's own ops, so it can be differentiated again.
        return g * F.sigmoid(x)


def softplus(x: Tensor) -> Tensor:
    """Elementwise log(1 + e**x), stable for any x; shape and dtype preserved."""
    return Softplus.apply(x)


def reference(x: np.ndarray) -> np.ndarray:
    """An independent NumPy forward: log(e**0 + e**x)."""
    return np.logaddexp(0.0, x)


# --- 2. run it ---
def run_it() -> None:
    x = am.tensor([-30.0, -1.0, 0.0, 1.0, 30.0], requires_grad=True)
    y = softplus(x)
    y.sum().backward()
    print("softplus(x)    ", np.round(y.data, 4))
    print("d/dx softplus  ", np.round(np.asarray(x.grad), 4))
    assert y.dtype == np.float32  # float32 in, float32 out
    np.testing.assert_allclose(np.asarray(x.grad), 1 / (1 + np.exp(-x.data)), rtol=1e-6)

    big = softplus(am.tensor([1000.0, -1000.0]))
    with np.errstate(over="ignore"):
        naive = np.log(1 + np.exp(np.array([1000.0, -1000.0])))
    print("softplus(+-1000)", big.data, "(naive formula:", naive, ")")
    assert np.isfinite(big.data).all()
    print("ok: forward, backward, large inputs")


# --- 3. prove it: gradcheck and gradgradcheck ---
def prove_it() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(-4.0, 4.0, size=(3, 4)), requires_grad=True)  # float64
    assert gradcheck(softplus, x)
    print("ok: gradcheck (first derivative vs central differences)")
    assert gradgradcheck(softplus, x)
    print("ok: gradgradcheck (second derivative: sigmoid(x) (1 - sigmoid(x)))")

    # The checker is not a rubber stamp: a wrong derivative fails.
    class WrongSoftplus(Softplus):
        @staticmethod
        def backward(ctx: Softplus, g: Tensor) -> Tensor:
            (x,) = ctx.inputs
            return g * F.sigmoid(-x)  # sign slip

    assert not gradcheck(WrongSoftplus.apply, x, raise_exception=False)
    print("ok: gradcheck rejects a backward with a sign slip")


# --- 4. property-test it with the testing helpers (needs Hypothesis) ---
def property_test_it(max_examples: int) -> None:
    from autograd_mnist.testing import check_op, float_arrays

    check_op(
        softplus,
        float_arrays(min_value=-20.0, max_value=20.0),  # any shape, 0-4 dimensions
        reference=reference,
        max_examples=max_examples,
    )
    print(f"ok: check_op on {max_examples} random arrays (forward, gradcheck, gradgradcheck)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer Hypothesis examples")
    args = parser.parse_args(argv)
    run_it()
    prove_it()
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print("skipped: property test (pip install hypothesis)")
    else:
        property_test_it(max_examples=10 if args.quick else 50)
    print("all checks passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
