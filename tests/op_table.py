"""The whole op table: the rows of ``op_cases.py`` (the engine's ops and their argument
forms), ``op_cases_surface.py`` (the Tensor and package surface), ``op_cases_fnn.py``
(activations, losses, convolution options), ``op_cases_layers.py`` (dropout2d,
adaptive_avg_pool2d, layer_norm) and ``op_cases_more.py`` (norms, chunk/split/repeat,
sort/topk, normalize, cosine_similarity). ``test_ops_forward.py`` and
``test_ops_grad.py`` run every row through the same generic checks."""

from __future__ import annotations

from op_cases import CASES, OpCase
from op_cases_fnn import FNN_CASES
from op_cases_layers import LAYER_CASES
from op_cases_more import MORE_CASES
from op_cases_surface import SURFACE_CASES

ALL_CASES: list[OpCase] = [*CASES, *SURFACE_CASES, *FNN_CASES, *LAYER_CASES, *MORE_CASES]
ALL_CASE_IDS = [c.name for c in ALL_CASES]
assert len(set(ALL_CASE_IDS)) == len(ALL_CASE_IDS), "op table rows need unique names"
