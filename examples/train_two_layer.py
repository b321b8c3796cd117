"""R1 and R3: the two-layer net, untrained, checked numerically, then trained by backprop.

1. R3: ``TwoLayerNet`` 784 -> 64 (ReLU) -> 10 with weights 0.1 * randn, untrained: its
   test accuracy is chance (about 10%; R3 measured 6% on Fashion-MNIST).
2. R1: 784 -> 50 (sigmoid) -> 10, weights 0.01 * randn. Numerical gradients (central
   differences, h = 1e-4, one parameter at a time) agree with backpropagation, but cost
   two forward passes per parameter: R1 needed 20 minutes for 100 steps and reached only
   11% accuracy. The example times both and extrapolates.
3. The same net trained with backpropagation (SGD lr 0.1, batch 100) for as many steps as
   R1 could not afford.

    python examples/train_two_layer.py                     # MNIST
    python examples/train_two_layer.py --dataset fashion   # Fashion-MNIST, as in R3
    python examples/train_two_layer.py --quick             # synthetic data, offline

R1 and R3 are reference experiments: docs/reference_experiments.md describes them and has
the figures these commands measured.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist import models, nn, runs, train
from autograd_mnist.data import DataLoader
from autograd_mnist.gradcheck import numerical_gradient


def untrained_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    """R3: accuracy of an untrained 784-64-10 ReLU net with weights 0.1 * randn."""
    am.manual_seed(0)
    net = models.build_model("two-layer", hidden=64, activation="relu", weight_std=0.1)
    return train.evaluate(net, x, y).accuracy


def gradient_check(x: np.ndarray, y: np.ndarray) -> None:
    """R1: numerical vs backprop gradients of a 784-50-10 sigmoid net, and their cost."""
    am.manual_seed(0)
    net = models.build_model("two-layer", hidden=50, activation="sigmoid", weight_std=0.01)
    for p in net.parameters():  # float64: central differences are meaningless in float32
        p.data = p.data.astype(np.float64)
    xb = x[:3].astype(np.float64)

    def loss_value() -> float:
        with am.no_grad():
            return float(F.cross_entropy(net(am.Tensor(xb)), y[:3]).data)

    start = time.perf_counter()
    loss = F.cross_entropy(net(am.Tensor(xb)), y[:3])
    net.zero_grad()
    loss.backward()
    backprop = time.perf_counter() - start
    params = dict(net.named_parameters())
    bias = params["3.bias"]  # the output layer's bias, 10 numbers
    start = time.perf_counter()
    numeric = numerical_gradient(lambda _: loss_value(), bias.data, eps=1e-4)
    per_param = (time.perf_counter() - start) / bias.numel()
    assert bias.grad is not None
    diff = float(np.max(np.abs(numeric - bias.grad.data)))
    total = sum(p.numel() for p in net.parameters())
    print(f"R1 check: numerical vs backprop gradient of the output bias: max difference {diff:.2e}")
    print(
        f"  backprop: all {total:,} gradients in {backprop * 1e3:.1f} ms; numerical: "
        f"{per_param * 1e3:.2f} ms per parameter, so ~{per_param * total:.0f} s per step"
    )


def train_backprop(
    data: runs.Data, steps: int, batch_size: int = 100, lr: float = 0.1
) -> nn.Module:
    """R1's net and hyper-parameters, trained with backpropagation for ``steps`` steps."""
    (x_train, y_train), (x_test, y_test) = data
    am.manual_seed(0)
    net = models.build_model("two-layer", hidden=50, activation="sigmoid", weight_std=0.01)
    optimizer = train.make_optimizer("sgd", net.parameters(), lr=lr)
    loader = DataLoader(x_train, y_train, batch_size=batch_size, shuffle=True)
    step = 0
    start = time.perf_counter()
    while step < steps:
        for xb, yb in loader:
            loss, _ = train.train_step(net, optimizer, xb, yb)
            step += 1
            if step % max(1, steps // 5) == 0 or step == steps:
                print(f"  step {step}/{steps}: loss {loss:.4f}")
            if step == steps:
                break
    seconds = time.perf_counter() - start
    train_acc = train.evaluate(net, x_train, y_train).accuracy
    test_acc = train.evaluate(net, x_test, y_test).accuracy
    print(
        f"backprop: {steps} steps in {seconds:.1f} s; accuracy {train_acc:.2%} train / "
        f"{test_acc:.2%} test (R1 after 100 numerical steps: 11.24% / 11.35%)"
    )
    return net


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(runs.DATASETS), default="mnist")
    parser.add_argument("--steps", type=int, default=2000, help="backprop training steps")
    parser.add_argument("--quick", action="store_true", help="tiny synthetic data, offline")
    args = parser.parse_args(argv)

    if args.quick:
        data = runs.synthetic_data(n_train=200, n_test=100)
        args.steps = min(args.steps, 20)
    else:
        data = runs.load_data(args.dataset)
    (x_train, y_train), (x_test, y_test) = data

    print(
        f"R3: untrained 784-64-10 net: test accuracy {untrained_accuracy(x_test, y_test):.2%}"
        " (chance is 10%)"
    )
    gradient_check(x_train, y_train)
    train_backprop(data, args.steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
