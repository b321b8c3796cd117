"""Optimizers: the update rules of PyTorch's documentation (the base class, with parameter
groups and state, is in :mod:`~autograd_mnist.optim._base`).

Updates happen in place on ``p.data`` under ``no_grad`` and add one to the
parameter's version (as PyTorch's do: a backward through a graph recorded before the step
raises); parameters whose ``.grad`` is None are skipped; state arrays keep the parameter's
dtype (float32). SGD, Adam and AdamW update through :func:`~autograd_mnist.optim.blockwise`.
Every optimizer takes PyTorch's keyword-only ``maximize`` (ascend: the gradient is negated
before weight decay) and refuses the negative hyper-parameters torch refuses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd_mnist.optim._base import Optimizer, check_nonnegative
from autograd_mnist.tensor import Tensor

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaGrad",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Momentum",
    "Optimizer",
    "RMSProp",
    "RMSprop",
]


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
        *,
        maximize: bool = False,
    ) -> None:
        check_nonnegative(type(self).__name__, lr=lr, momentum=momentum, weight_decay=weight_decay)
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
                maximize=maximize,
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
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
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
        *,
        maximize: bool = False,
    ) -> None:
        check_nonnegative(
            "Adagrad",
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
                maximize=maximize,
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
        *,
        maximize: bool = False,
    ) -> None:
        check_nonnegative(
            "RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum
        )
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                maximize=maximize,
            ),
        )

    def update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        f = p.dtype.type
        alpha, c = f(group["alpha"]), f(1 - group["alpha"])  # 1 - alpha rounded once, as torch
        if group["weight_decay"]:
            g = g + f(group["weight_decay"]) * p
        v = self._buf(i, "square_avg", p)
        v *= alpha
        v += c * g * g
        if group["centered"]:
            m = self._buf(i, "grad_avg", p)
            m *= alpha
            m += c * g
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
        *,
        maximize: bool = False,
    ) -> None:
        name = type(self).__name__
        check_nonnegative(name, lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{name}: betas must be in [0, 1); got {betas}")
        hyper = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(hyper, amsgrad=amsgrad, maximize=maximize))

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
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class Adadelta(Optimizer):
    """Adadelta (the optimizer of PyTorch's MNIST example): g += weight_decay * p;
    v = rho v + (1 - rho) g**2;  delta = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho u + (1 - rho) delta**2;  p -= lr * delta  (v, u start at 0).
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: rho must be in [0, 1]; got {rho}")
        if not (eps >= 0.0 and weight_decay >= 0.0):  # as torch: a NaN is refused too
            raise ValueError(
                f"Adadelta: eps and weight_decay must be >= 0; got eps={eps}, "
                f"weight_decay={weight_decay}"
            )
        hyper = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, hyper)

    def update(self, i: int, p: np.ndarray, g: np.ndarray, group: dict[str, Any]) -> None:
        f = p.dtype.type
        rho, eps = f(group["rho"]), f(group["eps"])
        if group["weight_decay"]:
            g = g + f(group["weight_decay"]) * p
        v = self._buf(i, "square_avg", p)
        u = self._buf(i, "acc_delta", p)
        v *= rho
        v += f(1 - group["rho"]) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g  # torch's order of operations
        u *= rho
        u += f(1 - group["rho"]) * delta * delta
        p -= f(group["lr"]) * delta


AdaGrad = Adagrad
RMSProp = RMSprop

OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}
