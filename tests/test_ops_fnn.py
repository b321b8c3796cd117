"""The op-table rows of ``op_cases_fnn.py`` through the generic checks: forward against the
NumPy reference (float64 and float32, dtype kept, inputs not mutated), gradcheck and
gradgradcheck in float64. The checks are those of ``test_ops_forward.py`` and
``test_ops_grad.py``, called per row (once the rows join ``op_cases.CASES``, this file can go).
"""

from __future__ import annotations

import pytest
import test_ops_forward as forward_checks
import test_ops_grad as grad_checks
from op_cases import OpCase
from op_cases_fnn import FNN_CASE_IDS, FNN_CASES


@pytest.mark.parametrize("case", FNN_CASES, ids=FNN_CASE_IDS)
def test_forward_matches_reference(case: OpCase) -> None:
    forward_checks.test_forward_matches_reference(case)


@pytest.mark.parametrize("case", FNN_CASES, ids=FNN_CASE_IDS)
def test_gradcheck(case: OpCase) -> None:
    grad_checks.test_gradcheck(case)


@pytest.mark.parametrize("case", [c for c in FNN_CASES if c.gradgrad], ids=lambda c: c.name)
def test_gradgradcheck(case: OpCase) -> None:
    grad_checks.test_gradgradcheck(case)
