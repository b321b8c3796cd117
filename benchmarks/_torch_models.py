"""Our network and its PyTorch twin (same layers, a copy of our initial weights), each
behind the same calls: ``step()``, ``infer()``, ``eval(on)``, ``logits(x)``."""

from __future__ import annotations

from typing import Any

import numpy as np
from _env import BATCH, EPOCH_IMAGES, INFER_BATCH, LR, TEST_IMAGES, Cursor, Data

import autograd_mnist as am
from autograd_mnist import nn
from autograd_mnist.grad_mode import no_grad
from autograd_mnist.models import build_model
from autograd_mnist.tensor import Tensor
from autograd_mnist.train import make_optimizer, train_step


def torch_mirror(torch: Any, model: nn.Module) -> Any:
    """The same layers in torch, holding copies of ``model``'s float32 weights."""
    tnn = torch.nn
    layers = []
    for m in model.children():
        if isinstance(m, nn.Conv2d):
            layers.append(
                tnn.Conv2d(
                    m.in_channels,
                    m.out_channels,
                    m.kernel_size,
                    m.stride,
                    m.padding,
                    bias=m.bias is not None,
                )
            )
        elif isinstance(m, nn.MaxPool2d):
            layers.append(tnn.MaxPool2d(m.kernel_size, m.stride, m.padding))
        elif isinstance(m, nn.Linear):
            layers.append(tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None))
        elif isinstance(m, nn.Flatten):
            layers.append(tnn.Flatten(m.start_dim, m.end_dim))
        elif isinstance(m, nn.ReLU):
            layers.append(tnn.ReLU())
        else:
            raise TypeError(f"torch_mirror: no torch counterpart for {type(m).__name__}")
    tmodel = tnn.Sequential(*layers)
    ours = dict(model.named_parameters())
    theirs = tmodel.state_dict()
    if sorted(ours) != sorted(theirs):
        raise RuntimeError(f"torch_mirror: parameters differ: {sorted(ours)} vs {sorted(theirs)}")
    with torch.no_grad():
        for name, p in ours.items():
            theirs[name].copy_(torch.from_numpy(np.array(p.data, dtype=np.float32)))
    return tmodel


class Ours:
    name = "ours"

    def __init__(self, key: str, data: Data) -> None:
        """``key``: the network's build_model name (a key of ``MODELS``)."""
        am.manual_seed(0)
        self.model = build_model(key)
        self.opt = make_optimizer("adam", self.model.parameters(), LR)
        self.data = data
        self.cursor, self.test_cursor = (
            Cursor(EPOCH_IMAGES, BATCH),
            Cursor(TEST_IMAGES, INFER_BATCH),
        )

    def step(self) -> None:
        s = self.cursor.next()
        train_step(self.model, self.opt, self.data.x_train[s], self.data.y_train[s])

    def infer(self) -> None:
        s = self.test_cursor.next()
        with no_grad():
            logits = self.model(Tensor(self.data.x_test[s]))
        np.argmax(logits.data, axis=1)

    def eval(self, on: bool) -> None:
        self.model.train(not on)

    def logits(self, x: np.ndarray) -> np.ndarray:
        with no_grad():
            return np.asarray(self.model(Tensor(x)).data)


class Torch:
    name = "torch"

    def __init__(self, torch: Any, ours: Ours, data: Data) -> None:
        self.torch = torch
        self.model = torch_mirror(torch, ours.model)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)
        # Zero-copy views of the same arrays: slicing a batch is a view, as with NumPy.
        self.x, self.y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
        self.xt = torch.from_numpy(data.x_test)
        self.cursor, self.test_cursor = (
            Cursor(EPOCH_IMAGES, BATCH),
            Cursor(TEST_IMAGES, INFER_BATCH),
        )

    def step(self) -> None:
        # Mirrors train_step: forward, loss, zero_grad, backward, step, (loss, correct) out.
        s = self.cursor.next()
        xb, yb = self.x[s], self.y[s]
        logits = self.model(xb)
        loss = self.torch.nn.functional.cross_entropy(logits, yb)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        loss.item()
        int((logits.detach().argmax(1) == yb).sum())

    def infer(self) -> None:
        s = self.test_cursor.next()
        with self.torch.inference_mode():
            self.model(self.xt[s]).argmax(1)

    def eval(self, on: bool) -> None:
        self.model.train(not on)

    def logits(self, x: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            return np.asarray(self.model(self.torch.from_numpy(x)).numpy())
