"""The model presets, pinned: each preset's layers in order (type and output shape), and
each preset's weight initialisation (the standard deviation of every initialised layer).

A preset losing a layer (the ReLU after ``best``'s second pooling) or an init using the
wrong rule (``mlp(weight_init="xavier")`` with He's std) trains, just worse: only these
tests see it.
"""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
from autograd_mnist import Tensor, models, nn
from autograd_mnist import functional as F

N = 2  # batch size of the probe input

# (preset, config as "key=value;...") -> [(layer type, output shape)], for an input of
# shape (N, 1, 28, 28).
LAYERS: dict[tuple[str, str], list[tuple[str, tuple[int, ...]]]] = {
    ("best", ""): [
        ("Conv2d", (N, 32, 28, 28)),
        ("BatchNorm2d", (N, 32, 28, 28)),
        ("MaxPool2d", (N, 32, 14, 14)),
        ("ReLU", (N, 32, 14, 14)),
        ("Conv2d", (N, 64, 14, 14)),
        ("BatchNorm2d", (N, 64, 14, 14)),
        ("MaxPool2d", (N, 64, 7, 7)),
        ("ReLU", (N, 64, 7, 7)),
        ("Flatten", (N, 3136)),
        ("Linear", (N, 128)),
        ("ReLU", (N, 128)),
        ("Dropout", (N, 128)),
        ("Linear", (N, 10)),
    ],
    ("fast", ""): [
        ("Conv2d", (N, 8, 28, 28)),
        ("BatchNorm2d", (N, 8, 28, 28)),
        ("MaxPool2d", (N, 8, 14, 14)),
        ("ReLU", (N, 8, 14, 14)),
        ("Conv2d", (N, 16, 14, 14)),
        ("BatchNorm2d", (N, 16, 14, 14)),
        ("MaxPool2d", (N, 16, 7, 7)),
        ("ReLU", (N, 16, 7, 7)),
        ("Flatten", (N, 784)),
        ("Linear", (N, 128)),
        ("ReLU", (N, 128)),
        ("Dropout", (N, 128)),
        ("Linear", (N, 10)),
    ],
    ("cnn", ""): [
        ("Conv2d", (N, 32, 26, 26)),
        ("MaxPool2d", (N, 32, 13, 13)),
        ("Flatten", (N, 5408)),
        ("Linear", (N, 128)),
        ("ReLU", (N, 128)),
        ("Linear", (N, 10)),
    ],
    ("keras-cnn", ""): [
        ("Conv2d", (N, 16, 28, 28)),
        ("ReLU", (N, 16, 28, 28)),
        ("MaxPool2d", (N, 16, 14, 14)),
        ("Flatten", (N, 3136)),
        ("Linear", (N, 1024)),
        ("ReLU", (N, 1024)),
        ("Linear", (N, 10)),
    ],
    ("two-layer", ""): [
        ("Flatten", (N, 784)),
        ("Linear", (N, 50)),
        ("Sigmoid", (N, 50)),
        ("Linear", (N, 10)),
    ],
    ("two-layer", "activation='relu';hidden=20"): [
        ("Flatten", (N, 784)),
        ("Linear", (N, 20)),
        ("ReLU", (N, 20)),
        ("Linear", (N, 10)),
    ],
    ("mlp", ""): [("Flatten", (N, 784))]
    + [("Linear", (N, 100)), ("ReLU", (N, 100))] * 6
    + [("Linear", (N, 10))],
    ("mlp", "hidden=(30, 20);batch_norm=True;dropout=0.5;activation='sigmoid'"): [
        ("Flatten", (N, 784)),
        ("Linear", (N, 30)),
        ("BatchNorm1d", (N, 30)),
        ("Sigmoid", (N, 30)),
        ("Dropout", (N, 30)),
        ("Linear", (N, 20)),
        ("BatchNorm1d", (N, 20)),
        ("Sigmoid", (N, 20)),
        ("Dropout", (N, 20)),
        ("Linear", (N, 10)),
    ],
}


def _config(text: str) -> dict[str, Any]:
    """ "a=1;b=(2, 3)" -> {"a": 1, "b": (2, 3)}: Python literals."""
    pairs = (item.split("=", 1) for item in text.split(";") if item)
    return {key: ast.literal_eval(value) for key, value in pairs}


