"""Optimizers (update rules of PyTorch's documentation), penalties and LR schedules.

Per-parameter state lives in lists aligned with the parameter list (never keyed by
``id``); updates happen in place on ``p.data`` under ``no_grad``; parameters whose
``.grad`` is None are skipped; state arrays keep the parameter's dtype (float32).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from autograd_mnist import ops
from autograd_mnist.autograd import no_grad
from autograd_mnist.tensor import Tensor

#: Elements per block of an update: every pass of the update over one block stays in the
#: cache (1 MiB of float32 per array), so a large parameter crosses main memory once per step
#: instead of once per NumPy call.
BLOCK = 1 << 18
#: From this many elements an update is spread over the cores (a thread hand-off costs ~50 us,
#: and threads need long NumPy calls, since each call takes the GIL to start).
PARALLEL_MIN = 1 << 19
_pool: ThreadPoolExecutor | None = None


def cores() -> int:
    """The cores this process may run on (at most 8): the number of update threads."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def blockwise(kernel: Callable[..., None], arrays: Sequence[np.ndarray], work: np.ndarray) -> None:
    """Run ``kernel(*views, scratch)`` over blocks of the flattened ``arrays``.

    ``kernel`` receives views of the same ``BLOCK`` or fewer elements of every array, and a
    scratch array of that length to write temporaries into; it must be elementwise. Blocks
    keep every pass in the cache; arrays of ``PARALLEL_MIN`` elements or more have their
    blocks shared out to one thread per row of ``work`` (NumPy releases the GIL inside its
    loops, so a large update uses every core, as PyTorch's does). Each element sees the
    same operations, so the result is bit-identical to one ``kernel`` call on the whole.

    Args:
        kernel: the update, writing in place into its views.
        arrays: same-sized arrays (the parameter, its gradient, its state...).
        work: scratch of shape ``(threads, L)``, ``L >= min(BLOCK, size)``, in the
            arrays' dtype; row ``k`` is thread ``k``'s.
    """
    global _pool
    n = arrays[0].size
    if not all(a.flags.c_contiguous for a in arrays):
        kernel(*arrays, np.empty_like(arrays[0]))
        return
    flat = [a.reshape(-1) for a in arrays]  # views, since every array is C-contiguous

    def run(lo: int, hi: int, row: np.ndarray) -> None:
        for a in range(lo, hi, BLOCK):
            b = min(a + BLOCK, hi)
            kernel(*(f[a:b] for f in flat), row[: b - a])

    blocks = -(-n // BLOCK)
    workers = min(len(work), blocks) if n >= PARALLEL_MIN else 1
    if workers <= 1:
        run(0, n, work[0])
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=cores(), thread_name_prefix="autograd_mnist")
    # Whole blocks to each thread, as evenly as they go.
    bounds = [min(n, BLOCK * (blocks * k // workers)) for k in range(workers + 1)]
    list(_pool.map(lambda k: run(bounds[k], bounds[k + 1], work[k]), range(workers)))


class Optimizer:
    """Base class: holds ``params``, hyper-parameters in ``param_groups[0]`` and state.

    Subclasses implement ``update(i, p, g, group)`` for one parameter, where ``g`` is the
    gradient array; ``self.state[i]`` is that parameter's dict of state arrays.
    """

    def __init__(self, params: Iterable[Tensor], defaults: dict[str, Any]) -> None:
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is not a Tensor that requires grad"
                )
        if defaults.get("lr", 0.0) < 0:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0; got {defaults['lr']}")
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = [dict(defaults, params=self.params)]
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self._work: dict[np.dtype, np.ndarray] = {}
        self.steps = 0

    @property
    def lr(self) -> float:
        """The current learning rate (schedulers change it)."""
        return float(self.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        self.param_groups[0]["lr"] = float(value)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self.params:
            p.grad = None

    @no_grad()
    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        self.steps += 1
        group = self.param_groups[0]
        for i, p in enumerate(self.params):
            if p.grad is not None:
                g = p.grad.data
                if g.dtype != p.data.dtype:
                    raise TypeError(
                        f"{type(self).__name__}: parameter {i} has dtype {p.data.dtype} but "
                        f"its grad has {g.dtype}"
                    )
                self.update(i, p.data, g, group)

    def update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        """Update parameter array ``p`` in place from gradient ``g``."""
        raise NotImplementedError

    def _workspace(self, dtype: np.dtype, size: int) -> np.ndarray:
        """Scratch rows for :func:`blockwise`, one per thread, shared by every parameter:
        ``min(BLOCK, size)`` long at least. Not part of the state."""
        need = min(BLOCK, size)
        work = self._work.get(dtype)
        if work is None or work.shape[1] < need:
            work = self._work[dtype] = np.empty((cores(), need), dtype=dtype)
        return work

    def _blockwise(self, kernel: Callable[..., None], *arrays: np.ndarray) -> None:
        """:func:`blockwise` with this optimizer's workspace."""
        blockwise(kernel, arrays, self._workspace(arrays[0].dtype, arrays[0].size))

    def _buf(self, i: int, name: str, like: np.ndarray, fill: float = 0.0) -> np.ndarray:
        state = self.state[i]
        if name not in state:
            state[name] = np.full_like(like, fill)
        return state[name]  # type: ignore[no-any-return]

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters, step count and per-parameter state (arrays copied)."""
        hyper = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        state = {
            str(i): {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for i, s in enumerate(self.state)
        }
        return {"type": type(self).__name__, "steps": self.steps, "hyper": hyper, "state": state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.

        Raises:
            ValueError: if it belongs to another optimizer type, another parameter count,
                or a state array does not match its parameter's shape.
        """
        name = type(self).__name__
        if state.get("type") != name:
            raise ValueError(f"{name}.load_state_dict: state is for {state.get('type')!r}")
        per = state.get("state", {})
        if len(per) != len(self.params):
            raise ValueError(
                f"{name}.load_state_dict: state has {len(per)} parameters; "
                f"expected {len(self.params)}"
            )
        new: list[dict[str, Any]] = []
        for i, p in enumerate(self.params):
            entry = {}
            for k, v in per[str(i)].items():
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape:
                        raise ValueError(
                            f"{name}.load_state_dict: state {i}.{k} has shape {v.shape}; "
                            f"expected {p.shape}"
                        )
                    v = v.astype(p.dtype, copy=True)
                entry[k] = v
            new.append(entry)
        self.state = new
        self.steps = int(state.get("steps", 0))
        self.param_groups[0].update(state.get("hyper", {}))


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (PyTorch's formulation).

    g = grad + weight_decay * p;  b = momentum * b + (1 - dampening) * g (b = g at first);
    g = g + momentum * b if nesterov else b;  p -= lr * g.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening 0")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
            ),
        )

    def update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            g = g + p.dtype.type(wd) * p
        if mom:
            state = self.state[i]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, dtype=p.dtype)
            else:
                b = state["momentum_buffer"]
                b *= p.dtype.type(mom)
                b += p.dtype.type(1 - group["dampening"]) * g
            b = state["momentum_buffer"]
            g = g + p.dtype.type(mom) * b if group["nesterov"] else b
        step = p.dtype.type(lr)

        def kernel(pk: np.ndarray, gk: np.ndarray, sk: np.ndarray) -> None:
            np.multiply(gk, step, out=sk)
            pk -= sk

        self._blockwise(kernel, p, g)


class Momentum(SGD):
    """SGD with momentum 0.9 by default (R4's "Momentum")."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov
        )


class Adagrad(Optimizer):
    """AdaGrad: s += g**2;  p -= clr * g / (sqrt(s) + eps), clr = lr / (1 + (t-1) lr_decay)."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
            ),
        )

    def update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        t = self.state[i].get("step", 0) + 1
        self.state[i]["step"] = t
        if group["weight_decay"]:
            g = g + p.dtype.type(group["weight_decay"]) * p
        s = self._buf(i, "sum", p, group["initial_accumulator_value"])
        s += g * g
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        p -= p.dtype.type(clr) * g / (np.sqrt(s) + p.dtype.type(group["eps"]))


