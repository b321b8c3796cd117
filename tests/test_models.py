"""The model presets, pinned: each preset's layers in order (type and output shape), and
each preset's weight initialisation (the standard deviation of every initialised layer).

A preset losing a layer (the ReLU after ``best``'s second batch norm) or an init using the
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
from autograd_mnist.errors import RunError

N = 2  # batch size of the probe input

# (preset, config as "key=value;...") -> [(layer type, output shape)], for an input of
# shape (N, 1, 28, 28).
LAYERS: dict[tuple[str, str], list[tuple[str, tuple[int, ...]]]] = {
    ("best", ""): [
        ("Conv2d", (N, 32, 28, 28)),
        ("MaxPool2d", (N, 32, 14, 14)),
        ("BatchNorm2d", (N, 32, 14, 14)),
        ("ReLU", (N, 32, 14, 14)),
        ("Conv2d", (N, 64, 14, 14)),
        ("MaxPool2d", (N, 64, 7, 7)),
        ("BatchNorm2d", (N, 64, 7, 7)),
        ("ReLU", (N, 64, 7, 7)),
        ("Conv2d", (N, 64, 5, 5)),
        ("BatchNorm2d", (N, 64, 5, 5)),
        ("ReLU", (N, 64, 5, 5)),
        ("Flatten", (N, 1600)),
        ("Linear", (N, 256)),
        ("ReLU", (N, 256)),
        ("Dropout", (N, 256)),
        ("Linear", (N, 10)),
    ],
    ("best", "channels=(32, 64)"): [
        ("Conv2d", (N, 32, 28, 28)),
        ("MaxPool2d", (N, 32, 14, 14)),
        ("BatchNorm2d", (N, 32, 14, 14)),
        ("ReLU", (N, 32, 14, 14)),
        ("Conv2d", (N, 64, 14, 14)),
        ("MaxPool2d", (N, 64, 7, 7)),
        ("BatchNorm2d", (N, 64, 7, 7)),
        ("ReLU", (N, 64, 7, 7)),
        ("Flatten", (N, 3136)),
        ("Linear", (N, 256)),
        ("ReLU", (N, 256)),
        ("Dropout", (N, 256)),
        ("Linear", (N, 10)),
    ],
    ("best", "pool_first=False;hidden=128;channels=(32, 64)"): [
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
        ("MaxPool2d", (N, 8, 14, 14)),
        ("BatchNorm2d", (N, 8, 14, 14)),
        ("ReLU", (N, 8, 14, 14)),
        ("Conv2d", (N, 16, 14, 14)),
        ("MaxPool2d", (N, 16, 7, 7)),
        ("BatchNorm2d", (N, 16, 7, 7)),
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


def test_best_pool_first_false_is_the_earlier_layout_with_the_same_initial_weights() -> None:
    """Both layouts draw the same initial weights (batch norm and pooling draw nothing),
    under the same names except batch norm's, which moves from index 1 to 2 (and 5 to 6)."""
    am.manual_seed(0)
    new = models.best(channels=(32, 64))
    am.manual_seed(0)
    old = models.best(channels=(32, 64), pool_first=False)  # the same sizes: the same draws
    renamed = {"1.": "2.", "5.": "6."}
    old_state = {renamed.get(k[:2], k[:2]) + k[2:]: v for k, v in old.state_dict().items()}
    assert set(old_state) == set(new.state_dict())
    for k, v in new.state_dict().items():
        np.testing.assert_array_equal(v, old_state[k], err_msg=k)
    with pytest.raises(ValueError, match="pool_first"):
        models.best(pool_first=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["best", "fast"])
