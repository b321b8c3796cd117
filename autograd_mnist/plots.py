"""PNG figures of runs and models: training curves, conv filters, feature maps, mistakes.

matplotlib is optional (the ``train`` extra) and imported only when a figure is drawn. The
figures are drawn on the Agg canvas directly, without ``pyplot``, so the caller's
matplotlib backend and global state are left alone. Without matplotlib every function
raises :class:`MissingMatplotlib` saying how to install it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd_mnist import nn
from autograd_mnist.grad_mode import no_grad
from autograd_mnist.io import PathLike
from autograd_mnist.tensor import Tensor
from autograd_mnist.train import evaluate

__all__ = [
    "INSTALL_HINT",
    "MissingMatplotlib",
    "feature_maps",
    "first_misclassified",
    "model_figures",
    "mosaic",
    "plot_curves",
    "plot_feature_maps",
    "plot_filters",
    "plot_images",
    "plot_misclassified",
    "plot_series",
    "require_matplotlib",
]

INSTALL_HINT = 'pip install -e ".[train]" in the repository folder'
"""How to install the optional training extras (matplotlib, tqdm) into a checkout."""
_MISSING = f"plots need matplotlib: {INSTALL_HINT} (or: pip install matplotlib)"


class MissingMatplotlib(ImportError):
    """matplotlib is not installed; the message says how to install it."""


def _figure(width: float, height: float) -> Any:
    """A matplotlib Figure attached to an Agg canvas (no pyplot, no global backend)."""
    try:
        import matplotlib  # noqa: F401 - fails first if matplotlib is absent or blocked
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingMatplotlib(_MISSING) from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def require_matplotlib() -> None:
    """Raise :class:`MissingMatplotlib` (saying how to install it) if matplotlib is absent."""
    _figure(1, 1)


def _save(fig: Any, path: PathLike) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out


def plot_curves(history: Sequence[dict[str, float]], out_dir: PathLike) -> list[Path]:
    """``loss.png`` and ``accuracy.png``: train and test curves per epoch.

    Args:
        history: one dict per epoch with ``epoch``, ``train_loss``, ``test_loss``,
            ``train_accuracy``, ``test_accuracy`` (as in ``metrics.csv``).
        out_dir: the folder to write to.

    Returns:
        The two paths.
    """
    require_matplotlib()
    from matplotlib.ticker import MaxNLocator

    epochs = [h["epoch"] for h in history]
    paths = []
    for key, label in (("loss", "loss (cross-entropy)"), ("accuracy", "accuracy")):
        fig = _figure(6, 4)
        ax = fig.add_subplot()
        for split, style in (("train", "o-"), ("test", "s--")):
            ax.plot(epochs, [h[f"{split}_{key}"] for h in history], style, label=split)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(min(epochs, default=1) - 0.5, max(epochs, default=1) + 0.5)  # NaN too
        ax.set_ylabel(label)
        ax.set_title(f"{key} per epoch")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        paths.append(_save(fig, Path(out_dir) / f"{key}.png"))
    return paths


def plot_series(
    series: dict[str, Sequence[float]],
    path: PathLike,
    xlabel: str,
    title: str,
    every: dict[str, int] | None = None,
) -> Path:
    """Line plots of named series, one panel each, sharing the x axis (e.g. loss per image).

    Args:
        series: name -> values.
        path: the PNG to write.
        xlabel: the x axis's label.
        title: the figure title.
        every: name -> spacing for series recorded every k steps (value i is drawn at
            x = k * (i + 1)); others are drawn at x = 1, 2, ...
    """
    every = every or {}
    fig = _figure(6, 2.6 * len(series))
    for i, (name, values) in enumerate(series.items(), 1):
        ax = fig.add_subplot(len(series), 1, i)
        k = every.get(name, 1)
        ax.plot(k * np.arange(1, len(values) + 1), values, lw=1, marker="." if k > 1 else None)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if i == 1:
            ax.set_title(title)
        if i == len(series):
            ax.set_xlabel(xlabel)
    fig.tight_layout()
    return _save(fig, path)


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    cols = min(n, max_cols)
    return -(-n // cols), cols


def mosaic(tiles: np.ndarray, cols: int, pad: int = 1) -> np.ndarray:
    """Tile ``(K, h, w)`` arrays into one image, each scaled to [0, 1] by its own range.

    Gaps between tiles are NaN (drawn in the background colour). Drawing one mosaic is
    much faster than one matplotlib axes per tile.

    Returns:
        ``(rows * (h + pad) - pad, cols * (w + pad) - pad)`` float64.
    """
    k, h, w = tiles.shape
    rows = -(-k // cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan)
    lo = tiles.min(axis=(1, 2), keepdims=True)
    span = tiles.max(axis=(1, 2), keepdims=True) - lo
    scaled = (tiles - lo) / np.where(span > 0, span, 1.0)  # (K, h, w) in [0, 1]
    for i in range(k):
        r, c = divmod(i, cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = scaled[i]
    return out


def _show(ax: Any, image: np.ndarray) -> None:
    import matplotlib

    cmap = matplotlib.colormaps["gray"].with_extremes(bad="lightsteelblue")  # tile gaps
    ax.imshow(image, cmap=cmap, interpolation="nearest", vmin=0.0, vmax=1.0)
    ax.set_axis_off()


def plot_filters(weight: np.ndarray, path: PathLike, title: str = "conv filters") -> Path:
    """The filters of a conv layer as a grid of grey images (row-major, 8 per row).

    Args:
        weight: ``(OC, C, KH, KW)``; each filter is drawn from its mean over the C input
            channels (for MNIST's single channel: the filter itself), each scaled to its
            own range (black = most negative, white = most positive).
        path: the PNG to write.
        title: the figure title.
    """
    w = np.asarray(weight, dtype=np.float64).mean(axis=1)  # (OC, KH, KW)
    rows, cols = _grid(len(w), 8)
    fig = _figure(0.8 * cols + 0.4, 0.8 * rows + 0.7)
    _show(fig.add_axes((0.02, 0.02, 0.96, 0.82)), mosaic(w, cols))
    fig.suptitle(f"{title} {tuple(weight.shape)}", fontsize=10)
    return _save(fig, path)


def plot_feature_maps(
    images: np.ndarray, stages: Sequence[tuple[str, np.ndarray]], path: PathLike, max_maps: int = 32
) -> Path:
    """For each image: the image, then one strip of channel maps per stage.

    Args:
        images: ``(N, 1, H, W)`` inputs.
        stages: ``(name, maps)`` pairs, maps ``(N, C, h, w)``, e.g. the first conv's output
            before and after pooling (each map scaled to its own range).
        path: the PNG to write.
        max_maps: draw at most this many channels per strip.
    """
    n, per_row = len(images), 16
    strips = [(name, np.asarray(m[:, :max_maps], dtype=np.float64)) for name, m in stages]
    fig = _figure(11, 1.6 * n * len(strips) + 0.5)
    top = 1 - 0.4 / fig.get_figheight()  # 0.4 inch for the title
    margins = {"left": 0.02, "right": 0.98, "top": top, "bottom": 0.02, "hspace": 0.35}
    grid = fig.add_gridspec(n * len(strips), 2, width_ratios=(1, 8), **margins)
    for i in range(n):
        ax = fig.add_subplot(grid[i * len(strips) : (i + 1) * len(strips), 0])
        _show(ax, mosaic(np.asarray(images[i, :1], dtype=np.float64), 1))
        ax.set_title(f"image {i}", fontsize=8)
        for j, (name, maps) in enumerate(strips):
            ax = fig.add_subplot(grid[i * len(strips) + j, 1])
            _show(ax, mosaic(maps[i], min(per_row, maps.shape[1])))
            ax.set_title(f"{name} {tuple(maps.shape[1:])}", fontsize=7, loc="left")
    fig.suptitle("first conv layer's feature maps", fontsize=10)
    return _save(fig, path)


def plot_misclassified(
    images: np.ndarray,
    probabilities: np.ndarray,
    answers: np.ndarray,
    path: PathLike,
    class_names: Sequence[str] | None = None,
) -> Path:
    """Each image above a bar chart of its 10 probabilities, titled "prediction / answer".

    Args:
        images: ``(N, 1, 28, 28)``, e.g. the first 10 misclassified test images.
        probabilities: ``(N, 10)``.
        answers: ``(N,)`` true labels.
        path: the PNG to write.
        class_names: names for the x-axis ticks (default 0-9).
    """
    n = len(images)
    rows, cols = _grid(max(n, 1), 5)
    fig = _figure(2.2 * cols, 4.0 * rows)
    k = probabilities.shape[1] if probabilities.ndim == 2 else 10
    for i in range(n):
        pred, answer = int(np.argmax(probabilities[i])), int(answers[i])
        row, col = divmod(i, cols)
        ax = fig.add_subplot(2 * rows, cols, 2 * row * cols + col + 1)
        ax.imshow(images[i].reshape(28, 28), cmap="gray")
        ax.set_title(f"{pred} / {answer}", fontsize=10)
        ax.set_axis_off()
        ax = fig.add_subplot(2 * rows, cols, (2 * row + 1) * cols + col + 1)
        colors = ["tab:gray"] * k
        colors[answer] = "tab:green"
        colors[pred] = "tab:red"
        ax.bar(np.arange(k), probabilities[i], color=colors)
        ax.set_ylim(0, 1)
        ax.set_xticks(np.arange(k))
        names = class_names if class_names is not None else [str(c) for c in range(k)]
        ax.set_xticklabels(names, fontsize=6, rotation=90 if class_names else 0)
        ax.tick_params(axis="y", labelsize=6)
    fig.suptitle("prediction / answer (bars: red = prediction, green = answer)", fontsize=9)
    fig.subplots_adjust(left=0.05, right=0.98, top=0.93, bottom=0.04, hspace=0.3, wspace=0.3)
    return _save(fig, path)


def plot_images(images: np.ndarray, labels: Sequence[int], path: PathLike, title: str = "") -> Path:
    """A row (or grid) of images, each titled with its label."""
    rows, cols = _grid(max(len(images), 1), 10)
    fig = _figure(1.2 * cols, 1.4 * rows + 0.4)
    for i, (img, label) in enumerate(zip(images, labels)):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(np.asarray(img).reshape(28, 28), cmap="gray")
        ax.set_title(str(label), fontsize=9)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, wspace=0.1)
    return _save(fig, path)


# ----- figures of a trained model -----
def feature_maps(model: nn.Module, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The first conv's feature maps for ``x``: before and after the pooling that follows.

    Runs the layers of a :class:`~autograd_mnist.nn.Sequential` in eval mode up to the
    first conv, then on through element-wise layers (batch norm, activations) to the first
    pooling layer, as R2 shows them, and through the element-wise layers after it. Those
    (``best`` pools before its batch norm and ReLU) are applied to the conv maps too, so
    that both stages show the maps the block computes, at full and at pooled size.

    Args:
        model: the network.
        x: ``(N, 1, 28, 28)`` images.

    Returns:
        ``[("conv", maps), ("pooled", maps)]`` with maps ``(N, C, h, w)`` (only the first
        pair when no pooling follows); empty when the model is not a Sequential or has no
        conv layer.
    """
    if not isinstance(model, nn.Sequential):
        return []
    acting = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.BatchNorm2d)  # in eval mode: per element
    elementwise = (*acting, nn.Identity, nn.Dropout)
    stages: list[tuple[str, np.ndarray]] = []
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            h = Tensor(np.asarray(x, dtype=np.float32))
            for layer in model:
                pooling = isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)) and len(stages) == 1
                if stages and not (pooling or isinstance(layer, elementwise)):
                    break
                h = layer(h)
                if pooling or (not stages and isinstance(layer, nn.Conv2d)):
                    stages.append(("pooled" if stages else "conv", h.data))
                elif stages:  # an element-wise layer: part of the current stage
                    stages[-1] = (stages[-1][0], h.data)
                    if len(stages) == 2 and isinstance(layer, acting):
                        stages[0] = ("conv", layer(Tensor(stages[0][1])).data)
    finally:
        model.train(was_training)
    return stages


