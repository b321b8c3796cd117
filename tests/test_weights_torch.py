"""docs/interop.md's PyTorch definitions of the presets load our weights, and theirs load in
ours: the same logits, both directions. Skipped without torch.

The logits agree to 1e-5 absolute plus 1e-5 relative: float32 sums of thousands of
products, in each library's own order (and block size, which can follow the thread
count), differ in their last bits; a logit of -2.86 differed by 1.0e-5 once in a full run."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT

import autograd_mnist as am
from autograd_mnist import models

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

DOC = ROOT / "docs" / "interop.md"
MARKER = "<!-- torch-presets"

# (preset, config): every preset with its defaults, plus the variants that change the layers
CASES: list[tuple[str, dict[str, Any]]] = [(name, {}) for name in sorted(models.MODELS)] + [
    ("mlp", {"hidden": [32, 16], "batch_norm": True, "dropout": 0.1, "activation": "sigmoid"}),
    ("two-layer", {"hidden": 20, "activation": "relu"}),
    ("best", {"channels": [8, 16], "hidden": 32}),
    ("best", {"pool_first": False}),
    ("best", {"channels": [32, 64]}),  # two blocks: runs made before the third
]


def doc_presets() -> dict[str, Any]:
    """Run the doc's code block after the marker; return its ``PRESETS``."""
    text = DOC.read_text(encoding="utf-8")
    after = text.split(MARKER, 1)[1]
    block = re.search(r"```python\n(.*?)```", after, re.S)
    assert block is not None, f"{DOC}: no python block after {MARKER!r}"
    scope: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOC), "exec"), scope)
    presets: dict[str, Any] = scope["PRESETS"]
    return presets


def _config(name: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The preset's full keyword config: its defaults, updated with ``extra``."""
    params = inspect.signature(models.MODELS[name]).parameters.values()
    return {**{p.name: p.default for p in params}, **extra}


def _pair(name: str, extra: dict[str, Any]) -> tuple[am.nn.Module, Any]:
    presets = doc_presets()
    assert name in presets, f"{DOC} has no PyTorch definition of preset {name!r}: add one"
    cfg = _config(name, extra)
    return models.build_model(name, **cfg), presets[name](**cfg)


def _randomize_ours(model: am.nn.Module) -> None:
    gen = np.random.default_rng(1)
    state = {
        k: v + gen.normal(0, 0.05, v.shape).astype(v.dtype) for k, v in model.state_dict().items()
    }
    for k in state:
        if k.endswith("running_var"):
            state[k] = np.abs(state[k]) + 0.5
    model.load_state_dict(state)


def _images(n: int = 6) -> np.ndarray:
    return np.random.default_rng(2).random((n, 1, 28, 28), dtype=np.float32)


def _logits(ours: am.nn.Module, theirs: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ours.eval()
    theirs.eval()
    with am.no_grad():
        a = ours(am.tensor(x)).data
    with torch.no_grad():
        b = theirs(torch.from_numpy(x)).numpy()
    return a, b


@pytest.mark.parametrize(("name", "extra"), CASES)
def test_ours_load_into_the_documented_torch_model(
    name: str, extra: dict[str, Any], tmp_path: Path
) -> None:
    ours, theirs = _pair(name, extra)
    _randomize_ours(ours)
    path = tmp_path / "ours.safetensors"
    am.save_weights(ours, path)
    theirs.load_state_dict(safetensors_torch.load_file(str(path)))  # strict
    for k, v in theirs.state_dict().items():
        assert v.dtype == (torch.int64 if k.endswith("num_batches_tracked") else torch.float32), k
    a, b = _logits(ours, theirs, _images())
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("name", "extra"), CASES)
def test_torch_weights_load_into_ours(name: str, extra: dict[str, Any], tmp_path: Path) -> None:
    ours, theirs = _pair(name, extra)
    torch.manual_seed(0)
    with torch.no_grad():
        for k, buf in theirs.named_buffers():
            if k.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif k.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
            elif k.endswith("num_batches_tracked"):
                buf.fill_(7)
    theirs.train()
    theirs(torch.from_numpy(_images(4)))  # one training step's statistics, like a real run
    path = tmp_path / "theirs.safetensors"
    safetensors_torch.save_file(theirs.state_dict(), str(path))
    am.load_weights(path, model=ours)
    a, b = _logits(ours, theirs, _images())
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
