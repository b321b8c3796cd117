"""Model presets: the reference networks R0-R4 and the project's best model.

The reference experiments R0-R4 are described in ``docs/reference_experiments.md``.
``build_model(name, **config)`` makes a fresh model; a checkpoint stores ``name`` and
``config`` so the same model can be rebuilt to load it. ``TRAIN_DEFAULTS`` is the one
table of each model's training defaults (read by ``RunConfig`` and the CLI).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from autograd_mnist import model_options as opt
from autograd_mnist import nn
from autograd_mnist.errors import RunError
from autograd_mnist.nn import init

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}


def _activation(name: Any) -> Callable[[], nn.Module]:
    return _ACTIVATIONS[opt.activation("activation", name)]


def _he_dense(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Linear):
            init.kaiming_normal_(m.weight, nonlinearity="relu")
            init.zeros_(m.bias)  # type: ignore[arg-type]


def cnn() -> nn.Sequential:
    """R0: Conv 32 3x3 (no activation) -> MaxPool 2 -> Dense 128 ReLU -> Dense 10.

    Dense weights He-initialised; conv filters N(0, 0.5) as in R0.
    """
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),  # (N, 32, 26, 26)
        nn.MaxPool2d(2),  # (N, 32, 13, 13)
        nn.Flatten(),  # (N, 5408)
        nn.Linear(5408, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    init.normal_(model[0].weight, 0.0, 0.5)  # type: ignore[attr-defined]
    init.zeros_(model[0].bias)  # type: ignore[attr-defined]
    _he_dense(model)
    return model


r0_cnn = cnn
"""Deprecated alias of :func:`cnn` (R0's network, CLI name ``cnn``); use ``cnn``."""


def keras_cnn() -> nn.Sequential:
    """R2: Conv 16 5x5 same + ReLU -> MaxPool 2 -> Dense 1024 ReLU -> Dense 10.

    3,222,954 parameters. Conv filters truncated-normal (std 0.1), dense layers Glorot
    uniform with zero biases (Keras's defaults).
    """
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2),  # (N, 16, 28, 28)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 14, 14)
        nn.Flatten(),  # (N, 3136)
        nn.Linear(3136, 1024),
        nn.ReLU(),
        nn.Linear(1024, 10),
    )
    init.trunc_normal_(model[0].weight, std=0.1, a=-0.2, b=0.2)  # type: ignore[attr-defined]
    init.zeros_(model[0].bias)  # type: ignore[attr-defined]
    for m in model.modules():
        if isinstance(m, nn.Linear):
            init.xavier_uniform_(m.weight)
            init.zeros_(m.bias)  # type: ignore[arg-type]
    return model


def two_layer(
    hidden: int = 50, activation: str = "sigmoid", weight_std: float = 0.01
) -> nn.Sequential:
    """R1/R3's TwoLayerNet: 784 -> hidden (sigmoid or relu) -> 10, weights N(0, std**2).

    Raises:
        ValueError: for an option of the wrong type or value, naming it.
    """
    act = _activation(activation)
    hidden = opt.size("hidden", hidden)
    weight_std = opt.std("weight_std", weight_std)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), act(), nn.Linear(hidden, 10))
    for m in model.modules():
        if isinstance(m, nn.Linear):
            init.normal_(m.weight, 0.0, weight_std)
            init.zeros_(m.bias)  # type: ignore[arg-type]
    return model


def mlp(
    hidden: Sequence[int] = (100, 100, 100, 100, 100, 100),
    activation: str = "relu",
    weight_init: str = "he",
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> nn.Sequential:
    """R4's MultiLayerNet: Flatten -> [Linear (-> BatchNorm) -> act (-> Dropout)] * k -> 10.

    Args:
        hidden: sizes of the hidden layers.
        activation: 'relu' or 'sigmoid'.
        weight_init: 'he' (sqrt(2/fan_in)), 'xavier' (1/sqrt(fan_in)) or a standard
            deviation >= 0 (a number, or a string such as '0.01').
        batch_norm: insert BatchNorm1d after each hidden Linear.
        dropout: dropout probability after each activation, in [0, 1) (0 for none).

    Raises:
        ValueError: for an option of the wrong type or value, naming it.
    """
    act = _activation(activation)
    rule = opt.weight_init("weight_init", weight_init)  # "he", "xavier" or a std
    batch_norm = opt.flag("batch_norm", batch_norm)
    dropout = opt.fraction("dropout", dropout)
    layers: list[nn.Module] = [nn.Flatten()]
    sizes = [784, *opt.sizes("hidden", hidden)]
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers.append(nn.Linear(fan_in, fan_out))
        if batch_norm:
            layers.append(nn.BatchNorm1d(fan_out))
        layers.append(act())
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-1], 10))
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            fan_in = m.weight.shape[1]
            if rule == "he":
                std = float(np.sqrt(2.0 / fan_in))
            elif rule == "xavier":
                std = float(np.sqrt(1.0 / fan_in))
            else:
                std = float(rule)
            init.normal_(m.weight, 0.0, std)
            init.zeros_(m.bias)  # type: ignore[arg-type]
    return model


