"""Every row of the op table passes gradcheck and gradgradcheck in float64.

Hypothesis draws shapes and values from the row's strategy (sides 1-5, values in about
[-3, 3], kinks avoided by construction); the checker compares the analytical gradient
with Richardson-extrapolated central differences (gradcheck's defaults: eps 1e-4, rtol
1e-5, atol 1e-9, no row loosens them) under a random seeded cotangent.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from op_cases import OpCase
from op_table import ALL_CASE_IDS, ALL_CASES

from autograd_mnist.testing import check_op

# Second derivatives cost a double backward per finite difference (2 per element), so
# gradgradcheck runs on a share of the profile's examples (ci: 60 of 200, dev: 10 of 25):
# it is built from the same ops whose first derivatives get the full count.
GRADGRAD_SHARE = 0.3


def _examples(case: OpCase, share: float = 1.0) -> int:
    """The profile's example count times ``share`` (at least 10), capped for costly rows."""
    n = settings.default.max_examples
    n = max(min(n, 10), int(n * share))
    if case.max_examples is not None:
        n = min(n, max(1, int(case.max_examples * share)))
    return n


@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_CASE_IDS)
def test_gradcheck(case: OpCase) -> None:
    check_op(
        case.fn,
        args=case.args,
        grad=True,
        gradgrad=False,
        grad_rtol=case.grad_rtol,
        grad_atol=case.grad_atol,
        max_examples=_examples(case),
    )


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.gradgrad], ids=lambda c: c.name)
def test_gradgradcheck(case: OpCase) -> None:
    check_op(
        case.fn,
        args=case.args,
        grad=False,
        gradgrad=True,
        grad_rtol=case.grad_rtol,
        grad_atol=case.grad_atol,
        max_examples=_examples(case, share=GRADGRAD_SHARE),
    )
