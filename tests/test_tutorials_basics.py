"""PyTorch's "Learn the Basics" tutorials (pytorch.org/tutorials/beginner/basics), written as
a PyTorch user writes them, with ``import autograd_mnist as torch``, on synthetic data of
FashionMNIST's shapes: Tensors, Datasets & DataLoaders, Build the Neural Network, Automatic
Differentiation, Optimizing Model Parameters, Save and Load the Model, and the Quickstart.

Each test runs one tutorial's code and asserts what the tutorial shows; where torch is
installed the values are compared with torch's on the same numbers. The tests after them
pin the PyTorch habits the tutorials needed (``torch.float``, ``t.device``, ``out=``,
``torch.mul``, ``.type(torch.float)``, ``torch.accelerator``, ``torch.nn.functional``,
``torch.load(..., weights_only=True)``...), each with the errors around it.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_mnist as torch
from autograd_mnist import nn
from autograd_mnist.utils.data import DataLoader, Dataset, TensorDataset


class NeuralNetwork(nn.Module):
    """The tutorials' model, as written there."""

    def __init__(self) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x: Any) -> Any:
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def torch_twin(torch_ref: Any, model: NeuralNetwork) -> Any:
    """The same network in torch, with ``model``'s weights."""
    tn = torch_ref.nn
    twin = tn.Sequential()
    twin.flatten = tn.Flatten()
    twin.linear_relu_stack = tn.Sequential(
        tn.Linear(784, 512), tn.ReLU(), tn.Linear(512, 512), tn.ReLU(), tn.Linear(512, 10)
    )
    state = {k: torch_ref.from_numpy(np.array(v)) for k, v in model.state_dict().items()}
    twin.load_state_dict(state)
    return twin


def fashion_like(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (1, 28, 28) float32 images in [0, 1) and int64 labels in 0..9; each label lights
    its own image row, so there is something to learn."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.random((n, 1, 28, 28), dtype=np.float32) * 0.2
    x[np.arange(n), 0, 2 * y, :] += 0.8
    x[np.arange(n), 0, 2 * y + 1, :] += 0.8
    return x, y.astype(np.int64)


# ----- Tensors (tensorqs_tutorial) -----


def test_tensors_tutorial(capsys: pytest.CaptureFixture[str]) -> None:
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)  # float32 here (int64 in torch): docs/pytorch.md, dtypes
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    assert x_np.dtype == torch.int64 and np.shares_memory(x_np.numpy(), np_array)

    x_ones = torch.ones_like(x_data)  # retains the properties of x_data
    x_rand = torch.rand_like(x_data, dtype=torch.float)  # overrides the datatype of x_data
    assert x_ones.dtype == x_data.dtype and x_rand.dtype == torch.float32
    assert x_rand.shape == (2, 2) and ((0 <= x_rand.data) & (x_rand.data < 1)).all()

    shape = (2, 3)
    rand_tensor, ones_tensor, zeros_tensor = (
        torch.rand(shape),
        torch.ones(shape),
        torch.zeros(shape),
    )
    assert rand_tensor.shape == ones_tensor.shape == zeros_tensor.shape == (2, 3)

    tensor = torch.rand(3, 4)
    print(f"Shape of tensor: {tensor.shape}")
    print(f"Datatype of tensor: {tensor.dtype}")
    print(f"Device tensor is stored on: {tensor.device}")
    if torch.accelerator.is_available():  # never here: the CPU is the only device
        tensor = tensor.to(torch.accelerator.current_accelerator())
    assert capsys.readouterr().out.splitlines()[-1] == "Device tensor is stored on: cpu"

    tensor = torch.ones(4, 4)
    assert tensor[0].shape == tensor[:, 0].shape == tensor[..., -1].shape == (4,)
    tensor[:, 1] = 0
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    assert t1.shape == (4, 12)

    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)

    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)

    agg = tensor.sum()
    agg_item = agg.item()
    assert agg_item == 12.0 and type(agg_item) is float

    tensor.add_(5)

    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    np.testing.assert_array_equal(n, 2.0)  # the array shares the tensor's memory
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    np.testing.assert_array_equal(t.numpy(), 2.0)  # and the tensor the array's

    torch_ref = pytest.importorskip("torch")
    ref = torch_ref.ones(4, 4)
    ref[:, 1] = 0
    for ours in (y1, y2, y3):
        np.testing.assert_array_equal(ours.numpy(), (ref @ ref.T).numpy())
    for ours in (z1, z2, z3):
        np.testing.assert_array_equal(ours.numpy(), (ref * ref).numpy())
    np.testing.assert_array_equal(tensor.numpy(), ref.add_(5).numpy())
    np.testing.assert_array_equal(t1.numpy(), torch_ref.cat([ref - 5] * 3, dim=1).numpy())