def best(
    channels: Sequence[int] = (32, 64, 64),
    hidden: int = 256,
    dropout: float = 0.3,
    pool_first: bool = True,
) -> nn.Sequential:
    """The project's best: conv blocks with batch norm, then a dropout-regularised head.

    (Conv 3x3 same -> MaxPool 2 -> BatchNorm -> ReLU) x 2 with ``channels[0]`` (32) and
    ``channels[1]`` (64) channels, then, when ``channels`` has a third entry (64 by
    default), Conv 3x3 without padding (7x7 -> 5x5) -> BatchNorm -> ReLU, then Dense
    ``hidden`` (256) -> ReLU -> Dropout -> Dense 10. Conv weights He-initialised.
    Pooling before batch norm normalises a quarter of the elements: a step takes about 15%
    less time, with the same validation accuracy (docs/training.md).

    ``channels=(32, 64)`` is the network of runs made before the third block existed;
    ``pool_first=False`` with ``hidden=128`` and ``channels=(32, 64)`` that of runs made
    before this option existed: (Conv -> BatchNorm -> MaxPool -> ReLU) x 2, Dense 128.
    :func:`config_for_weights` picks them for their weights.

    Raises:
        ValueError: for an option of the wrong type or value, naming it.
    """
    c1, c2, *c3 = opt.sizes("channels", channels, counts=(2, 3))
    hidden = opt.size("hidden", hidden)
    dropout = opt.fraction("dropout", dropout)
    pool_first = opt.flag("pool_first", pool_first)

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        pool, norm = nn.MaxPool2d(2), nn.BatchNorm2d(c_out)
        return [conv, pool, norm, nn.ReLU()] if pool_first else [conv, norm, pool, nn.ReLU()]

    third: list[nn.Module] = []  # (N, c3, 5, 5)
    if c3:
        third = [nn.Conv2d(c2, c3[0], 3, bias=False), nn.BatchNorm2d(c3[0]), nn.ReLU()]
    model = nn.Sequential(
        *block(1, c1),  # (N, c1, 14, 14)
        *block(c1, c2),  # (N, c2, 7, 7)
        *third,
        nn.Flatten(),  # (N, c2*49), or (N, c3*25) with the third block
        nn.Linear(c3[0] * 25 if c3 else c2 * 49, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, 10),
    )
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            init.kaiming_normal_(m.weight, nonlinearity="relu")
    return model


def fast(
    channels: Sequence[int] = (8, 16),
    hidden: int = 128,
    dropout: float = 0.2,
    pool_first: bool = True,
) -> nn.Sequential:
    """The quick preset: :func:`best`'s first two blocks, narrower (8 and 16 channels by
    default), without the third block, and with dropout 0.2."""
    return best(channels, hidden, dropout, pool_first)


MODELS: dict[str, Callable[..., nn.Module]] = {
    "best": best,
    "fast": fast,
    "cnn": cnn,
    "keras-cnn": keras_cnn,
    "two-layer": two_layer,
    "mlp": mlp,
}

#: The CLI's default model.
DEFAULT_MODEL = "best"

#: Per-model training defaults: every key for every model. ``RunConfig`` fills the
#: settings left at None from here, and the CLI's help shows them.
_PLAIN = dict(rotation=0, scale=0, ema=0, label_smoothing=0)  # no affine, EMA or smoothing

TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    # Chosen on a validation split held out from the training set (docs/training.md).
    "best": dict(
        optimizer="adam",
        lr=2e-3,
        batch_size=128,
        epochs=12,
        schedule="onecycle",
        augment=2,
        rotation=0,
        scale=0,
        ema=0.999,
        label_smoothing=0.1,
    ),
    "fast": dict(
        optimizer="adam",
        lr=6e-3,
        batch_size=256,
        epochs=5,
        schedule="onecycle",
        augment=2,
        rotation=0,
        scale=0,
        ema=0.99,
        label_smoothing=0,
    ),
    "cnn": dict(
        optimizer="sgd", lr=0.03, batch_size=1, epochs=1, schedule="none", augment=0, **_PLAIN
    ),
    "keras-cnn": dict(
        optimizer="adam", lr=1e-3, batch_size=128, epochs=10, schedule="none", augment=0, **_PLAIN
    ),
    "two-layer": dict(
        optimizer="sgd", lr=0.1, batch_size=100, epochs=10, schedule="none", augment=0, **_PLAIN
    ),
    "mlp": dict(
        optimizer="adam", lr=1e-3, batch_size=100, epochs=10, schedule="none", augment=0, **_PLAIN
    ),
}