class RMSprop(Optimizer):
    """RMSprop: v = alpha v + (1 - alpha) g**2;  p -= lr g / (sqrt(v) + eps).

    With ``centered`` the variance estimate subtracts the squared mean gradient; with
    ``momentum`` the step goes through a buffer b = momentum b + g / (sqrt(v) + eps).
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
            ),
        )

    def update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        f = p.dtype.type
        alpha = f(group["alpha"])
        if group["weight_decay"]:
            g = g + f(group["weight_decay"]) * p
        v = self._buf(i, "square_avg", p)
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            m = self._buf(i, "grad_avg", p)
            m *= alpha
            m += (1 - alpha) * g
            avg = np.sqrt(v - m * m) + f(group["eps"])
        else:
            avg = np.sqrt(v) + f(group["eps"])
        if group["momentum"] > 0:
            b = self._buf(i, "momentum_buffer", p)
            b *= f(group["momentum"])
            b += g / avg
            p -= f(group["lr"]) * b
        else:
            p -= f(group["lr"]) * g / avg


class Adam(Optimizer):
    """Adam: m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g**2;
    p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)  (PyTorch's formula,
    computed as step * m / (sqrt(v) + eps sqrt(1 - b2**t)) to save a pass).

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2, not decoupled: see AdamW).
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1); got {betas}")
        super().__init__(
            params,
            dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad),
        )

    def update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        f = p.dtype.type
        lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
        t = self.state[i].get("step", 0) + 1
        self.state[i]["step"] = t
        if wd and self.decoupled:
            p *= f(1 - lr * wd)
        elif wd:
            g = g + f(wd) * p
        m = self._buf(i, "exp_avg", p)
        v = self._buf(i, "exp_avg_sq", p)
        vmax = self._buf(i, "max_exp_avg_sq", p) if group["amsgrad"] else None
        c1, c2 = f(1 - b1), f(1 - b2)
        # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) = step * m / (sqrt(v) + eps'), with
        # step = lr sqrt(bc2) / bc1 and eps' = eps sqrt(bc2): one pass fewer.
        sqrt_bc2 = math.sqrt(1 - b2**t)
        step, eps = f(lr * sqrt_bc2 / (1 - b1**t)), f(group["eps"] * sqrt_bc2)

        def kernel(
            pk: np.ndarray,
            gk: np.ndarray,
            mk: np.ndarray,
            vk: np.ndarray,
            *rest: np.ndarray,
        ) -> None:
            *vmaxk, sk = rest
            # Every line writes in place into the state: no per-step allocation.
            mk *= f(b1)
            np.multiply(gk, c1, out=sk)
            mk += sk
            vk *= f(b2)
            np.multiply(gk, gk, out=sk)
            sk *= c2
            vk += sk
            if vmaxk:
                np.maximum(vmaxk[0], vk, out=vmaxk[0])
                vk = vmaxk[0]
            np.sqrt(vk, out=sk)
            sk += eps  # sk = the denominator
            np.divide(mk, sk, out=sk)
            sk *= step
            pk -= sk

        self._blockwise(kernel, p, g, m, v, *(() if vmax is None else (vmax,)))


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step."""

    decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


AdaGrad = Adagrad
RMSProp = RMSprop

OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def penalty(params: Sequence[Tensor], l1: float = 0.0, l2: float = 0.0) -> Tensor:
    """R4's weight penalties, to add to the loss: l1 * sum|w| + l2 / 2 * sum w**2.

    Args:
        params: the tensors to penalise (usually the weights, not the biases).
        l1: L1 coefficient (lasso).
        l2: L2 coefficient (``weight_decay_lambda`` in R4: 0.5 * lambda * ||W||^2).

    Returns:
        A scalar Tensor (0 when both coefficients are 0).
    """
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalty: coefficients must be >= 0; got l1={l1}, l2={l2}")
    dtype = params[0].dtype if params else np.float32
    total = Tensor(np.zeros((), dtype=dtype))
    for p in params:
        if l1:
            total = total + ops.sum(ops.abs(p)) * l1
        if l2:
            total = total + ops.sum(p * p) * (0.5 * l2)
    return total


class LRScheduler:
    """Base of the epoch-wise learning-rate schedules; call ``step()`` once per epoch."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        """The learning rate for ``epoch`` (0-based)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and base rate."""
        return {"last_epoch": self.last_epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` and the optimizer's rate for that epoch."""
        self.last_epoch = int(state["last_epoch"])
        self.base_lr = float(state["base_lr"])
        self.optimizer.lr = self.lr_at(self.last_epoch)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1; got {step_size}")
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    Past ``T_max`` the cosine goes on (back up to ``base_lr`` at ``2 * T_max``), as PyTorch's
    schedule does.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1; got {T_max}")
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min

    def lr_at(self, epoch: int) -> float:
        cos = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + cos) / 2
