"""Gradient tools, each recipe of docs/gradients.md run end to end (float64, CPU, seconds).

1. ``hessian_demo``: the Hessian of a tiny network's loss (4 -> 3 tanh -> 2, cross-entropy
   plus weight decay 0.01) with respect to all 23 of its weights (``am.func.hessian``),
   and its eigenvalues (``np.linalg.eigvalsh``): negative ones at initialisation (a
   saddle region), none after full-batch gradient descent (a minimum).
2. ``hvp_demo``: a Hessian-vector product (``am.func.hvp``: three backward passes, no
   Hessian built) checked against finite differences of the gradient and against the
   full Hessian times v.
3. ``gradient_penalty_demo``: the squared norm of each example's input gradient added to
   the loss (``am.func.vjp(..., create_graph=True)``, so the penalty is trained through),
   for three penalty weights.

    python examples/gradients.py           # every demo
    python examples/gradients.py --quick   # fewer training steps (the tests run this)

Measured with ``python examples/gradients.py`` (deterministic: fixed seeds, float64):
7 of the 23 eigenvalues are negative at initialisation (smallest -0.5654, largest
0.6768) and none after 1,000 steps (smallest 0.001093, largest 1.335); the hvp agrees
with finite differences of the gradient to 3.2e-11 and with the Hessian times v to
3.5e-16 (relative to its largest entry); after 200 steps the mean input-gradient norm is
0.3154 without the penalty, 0.2292 with weight 0.3 (both 100% training accuracy) and
0.1293 with weight 3 (70.3%: too strong).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

import autograd_mnist as am
from autograd_mnist import Tensor, func, nn
from autograd_mnist import functional as F

# The tiny network: 4 inputs -> 3 tanh units -> 2 classes, on 16 fixed points.
SHAPES = [(3, 4), (3,), (2, 3), (2,)]  # w1, b1, w2, b2 (Linear's (out, in) layout)
SIZES = [int(np.prod(s)) for s in SHAPES]
WEIGHT_DECAY = 1e-2


def _data(n: int = 16) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] * x[:, 1] + x[:, 2] > 0).astype(np.int64)  # not linearly separable
    return am.tensor(x), am.tensor(y)


def _unflatten(theta: Tensor) -> list[Tensor]:
    """The four weight tensors as slices of one flat vector (differentiable)."""
    bounds = np.cumsum([0, *SIZES])
    return [theta[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], SHAPES)]


def tiny_loss(theta: Tensor, x: Tensor, y: Tensor, weight_decay: float = WEIGHT_DECAY) -> Tensor:
    """Cross-entropy of the 4-3-2 tanh network whose weights are the flat ``theta``, plus
    ``weight_decay / 2 * |theta|^2`` (which gives the loss a true minimum)."""
    w1, b1, w2, b2 = _unflatten(theta)
    logits = F.linear(F.tanh(F.linear(x, w1, b1)), w2, b2)
    return F.cross_entropy(logits, y) + 0.5 * weight_decay * (theta * theta).sum()


def _initial_theta() -> Tensor:
    rng = np.random.default_rng(1)
    return am.tensor(rng.normal(scale=0.5, size=sum(SIZES)))


def _descend(theta: Tensor, x: Tensor, y: Tensor, steps: int, lr: float = 0.5) -> Tensor:
    """Full-batch gradient descent on ``tiny_loss`` from ``theta`` (a new tensor)."""
    w = theta.detach().requires_grad_()
    for _ in range(steps):
        (g,) = am.grad(tiny_loss(w, x, y), w)
        assert g is not None
        with am.no_grad():
            w -= lr * g
    return w.detach()


def _eigen_report(label: str, theta: Tensor, x: Tensor, y: Tensor) -> np.ndarray:
    """Print the loss and the Hessian's eigenvalues at ``theta``; return the Hessian."""
    hess: np.ndarray = func.hessian(lambda t: tiny_loss(t, x, y), theta).data
    eig = np.linalg.eigvalsh(hess)  # ascending; the Hessian is symmetric
    print(
        f"  {label} (loss {tiny_loss(theta, x, y).item():.4f}): {int((eig < 0).sum())} "
        f"negative eigenvalues of {eig.size}, smallest {eig[0]:.4g}, largest {eig[-1]:.4g}"
    )
    return hess