def test_config_for_weights_gives_weights_saved_before_pool_first_their_layout(name: str) -> None:
    then: dict[str, Any] = {"pool_first": False}
    if name == "best":
        then |= {"hidden": 128, "channels": (32, 64)}
    old_keys = models.build_model(name, **then).state_dict()
    new_keys = models.build_model(name).state_dict()
    assert models.config_for_weights(name, {}, old_keys) == then
    assert models.config_for_weights(name, {"dropout": 0.1, "hidden": 64}, old_keys) == {
        **then,
        "dropout": 0.1,
        "hidden": 64,  # what the config says wins
    }
    assert models.config_for_weights(name, {}, new_keys) == {}
    said: dict[str, Any] = {"pool_first": True}  # a config that says it is kept as it is
    if name == "best":
        said["channels"] = [32, 64]
    assert models.config_for_weights(name, said, old_keys) is said
    cnn_keys = models.build_model("cnn").state_dict()  # index 1 is not a norm there
    assert models.config_for_weights("cnn", {}, cnn_keys) == {}


def test_config_for_weights_gives_best_weights_saved_before_the_third_block_two_blocks() -> None:
    """``best`` weights of two conv blocks (the default until the third block came; their
    configs name no channels) rebuild with ``channels=(32, 64)``, whatever else the config
    says; a config that names its channels is kept."""
    two = models.best(channels=(32, 64)).state_dict()
    assert models.config_for_weights("best", {}, two) == {"channels": (32, 64)}
    assert models.config_for_weights("best", {"dropout": 0.5}, two) == {
        "channels": (32, 64),
        "dropout": 0.5,
    }
    said = {"channels": [16, 32]}
    assert models.config_for_weights("best", said, two) is said
    three = models.best().state_dict()
    assert models.config_for_weights("best", {}, three) == {}
    rebuilt = models.build_model("best", **models.config_for_weights("best", {}, two))
    rebuilt.load_state_dict(two)  # the layouts match, names and shapes
    fast = models.fast().state_dict()  # fast never had a third block: nothing to add
    assert models.config_for_weights("fast", {}, fast) == {}


def test_best_third_block_is_optional_and_checked() -> None:
    """``best()`` has three conv blocks, with ``channels`` of two entries two. Bad
    ``channels`` are refused."""
    three, two = models.best().state_dict(), models.best(channels=(32, 64)).state_dict()
    assert three["8.weight"].shape == (64, 64, 3, 3) and "8.weight" not in two
    assert models.best(channels=[8, 8, 4])[12].in_features == 4 * 25  # type: ignore[attr-defined]
    for bad in [(32,), (32, 64, 64, 64), 32, "ab", (32, 0), (32, 64, 2.5), None]:
        with pytest.raises(ValueError, match="channels"):
            models.best(channels=bad)  # type: ignore[arg-type]


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


def test_best_feature_maps_apply_the_elementwise_layers_after_pooling_to_the_conv_maps() -> None:
    """plots.feature_maps shows best's conv maps through the batch norm and ReLU that follow
    its pooling (eval mode: per-channel affine, then max(0, .)), and the pooled maps as the
    network computes them."""
    from autograd_mnist import plots

    x = np.random.default_rng(1).random((3, 1, 28, 28)).astype(np.float32)
    am.manual_seed(0)
    model = models.best()
    model.train()
    with am.no_grad():  # batch statistics move the running ones away from (0, 1)
        model(Tensor(x))
    conv, pool, norm, relu = list(model)[:4]
    maps = plots.feature_maps(model, x)
    assert model.training  # restored
    model.eval()
    with am.no_grad():
        raw = conv(Tensor(x))
        expected = [relu(norm(raw)).data, relu(norm(pool(raw))).data]
    assert [name for name, _ in maps] == ["conv", "pooled"]
    for (_, got), want in zip(maps, expected):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(maps[0][1], np.maximum(raw.data, 0))  # the norm was applied


# ----- options: types checked; the size a config implies, without building it -----
SIZED = [
    ("best", {}),
    ("best", {"channels": [8, 8]}),
    ("best", {"channels": [4, 6, 5], "hidden": 7}),
    ("best", {"pool_first": False, "hidden": 128, "channels": [32, 64]}),
    ("fast", {}),
    ("fast", {"channels": [3, 5], "hidden": 9}),
    ("two-layer", {}),
    ("two-layer", {"hidden": 13}),
    ("mlp", {}),
    ("mlp", {"hidden": [40, 20], "batch_norm": True, "dropout": 0.2}),
    ("mlp", {"hidden": [7], "batch_norm": False}),
]


