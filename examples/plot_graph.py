"""Draw the computation graph of a small MLP's loss with Graphviz.

A 2-layer MLP (784 -> 32 -> 10, ReLU) on a batch of 4 random "images", softmax
cross-entropy loss; the parameters carry names, so the picture shows ``fc1.weight`` and
friends. With ``--grad`` it first runs ``backward(retain_graph=True)`` and adds each
parameter's gradient norm.

    python examples/plot_graph.py --out graph.svg     # needs Graphviz's `dot` program
    python examples/plot_graph.py --quick             # graph.dot: the DOT text, no Graphviz
"""

from __future__ import annotations

import argparse

import numpy as np

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist.viz import draw


def build_loss(seed: int = 0) -> am.Tensor:
    """Forward pass of a tiny MLP; returns the scalar loss with its graph attached."""
    rng = np.random.default_rng(seed)

    def param(name: str, *shape: int) -> am.Tensor:
        bound = 1.0 / np.sqrt(shape[-1])  # PyTorch's default: U(-1/sqrt(fan_in), ...)
        data = rng.uniform(-bound, bound, shape).astype(np.float32)
        return am.Tensor(data, requires_grad=True, name=name)

    w1, b1 = param("fc1.weight", 32, 784), param("fc1.bias", 32)
    w2, b2 = param("fc2.weight", 10, 32), param("fc2.bias", 10)
    x = am.Tensor(rng.random((4, 784), dtype=np.float32), name="images")
    y = rng.integers(0, 10, size=4)
    h = F.relu(F.linear(x, w1, b1))  # (4, 32)
    logits = F.linear(h, w2, b2)  # (4, 10)
    return F.cross_entropy(logits, y)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", help="output .svg, .png, .pdf or .dot (default graph.svg; --quick: graph.dot)"
    )
    parser.add_argument("--grad", action="store_true", help="show gradient norms")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="write the DOT text (graph.dot unless --out), which needs no Graphviz",
    )
    args = parser.parse_args(argv)
    out = args.out or ("graph.dot" if args.quick else "graph.svg")
    loss = build_loss()
    if args.grad:
        loss.backward(retain_graph=True)  # keep the graph so it can still be drawn
    path = draw(loss, out, show_grad=args.grad)
    print(f"loss {loss.item():.4f}; graph written to {path.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