# ----- Datasets & DataLoaders (data_tutorial, without torchvision) -----


def decode_image(path: str) -> Any:
    """torchvision.io.decode_image's stand-in: a (1, 28, 28) uint8 image from a .npy file."""
    return torch.from_numpy(np.load(path))


class CustomImageDataset(Dataset):  # type: ignore[type-arg]
    """The tutorial's dataset; its annotations are read with csv instead of pandas."""

    def __init__(
        self,
        annotations_file: str,
        img_dir: str,
        transform: Any = None,
        target_transform: Any = None,
    ) -> None:
        with open(annotations_file, newline="") as f:
            self.img_labels = [(name, int(label)) for name, label in csv.reader(f)]
        self.img_dir = img_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.img_labels)

    def __getitem__(self, idx: int) -> tuple[Any, Any]:
        img_path = os.path.join(self.img_dir, self.img_labels[idx][0])
        image = decode_image(img_path)
        label = self.img_labels[idx][1]
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def test_data_tutorial(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 10)
    for i in range(10):
        image = rng.integers(0, 256, (1, 28, 28), dtype=np.uint8)
        np.save(tmp_path / f"img{i}.npy", image)
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows((f"img{i}.npy", int(y)) for i, y in enumerate(labels))
    training_data = CustomImageDataset(
        str(tmp_path / "labels.csv"), str(tmp_path), transform=lambda im: im.float() / 255
    )

    sample_idx = torch.randint(len(training_data), size=(1,)).item()
    img, label = training_data[sample_idx]
    assert img.squeeze().shape == (28, 28) and label == labels[sample_idx]

    train_dataloader = DataLoader(training_data, batch_size=4, shuffle=True)
    train_features, train_labels = next(iter(train_dataloader))
    assert train_features.size() == (4, 1, 28, 28) and train_features.dtype == torch.float
    assert train_labels.size() == (4,) and train_labels.dtype == torch.long
    img = train_features[0].squeeze()
    label = train_labels[0]
    assert img.shape == (28, 28) and 0 <= int(label) < 10
    assert len(train_dataloader) == 3 and len(train_dataloader.dataset) == 10


# ----- Build the Neural Network (buildmodel_tutorial) -----


def test_buildmodel_tutorial(capsys: pytest.CaptureFixture[str]) -> None:
    device = (
        torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    )
    print(f"Using {device} device")
    older = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )
    assert device == older == "cpu"

    model = NeuralNetwork().to(device)
    print(model)
    printed = capsys.readouterr().out
    assert printed.startswith(
        "Using cpu device\nNeuralNetwork(\n  (flatten): Flatten(start_dim=1, end_dim=-1)\n"
    )
    assert "(4): Linear(in_features=512, out_features=10, bias=True)" in printed

    X = torch.rand(1, 28, 28, device=device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    assert logits.shape == (1, 10) and y_pred.shape == (1,) and y_pred.dtype == torch.long

    input_image = torch.rand(3, 28, 28)
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    layer1 = nn.Linear(in_features=28 * 28, out_features=20)
    hidden1 = layer1(flat_image)
    assert (input_image.size(), flat_image.size(), hidden1.size()) == (
        (3, 28, 28),
        (3, 784),
        (3, 20),
    )
    hidden1 = nn.ReLU()(hidden1)
    assert (hidden1.data >= 0).all()

    seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10))
    logits = seq_modules(torch.rand(3, 28, 28))
    pred_probab = nn.Softmax(dim=1)(logits)
    np.testing.assert_allclose(pred_probab.sum(1).data, 1.0, rtol=1e-6)

    sizes = {name: param.size() for name, param in model.named_parameters()}
    assert sizes == {
        "linear_relu_stack.0.weight": (512, 784),
        "linear_relu_stack.0.bias": (512,),
        "linear_relu_stack.2.weight": (512, 512),
        "linear_relu_stack.2.bias": (512,),
        "linear_relu_stack.4.weight": (10, 512),
        "linear_relu_stack.4.bias": (10,),
    }
    for name, param in model.named_parameters():
        assert param[:2].shape[0] == 2, name

    torch_ref = pytest.importorskip("torch")
    twin = torch_twin(torch_ref, model)
    with torch_ref.no_grad():
        expected = twin(torch_ref.from_numpy(X.numpy()))
    np.testing.assert_allclose(model(X).data, expected.numpy(), rtol=1e-5, atol=1e-6)
    expected_probab = torch_ref.nn.Softmax(dim=1)(expected)
    np.testing.assert_allclose(nn.Softmax(dim=1)(model(X)).data, expected_probab.numpy(), atol=1e-6)


