"""The optimizer base class: parameter groups, the step loop, state and its saving (the
update rules are in :mod:`~autograd_mnist.optim.optimizers`).

Per-parameter state lives in a list aligned with :attr:`Optimizer.params`, every group's
parameters in group order (never keyed by ``id``), so a saved state loads into an
optimizer built the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autograd_mnist import threads
from autograd_mnist.grad_mode import enable_grad, no_grad
from autograd_mnist.nn.module import zero_grads
from autograd_mnist.optim._blockwise import blockwise, workspace_shape
from autograd_mnist.tensor import Tensor

__all__ = ["Optimizer", "check_nonnegative"]


def check_nonnegative(name: str, **values: float) -> None:
    """Refuse a negative (or NaN) hyper-parameter, as PyTorch's ``Invalid ... value``.

    Raises:
        ValueError: naming the optimizer, the argument and its value.
    """
    for arg, value in values.items():
        if not value >= 0:
            raise ValueError(f"{name}: {arg} must be >= 0; got {value}")


class Optimizer:
    """Base class: holds the parameters in ``param_groups``, their state, and the step.

    ``params`` is an iterable of tensors, or of dicts (parameter groups, as PyTorch's):
    each dict has ``"params"`` and may override any hyper-parameter, e.g.
    ``[{"params": body.parameters()}, {"params": head.parameters(), "lr": 1e-3}]``.
    Subclasses implement ``update(i, p, g, group)`` for one parameter, where ``g`` is the
    gradient array and ``group`` the parameter's group; ``self.state[i]`` is that
    parameter's dict of state arrays.

    Raises:
        ValueError: for no parameters, a parameter in two groups (or twice in one), or a
            negative learning rate.
        TypeError: for an item that is not a leaf Tensor (or a group without ``params``).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.params: list[Tensor] = []
        self.state: list[dict[str, Any]] = []
        self._work: dict[np.dtype, np.ndarray] = {}
        self.steps = 0
        items = list(params)
        if not items:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = items if all(isinstance(g, Mapping) for g in items) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group of parameters (a dict with ``"params"`` and any hyper-parameters
        to override), as PyTorch's: e.g. to train more layers as fine-tuning goes on."""
        name = type(self).__name__
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(f"{name}: a parameter group is a dict with 'params'; got {group!r}")
        given = group["params"]
        params = [given] if isinstance(given, Tensor) else list(given)
        seen = {id(p) for p in self.params}
        for i, p in enumerate(params, start=len(self.params)):
            if not isinstance(p, Tensor) or p.grad_fn is not None:  # frozen ones are kept
                raise TypeError(
                    f"{name}: parameter {i} is not a leaf Tensor; got {type(p).__name__}"
                )
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} appears twice (in one or two groups)")
            seen.add(id(p))
        full = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        check_nonnegative(name, lr=full.get("lr", 0.0))
        self.param_groups.append({**full, "params": params})
        self.params.extend(params)
        self.state.extend({} for _ in params)

    @property
    def lr(self) -> float:
        """The first group's learning rate (schedulers change every group's)."""
        return float(self.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        self.param_groups[0]["lr"] = float(value)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every ``.grad`` to None (``set_to_none=False``: zeros, in place), as PyTorch's."""
        zero_grads(self.params, set_to_none)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Apply one update to every parameter that has a gradient (its negative in a
        group with ``maximize``, as PyTorch's).

        ``closure`` (PyTorch's): a function that recomputes the loss, zeroing the
        gradients and calling ``backward`` itself; it runs first, with grad mode on, and
        its result is returned (else None).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        threads.refresh()  # a safe point: the default thread count may be re-checked
        self.steps += 1
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g = p.grad.data
                    if g.dtype != p.data.dtype:
                        raise TypeError(
                            f"{type(self).__name__}: parameter {i} has dtype {p.data.dtype} "
                            f"but its grad has {g.dtype}"
                        )
                    if group.get("maximize"):
                        g = -g  # before weight decay, as torch
                    self.update(i, p.data, g, group)
                    p._bump_version()  # backward through a graph recorded before now raises
                i += 1
        return loss

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
        """Hyper-parameters (``hyper``: the first group's; ``groups``: each group's), step
        count and per-parameter state (arrays copied)."""
        hypers = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]
        state = {
            str(i): {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for i, s in enumerate(self.state)
        }
        return {
            "type": type(self).__name__,
            "steps": self.steps,
            "hyper": hypers[0],
            "groups": hypers,
            "group_sizes": [len(g["params"]) for g in self.param_groups],
            "state": state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (also one saved before parameter
        groups, which has ``hyper`` only); nothing changes when it raises.

        Raises:
            ValueError: if it belongs to another optimizer type, another parameter count
                or grouping, or a state array does not match its parameter's shape.
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
        sizes = [len(g["params"]) for g in self.param_groups]
        hypers = state.get("groups", [state.get("hyper", {})])
        if list(state.get("group_sizes", [len(self.params)])) != sizes or len(hypers) != len(sizes):
            raise ValueError(
                f"{name}.load_state_dict: state has groups of "
                f"{state.get('group_sizes', [len(self.params)])} parameters; expected {sizes}"
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
        for group, hyper in zip(self.param_groups, hypers):
            group.update({k: v for k, v in hyper.items() if k != "params"})