@pytest.mark.parametrize(("name", "config"), SIZED, ids=[f"{n} {c}" for n, c in SIZED])
def test_state_size_is_the_built_models(name: str, config: dict[str, Any]) -> None:
    """``models.state_size`` (what a file's config is checked against before building)
    counts every number of the state dict the preset builds."""
    state = models.build_model(name, **config).state_dict()
    assert models.state_size(name, config) == sum(v.size for v in state.values())


def test_state_size_of_presets_without_size_options_is_none() -> None:
    assert models.state_size("cnn", {}) is None and models.state_size("keras-cnn", {}) is None
    with pytest.raises(TypeError, match="depth"):
        models.state_size("mlp", {"depth": 3})


def test_make_model_refuses_a_config_larger_than_its_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = models.two_layer(hidden=4).state_dict()
    assert models.make_model("two-layer", {"hidden": 4}, weights=small) is not None
    monkeypatch.setattr(models, "build_model", lambda *a, **k: pytest.fail("built"))
    with pytest.raises(RunError, match=r"it would hold 477,000,010 numbers, but the weights"):
        models.make_model("two-layer", {"hidden": 600000}, weights=small)
    with pytest.raises(RunError, match=r"hidden: got \[40, 20\], expected an int >= 1"):
        models.make_model("two-layer", {"hidden": [40, 20]}, weights=small)


@pytest.mark.parametrize(
    ("name", "config", "message"),
    [
        ("mlp", {"batch_norm": "false"}, "batch_norm: got 'false', expected true or false"),
        ("mlp", {"batch_norm": 1}, "batch_norm: got 1, expected true or false"),
        ("mlp", {"dropout": True}, r"dropout: got True, expected a number in \[0, 1\)"),
        ("mlp", {"dropout": "0.5"}, r"dropout: got '0.5', expected a number in \[0, 1\)"),
        ("mlp", {"dropout": 1.0}, r"dropout: got 1.0, expected a number in \[0, 1\)"),
        ("mlp", {"dropout": math.nan}, r"dropout: got nan"),
        ("mlp", {"weight_init": "abc"}, "weight_init: got 'abc', expected 'he', 'xavier'"),
        ("mlp", {"weight_init": False}, "weight_init: got False"),
        ("mlp", {"weight_init": "-1"}, "weight_init: got '-1'"),
        ("mlp", {"hidden": "100"}, "hidden: got '100', expected a list of ints >= 1"),
        ("two-layer", {"hidden": [40, 20]}, r"hidden: got \[40, 20\], expected an int >= 1"),
        ("two-layer", {"hidden": True}, "hidden: got True, expected an int >= 1"),
        ("two-layer", {"weight_std": "0.1"}, "weight_std: got '0.1', expected a number >= 0"),
        ("two-layer", {"activation": 1}, "activation: got 1, expected one of"),
        ("best", {"pool_first": 1}, "pool_first: got 1, expected true or false"),
        ("best", {"hidden": 2.0}, "hidden: got 2.0, expected an int >= 1"),
        ("fast", {"dropout": None}, "dropout: got None"),
    ],
)
def test_every_option_is_checked_for_its_type(
    name: str, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        models.build_model(name, **config)


def test_options_of_the_right_type_still_build() -> None:
    layers = [type(m).__name__ for m in models.mlp(hidden=[4], weight_init="0.5", dropout=0)]
    assert layers == ["Flatten", "Linear", "ReLU", "Linear"]  # dropout 0: no Dropout layer
    assert isinstance(models.mlp(hidden=[4], weight_init=0.5, batch_norm=True)[2], nn.BatchNorm1d)
    assert models.two_layer(hidden=3, weight_std=0)[1].out_features == 3  # type: ignore[attr-defined]