def first_misclassified(
    model: nn.Module, x: np.ndarray, y: np.ndarray, count: int = 10, chunk: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` images the model gets wrong, evaluating only as far as needed.

    Returns:
        Their indices ``(K,)`` int64 and probabilities ``(K, 10)`` float32, K <= count
        (``(0,)`` and ``(0, 0)`` when the model gets every image right).
    """
    found: list[int] = []
    probs: list[np.ndarray] = []
    for start in range(0, len(x), chunk):
        ev = evaluate(model, x[start : start + chunk], y[start : start + chunk])
        wrong = np.flatnonzero(ev.predictions != y[start : start + chunk])
        found.extend(int(start + w) for w in wrong)
        probs.extend(ev.probabilities[w] for w in wrong)
        if len(found) >= count:
            break
    idx = np.array(found[:count], dtype=np.int64)
    shape = (len(idx), -1) if len(idx) else (0, 0)  # -1 cannot be inferred from 0 rows
    return idx, np.array(probs[:count], dtype=np.float32).reshape(shape)


def model_figures(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    out_dir: PathLike,
    images: int = 3,
    class_names: Sequence[str] | None = None,
    name: str = "model",
) -> tuple[list[Path], list[str]]:
    """R0/R2's pictures of a trained model, as PNGs in ``out_dir``.

    ``filters.png`` (the first conv's filters), ``feature_maps.png`` (its feature maps for
    the first ``images`` test images, before and after pooling) and ``misclassified.png``
    (the first 10 misclassified images with their probabilities). A model without conv
    layers gets only the last.

    Args:
        model: the trained network.
        x: test images ``(N, 1, 28, 28)``.
        y: their labels ``(N,)``.
        out_dir: where to write.
        images: how many images' feature maps to draw.
        class_names: names for the probability bars (default 0-9).
        name: the model's name, for titles and notes.

    Returns:
        The files written, and notes on figures skipped and images shown.

    Raises:
        MissingMatplotlib: without matplotlib.
    """
    require_matplotlib()
    out = Path(out_dir)
    paths: list[Path] = []
    notes: list[str] = []
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        notes.append(f"model {name!r} has no conv layer: filter and feature-map figures skipped")
    else:
        title = f"{name}: first conv's filters"
        paths.append(plot_filters(conv.weight.data, out / "filters.png", title=title))
        n = min(images, len(x))
        stages = feature_maps(model, x[:n])
        if stages:
            paths.append(plot_feature_maps(x[:n], stages, out / "feature_maps.png"))
        else:
            notes.append(f"model {name!r} is not a Sequential: feature-map figure skipped")
    idx, probs = first_misclassified(model, x, y)
    if len(idx):
        path = out / "misclassified.png"
        paths.append(plot_misclassified(x[idx], probs, y[idx], path, class_names))
        notes.append("misclassified images shown: " + ", ".join(str(i) for i in idx))
    else:
        notes.append("no misclassified image: misclassified.png skipped")
    return paths, notes
