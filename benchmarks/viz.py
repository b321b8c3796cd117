"""Time ``viz.to_dot`` on a large graph: flat, grouped by module, and collapsed.

The graph is a chain of modules (``nn.Sequential`` of blocks, each a few element-wise ops
on a small tensor, with a scalar constant each), built until it has ``--nodes`` nodes
(tensors + ops). Each variant is timed ``--repeat`` times from the tensor to the DOT text
(``to_dot(...).source``); the median is printed in seconds.

    python benchmarks/viz.py [--nodes 10000] [--repeat 3]   # after `pip install -e .`
    PYTHONPATH=. python benchmarks/viz.py                    # or from a bare checkout
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import numpy as np

import autograd_mnist as am
from autograd_mnist import nn
from autograd_mnist.viz import to_dot

NODE = re.compile(r"^\s*(?:t|op|m)\d+ \[", re.MULTILINE)  # a node statement, not an edge
OPS_PER_BLOCK = 10  # each adds an op, its output and a 0-d constant: 3 nodes


class Block(nn.Module):
    """``OPS_PER_BLOCK`` multiply-adds by constants, one module call."""

    def forward(self, x: am.Tensor) -> am.Tensor:
        for _ in range(OPS_PER_BLOCK // 2):
            x = x * 1.0001 + 0.5
        return x


def build(nodes: int) -> am.Tensor:
    """A scalar whose graph has at least ``nodes`` nodes, recorded inside modules."""
    blocks = -(-nodes // (3 * OPS_PER_BLOCK))
    net = nn.Sequential(*[Block() for _ in range(blocks)])
    x = am.tensor(np.ones(4, dtype=np.float32), requires_grad=True, name="x")
    return net(x).sum()


def main() -> None:
    """Build the graph, time each variant, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000, help="graph size (nodes)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant")
    args = parser.parse_args()
    loss = build(args.nodes)
    variants = {
        "flat (group_modules=False)": {"group_modules": False},
        "grouped by module": {},
        "collapse=1": {"collapse": 1},
        "show_backward=True": {"show_backward": True},
    }
    print(f"viz.to_dot, {args.repeat} runs each, median")
    print(f"{'variant':<28}{'nodes':>8}{'seconds':>10}")
    for name, options in variants.items():
        times, count = [], 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            source = to_dot(loss, **options).source
            times.append(time.perf_counter() - start)
            count = len(NODE.findall(source))
        print(f"{name:<28}{count:>8}{statistics.median(times):>10.3f}")


if __name__ == "__main__":
    main()