# ----- Automatic Differentiation (autogradqs_tutorial) -----


def test_autograd_tutorial() -> None:
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    assert z.grad_fn is not None and loss.grad_fn is not None
    loss.backward()
    assert w.grad is not None and b.grad is not None

    z = torch.matmul(x, w) + b
    assert z.requires_grad
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    assert not z.requires_grad
    z = torch.matmul(x, w) + b
    z_det = z.detach()
    assert not z_det.requires_grad

    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    first = inp.grad.numpy().copy()  # type: ignore[union-attr]
    out.backward(torch.ones_like(out), retain_graph=True)
    second = inp.grad.numpy().copy()  # type: ignore[union-attr]
    inp.grad.zero_()  # type: ignore[union-attr]
    out.backward(torch.ones_like(out), retain_graph=True)
    expected = 2 * (np.eye(4, 5) + 1)
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, 2 * expected)
    np.testing.assert_array_equal(inp.grad.numpy(), expected)  # type: ignore[union-attr]

    torch_ref = pytest.importorskip("torch")
    w_ref = torch_ref.tensor(w.numpy(), requires_grad=True)
    b_ref = torch_ref.tensor(b.numpy(), requires_grad=True)
    z_ref = torch_ref.matmul(torch_ref.ones(5), w_ref) + b_ref
    torch_ref.nn.functional.binary_cross_entropy_with_logits(z_ref, torch_ref.zeros(3)).backward()
    np.testing.assert_allclose(w.grad.numpy(), w_ref.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), b_ref.grad.numpy(), rtol=1e-6)


# ----- Optimizing Model Parameters (optimization_tutorial) and the Quickstart -----


def train_loop(
    dataloader: Any, model: Any, loss_fn: Any, optimizer: Any, batch_size: int
) -> list[float]:
    """The tutorial's train_loop, returning the losses it prints."""
    size = len(dataloader.dataset)
    model.train()
    printed = []
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 2 == 0:  # the tutorial prints every 100 batches of 60,000 images
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
            printed.append(loss)
    return printed


def test_loop(dataloader: Any, model: Any, loss_fn: Any, lib: Any = torch) -> tuple[float, float]:
    """The tutorial's test_loop (``lib`` plays ``torch``), returning (accuracy, loss)."""
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0.0, 0.0
    with lib.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(lib.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct, test_loss


test_loop.__test__ = False  # type: ignore[attr-defined]  # the tutorial's name, not a test


def run_optimization(lib: Any, data_lib: Any, model: Any, epochs: int) -> list[Any]:
    """The optimization tutorial's hyperparameters and loop, with ``lib`` as torch."""
    learning_rate, batch_size = 1e-1, 64
    train_x, train_y = fashion_like(256, seed=1)
    test_x, test_y = fashion_like(128, seed=2)
    as_tensor = lib.from_numpy
    training = data_lib.TensorDataset(as_tensor(train_x), as_tensor(train_y))
    testing = data_lib.TensorDataset(as_tensor(test_x), as_tensor(test_y))
    train_dataloader = data_lib.DataLoader(training, batch_size=batch_size)
    test_dataloader = data_lib.DataLoader(testing, batch_size=batch_size)
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=learning_rate)
    results: list[Any] = []
    for _ in range(epochs):
        results.append(train_loop(train_dataloader, model, loss_fn, optimizer, batch_size))
        results.append(test_loop(test_dataloader, model, loss_fn, lib))
    return results


