"""Figures of a trained model when it makes no mistake (a tiny set it gets all right)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograd_mnist import nn, plots


def _always_three() -> tuple[nn.Module, np.ndarray, np.ndarray]:
    """A model that predicts class 3 for every image, and images that are all 3s."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    model[1].weight.data[...] = 0.0  # type: ignore[index]
    model[1].bias.data[...] = np.eye(10, dtype=np.float32)[3]  # type: ignore[index]
    return model, np.zeros((5, 1, 28, 28), np.float32), np.full(5, 3, np.int64)


def test_first_misclassified_when_none_is() -> None:
    model, x, y = _always_three()
    idx, probs = plots.first_misclassified(model, x, y)
    assert idx.shape == (0,) and idx.dtype == np.int64
    assert probs.shape == (0, 0) and probs.dtype == np.float32


def test_model_figures_skip_the_mistakes_figure_when_there_are_none(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    model, x, y = _always_three()
    paths, notes = plots.model_figures(model, x, y, tmp_path)
    assert paths == []
    assert any("no misclassified image" in n for n in notes)
