"""ONNX export: onnx.checker passes and ONNX Runtime gives our logits (atol 1e-5) for every
preset and for layers and ops exported one by one, at batch sizes 1 and 7 (one export:
the batch is dynamic). Skipped without onnx and onnxruntime."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
import autograd_mnist.functional as F
from autograd_mnist import cli, config, models, nn, runs, weights
from autograd_mnist.data import synthetic_data
from autograd_mnist.onnx import UnsupportedOpError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

IMAGE = (1, 28, 28)


def _random_state(model: nn.Module) -> nn.Module:
    """Every parameter and running statistic away from its initial value."""
    gen = np.random.default_rng(0)
    state = {}
    for k, v in model.state_dict().items():
        noise = gen.normal(0, 0.02, v.shape).astype(v.dtype)
        state[k] = np.abs(v) + 0.5 + noise if k.endswith("running_var") else v + noise
    model.load_state_dict(state)
    return model


def _check(model: nn.Module, path: Path, shape: tuple[int, ...] = IMAGE, **kw: Any) -> Any:
    """Export on a batch of 3, then compare ONNX Runtime with our forward at 1 and 7."""
    gen = np.random.default_rng(1)
    model.train()
    proto = am.onnx.export(model, gen.random((3, *shape), dtype=np.float32), path, **kw)
    assert all(m.training for m in model.modules())  # traced in eval mode, then restored
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    # as images: in [0, 1]
    assert_runtime_matches(model, path, lambda n: gen.random((n, *shape), dtype=np.float32))
    return proto


def assert_runtime_matches(
    model: nn.Module, path: Path, sample: Callable[[int], np.ndarray]
) -> None:
    """ONNX Runtime on the exported ``path`` gives ``model``'s forward (eval mode, atol
    1e-5) on ``sample(n)`` inputs at batches 1 and 7."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    for n in (1, 7):
        x = sample(n)
        with am.no_grad():
            ours = model(am.tensor(x)).data
        (theirs,) = session.run(None, {"input": x})
        assert theirs.shape == ours.shape
        np.testing.assert_allclose(theirs, ours, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_every_preset_runs_in_onnx_runtime(name: str, tmp_path: Path) -> None:
    model = _random_state(models.build_model(name))
    proto = _check(model, tmp_path / f"{name}.onnx")
    inits = {i.name for i in proto.graph.initializer}
    keys = set(model.state_dict())
    assert keys <= inits, keys - inits  # initializers named as the state dict
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == list(IMAGE)


def test_best_is_conv_batchnorm_and_no_dropout(tmp_path: Path) -> None:
    proto = am.onnx.export(
        models.build_model("best"), np.zeros((2, *IMAGE), np.float32), tmp_path / "b.onnx"
    )
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Conv") == 3 and ops.count("BatchNormalization") == 3
    assert "Dropout" not in ops and ops.count("Gemm") == 2


class _Functional(nn.Module):
    """Ops outside the exported-whole layers: every op of the table once or more."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(12, 6)
        self.w = nn.Parameter(np.random.default_rng(3).normal(size=(6, 6)).astype(np.float32))

    def forward(self, x: am.Tensor) -> am.Tensor:
        h = x.reshape(x.shape[0], 12)  # Reshape keeping the batch dimension
        h = F.linear(h, self.fc.weight, self.fc.bias)
        h = am.functional.matmul(h, self.w) * 0.5 + 1.0
        h = (h - h.abs().sqrt()) / 2.0
        h = F.tanh(h) + F.sigmoid(-h) + F.relu(h).exp().log()
        h = h.clamp(-3.0, 3.0) ** 2
        h = am.maximum(h, am.minimum(h, 0.25 * h.sin() + h.cos()))
        h = F.softplus(h * 0.1) + F.gelu(h, approximate="tanh") + F.silu(h)
        s = h.sum(dim=1, keepdim=True)
        h = (h - s / 6.0).reshape(x.shape[0], 2, 3).permute(0, 2, 1).reshape(x.shape[0], 6)
        return F.log_softmax(h, dim=1) + F.softmax(h, dim=-1)


def test_ops_exported_one_by_one(tmp_path: Path) -> None:
    proto = _check(_Functional(), tmp_path / "f.onnx", shape=(3, 4))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Reshape", "Gemm", "MatMul", "Transpose", "ReduceSum", "Clip", "Max", "Min"} <= ops
    assert {"fc.weight", "fc.bias", "w"} <= {i.name for i in proto.graph.initializer}


LAYERS = {
    "activations": lambda: nn.Sequential(
        nn.Flatten(),
        nn.Linear(16, 12),
        nn.LeakyReLU(0.2),
        nn.Linear(12, 12),
        nn.ELU(0.7),
        nn.Linear(12, 12),
        nn.GELU(),
        nn.SiLU(),
        nn.Softplus(beta=2.0),
        nn.Tanh(),
        nn.Softmax(dim=1),
    ),
    "pools and batch norm": lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding="same"),
        nn.BatchNorm2d(4),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        nn.Conv2d(4, 4, 2, stride=1, padding=1, dilation=2, bias=False),
        nn.MaxPool2d(2, padding=1),
        nn.Flatten(),
        nn.Linear(36, 6),  # 4 channels of 3 x 3
        nn.BatchNorm1d(6),
        nn.Identity(),
        nn.Dropout(0.5),
        nn.LogSoftmax(dim=1),
    ),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("opset", [13, 17, 20])
def test_layers_exported_whole(name: str, opset: int, tmp_path: Path) -> None:
    shape = (1, 4, 4) if name == "activations" else (1, 8, 8)
    proto = _check(_random_state(LAYERS[name]()), tmp_path / "m.onnx", shape=shape, opset=opset)
    ops = {n.op_type for n in proto.graph.node}
    if name == "activations":
        assert {"LeakyRelu", "Elu", "Softplus", "Softmax"} <= ops
        assert ("Gelu" in ops) == (opset >= 20) and ("Erf" in ops) == (opset < 20)
    else:
        assert {"Conv", "AveragePool", "MaxPool", "BatchNormalization", "LogSoftmax"} <= ops


class _Indexing(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: am.Tensor) -> am.Tensor:
        return self.fc(x)[:, :2]


def test_an_unmapped_op_is_named_with_its_module(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(4, 4), _Indexing())
    with pytest.raises(UnsupportedOpError, match=r"op GetItem in module '1' has no ONNX mapping"):
        am.onnx.export(model, np.zeros((2, 4), np.float32), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


class _MaskedOutsideLayer(nn.Module):
    def forward(self, x: am.Tensor) -> am.Tensor:
        return F.leaky_relu(x, 0.1)


def test_a_mask_of_the_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedOpError, match=r"constant of shape \(3, 5\) has the batch size"):
        am.onnx.export(_MaskedOutsideLayer(), np.ones((3, 5), np.float32), tmp_path / "m.onnx")


class _BatchMixer(nn.Module):
    def forward(self, x: am.Tensor) -> am.Tensor:
        return F.relu(x).reshape(-1)


def test_a_reshape_of_the_batch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedOpError, match=r"op Reshape .* reshapes \(2, 3\) to \(6,\)"):
        am.onnx.export(_BatchMixer(), np.ones((2, 3), np.float32), tmp_path / "r.onnx")


def test_batch_norm_without_running_stats_is_refused(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3, track_running_stats=False))
    with pytest.raises(UnsupportedOpError, match="BatchNorm1d '1' keeps no running statistics"):
        am.onnx.export(model, np.ones((2, 3), np.float32), tmp_path / "b.onnx")


def test_bad_arguments(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="opset 12, expected an int from 13"):
        am.onnx.export(model, np.ones((2, 3), np.float32), tmp_path / "a.onnx", opset=12)
    with pytest.raises(ValueError, match="expected a float array"):
        am.onnx.export(model, np.ones((2, 3), np.int64), tmp_path / "a.onnx")


# ----- the CLI -----
DATA = synthetic_data(n_train=32, n_test=16, seed=4)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "run"
    cfg = runs.RunConfig(
        model="best",
        model_config={"channels": [4, 8], "hidden": 16},
        epochs=1,
        batch_size=16,
        augment=0,
        out=str(out),
        progress=False,
    )
    runs.train_run(cfg, data=DATA)
    return out


def test_cli_export_onnx(
    run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "load_data", lambda *a, **k: DATA)
    assert cli.main(["export", str(run_dir), "--format", "onnx", "--opset", "18"]) == 0
    path = run_dir / "model.onnx"
    assert f"wrote {path} (ONNX opset 18" in capsys.readouterr().out
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model = weights.load_preset(run_dir / "model.safetensors")
    x = DATA[1][0][:5]
    with am.no_grad():
        np.testing.assert_allclose(
            session.run(None, {"input": x})[0], model(am.tensor(x)).data, atol=1e-5
        )
    assert cli.main(["export", str(run_dir), "--format", "onnx"]) == 2  # exists: refused
    assert "pass --force" in capsys.readouterr().err
    assert cli.main(["export", str(run_dir), "--format", "onnx", "--force"]) == 0


def test_cli_export_onnx_without_the_extra(
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    out = tmp_path / "m.onnx"
    assert cli.main(["export", str(run_dir), "--format", "onnx", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith('pip install "autograd-mnist[onnx]"') and len(err.splitlines()) == 1
    assert not out.exists()