def test_optimization_tutorial() -> None:
    model = NeuralNetwork()
    start = {k: np.array(v) for k, v in model.state_dict().items()}
    ours = run_optimization(torch, torch.utils.data, model, epochs=3)
    (first, *_), (accuracy, test_loss) = ours[0], ours[-1]
    assert ours[-2][-1] < first and accuracy > 0.5 and test_loss < first

    torch_ref = pytest.importorskip("torch")
    data_ref = pytest.importorskip("torch.utils.data")

    twin = NeuralNetwork()
    twin.load_state_dict(start)
    twin = torch_twin(torch_ref, twin)
    theirs = run_optimization(torch_ref, data_ref, twin, epochs=3)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_quickstart_tutorial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    train_x, train_y = fashion_like(256, seed=3)
    test_x, test_y = fashion_like(64, seed=4)
    training_data = TensorDataset(torch.from_numpy(train_x), torch.from_numpy(train_y))
    test_data = TensorDataset(torch.from_numpy(test_x), torch.from_numpy(test_y))
    batch_size = 64
    train_dataloader = DataLoader(training_data, batch_size=batch_size)
    test_dataloader = DataLoader(test_data, batch_size=batch_size)
    for X, y in test_dataloader:
        assert X.shape == (64, 1, 28, 28) and y.shape == (64,) and y.dtype == torch.int64
        break

    device = (
        torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
    )
    model = NeuralNetwork().to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)

    def train(dataloader: Any, model: Any, loss_fn: Any, optimizer: Any) -> None:
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 100 == 0:
                loss, current = loss.item(), (batch + 1) * len(X)
                print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")

    def test(dataloader: Any, model: Any, loss_fn: Any) -> float:
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        model.eval()
        test_loss, correct = 0.0, 0.0
        with torch.no_grad():
            for X, y in dataloader:
                X, y = X.to(device), y.to(device)
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= num_batches
        correct /= size
        print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
        return correct

    accuracies = []
    for t in range(3):
        print(f"Epoch {t + 1}\n-------------------------------")
        train(train_dataloader, model, loss_fn, optimizer)
        accuracies.append(test(test_dataloader, model, loss_fn))
    assert accuracies[-1] > 0.5 and accuracies[-1] >= accuracies[0]
    assert "loss: " in capsys.readouterr().out

    torch.save(model.state_dict(), "model.pth")
    model = NeuralNetwork().to(device)
    print(model.load_state_dict(torch.load("model.pth", weights_only=True)))
    assert capsys.readouterr().out == "<All keys matched successfully>\n"

    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    model.eval()
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        x = x.to(device)
        pred = model(x)
        predicted, actual = classes[pred[0].argmax(0)], classes[y]
    assert actual == classes[test_y[0]] and predicted in classes
    assert test(test_dataloader, model, loss_fn) == accuracies[-1]  # the loaded weights


# ----- Save and Load the Model (saveloadrun_tutorial) -----


def test_saveload_tutorial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    model = NeuralNetwork()  # models.vgg16(weights='IMAGENET1K_V1') in the tutorial
    torch.save(model.state_dict(), "model_weights.pth")
    assert os.listdir(".") == ["model_weights.pth"]  # the name as given, no .npz added

    loaded = NeuralNetwork()  # untrained
    loaded.load_state_dict(torch.load("model_weights.pth", weights_only=True))
    loaded.eval()
    x = torch.rand(2, 1, 28, 28)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    loaded.load_state_dict(torch.load("model_weights.pth", map_location="cpu"))
    loaded.load_state_dict(torch.load("model_weights.pth", map_location=torch.device("cpu")))

    # torch.save(model, 'model.pth') pickles the whole model; this format never pickles
    with pytest.raises(TypeError, match=r"whole NeuralNetwork .*never pickles.*state_dict\(\)"):
        torch.save(model, "model.pth")
    assert not os.path.exists("model.pth")


# ----- the habits the tutorials needed, one by one -----


def test_torch_dtype_aliases() -> None:
    assert (torch.float, torch.double, torch.long) == (np.float32, np.float64, np.int64)
    x = torch.zeros(2, dtype=torch.float)
    assert x.dtype == torch.float32 and torch.ones(1, dtype=torch.long).dtype == np.int64


