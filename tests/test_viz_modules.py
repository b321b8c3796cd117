"""viz by module: ops recorded with the module calls running, clusters, collapse, backward
numbering, backward-graph styling, inline rendering, the CLI's DOT output."""

from __future__ import annotations

import threading

import numpy as np

import autograd_mnist as am
from autograd_mnist import nn


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: am.Tensor) -> am.Tensor:
        return self.fc(x).relu()


def _net() -> nn.Sequential:
    am.manual_seed(0)
    return nn.Sequential(_Block(), nn.Linear(2, 1))


def test_ops_keep_the_module_calls_running_outermost_first() -> None:
    net = _net()
    out = net(am.tensor(np.ones((1, 2), dtype=np.float32)))
    relu = out.grad_fn.inputs[0].grad_fn  # Linear(ReLU(...)): the ReLU of block 0
    assert relu.modules == (net, net[0])
    assert relu.inputs[0].grad_fn.modules == (net, net[0], net[0].fc)
    assert out.grad_fn.modules == (net, net[1])
    y = am.tensor([1.0], requires_grad=True) * 2.0
    assert y.grad_fn.modules == ()  # outside any module; the stack was popped


def test_module_stack_is_popped_when_forward_raises() -> None:
    net = _net()
    try:
        net(am.tensor(np.ones((1, 3), dtype=np.float32)))  # wrong width
    except ValueError:
        pass
    y = am.tensor([1.0], requires_grad=True) * 2.0
    assert y.grad_fn.modules == ()


def test_module_stack_is_per_thread() -> None:
    seen: list[tuple[object, ...]] = []

    class Probe(nn.Module):
        def forward(self, x: am.Tensor) -> am.Tensor:
            t = threading.Thread(target=lambda: seen.append((x * 2.0).grad_fn.modules))
            t.start()
            t.join()
            return x * 2.0

    out = Probe()(am.tensor([1.0], requires_grad=True))
    assert seen == [()] and len(out.grad_fn.modules) == 1


def test_ops_recorded_by_a_backward_walk_are_marked() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    assert not y.grad_fn.in_backward
    (g,) = am.grad(y, x, create_graph=True)
    assert g.grad_fn is not None and g.grad_fn.in_backward
    z = g * 3.0  # after the walk: a forward op again
    assert not z.grad_fn.in_backward