def build_model(name: str, **config: Any) -> nn.Module:
    """A fresh model from a preset name (see ``MODELS``) and its keyword config.

    Raises:
        ValueError: for an unknown name.
    """
    if name not in MODELS:
        raise ValueError(f"build_model: unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](**config)


#: Layouts of the past, for weights whose config leaves out the option that changed:
#: (preset, that option, a state-dict key, whether the key marks the old layout by its
#: presence (True) or its absence (False), the config of then). The first match applies.
_EARLIER_LAYOUTS: list[tuple[str, str, str, bool, dict[str, Any]]] = [
    # Before pool_first: batch norm before the pooling, at index 1; best's dense layer had
    # 128 units and there were two conv blocks.
    (
        "best",
        "pool_first",
        "1.weight",
        True,
        {"pool_first": False, "hidden": 128, "channels": (32, 64)},
    ),
    ("fast", "pool_first", "1.weight", True, {"pool_first": False}),
    # Before best's third block: two conv blocks, the last layer at 12, not 15.
    ("best", "channels", "15.weight", False, {"channels": (32, 64)}),
]


def config_for_weights(name: str, config: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The config that rebuilds preset ``name`` for saved weights with these state-dict keys.

    Two layouts of the past are recognised (``_EARLIER_LAYOUTS``), for weights whose config
    leaves out the option that changed:

    - ``best`` and ``fast`` used to normalise before pooling, with batch norm at index 1
      (``1.weight``...), and ``best``'s dense layer had 128 units: weights whose config
      does not say ``pool_first`` are given that network, ``pool_first=False`` and the
      defaults of then for what their config leaves out.
    - ``best`` then had two conv blocks, its last layer at index 12: weights without the
      three-block network's last layer (``15.weight``), whose config does not say
      ``channels``, are given ``channels=(32, 64)``.

    What the config says wins; other configs are returned as they are.
    """
    keys = set(keys)
    for preset, option, key, present, then in _EARLIER_LAYOUTS:
        if name == preset and option not in config and (key in keys) == present:
            return {**then, **config}
    return config


_COUNTS: dict[str, Callable[..., int]] = {
    "best": opt.best_size,
    "fast": opt.best_size,
    "two-layer": opt.two_layer_size,
    "mlp": opt.mlp_size,
}


def state_size(name: str, config: Mapping[str, Any]) -> int | None:
    """How many numbers the state dict of preset ``name`` built with ``config`` holds
    (weights and buffers), computed from the config alone, without building the model;
    None for a preset whose size no option changes (``cnn``, ``keras-cnn``).

    Raises:
        ValueError: for a size option of the wrong type or value, naming it.
    """
    count = _COUNTS.get(name)
    if count is None:
        return None
    options = inspect.signature(MODELS[name]).bind(**config)  # TypeError: unknown option
    options.apply_defaults()
    return count(**options.arguments)


_SLACK = 1_000_000
"""Numbers a model built for a file's weights may hold beyond twice theirs (4 MB of
float32): small enough to build at once, large enough that a model near the weights' size
is built and loading it names the keys and shapes that differ."""


def _short(config: Mapping[str, Any]) -> str:
    text = repr(dict(config))
    return text if len(text) <= 200 else text[:197] + "..."


def make_model(
    name: str, config: dict[str, Any], weights: Mapping[str, Any] | None = None
) -> nn.Module:
    """``build_model(name, **config)``, its errors turned into :class:`RunError`.

    Args:
        name: a preset from ``MODELS``.
        config: its keyword arguments.
        weights: the state dict the model is built to load (from a file): then the
            config is first checked to ask for at most twice the numbers ``weights``
            holds, plus :data:`_SLACK` (:func:`state_size`), so that a tampered config
            cannot make the model huge before the weights are found not to fit; a model
            near their size is built, and loading it names the keys that differ.

    Raises:
        RunError: for an unknown name, a config the preset does not accept, or one that
            asks for a model larger than ``weights``, naming the name and config.
    """
    try:
        if weights is not None and name in MODELS:
            need = state_size(name, config)
            have = sum(int(np.size(v)) for v in weights.values())
            if need is not None and need > 2 * have + _SLACK:
                raise ValueError(
                    f"it does not fit the weights: it would hold {need:,} numbers, but the "
                    f"weights hold {have:,}"
                )
        return build_model(name, **config)
    except (TypeError, ValueError, KeyError, ArithmeticError, RecursionError) as exc:
        raise RunError(f"cannot build model {name!r} with config {_short(config)}: {exc}") from None