def test_device_property_and_factories_device_argument() -> None:
    t = torch.rand(3, 4)
    assert t.device == "cpu" and t.device.type == "cpu" and f"{t.device}" == "cpu"
    assert repr(t.device) == "device(type='cpu')" and not t.is_cuda
    assert (t * 2).device == "cpu" and nn.Linear(2, 2).weight.device == "cpu"
    x = torch.zeros(2, dtype=torch.float64)
    like = (torch.zeros_like, torch.ones_like, torch.rand_like, torch.randn_like)
    for make in (torch.zeros, torch.ones, torch.rand, torch.randn):
        for device in ("cpu", torch.device("cpu"), "cpu:0", None, t.device):
            assert make(2, 3, device=device).shape == (2, 3)
        with pytest.raises(
            ValueError, match=rf"{make.__name__}: only the CPU exists here; got device='cuda'"
        ):
            make(2, device="cuda")
    for make in like:
        assert make(x, device="cpu").dtype == np.float64
        with pytest.raises(ValueError, match=rf"{make.__name__}: only the CPU"):
            make(x, device="cuda:0")
    assert torch.full((2,), 7, device="cpu").dtype == np.int64
    assert torch.eye(4, 5, device="cpu").shape == (4, 5)
    assert torch.arange(3, device="cpu").tolist() == [0, 1, 2]
    assert torch.randint(0, 10, (3,), device="cpu").shape == (3,)
    with pytest.raises(ValueError, match=r"arange: expected one of .*got device='gpu'"):
        torch.arange(3, device="gpu")


def test_accelerator_and_backends_report_no_device() -> None:
    assert torch.accelerator.is_available() is False
    assert torch.accelerator.current_accelerator() is None
    assert torch.accelerator.device_count() == 0
    assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False


def test_nn_functional_is_the_functional_module() -> None:
    import autograd_mnist.nn.functional as F_nn

    assert torch.nn.functional.cross_entropy is torch.functional.cross_entropy
    assert F_nn.relu is torch.functional.relu
    assert set(torch.functional.__all__) <= set(dir(F_nn))


def test_type_casts_like_to_and_names_the_dtype() -> None:
    pred = torch.tensor(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], dtype=np.float32))
    y = torch.tensor(np.array([1, 0, 0]))
    hits = (pred.argmax(1) == y).type(torch.float)
    assert hits.dtype == np.float32 and hits.sum().item() == 2.0
    assert hits.type(torch.float) is hits and pred.type() == "float32"
    assert y.type() == "int64"
    w = torch.tensor(np.ones(3), requires_grad=True)
    w.type(torch.float32).sum().backward()  # a float cast stays differentiable
    assert w.grad is not None and w.grad.dtype == np.float64


def test_arithmetic_functions_and_methods_match_the_operators() -> None:
    a = torch.tensor(np.array([[1.0, -2.0, 3.0]], dtype=np.float32))
    b = torch.tensor(np.array([[2.0], [4.0]], dtype=np.float32))
    cases = {
        "add": (torch.add(a, b), a.add(b), a + b),
        "sub": (torch.sub(a, b), a.sub(b), a - b),
        "mul": (torch.mul(a, b), a.mul(b), a * b),
        "div": (torch.div(a, b), a.div(b), a / b),
        "add alpha": (torch.add(a, b, alpha=2), a.add(b, alpha=2), a + 2 * b),
        "sub alpha": (torch.sub(a, b, alpha=0.5), a.sub(b, alpha=0.5), a - 0.5 * b),
        "list alpha": (torch.add(a, [1, 2, 3], alpha=2), a.add([1, 2, 3], alpha=2), a + [2, 4, 6]),
        "number": (torch.mul(a, 2), a.mul(2), a * 2),
        "number first": (torch.sub(2, a), torch.sub(2, a), 2 - a),
    }
    for name, (fn, method, op) in cases.items():
        assert fn.shape == method.shape == op.shape, name
        assert fn.dtype == method.dtype == op.dtype == np.float32, name
        np.testing.assert_array_equal(fn.data, op.data, err_msg=name)
        np.testing.assert_array_equal(method.data, op.data, err_msg=name)
    with pytest.raises(TypeError, match=r"Add: mixed float dtypes \['float32', 'float64'\]"):
        torch.add(a, np.ones(3), alpha=2)  # no silent promotion, as the operators

    torch_ref = pytest.importorskip("torch")
    ta, tb = torch_ref.from_numpy(a.numpy()), torch_ref.from_numpy(b.numpy())
    for name, ref in {
        "add alpha": torch_ref.add(ta, tb, alpha=2),
        "sub alpha": ta.sub(tb, alpha=0.5),
        "div": torch_ref.div(ta, tb),
    }.items():
        np.testing.assert_array_equal(cases[name][0].data, ref.numpy(), err_msg=name)