def hessian_demo(quick: bool = False) -> None:
    """The Hessian of the tiny network's loss, at initialisation and after training."""
    x, y = _data()
    theta = _initial_theta()
    print(f"Hessian of the 4-3-2 network's loss w.r.t. its {theta.numel()} weights")
    hess = _eigen_report("at initialisation", theta, x, y)
    print(f"  shape {hess.shape}, symmetric to {np.abs(hess - hess.T).max():.1e}")
    steps = 200 if quick else 1000
    _eigen_report(f"after {steps:,} gradient-descent steps", _descend(theta, x, y, steps), x, y)


def hvp_demo(quick: bool = False) -> None:
    """H v without building H, against finite differences of the gradient and H @ v."""
    x, y = _data()
    theta = _initial_theta()
    rng = np.random.default_rng(2)
    v = rng.normal(size=theta.shape)
    v /= np.linalg.norm(v)

    def f(t: Tensor) -> Tensor:
        return tiny_loss(t, x, y)

    _, hv = func.hvp(f, theta, am.tensor(v))
    h = 1e-5
    fd = (_grad(f, theta.data + h * v) - _grad(f, theta.data - h * v)) / (2 * h)
    full = func.hessian(f, theta).data @ v
    scale = np.abs(hv.data).max()
    print(f"Hessian-vector product along a random unit v ({theta.numel()} weights):")
    print(f"  vs differences of the gradient (h={h:g}): {np.abs(hv.data - fd).max() / scale:.1e}")
    print(f"  vs the full Hessian times v: {np.abs(hv.data - full).max() / scale:.1e}")
    print("  (largest difference over largest |H v|)")
    print(f"  cost: hvp 3 backward passes, the full Hessian 1 + {theta.numel()}")


def _grad(f: Callable[[Tensor], Tensor], point: np.ndarray) -> np.ndarray:
    w = am.tensor(point, requires_grad=True)
    (g,) = am.grad(f(w), w)
    assert g is not None
    return g.data


def gradient_penalty_demo(quick: bool = False, lams: tuple[float, ...] = (0.0, 0.3, 3.0)) -> None:
    """Train one network with the penalty ``lam * mean_i |d loss_i / d x_i|^2`` for each
    ``lam`` (0: no penalty) and report the input gradients' size and the accuracy."""
    x, y = _data(64)
    n, steps = x.shape[0], 50 if quick else 200
    print(f"Gradient penalty: a 4-8-2 network, {steps} full-batch SGD steps (lr 0.5)")
    for lam in lams:
        am.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double()
        opt = am.optim.SGD(model.parameters(), lr=0.5)

        def summed_loss(inp: Tensor) -> Tensor:  # row i of its input gradient: d loss_i / d x_i
            return F.cross_entropy(model(inp), y, reduction="sum")

        for _ in range(steps):
            # create_graph=True: the loss and its input gradient both stay differentiable
            # with respect to the weights, so the penalty is trained through.
            loss, gx = func.vjp(summed_loss, x, create_graph=True)
            total = (loss + lam * (gx**2).sum()) / n
            opt.zero_grad()
            total.backward()
            opt.step()
        loss, gx = func.vjp(summed_loss, x)
        with am.no_grad():
            accuracy = float((model(x).data.argmax(1) == y.data).mean())
        norm = float(np.linalg.norm(gx.data, axis=1).mean())
        print(
            f"  lam {lam:<4g} loss {loss.item() / n:.4f}, mean |d loss_i / d x_i| {norm:.4f}, "
            f"training accuracy {accuracy:.1%}"
        )


# Each demo takes ``quick`` and prints what it measured; more demos are added to this list.
DEMOS: list[Callable[[bool], None]] = [
    hessian_demo,
    hvp_demo,
    gradient_penalty_demo,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer training steps")
    args = parser.parse_args()
    for demo in DEMOS:
        print(f"== {demo.__name__} ==")
        demo(args.quick)


if __name__ == "__main__":
    main()
