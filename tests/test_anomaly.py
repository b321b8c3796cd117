"""Anomaly mode: detect_anomaly, set_detect_anomaly, is_anomaly_enabled (per thread)."""

from __future__ import annotations

import inspect
import threading
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_mnist as am
from autograd_mnist import (
    Function,
    Tensor,
    detect_anomaly,
    is_anomaly_enabled,
    nn,
    set_detect_anomaly,
)
from autograd_mnist.anomaly import is_anomaly_check_nan_enabled

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's log(0) etc.


@pytest.fixture(autouse=True)
def _anomaly_mode_restored() -> Iterator[None]:
    yield
    enabled = is_anomaly_enabled()
    set_detect_anomaly(False)
    assert not enabled, "a test left anomaly mode on"


def _line() -> int:
    """The caller's line number."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


def test_off_by_default_and_nothing_recorded() -> None:
    assert not is_anomaly_enabled() and not am.autograd.is_anomaly_enabled()
    x = am.tensor([0.0, 1.0], requires_grad=True)
    y = x.log() * 0.0
    assert not hasattr(y.grad_fn, "_trace")  # no stack kept
    y.sum().backward()  # no check: the NaN goes through silently
    assert x.grad is not None and np.isnan(x.grad.data[0])


def test_a_nan_gradient_names_the_op_the_input_and_the_forward_line() -> None:
    x = am.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        line = _line() + 1
        y = x.log() * 0.0
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    message = str(info.value)
    assert message.startswith("Log.backward returned nan in the gradient of input 0")
    assert f'test_anomaly.py", line {line}, in test_a_nan_gradient' in message
    assert "y = x.log() * 0.0" in message
    # The engine's own frames (function.py, tensor.py, ops/) are trimmed off the end.
    assert message.rstrip().endswith("y = x.log() * 0.0")
    assert x.grad is None


def test_an_inf_gradient_and_the_index_of_the_input() -> None:
    x = am.tensor([0.0, 4.0], requires_grad=True)
    with (
        detect_anomaly(),
        pytest.raises(RuntimeError, match=r"Sqrt.backward returned inf .*input 0"),
    ):
        x.sqrt().sum().backward()
    a = am.tensor([1.0, 2.0], requires_grad=True)
    b = am.tensor([1.0, 0.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError, match=r"Pow.backward returned"):
        (a.detach() / b).pow(2.0).sum().backward()  # Pow meets the inf first
    # Input 1 of a division: d(a/b)/db = -a/b**2 is -inf at b = 0, while d/da is finite.
    with detect_anomaly():
        q = a.detach() * 0.0 + 1.0
        with pytest.raises(RuntimeError, match=r"Div.backward returned inf .* input 1"):
            (q / b).sum().backward()


class _LogLayer(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.log()  # the op, made inside a layer


def test_the_trace_goes_through_module_forward() -> None:
    net = nn.Sequential(nn.Linear(2, 2), _LogLayer())
    net[0].weight.data[...] = 0.0
    net[0].bias.data[...] = 0.0  # the log's input is 0
    with detect_anomaly():
        line = _line() + 1
        out = net(am.tensor([[1.0, 2.0]]))
        loss = (out * 0.0).sum()
        with pytest.raises(RuntimeError, match="Log.backward returned nan") as info:
            loss.backward()
    message = str(info.value)
    assert f"line {line}, in test_the_trace" in message  # the caller
    assert "return x.log()  # the op, made inside a layer" in message  # and the layer
    assert "module.py" in message  # the package's layers stay in the trace


def test_an_op_recorded_outside_anomaly_mode_says_so() -> None:
    x = am.tensor([0.0], requires_grad=True)
    y = x.log() * 0.0
    with detect_anomaly(), pytest.raises(RuntimeError, match="recorded outside anomaly mode"):
        y.sum().backward()


def test_check_forward_stops_at_the_first_op_that_makes_a_nan() -> None:
    x = am.tensor([0.5, 2.0], requires_grad=True)
    with detect_anomaly(check_forward=True):
        h = x - 1.0  # finite
        with pytest.raises(RuntimeError, match=r"^Log.forward returned nan from finite") as info:
            h.log()
    frames = [entry.name for entry in info.traceback]
    assert frames[0] == "test_check_forward_stops_at_the_first_op_that_makes_a_nan"
    # Without it, forward goes on; an op whose input already has a NaN is not blamed.
    with detect_anomaly():
        bad = h.log()
    with detect_anomaly(check_forward=True):
        bad.exp() * 2.0  # inputs not finite: not this op's doing
        with pytest.raises(RuntimeError, match=r"Div.forward returned inf"):
            x.detach() / am.tensor([0.0, 1.0])  # also when nothing is recorded
        with am.no_grad(), pytest.raises(RuntimeError, match=r"Log.forward returned inf"):
            (x * 0.0).log()


def test_contexts_nest_restore_and_survive_exceptions() -> None:
    with detect_anomaly(check_nan=False):
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        with detect_anomaly():
            assert is_anomaly_check_nan_enabled()
            with set_detect_anomaly(False):
                assert not is_anomaly_enabled()
            assert is_anomaly_check_nan_enabled()
        assert not is_anomaly_check_nan_enabled() and is_anomaly_enabled()
        with pytest.raises(ValueError), detect_anomaly():
            raise ValueError("inside")
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)  # a plain call, as torch.autograd.set_detect_anomaly(True)
    assert is_anomaly_enabled()
    set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_as_a_decorator() -> None:
    @detect_anomaly()
    def inside() -> bool:
        return is_anomaly_enabled()

    assert inside() and not is_anomaly_enabled()


def test_per_thread() -> None:
    seen: dict[str, bool] = {}

    def other() -> None:
        seen["start"] = is_anomaly_enabled()
        set_detect_anomaly(True)
        seen["set"] = is_anomaly_enabled()

    with detect_anomaly():
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert is_anomaly_enabled()
    assert seen == {"start": False, "set": True}
    assert not is_anomaly_enabled()  # the thread's setting stayed in the thread


class _Broken(Function):
    @staticmethod
    def forward(ctx: _Broken, x: np.ndarray) -> np.ndarray:
        return x * 2.0

    @staticmethod
    def backward(ctx: _Broken, g: Tensor) -> Tensor:
        raise ValueError("broken backward")


def test_an_error_inside_a_backward_gets_the_forward_trace_as_a_note() -> None:
    x = am.tensor([1.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        line = _line() + 1
        y = _Broken.apply(x)
        with pytest.raises(ValueError, match="broken backward") as info:
            y.sum().backward()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    if hasattr(info.value, "add_note"):
        assert "_Broken.backward failed" in notes and f"line {line}" in notes
    # check_nan=False: a NaN passes.
    z = am.tensor([0.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        (z.log() * 0.0).sum().backward()
    assert z.grad is not None and np.isnan(z.grad.item())


@given(
    hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(0.1, 10.0)),
    st.booleans(),
)
def test_gradients_are_unchanged_in_anomaly_mode(x: np.ndarray, check_forward: bool) -> None:
    def grads() -> np.ndarray:
        t = am.tensor(x, requires_grad=True)
        ((t.log() * t).tanh() / (t + 1.0)).sum().backward()
        assert t.grad is not None
        return t.grad.data

    plain = grads()
    with detect_anomaly(check_forward=check_forward):
        checked = grads()
    np.testing.assert_array_equal(plain, checked)


def test_create_graph_in_anomaly_mode_checks_the_second_backward_too() -> None:
    x = am.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        (g,) = am.grad((x * x).sum(), x, create_graph=True)  # finite
        with pytest.raises(RuntimeError, match=r"Log.backward returned nan"):
            am.grad((g.log() * 0.0).sum(), x)


def test_torch_raises_on_the_same_graph() -> None:
    torch = pytest.importorskip("torch")
    t = torch.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="LogBackward0"):
            (torch.log(t) * 0.0).sum().backward()
    x = am.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError, match="Log.backward"):
        (x.log() * 0.0).sum().backward()
