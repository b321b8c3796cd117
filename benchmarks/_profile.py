"""The per-op breakdown of our training step: timers around every Function's forward and
backward, and the tables made from them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from _torch_models import Ours

from autograd_mnist import functional as F
from autograd_mnist.function import Function
from autograd_mnist.tensor import Tensor


class OpProfiler:
    """Times every Function subclass's forward and backward while installed.

    A frame's self time excludes the ops it calls (a backward builds its gradient from
    ops, whose forwards are timed on their own), so self times add up to op time without
    double counting. ``phase`` tags each frame with the part of the step it ran in.
    """

    def __init__(self) -> None:
        # (label, phase) and (label, phase, input shapes) -> [calls, inclusive s, self s]
        self.stats: dict[tuple[str, ...], list[float]] = {}
        self.by_shape: dict[tuple[str, ...], list[float]] = {}
        self.phase = "forward"
        self._stack: list[float] = []  # time spent in children, per open frame
        self._saved: list[tuple[type, str, Any]] = []

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap the ops' staticmethods for the duration of the block, then restore them."""
        classes = _function_subclasses()
        # Resolve every original first, so a subclass never wraps its parent's wrapper.
        plan = [
            (c, m, c.__dict__.get(m), getattr(c, m))
            for c in classes
            for m in ("forward", "backward")
            if _is_own_staticmethod(c, m)
        ]
        try:
            for cls, meth, raw, fn in plan:
                self._saved.append((cls, meth, raw))
                setattr(cls, meth, staticmethod(self._wrap(f"{cls.__name__}.{meth}", fn)))
            yield
        finally:
            for cls, meth, raw in reversed(self._saved):
                if raw is None:
                    delattr(cls, meth)
                else:
                    setattr(cls, meth, raw)
            self._saved.clear()

    def _wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timer(ctx: Any, *args: Any, **kwargs: Any) -> Any:
            self._stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return fn(ctx, *args, **kwargs)
            finally:
                self.record(label, args, time.perf_counter() - t0)

        return timer

    def record(self, label: str, args: tuple[Any, ...], dt: float) -> None:
        """Close the innermost frame: it took ``dt`` seconds in all."""
        child = self._stack.pop()
        if self._stack:
            self._stack[-1] += dt
        shapes = " ".join("x".join(map(str, a.shape)) or "()" for a in args if hasattr(a, "shape"))
        for table, key in (
            (self.stats, (label, self.phase)),
            (self.by_shape, (label, self.phase, shapes)),
        ):
            row = table.setdefault(key, [0, 0.0, 0.0])
            row[0] += 1
            row[1] += dt
            row[2] += dt - child


def _function_subclasses() -> list[type]:
    """Every subclass of Function, recursively, each once."""
    seen: dict[type, None] = {}
    stack = list(Function.__subclasses__())
    while stack:
        c = stack.pop()
        if c not in seen:
            seen[c] = None
            stack.extend(c.__subclasses__())
    return list(seen)


def _is_own_staticmethod(cls: type, meth: str) -> bool:
    """True if ``cls.meth`` resolves to a staticmethod other than Function's stub."""
    for klass in cls.__mro__:
        if meth in klass.__dict__:
            return klass is not Function and isinstance(klass.__dict__[meth], staticmethod)
    return False


PHASES = ("slice", "forward", "zero_grad", "backward", "optimizer", "readout")


def profiled_steps(ours: Ours, steps: int) -> tuple[OpProfiler, dict[str, float]]:
    """Run ``steps`` train_step-equivalent steps with op timers; (profiler, phase seconds)."""
    prof = OpProfiler()
    phases = dict.fromkeys(PHASES, 0.0)
    model, opt, d = ours.model, ours.opt, ours.data
    with prof.installed():
        for _ in range(steps):
            t = [time.perf_counter()]
            prof.phase = "slice"
            s = ours.cursor.next()
            xb, yb = Tensor(d.x_train[s]), d.y_train[s]
            t.append(time.perf_counter())
            prof.phase = "forward"
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            t.append(time.perf_counter())
            prof.phase = "zero_grad"
            opt.zero_grad()
            t.append(time.perf_counter())
            prof.phase = "backward"
            loss.backward()
            t.append(time.perf_counter())
            prof.phase = "optimizer"
            opt.step()
            t.append(time.perf_counter())
            prof.phase = "readout"
            float(loss.data)
            int(np.count_nonzero(np.argmax(logits.data, axis=1) == yb))
            t.append(time.perf_counter())
            for name, a, b in zip(PHASES, t, t[1:]):
                phases[name] += b - a
    return prof, phases