def test_arithmetic_aliases_gradcheck() -> None:
    rng = np.random.default_rng(0)
    a = torch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = torch.tensor(rng.standard_normal((1, 4)) + 3.0, requires_grad=True)
    fns = [
        lambda x, y: torch.add(x, y, alpha=-1.5),
        lambda x, y: x.sub(y, alpha=2.0),
        lambda x, y: torch.mul(x, y),
        lambda x, y: x.div(y),
        lambda x, y: torch.div(x.mul(y), y.add(1.0, alpha=2.0)),
    ]
    for fn in fns:
        assert torch.gradcheck(fn, [a, b])


def test_out_writes_into_the_given_tensor() -> None:
    tensor = torch.ones(4, 4)
    tensor[:, 1] = 0
    y3 = torch.rand_like(tensor)
    memory = y3.numpy()
    version = y3.version
    got = torch.matmul(tensor, tensor.T, out=y3)
    assert got is y3 and y3.numpy() is memory and y3.version == version + 1
    np.testing.assert_array_equal(y3.data, (tensor @ tensor.T).data)
    for fn in (torch.add, torch.sub, torch.mul, torch.div):
        z = torch.zeros(4, 4)
        assert fn(tensor, 2.0, out=z) is z
        np.testing.assert_array_equal(z.data, fn(tensor, 2.0).data)
    m = torch.zeros(4, 4)
    torch.mm(tensor, tensor, out=m)
    np.testing.assert_array_equal(m.data, (tensor @ tensor).data)
    counts = torch.zeros(4, dtype=torch.float64)
    torch.add(counts, 1, out=counts)  # out may be an input
    np.testing.assert_array_equal(counts.data, 1.0)


def test_out_errors_name_the_op() -> None:
    a = torch.ones(2, 3)
    shape = r"matmul: out has shape \(2, 2\), expected the result's shape \(2, 3\)"
    with pytest.raises(ValueError, match=shape):
        torch.matmul(torch.ones(2, 2), a, out=torch.zeros(2, 2))
    with pytest.raises(
        TypeError, match="mul: the result's dtype float32 can't be cast to out's dtype int64"
    ):
        torch.mul(a, a, out=torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="add: out must be a Tensor; got ndarray"):
        torch.add(a, a, out=np.zeros((2, 3), dtype=np.float32))  # type: ignore[arg-type]
    w = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="mul: out= does not support automatic differentiation"):
        torch.mul(w, 2, out=torch.zeros(2, 3))
    with pytest.raises(RuntimeError, match="add: out= does not support automatic differentiation"):
        torch.add(a, 1, out=w)
    with torch.no_grad():  # allowed without recording, as torch
        out = torch.zeros(2, 3)
        torch.mul(w, 2, out=out)
    assert not out.requires_grad and out.data.tolist() == [[2.0] * 3] * 2


def test_load_takes_weights_only_and_map_location(tmp_path: Path) -> None:
    path = tmp_path / "model_weights.pth"
    torch.save({"w": np.arange(3.0)}, path)
    for kwargs in ({"weights_only": True}, {"weights_only": False}, {"map_location": "cpu"}):
        np.testing.assert_array_equal(torch.load(path, **kwargs)["w"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(torch.load(path, "cpu")["w"], [0.0, 1.0, 2.0])
    with pytest.raises(
        ValueError, match=r"load: only the CPU exists here; got map_location='cuda:0'"
    ):
        torch.load(path, map_location="cuda:0")
    with pytest.raises(TypeError, match=r"load: weights_only must be a bool or None; got 'yes'"):
        torch.load(path, weights_only="yes")  # type: ignore[arg-type]


def test_save_of_a_whole_model_or_optimizer_says_what_to_save_instead(tmp_path: Path) -> None:
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for obj, kind in ((model, "Linear"), (optimizer, "SGD")):
        with pytest.raises(
            TypeError,
            match=rf"save: cannot save a whole {kind} to .*am.save\(model.state_dict\(\), path\)",
        ):
            torch.save(obj, tmp_path / "m.pth")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="save: state for .* must be a dict; got list"):
        torch.save([1, 2], tmp_path / "m.pth")  # type: ignore[arg-type]


def test_load_state_dict_result_prints_as_torch() -> None:
    model = nn.Linear(2, 2)
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    result = model.load_state_dict({"weight": np.zeros((2, 2), np.float32)}, strict=False)
    assert repr(result) == "IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])"
    assert result.missing_keys == ["bias"] and not result.unexpected_keys
