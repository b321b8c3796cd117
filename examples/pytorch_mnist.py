"""PyTorch's own MNIST example (``examples/mnist/main.py`` in the pytorch/examples
repository), line for line with this package: a user's plain training loop.

    python examples/pytorch_mnist.py --epochs 1     # MNIST (downloaded once, then cached)
    python examples/pytorch_mnist.py --quick        # synthetic data, a few seconds, offline

What changed from PyTorch's script, and why:
- the imports: ``autograd_mnist`` plays ``torch``, ``autograd_mnist.functional`` plays
  ``torch.nn.functional``; ``am.optim.lr_scheduler.StepLR``, ``optim.Adadelta``,
  ``am.flatten``, ``am.device``, ``output.argmax(dim=1, keepdim=True)``,
  ``pred.eq(target.view_as(pred)).sum().item()`` and ``am.save`` keep their names;
- the data: torchvision's ``datasets.MNIST`` with ``Normalize((0.1307,), (0.3081,))``
  becomes :func:`~autograd_mnist.data.load_mnist` and the same normalisation, in a
  ``TensorDataset``; ``DataLoader`` is :mod:`autograd_mnist.utils.data`'s, torch's;
- no accelerator options: the CPU is the only device;
- ``--save-model`` writes ``mnist_cnn.npz`` (our format, never pickle) instead of
  ``mnist_cnn.pt``; ``--quick`` (ours) trains on a little synthetic data.

One epoch on MNIST (``--epochs 1``, seed 1) reached 98.66% test accuracy (average loss
0.0441) in 70 s wall on a 2-core CPU (2 min 33 s in an earlier run while other jobs
shared it).
"""

from __future__ import annotations

import argparse

import autograd_mnist as am
import autograd_mnist.functional as F
from autograd_mnist import nn, optim
from autograd_mnist.data import load_mnist, synthetic_data
from autograd_mnist.optim.lr_scheduler import StepLR
from autograd_mnist.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: am.Tensor) -> am.Tensor:
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = am.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(
    args: argparse.Namespace,
    model: nn.Module,
    device: am.device,
    train_loader: DataLoader,
    optimizer: optim.Optimizer,
    epoch: int,
) -> None:
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}"
            )
            if args.dry_run:
                break


def test(model: nn.Module, device: am.device, test_loader: DataLoader) -> float:
    model.eval()
    test_loss = 0.0
    correct = 0
    with am.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    n = len(test_loader.dataset)
    test_loss /= n
    print(
        f"\nTest set: Average loss: {test_loss:.4f}, "
        f"Accuracy: {correct}/{n} ({100.0 * correct / n:.0f}%)\n"
    )
    return correct / n


def main(argv: list[str] | None = None) -> int:
    # Training settings
    parser = argparse.ArgumentParser(description="PyTorch's MNIST example, on autograd_mnist")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N",
                        help="input batch size for training (default: 64)")  # fmt: skip
    parser.add_argument("--test-batch-size", type=int, default=1000, metavar="N",
                        help="input batch size for testing (default: 1000)")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=14, metavar="N",
                        help="number of epochs to train (default: 14)")  # fmt: skip
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR",
                        help="learning rate (default: 1.0)")  # fmt: skip
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M",
                        help="Learning rate step gamma (default: 0.7)")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true",
                        help="quickly check a single pass")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, metavar="S",
                        help="random seed (default: 1)")  # fmt: skip
    parser.add_argument("--log-interval", type=int, default=10, metavar="N",
                        help="how many batches to wait before logging training status")  # fmt: skip
    parser.add_argument("--save-model", action="store_true",
                        help="For Saving the current Model")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="(ours) two epochs on a little synthetic data, offline")  # fmt: skip
    args = parser.parse_args(argv)

    am.manual_seed(args.seed)
    device = am.device("cpu")

    if args.quick:
        (x_train, y_train), (x_test, y_test) = synthetic_data(n_train=256, n_test=128)
        args.epochs = min(args.epochs, 2)
    else:
        (x_train, y_train), (x_test, y_test) = load_mnist(normalize=True, flatten=False)
    # transforms.Normalize((0.1307,), (0.3081,)): MNIST's mean and standard deviation
    x_train, x_test = (x_train - 0.1307) / 0.3081, (x_test - 0.1307) / 0.3081
    dataset1 = TensorDataset(am.from_numpy(x_train), am.from_numpy(y_train))
    dataset2 = TensorDataset(am.from_numpy(x_test), am.from_numpy(y_test))
    train_loader = DataLoader(dataset1, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(dataset2, batch_size=args.test_batch_size)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        am.save(model.state_dict(), "mnist_cnn.npz")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
