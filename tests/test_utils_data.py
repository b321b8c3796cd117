"""autograd_mnist.utils.data, PyTorch's torch.utils.data: batches, collation, splits and
errors against torch's own, the one-indexing path of a TensorDataset against item-by-item
collation, and a plain PyTorch-style loop over it."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist import nn, optim
from autograd_mnist.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)

Pair = namedtuple("Pair", "a b")


class ItemDataset(Dataset[tuple[np.ndarray, int]]):
    """A dataset read item by item (no TensorDataset shortcut)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.x[i], int(self.y[i])

    def __len__(self) -> int:
        return len(self.x)


def arrays(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 4, 4), dtype=np.float32), rng.integers(0, 10, n)


def as_numpy(batch: Any) -> Any:
    if isinstance(batch, am.Tensor):
        return batch.numpy()
    if isinstance(batch, list | tuple):
        return [as_numpy(b) for b in batch]
    if isinstance(batch, dict):
        return {k: as_numpy(v) for k, v in batch.items()}
    return batch


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (10, True)])
def test_tensor_dataset_batches_match_torch(batch_size: int, drop_last: bool) -> None:
    torch = pytest.importorskip("torch")
    x, y = arrays()
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for (xb, yb), (tx, ty) in zip(got, want):
        assert isinstance(xb, am.Tensor) and isinstance(yb, am.Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64 and yb.size(0) == ty.size(0)
        np.testing.assert_array_equal(xb.numpy(), tx.numpy())
        np.testing.assert_array_equal(yb.numpy(), ty.numpy())


@pytest.mark.parametrize("shuffle", [False, True])
def test_one_indexing_gives_what_item_by_item_collation_gives(shuffle: bool) -> None:
    """The TensorDataset shortcut (and through Subsets of it) yields exactly the batches of
    reading items and stacking them, in the same order for the same generator."""
    x, y = arrays(12)
    sub = Subset(Subset(TensorDataset(x, y), [11, 0, 5, 3, 7, 2, 9]), [6, 0, 2, 4, 1])
    items = Subset(Subset(ItemDataset(x, y), [11, 0, 5, 3, 7, 2, 9]), [6, 0, 2, 4, 1])
    for fast, slow in [(TensorDataset(x, y), ItemDataset(x, y)), (sub, items)]:
        a = DataLoader(fast, batch_size=2, shuffle=shuffle, generator=np.random.default_rng(5))
        b = DataLoader(slow, batch_size=2, shuffle=shuffle, generator=np.random.default_rng(5))
        for (xa, ya), (xb, yb) in zip(a, b, strict=True):
            np.testing.assert_array_equal(xa.numpy(), xb.numpy())
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    assert [int(v) for _, yb in DataLoader(sub, batch_size=5) for v in yb.numpy()] == [
        int(y[i]) for i in (9, 11, 5, 7, 0)
    ]


def test_shuffle_draws_a_new_order_each_epoch_from_the_package_generator() -> None:
    x, y = arrays(50)
    loader = DataLoader(TensorDataset(x, np.arange(50)), batch_size=7, shuffle=True)
    am.manual_seed(3)
    first = [int(v) for _, yb in loader for v in yb.numpy()]
    second = [int(v) for _, yb in loader for v in yb.numpy()]
    am.manual_seed(3)
    again = [int(v) for _, yb in loader for v in yb.numpy()]
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert second != first and again == first


def test_default_collate_matches_torch_on_nested_items() -> None:
    torch = pytest.importorskip("torch")
    items = [
        (
            i,
            float(i) / 2,
            "s",
            np.full(3, i, dtype=np.float32),
            np.int32(i),
            True,
            {"k": np.ones((2, 2)) * i, "n": [i, i + 1]},
            Pair(i, np.arange(2) + i),
        )
        for i in range(4)
    ]
    ours, theirs = default_collate(items), torch.utils.data.default_collate(items)
    assert isinstance(ours, list) and len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        if isinstance(t, torch.Tensor):
            assert isinstance(o, am.Tensor) and str(o.dtype) == str(t.dtype).split(".")[1]
            np.testing.assert_array_equal(o.numpy(), t.numpy())
    assert ours[2] == theirs[2] == ("s",) * 4
    assert set(ours[6]) == {"k", "n"}
    np.testing.assert_array_equal(ours[6]["k"].numpy(), theirs[6]["k"].numpy())
    assert [v.numpy().tolist() for v in ours[6]["n"]] == [v.tolist() for v in theirs[6]["n"]]
    assert isinstance(ours[7], Pair) and ours[7].a.numpy().tolist() == [0, 1, 2, 3]


def test_default_collate_stacks_tensors_that_require_grad_with_their_graph() -> None:
    w = am.Tensor(np.arange(6, dtype=np.float32).reshape(3, 2), requires_grad=True)
    data = TensorDataset(w, np.arange(3))
    (xb, _), *_ = DataLoader(data, batch_size=3)
    (xb * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 2), 2.0, dtype=np.float32))