def _layers(model: nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    assert isinstance(model, nn.Sequential)
    x: Any = am.Tensor(np.random.default_rng(0).random((N, 1, 28, 28), dtype=np.float32))
    out = []
    with am.no_grad():
        for layer in model:
            x = layer(x)
            out.append((type(layer).__name__, tuple(x.shape)))
    return out


def test_every_preset_is_pinned() -> None:
    assert {name for name, _ in LAYERS} == set(models.MODELS)


@pytest.mark.parametrize(("name", "config"), list(LAYERS), ids=lambda v: v or "default")
def test_preset_layer_sequence(name: str, config: str) -> None:
    model = models.build_model(name, **_config(config))
    assert _layers(model) == LAYERS[(name, config)]


def test_best_pooling_before_relu_gives_the_values_and_gradients_of_relu_before_pooling() -> None:
    """``best`` pools before its ReLUs (a quarter of the ReLU work): max and ReLU commute,
    so outputs and every gradient equal those of the usual order exactly."""
    x = np.random.default_rng(0).standard_normal((16, 1, 28, 28)).astype(np.float32)
    y = np.arange(16) % 10
    results = []
    for swap in (False, True):
        am.manual_seed(0)
        model = models.best()
        if swap:  # back to Conv -> BatchNorm -> ReLU -> MaxPool
            layers = list(model)
            layers[2], layers[3], layers[6], layers[7] = layers[3], layers[2], layers[7], layers[6]
            model = nn.Sequential(*layers)
            assert [type(m).__name__ for m in model][2:4] == ["ReLU", "MaxPool2d"]
        loss = F.cross_entropy(model(Tensor(x)), y)
        loss.backward()
        results.append([loss.data] + [p.grad.data for p in model.parameters()])  # type: ignore[union-attr]
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ----- initialisation -----
def _check_std(w: np.ndarray, std: float, what: str) -> None:
    """The sample std of n normal draws has a relative standard error of 1/sqrt(2(n-1)):
    allow 5 of them (and 5 standard errors of the mean, std/sqrt(n), for the mean). For
    uniform draws the error is smaller (sqrt(0.2/n)), so the bound holds as well."""
    n = w.size
    assert abs(w.std() / std - 1) < 5 / math.sqrt(2 * (n - 1)), (what, w.std(), std)
    assert abs(w.mean()) < 5 * std / math.sqrt(n), (what, w.mean())


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


@pytest.mark.parametrize(
    ("weight_init", "rule"),
    [
        ("0.01", lambda fan_in: 0.01),
        ("0.5", lambda fan_in: 0.5),
        ("xavier", lambda fan_in: 1 / math.sqrt(fan_in)),
        ("he", lambda fan_in: math.sqrt(2 / fan_in)),
    ],
)
def test_mlp_weight_init_sets_each_layers_std(weight_init: str, rule: Any) -> None:
    am.manual_seed(0)
    model = models.mlp(hidden=(100, 50), weight_init=weight_init)
    linears = _linears(model)
    assert [m.weight.shape for m in linears] == [(100, 784), (50, 100), (10, 50)]
    for k, m in enumerate(linears):
        fan_in = m.weight.shape[1]
        _check_std(m.weight.data, rule(fan_in), f"{weight_init} layer {k}")
        assert m.bias is not None and not m.bias.data.any()


def test_mlp_default_init_is_he() -> None:
    am.manual_seed(0)
    for m in _linears(models.mlp()):
        _check_std(m.weight.data, math.sqrt(2 / m.weight.shape[1]), "mlp default")


def test_other_presets_initialisation() -> None:
    am.manual_seed(0)
    cnn = models.cnn()
    _check_std(cnn[0].weight.data, 0.5, "cnn conv")  # type: ignore[attr-defined]
    for m in _linears(cnn):  # He
        _check_std(m.weight.data, math.sqrt(2 / m.weight.shape[1]), "cnn dense")
    best = models.best()
    convs = [m for m in best.modules() if isinstance(m, nn.Conv2d)]
    for m in convs:  # He, fan_in = C * KH * KW
        fan_in = int(np.prod(m.weight.shape[1:]))
        _check_std(m.weight.data, math.sqrt(2 / fan_in), "best conv")
    for m in _linears(models.two_layer(weight_std=0.05)):
        _check_std(m.weight.data, 0.05, "two-layer")
    for m in _linears(models.keras_cnn()):  # Glorot uniform: var = 2 / (fan_in + fan_out)
        out_f, in_f = m.weight.shape
        _check_std(m.weight.data, math.sqrt(2 / (in_f + out_f)), "keras-cnn dense")


def test_best_feature_maps_are_those_of_relu_before_pooling() -> None:
    """plots.feature_maps applies the ReLU that follows best's pooling to the conv maps too,
    so the figures (``show``, the serve page) are those of the usual order."""
    from autograd_mnist import plots

    x = np.random.default_rng(1).random((3, 1, 28, 28)).astype(np.float32)
    am.manual_seed(0)
    model = models.best()
    layers = list(model)
    layers[2], layers[3] = layers[3], layers[2]  # Conv -> BatchNorm -> ReLU -> MaxPool
    ours, usual = plots.feature_maps(model, x), plots.feature_maps(nn.Sequential(*layers), x)
    assert [name for name, _ in ours] == ["conv", "pooled"]
    for (_, a), (_, b) in zip(ours, usual):
        np.testing.assert_array_equal(a, b)
