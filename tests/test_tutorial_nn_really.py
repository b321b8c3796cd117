"""PyTorch's tutorial "What is torch.nn really?" with its imports changed (``import
autograd_mnist as torch``), on synthetic MNIST-shaped data: a user's plain code, stage by
stage, from hand-written weights updated under ``no_grad`` to ``nn.Sequential`` with
``Lambda`` modules, ``TensorDataset``, ``DataLoader`` and a wrapped loader."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import autograd_mnist as torch
import autograd_mnist.functional as F
from autograd_mnist import nn, optim
from autograd_mnist.utils.data import DataLoader, TensorDataset

N, BS = 640, 64


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, ...]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, N + 128)
    protos = rng.random((10, 784), dtype=np.float32)
    x = (protos[y] * 0.7 + rng.random((N + 128, 784), dtype=np.float32) * 0.3).astype(np.float32)
    return tuple(map(torch.tensor, (x[:N], y[:N], x[N:], y[N:])))


def accuracy(out: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


def test_hand_written_model_and_loop(data: tuple[torch.Tensor, ...]) -> None:
    x_train, y_train, _, _ = data
    assert y_train.dtype == np.int64 and x_train.shape == (N, 784)
    torch.manual_seed(0)
    weights = torch.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x: torch.Tensor) -> torch.Tensor:
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb: torch.Tensor) -> torch.Tensor:
        return log_softmax(xb @ weights + bias)

    def nll(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return -input[range(target.shape[0]), target].mean()

    xb, yb = x_train[0:BS], y_train[0:BS]
    first = nll(model(xb), yb)
    np.testing.assert_allclose(first.item(), F.cross_entropy(xb @ weights + bias, yb).item(), 1e-5)
    lr = 0.5
    for _epoch in range(2):
        for i in range((N - 1) // BS + 1):
            xb, yb = x_train[i * BS : i * BS + BS], y_train[i * BS : i * BS + BS]
            loss = nll(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
    assert nll(model(xb), yb).item() < 0.1 * first.item()
    assert accuracy(model(xb), yb).item() == 1.0
    assert weights.is_leaf and weights.requires_grad and weights.grad is not None


class MnistLogistic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, xb: torch.Tensor) -> torch.Tensor:
        return xb @ self.weights + self.bias


def test_module_with_parameters_updated_by_hand(data: tuple[torch.Tensor, ...]) -> None:
    x_train, y_train, _, _ = data
    torch.manual_seed(0)
    model = MnistLogistic()
    before = F.cross_entropy(model(x_train), y_train).item()
    for i in range(2 * N // BS):
        xb, yb = x_train[i % 10 * BS : i % 10 * BS + BS], y_train[i % 10 * BS : i % 10 * BS + BS]
        F.cross_entropy(model(xb), yb).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= p.grad * 0.05
            model.zero_grad()
    assert F.cross_entropy(model(x_train), y_train).item() < 0.5 * before


class Lambda(nn.Module):
    def __init__(self, func: Callable[..., Any]) -> None:
        super().__init__()
        self.func = func

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.func(x)  # type: ignore[no-any-return]


class WrappedDataLoader:
    def __init__(self, dl: DataLoader, func: Callable[..., Any]) -> None:
        self.dl, self.func = dl, func

    def __len__(self) -> int:
        return len(self.dl)

    def __iter__(self) -> Iterator[Any]:
        for b in self.dl:
            yield (self.func(*b))


def loss_batch(
    model: nn.Module, loss_func: Callable[..., torch.Tensor], xb: Any, yb: Any, opt: Any = None
) -> tuple[float, int]:
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs: int, model: nn.Module, opt: Any, train_dl: Any, valid_dl: Any) -> list[float]:
    val_losses = []
    for _epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, F.cross_entropy, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, F.cross_entropy, xb, yb) for xb, yb in valid_dl])
        val_losses.append(float(np.sum(np.multiply(losses, nums)) / np.sum(nums)))
    return val_losses


def conv_stack(head: list[nn.Module]) -> list[nn.Module]:
    return [
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        *head,
    ]


@pytest.mark.parametrize("stage", ["linear", "sequential", "wrapped"])
def test_datasets_loaders_and_sequential_models_train(
    data: tuple[torch.Tensor, ...], stage: str
) -> None:
    x_train, y_train, x_valid, y_valid = data
    train_ds, valid_ds = TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid)
    xb, yb = train_ds[0:BS]  # a dataset sliced, as the tutorial does
    assert xb.shape == (BS, 784) and yb.shape == (BS,)
    train_dl = DataLoader(train_ds, batch_size=BS, shuffle=True)
    valid_dl = DataLoader(valid_ds, batch_size=BS * 2)
    torch.manual_seed(0)
    dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    assert dev == "cpu" and torch.cuda.device_count() == 0
    flat = Lambda(lambda x: x.view(x.size(0), -1))
    model: nn.Module
    if stage == "linear":
        model, lr, epochs = nn.Sequential(nn.Linear(784, 10)), 0.5, 2
    elif stage == "sequential":
        preprocess = Lambda(lambda x: x.view(-1, 1, 28, 28))
        model, lr, epochs = nn.Sequential(preprocess, *conv_stack([nn.AvgPool2d(4), flat])), 0.1, 4
    else:

        def to_images(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return x.view(-1, 1, 28, 28).to(dev), y.to(dev)

        train_dl = WrappedDataLoader(train_dl, to_images)  # type: ignore[assignment]
        valid_dl = WrappedDataLoader(valid_dl, to_images)  # type: ignore[assignment]
        model, lr, epochs = nn.Sequential(*conv_stack([nn.AdaptiveAvgPool2d(1), flat])), 0.1, 4
    model.to(dev)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = fit(epochs, model, opt, train_dl, valid_dl)
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
