"""``Module.summary``: one forward pass on zeros, each layer's output shape recorded by a
temporary forward hook, printed as a table with the parameter counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_mnist.grad_mode import no_grad
from autograd_mnist.tensor import Tensor

if TYPE_CHECKING:
    from autograd_mnist.hooks import RemovableHandle
    from autograd_mnist.nn.module import Module


def summarize(model: Module, input_shape: tuple[int, ...], dtype: Any = np.float32) -> str:
    """The table :meth:`Module.summary` returns (see there)."""
    log: list[tuple[Module, Any]] = []

    def record(module: Module, inputs: tuple[Any, ...], out: Any) -> None:
        log.append((module, out))

    modes = [(m, m.training) for m in model.modules()]
    unique = {id(m): m for m in model.modules()}  # a shared layer gets one hook
    handles: list[RemovableHandle] = []
    model.eval()
    try:
        handles += [m.register_forward_hook(record) for m in unique.values()]
        with no_grad():
            model(Tensor(np.zeros(input_shape, dtype=dtype)))
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    names = {id(m): n for n, m in model.named_modules()}
    rows = [("Layer (type)", "Output shape", "Params")]
    for module, out in log:
        if module is model or module._modules:
            continue
        count = sum(p.data.size for p in module._parameters.values())
        shape = tuple(out.shape) if isinstance(out, Tensor) else "?"
        rows.append(
            (
                f"{names.get(id(module), '?')} ({type(module).__name__})",
                str(shape),
                f"{count:,}",
            )
        )
    total = sum(p.data.size for p in model.parameters())
    trainable = sum(p.data.size for p in model.parameters() if p.requires_grad)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    rule = "-" * (w0 + w1 + w2 + 4)
    out_lines = [rule]
    for i, (a, b, c) in enumerate(rows):
        out_lines.append(f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}")
        if i == 0:
            out_lines.append(rule)
    out_lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}", rule]
    return "\n".join(out_lines)
