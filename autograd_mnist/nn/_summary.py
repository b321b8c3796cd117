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


def _indent(text: str) -> str:
    """``text`` with every line but the first indented by two spaces."""
    return text.replace("\n", "\n  ")


def module_repr(module: Module) -> str:
    """PyTorch's print of a module: the ``extra_repr`` lines, then one ``(name): repr``
    line per sub-module, indented; one line when there is a single ``extra_repr`` line
    and no sub-module."""
    extra = module.extra_repr()
    extra_lines = extra.split("\n") if extra else []
    child_lines = [f"({k}): " + _indent(repr(m)) for k, m in module._modules.items()]
    lines = extra_lines + child_lines
    head = type(module).__name__ + "("
    if len(extra_lines) == 1 and not child_lines:
        return head + extra_lines[0] + ")"
    if not lines:
        return head + ")"
    return head + "\n  " + "\n  ".join(lines) + "\n)"


def list_repr(module: Module) -> str:
    """PyTorch's print of a ModuleList: a run of equal entries is one line,
    ``(0-2): 3 x Linear(...)``."""
    reprs = [repr(m) for m in module._modules.values()]
    if not reprs:
        return type(module).__name__ + "()"
    runs: list[list[Any]] = []  # [first index, last index, repr]
    for i, text in enumerate(reprs):
        if runs and runs[-1][2] == text:
            runs[-1][1] = i
        else:
            runs.append([i, i, text])
    lines = [
        _indent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}")
        for a, b, text in runs
    ]
    return type(module).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"