@pytest.mark.parametrize(
    "items, match",
    [
        ([object(), object()], "cannot batch items of type object"),
        ([(1, 2), (1,)], "same length"),
    ],
)
def test_default_collate_errors(items: list[Any], match: str) -> None:
    with pytest.raises(TypeError, match=match):
        default_collate(items)


def test_unbatched_items_are_converted_not_stacked() -> None:
    x, y = arrays(3)
    out = list(DataLoader(ItemDataset(x, y), batch_size=None))
    assert len(out) == 3 and isinstance(out[0], tuple) and isinstance(out[0][0], am.Tensor)
    assert out[0][0].shape == (1, 4, 4) and out[0][1] == int(y[0])
    assert default_convert({"a": [np.ones(2)]})["a"][0].shape == (2,)


@pytest.mark.parametrize(
    "lengths", [[3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [0.5, 0.5], [0.1] * 10, [10]]
)
def test_random_split_sizes_match_torch_and_cover_the_dataset(lengths: list[Any]) -> None:
    torch = pytest.importorskip("torch")
    x, y = arrays(10)
    parts = random_split(TensorDataset(x, y), lengths, generator=np.random.default_rng(0))
    tparts = torch.utils.data.random_split(torch.utils.data.TensorDataset(torch.zeros(10)), lengths)
    assert [len(p) for p in parts] == [len(p) for p in tparts]
    assert sorted(i for p in parts for i in p.indices) == list(range(10))


@pytest.mark.parametrize("lengths", [[3, 6], [0.3, 0.6], [-1, 11], [], [2.5, 7.5]])
def test_random_split_refuses_lengths_that_do_not_fit(lengths: list[Any]) -> None:
    x, y = arrays(10)
    with pytest.raises(ValueError, match="random_split: lengths"):
        random_split(TensorDataset(x, y), lengths)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"dataset": 5}, TypeError, "must have __getitem__ and __len__"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 1.5}, TypeError, "batch_size must be an int or None"),
        ({"batch_size": None, "drop_last": True}, ValueError, "drop_last needs a batch_size"),
        ({"num_workers": -1}, ValueError, "num_workers must be an int >= 0"),
        ({"generator": 0}, TypeError, "generator must be a numpy.random.Generator"),
    ],
)
def test_loader_errors(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    x, y = arrays(4)
    args = {"dataset": TensorDataset(x, y), **kwargs}
    with pytest.raises(error, match=match):
        DataLoader(**args)


@pytest.mark.parametrize("tensors", [(), (np.zeros((3, 2)), np.zeros(4)), (np.float32(1),)])
def test_tensor_dataset_refuses_misaligned_tensors(tensors: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="TensorDataset: expected tensors of the same first"):
        TensorDataset(*tensors)


def test_workers_and_pinned_memory_change_nothing_but_speed() -> None:
    x, y = arrays(9)
    plain = [as_numpy(b) for b in DataLoader(TensorDataset(x, y), batch_size=4)]
    other = DataLoader(TensorDataset(x, y), batch_size=4, num_workers=2, pin_memory=True)
    for a, b in zip(plain, (as_numpy(b) for b in other), strict=True):
        np.testing.assert_array_equal(a[0], b[0])


def test_a_pytorch_style_loop_over_a_tensor_dataset_trains() -> None:
    """The loop of PyTorch's "What is torch.nn really?" tutorial, imports changed."""
    rng = np.random.default_rng(1)
    centers = rng.normal(0, 3, (3, 8)).astype(np.float32)
    labels = rng.integers(0, 3, 300)
    x = centers[labels] + rng.normal(0, 1, (300, 8)).astype(np.float32)
    train_ds = TensorDataset(am.from_numpy(x), am.from_numpy(labels))
    train_dl = DataLoader(train_ds, batch_size=32, shuffle=True)
    am.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _epoch in range(5):
        model.train()
        for xb, yb in train_dl:
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        model.eval()
        with am.no_grad():
            valid = sum(F.cross_entropy(model(xb), yb) * yb.size(0) for xb, yb in train_dl)
        losses.append(float(valid.item()) / len(train_ds))
    assert losses[-1] < 0.5 * losses[0]
