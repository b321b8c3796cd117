"""Regressions found by a sweep of the data layer and the visual tools, as a user meets them:
augmentation on integer images and bad parameters, DataLoader given a PyTorch dataset,
graph labels and output paths, curves of short or diverged runs, report tables."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import nn, plots, report, viz
from autograd_mnist.data import DataLoader, affine, random_affine, random_shift
from autograd_mnist.utils.data import DataLoader as TorchDataLoader

# ---------------------------------------------------------------- augmentation


def _bilinear_reference(img: np.ndarray, angle: float, tx: float, ty: float) -> np.ndarray:
    """One (H, W) image, pixel by pixel, in float64: the definition in affine's docstring."""
    H, W = img.shape
    cy, cx = (H - 1) / 2, (W - 1) / 2
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    out = np.zeros((H, W))
    for i in range(H):
        for j in range(W):
            xo, yo = j - cx - tx, i - cy - ty
            x, y = c * xo - s * yo + cx, s * xo + c * yo + cy
            r, q = math.floor(y), math.floor(x)
            for rr, qq, w in (
                (r, q, (1 - (y - r)) * (1 - (x - q))),
                (r, q + 1, (1 - (y - r)) * (x - q)),
                (r + 1, q, (y - r) * (1 - (x - q))),
                (r + 1, q + 1, (y - r) * (x - q)),
            ):
                if 0 <= rr < H and 0 <= qq < W:
                    out[i, j] += w * img[rr, qq]
    return out


def test_affine_rounds_integer_images_to_the_nearest_value() -> None:
    # Truncating darkened every augmented uint8 image (half a grey level on average).
    rng = np.random.default_rng(0)
    u = rng.integers(0, 256, (3, 1, 6, 7), dtype=np.uint8)
    angle, tx, ty = np.array([0.0, 17.0, -33.0]), np.array([0.5, 1.25, -0.7]), np.zeros(3)
    y = affine(u, angle, (tx, ty))
    assert y.dtype == np.uint8
    for n in range(3):
        want = np.rint(_bilinear_reference(u[n, 0].astype(np.float64), angle[n], tx[n], ty[n]))
        assert np.abs(y[n, 0].astype(int) - want.astype(int)).max() <= 1  # float32 ties
        assert abs(float(y[n, 0].mean()) - float(want.mean())) < 0.1
    half = affine(u, 0.0, (0.5, 0.0))[..., 1:].astype(int)  # the mean of two neighbours
    pairs = u[..., :-1].astype(int) + u[..., 1:]
    assert np.array_equal(half, (pairs + 1) // 2 - ((pairs % 4) == 1))  # round half to even


def test_affine_keeps_the_range_of_integer_images() -> None:
    full = np.full((2, 1, 9, 9), 255, np.uint8)
    y = affine(full, np.array([13.0, 90.0]), (0.3, 0.0))
    assert y.dtype == np.uint8 and int(y.max()) == 255 and int(y.min()) == 0
    signed = np.array([[[[-128, 127], [127, -128]]]], np.int8)
    z = affine(signed, 45.0)
    assert z.dtype == np.int8 and -128 <= int(z.min()) and int(z.max()) <= 127


@pytest.mark.parametrize(
    "kwargs",
    [{"angle": math.nan}, {"translate": (math.inf, 0.0)}, {"scale": np.array([1.0, math.nan])}],
)
def test_affine_refuses_parameters_that_are_not_finite(kwargs: dict[str, Any]) -> None:
    x = np.ones((2, 1, 5, 5), np.float32)
    with pytest.raises(ValueError, match="must be finite"):
        affine(x, **kwargs)


def test_random_affine_refuses_an_infinite_bound() -> None:
    x = np.ones((2, 1, 5, 5), np.float32)
    with pytest.raises(ValueError, match="random_affine: degrees"):
        random_affine(x, math.inf, rng=np.random.default_rng(0))


def test_random_shift_is_affine_with_the_same_whole_pixel_offsets() -> None:
    x = np.random.default_rng(1).random((6, 2, 9, 8)).astype(np.float32)
    y = random_shift(x, 3, rng=np.random.default_rng(7))
    dy, dx = np.random.default_rng(7).integers(-3, 4, size=(2, 6))  # the same draws
    np.testing.assert_array_equal(y, affine(x, 0.0, (dx.astype(float), dy.astype(float))))


# ---------------------------------------------------------------- DataLoader


class _TorchStyleDataset:
    def __init__(self) -> None:
        self.x = np.arange(20, dtype=np.float32).reshape(10, 2)
        self.y = np.arange(10)

    def __len__(self) -> int:
        return 10

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.int64]:
        return self.x[i], self.y[i]


@pytest.mark.parametrize("dataset", [_TorchStyleDataset(), [(np.zeros(2), 1)] * 4])
def test_loader_given_a_dataset_points_to_pytorchs_loader(dataset: Any) -> None:
    with pytest.raises(TypeError, match=r"two aligned arrays x and y .*utils\.data\.DataLoader"):
        DataLoader(dataset, batch_size=3)
    batches = list(TorchDataLoader(dataset, batch_size=3))  # the advice
    expected = [3, 1] if len(dataset) == 4 else [3, 3, 3, 1]
    assert [len(xb) for xb, _ in batches] == expected


