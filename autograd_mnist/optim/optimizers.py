"""Optimizers: the update rules of PyTorch's documentation.

Per-parameter state lives in lists aligned with the parameter list (never keyed by
``id``); updates happen in place on ``p.data`` under ``no_grad`` and add one to the
parameter's version (as PyTorch's do: a backward through a graph recorded before the step
raises); parameters whose ``.grad`` is None are skipped; state arrays keep the parameter's
dtype (float32). SGD, Adam and AdamW update through :func:`~autograd_mnist.optim.blockwise`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd_mnist import threads
from autograd_mnist.grad_mode import no_grad
from autograd_mnist.nn.module import zero_grads
from autograd_mnist.optim._blockwise import blockwise, workspace_shape
from autograd_mnist.tensor import Tensor


class Optimizer:
    """Base class: holds ``params``, hyper-parameters in ``param_groups[0]`` and state.

    Subclasses implement ``update(i, p, g, group)`` for one parameter, where ``g`` is the
    gradient array; ``self.state[i]`` is that parameter's dict of state arrays.
    """

    def __init__(self, params: Iterable[Tensor], defaults: dict[str, Any]) -> None:
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for i, p in enumerate(self.params):  # frozen ones too: skipped while .grad is None
            if not isinstance(p, Tensor) or p.grad_fn is not None:
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is not a leaf Tensor; got "
                    f"{type(p).__name__} (param groups, dicts of params, are not supported)"
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

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every ``.grad`` to None (``set_to_none=False``: zeros, in place), as PyTorch's."""
        zero_grads(self.params, set_to_none)

    @no_grad()
    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        threads.refresh()  # a safe point: the default thread count may be re-checked
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
                p._bump_version()  # backward through a graph recorded before now raises

    def update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        raise NotImplementedError  # update parameter array p in place from gradient g

    def _workspace(self, dtype: np.dtype, size: int) -> np.ndarray:
        """Scratch rows for :func:`blockwise` (one per thread, shared, not state)."""
        rows, need = workspace_shape(size)
        work = self._work.get(dtype)
        if work is None or work.shape[1] < need:
            work = self._work[dtype] = np.empty((rows, need), dtype=dtype)
        return work

    def _blockwise(
        self, kernel: Callable[..., None], *arrays: np.ndarray, light: bool = False
    ) -> None:
        """:func:`blockwise` with this optimizer's workspace (``light``: see there)."""
        blockwise(kernel, arrays, self._workspace(arrays[0].dtype, arrays[0].size), light)

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

        self._blockwise(kernel, p, g, light=True)


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