OVERHEAD = {
    "forward": "other: Python in forward (modules, F.*, Tensor wrapping)",
    "backward": "other: engine in backward (topo order, grad dicts, checks)",
    "optimizer": "optimizer.step (Adam: NumPy, in place)",
}
SMALL = 0.002  # op rows under this fraction of the step are summed into one line


def print_breakdown(ours: Ours, steps: int) -> None:
    """Per-phase and per-op tables of our training step (per-step means over ``steps``)."""
    prof, phases = profiled_steps(ours, steps)
    total = sum(phases.values()) / steps
    per = {k: v / steps for k, v in phases.items()}
    op_in: dict[str, float] = dict.fromkeys(PHASES, 0.0)
    for (_, phase), (_, _, own) in prof.stats.items():
        op_in[phase] += own / steps
    print(f"{steps} profiled steps: {1e3 * total:.1f} ms per step (with timers)")
    print(f"{'phase':10} {'ms':>8} {'% step':>6} {'in ops ms':>9}")
    for name in PHASES:
        print(
            f"{name:10} {1e3 * per[name]:8.2f} {100 * per[name] / total:6.1f} "
            f"{1e3 * op_in[name]:9.2f}"
        )
    if not prof.stats:
        print(
            "(no Function.forward/backward call was seen: the engine no longer calls them "
            "through the class attributes, so ops cannot be timed this way)"
        )
    rows = [
        (label, phase, c / steps, incl / steps, own / steps)
        for (label, phase), (c, incl, own) in prof.stats.items()
    ]
    for phase, label in OVERHEAD.items():
        rows.append((label, phase, 0.0, 0.0, per[phase] - op_in[phase]))
    misc = sum(per[p] - op_in[p] for p in PHASES if p not in OVERHEAD)
    rows.append(("other: batch slice, zero_grad, loss/accuracy readout", "-", 0.0, 0.0, misc))
    small = [r for r in rows if r[4] < SMALL * total and r[2]]
    print(
        f"\n{'Function.method / part of the step':58} {'phase':9} {'calls':>5} "
        f"{'incl ms':>8} {'self ms':>8} {'% step':>6}"
    )
    for label, phase, calls, incl, own in sorted(rows, key=lambda r: -r[4]):
        if (label, phase, calls, incl, own) in small:
            continue
        c, i = (f"{calls:5.0f}", f"{1e3 * incl:8.2f}") if calls else ("    -", "       -")
        print(f"{label:58} {phase:9} {c} {i} {1e3 * own:8.2f} {100 * own / total:6.1f}")
    if small:
        own = sum(r[4] for r in small)
        print(
            f"{f'({len(small)} smaller op rows, each < {100 * SMALL:.1f}%)':58} {'':9} "
            f"{sum(r[2] for r in small):5.0f} {'':8} {1e3 * own:8.2f} {100 * own / total:6.1f}"
        )
    ops = sum(op_in.values())
    opt = per["optimizer"] - op_in["optimizer"]
    other = total - ops - opt
    print(
        f"total: ops {1e3 * ops:.1f} ms ({100 * ops / total:.0f}%), optimizer {1e3 * opt:.1f} "
        f"ms ({100 * opt / total:.0f}%), other {1e3 * other:.1f} ms ({100 * other / total:.0f}%)"
    )
    print(
        f"\n{'heaviest calls by input shapes':58} {'phase':9} {'calls':>5} {'self ms':>8} "
        f"{'% step':>6}"
    )
    top = sorted(prof.by_shape.items(), key=lambda kv: -kv[1][2])[:8]
    for (label, phase, shapes), (n, _, own) in top:
        print(
            f"{(label + ' ' + shapes)[:58]:58} {phase:9} {n / steps:5.0f} "
            f"{1e3 * own / steps:8.2f} {100 * own / steps / total:6.1f}"
        )
