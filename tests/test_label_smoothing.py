"""Label smoothing in ``F.cross_entropy`` / ``nn.CrossEntropyLoss`` (PyTorch's semantics).

The target becomes ``(1 - s) * onehot + s / K``. In float64 on Hypothesis-drawn logits,
targets, reductions, ``ignore_index`` and smoothing values: first- and second-order
gradients agree with finite differences (``gradcheck``, ``gradgradcheck``), and values and
gradients of both orders agree with ``torch.nn.functional.cross_entropy`` when torch is
installed. The fused op's smoothing (the training path) is also checked against its
composite in tests/test_fused.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_mnist.functional as F
from autograd_mnist import nn
from autograd_mnist.autograd import grad
from autograd_mnist.gradcheck import gradcheck, gradgradcheck
from autograd_mnist.tensor import Tensor
from autograd_mnist.testing import class_targets, float_arrays

SMOOTHING = st.sampled_from([0.0, 0.05, 0.1, 0.5, 1.0])
IGNORE = 2  # an ignore_index some drawn targets hit


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """Logits (N, K), targets, and the argument forms: reduction, ignore_index, smoothing."""
    n, k = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    x = draw(float_arrays((n, k), min_value=-4.0, max_value=4.0))
    target = draw(class_targets(n, k))
    kwargs: dict[str, Any] = {
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
        "label_smoothing": draw(SMOOTHING),
    }
    if draw(st.booleans()):  # ignore_index set (and hit unless every target differs)
        kwargs["ignore_index"] = IGNORE
        if kwargs["reduction"] == "mean":  # all ignored: torch gives nan; keep one counted
            target[0] = 0 if target[0] == IGNORE else target[0]
    return {"x": x, "target": target, "kwargs": kwargs}


@settings(max_examples=40, deadline=None)
@given(cases())
def test_gradients_match_finite_differences(case: dict[str, Any]) -> None:
    def loss(x: Tensor) -> Tensor:
        return F.cross_entropy(x, case["target"], **case["kwargs"])

    x = Tensor(case["x"], requires_grad=True)
    assert gradcheck(loss, x)
    assert gradgradcheck(loss, x)


def test_smoothing_mixes_with_the_uniform_distribution() -> None:
    x = np.array([[2.0, -1.0, 0.5]])
    logp = x - np.log(np.exp(x).sum())
    want = 0.8 * -logp[0, 0] + 0.2 * -logp.mean()
    got = F.cross_entropy(x, np.array([0]), label_smoothing=0.2)
    np.testing.assert_allclose(got.data, want, rtol=1e-12)
    module = nn.CrossEntropyLoss(label_smoothing=0.2)(Tensor(x), np.array([0]))
    np.testing.assert_allclose(module.data, want, rtol=1e-12)


def test_smoothing_zero_is_the_plain_loss_bit_for_bit() -> None:
    x = np.random.default_rng(0).standard_normal((7, 10)).astype(np.float32)
    t = np.arange(7)
    plain = F.cross_entropy(x, t)
    assert F.cross_entropy(x, t, label_smoothing=0.0).data.tobytes() == plain.data.tobytes()


@settings(max_examples=40, deadline=None)
@given(cases())
def test_matches_torch_values_and_gradients_of_both_orders(case: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    x_np, target, kwargs = case["x"], case["target"], case["kwargs"]
    rng = np.random.default_rng(0)
    w = rng.standard_normal(() if kwargs["reduction"] != "none" else (len(x_np),))
    v = rng.standard_normal(x_np.shape)

    x = Tensor(x_np, requires_grad=True)
    ours = F.cross_entropy(x, target, **kwargs)
    (g,) = grad((ours * Tensor(w)).sum(), [x], create_graph=True)
    (gg,) = grad((g * Tensor(v)).sum(), [x])

    xt = torch.tensor(x_np, requires_grad=True)
    theirs = torch.nn.functional.cross_entropy(xt, torch.from_numpy(target), **kwargs)
    (gt,) = torch.autograd.grad((theirs * torch.tensor(w)).sum(), [xt], create_graph=True)
    (ggt,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), [xt])

    for a, b in ((ours.data, theirs), (g.data, gt), (gg.data, ggt)):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_smoothing_outside_0_1_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=rf"label_smoothing must be in \[0, 1\]; got {bad}"):
        F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=bad)
