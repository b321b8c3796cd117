"""Grad mode: no_grad, enable_grad, set_grad_enabled, is_grad_enabled, per thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
import autograd_mnist.functional as F
from autograd_mnist import enable_grad, is_grad_enabled, nn, no_grad, optim, set_grad_enabled


@pytest.fixture(autouse=True)
def _grad_mode_restored() -> Iterator[None]:
    yield
    enabled = is_grad_enabled()
    set_grad_enabled(True)
    assert enabled, "a test left grad mode off"


def test_enable_grad_inside_no_grad() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            y = x * 2.0
        assert not is_grad_enabled()
        z = x * 2.0
    assert y.requires_grad and y.grad_fn is not None and not z.requires_grad

    @enable_grad()
    def recorded(t: am.Tensor) -> am.Tensor:
        return t * 3.0

    with no_grad():
        assert recorded(x).requires_grad and not is_grad_enabled()


def test_set_grad_enabled_as_a_call_a_context_manager_and_a_decorator() -> None:
    set_grad_enabled(False)  # a plain call, as torch.set_grad_enabled(False)
    assert not is_grad_enabled()
    set_grad_enabled(True)
    assert is_grad_enabled()
    with set_grad_enabled(False):
        assert not is_grad_enabled()
        with set_grad_enabled(True):
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()

    @set_grad_enabled(False)
    def inside() -> bool:
        return is_grad_enabled()

    assert is_grad_enabled()  # decorating changes nothing
    assert inside() is False and is_grad_enabled()
    with pytest.raises(ZeroDivisionError), set_grad_enabled(False):
        _ = 1 / 0
    assert is_grad_enabled()


def test_one_instance_nested_and_reused() -> None:
    ng = no_grad()
    with ng:
        with ng:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()  # the outer exit restores "on"
    eg = enable_grad()
    with no_grad(), eg, eg:
        assert is_grad_enabled()
    assert is_grad_enabled()


def _in_thread(fn: Callable[[], Any]) -> Any:
    out: list[Any] = []
    th = threading.Thread(target=lambda: out.append(fn()))
    th.start()
    th.join()
    return out[0]


def test_new_threads_start_with_grad_enabled() -> None:
    with no_grad():
        assert _in_thread(is_grad_enabled) is True
    set_grad_enabled(False)
    try:
        assert _in_thread(is_grad_enabled) is True
    finally:
        set_grad_enabled(True)


def test_no_grad_in_one_thread_does_not_affect_another() -> None:
    entered, checked, done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def other() -> None:
        with no_grad():
            entered.set()
            assert checked.wait(10)
            seen["other inside"] = is_grad_enabled()
            seen["other op"] = (am.tensor([1.0], requires_grad=True) * 2.0).requires_grad
        seen["other after"] = is_grad_enabled()
        done.set()

    th = threading.Thread(target=other)
    th.start()
    assert entered.wait(10)  # the other thread is inside no_grad() now
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    seen["main"] = is_grad_enabled()
    with no_grad():  # and this one leaves the other thread's mode alone
        checked.set()
        assert done.wait(10)
    th.join()
    assert seen == {"main": True, "other inside": False, "other op": False, "other after": True}
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


# ----- two threads training separate models -----

STEPS = 1000


def _setup(seed: int) -> tuple[nn.Module, optim.Optimizer, np.ndarray, np.ndarray]:
    am.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 16, 784)).astype(np.float32)  # 8 batches of 16
    y = rng.integers(0, 10, (8, 16))
    return model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9), x, y


def _train(
    model: nn.Module,
    opt: optim.Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    evaluate_every: int,
    failures: list[str],
) -> None:
    for step in range(STEPS):
        try:
            opt.zero_grad()
            loss = F.cross_entropy(model(x[step % 8]), y[step % 8])
            loss.backward()
            missing = [i for i, p in enumerate(model.parameters()) if p.grad is None]
            if missing:
                failures.append(f"step {step}: no gradient for parameters {missing}")
            opt.step()
            if evaluate_every and step % evaluate_every == 0:
                with no_grad():
                    out = model(x[0])
                    if out.requires_grad:
                        failures.append(f"step {step}: recorded under no_grad")
        except Exception as e:  # noqa: BLE001 - counted, reported below
            failures.append(f"step {step}: {type(e).__name__}: {e}")


def test_two_threads_train_like_one_thread() -> None:
    runs = [_setup(1), _setup(2)]
    initial = [[p.data.copy() for p in run[0].parameters()] for run in runs]
    failures: list[str] = []
    threads = [
        threading.Thread(target=_train, args=(*runs[0], 3, failures)),
        threading.Thread(target=_train, args=(*runs[1], 0, failures)),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    for run, init in zip(runs, initial):  # both trained: finite and moved
        for p, p0 in zip(run[0].parameters(), init):
            assert np.isfinite(p.data).all() and not np.array_equal(p.data, p0)
    for k, every in enumerate((3, 0)):  # the same trainings, one after the other
        model, opt, x, y = _setup(k + 1)
        _train(model, opt, x, y, every, failures)
        assert failures == []
        for p, q in zip(runs[k][0].parameters(), model.parameters()):
            np.testing.assert_array_equal(p.data, q.data)  # bit for bit