def test_loader_refuses_a_bad_rng_when_made_not_mid_epoch() -> None:
    x, y = np.zeros((5, 2)), np.arange(5)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        DataLoader(x, y, batch_size=2, shuffle=True, rng=0)  # type: ignore[arg-type]


def test_loader_torch_habits() -> None:
    x, y = np.arange(10, dtype=np.float32).reshape(10, 1), np.arange(10).astype(np.uint8)
    big = DataLoader(x, y, batch_size=32)
    assert len(big) == 1 and [len(b) for b, _ in big] == [10]
    assert len(DataLoader(x, y, batch_size=32, drop_last=True)) == 0
    assert list(DataLoader(x, y, batch_size=32, drop_last=True)) == []
    loader = DataLoader(x, y, batch_size=4, shuffle=True, rng=np.random.default_rng(3))
    first, second = [np.concatenate([b for _, b in loader]) for _ in range(2)]
    assert sorted(first) == sorted(second) == list(range(10)) and list(first) != list(second)
    assert [len(b) for b, _ in loader] == [4, 4, 2]
    assert all(b.dtype == np.uint8 for _, b in loader)  # labels keep y's dtype
    again = DataLoader(x, y, batch_size=4, shuffle=True, rng=np.random.default_rng(3))
    assert np.array_equal(np.concatenate([b for _, b in again]), first)


# ---------------------------------------------------------------- graph drawing


def _dict_model(key: str) -> tuple[nn.Module, am.Tensor]:
    inner = nn.ModuleDict({key: nn.Linear(2, 2)})

    class Outer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.d = inner

        def forward(self, x: am.Tensor) -> am.Tensor:
            return self.d[key](x)  # type: ignore[no-any-return]

    return Outer(), am.tensor(np.ones((1, 2), np.float32))


def test_cluster_labels_escape_backslashes() -> None:
    model, x = _dict_model("a\\N")
    source = viz.to_dot(model(x).sum()).source
    assert 'label="d.a\\\\N (Linear)"' in source  # DOT text: \\N, a literal backslash-N


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_cluster_labels_render_their_backslashes() -> None:
    model, x = _dict_model("a\\b")
    svg = viz.graph(model(x).sum()).pipe("svg").decode()
    assert "d.a\\b (Linear)" in svg


def test_draw_creates_missing_folders(tmp_path: Path) -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * 2.0).sum()
    out = viz.draw(loss, tmp_path / "new" / "deeper" / "g.dot")
    assert out.read_text().startswith("digraph")
    assert sorted(p.name for p in out.parent.iterdir()) == ["g.dot"]  # no temporary file
    if shutil.which("dot") is not None:
        svg = viz.draw(loss, tmp_path / "other" / "g.svg")
        assert svg.read_text().lstrip().startswith("<?xml")


def test_a_500_op_chain_is_drawn() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(500):
        y = y * 1.001
    source = viz.to_dot(y.sum(), show_backward=True).source
    assert source.count("Mul") == 500 and "500. Mul" in source


# ---------------------------------------------------------------- curves and reports


def _curves(monkeypatch: pytest.MonkeyPatch, history: list[dict[str, float]]) -> list[Any]:
    """The axes plot_curves draws (loss, accuracy), captured instead of saved."""
    pytest.importorskip("matplotlib")
    figs: list[Any] = []

    def keep(fig: Any, path: Path) -> Path:
        figs.append(fig)
        return Path(path)

    monkeypatch.setattr(plots, "_save", keep)
    plots.plot_curves(history, "unused")
    for fig in figs:
        fig.canvas.draw()
    return [fig.axes[0] for fig in figs]


def _epoch(e: int, loss: float, acc: float) -> dict[str, float]:
    return {
        "epoch": e,
        "train_loss": loss,
        "test_loss": loss,
        "train_accuracy": acc,
        "test_accuracy": acc,
    }


def test_curves_of_one_epoch_have_whole_epoch_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    for ax in _curves(monkeypatch, [_epoch(1, 0.5, 0.9)]):
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks == [1.0], ticks  # not 0.96, 0.975, ... for an epoch count


def test_curves_of_a_diverged_run_span_every_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    history = [_epoch(1, 2.3, 0.1), _epoch(2, math.nan, 0.1), _epoch(3, math.inf, math.nan)]
    loss_ax, _ = _curves(monkeypatch, history)
    lo, hi = loss_ax.get_xlim()
    assert lo < 1 and hi > 3  # the NaN epochs are on the axis, not cut off
    all_nan = [_epoch(1, math.nan, math.nan), _epoch(2, math.nan, math.nan)]
    for ax in _curves(monkeypatch, all_nan):
        lo, hi = ax.get_xlim()
        assert [t for t in ax.get_xticks() if lo <= t <= hi] == [1.0, 2.0]


def test_curves_of_an_empty_history(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(_curves(monkeypatch, [])) == 2


def test_report_tables_without_classes() -> None:
    assert report.format_per_class(np.zeros((0, 0), np.int64), []).startswith("per-class")
    assert "confusion matrix" in report.format_confusion(np.zeros((0, 0), np.int64))
