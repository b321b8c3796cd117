"""A user's sweep of export and weight files: models other than the presets in ONNX Runtime
(batches of 1 and 7, atol 1e-5), and the errors of files and paths that are not what they
should be. Each test here failed before the fix it names."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_mnist as am
import autograd_mnist.functional as F
from autograd_mnist import cli, nn, runs
from autograd_mnist.data import synthetic_data
from autograd_mnist.onnx import UnsupportedOpError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from test_onnx import assert_runtime_matches  # noqa: E402 - after the skips, as it needs ort


def _same_in_onnx_runtime(model: nn.Module, path: Path, example: np.ndarray) -> Any:
    """Export on ``example``; ONNX Runtime must give our forward at batches 1 and 7."""
    proto = am.onnx.export(model, example, path)
    gen = np.random.default_rng(5)
    shape = example.shape[1:]
    assert_runtime_matches(
        model, path, lambda n: gen.standard_normal((n, *shape)).astype(np.float32)
    )
    return proto


class _Stack(nn.Module):
    """Every layer kind in one custom module: containers, tied weights, nested Sequential,
    a Flatten that keeps a middle dimension."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(4),
            nn.LeakyReLU(0.2),
            nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.AvgPool2d(2)),
            nn.Conv2d(4, 6, (2, 3), padding="same", dilation=(1, 2)),
            nn.ELU(0.5),
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
        )
        self.rows = nn.Flatten(2)  # (N, 6, 3, 3) -> (N, 6, 9): ONNX's Flatten would be 2-D
        self.blocks = nn.ModuleList([nn.Linear(9, 9), nn.Linear(9, 9)])
        self.blocks[1].weight = self.blocks[0].weight  # tied
        self.heads = nn.ModuleDict({"fc": nn.Linear(54, 10), "bn": nn.BatchNorm1d(10)})
        self.act = nn.Sequential(nn.GELU(), nn.SiLU(), nn.Softplus(beta=2.0), nn.Dropout(0.3))

    def forward(self, x: am.Tensor) -> am.Tensor:
        h = self.rows(self.features(x))
        for block in self.blocks:
            h = F.tanh(block(h)) + h
        h = self.heads["bn"](self.heads["fc"](h.flatten(1)))
        return F.log_softmax(self.act(h), dim=1)


def test_a_custom_stack_of_every_layer_matches(tmp_path: Path) -> None:
    model = _Stack()
    gen = np.random.default_rng(0)
    model.train()
    for _ in range(3):  # running statistics away from their initial values
        model(gen.standard_normal((8, 1, 12, 12)).astype(np.float32))
    example = gen.standard_normal((2, 1, 12, 12)).astype(np.float32)
    proto = _same_in_onnx_runtime(model, tmp_path / "stack.onnx", example)
    assert {"blocks.0.weight", "features.1.running_var"} <= {
        i.name for i in proto.graph.initializer
    }


@pytest.mark.parametrize(
    ("start", "shape"), [(2, (2, 3, 4, 5)), (-2, (2, 3, 4, 5)), (2, (2, 3, 4))]
)
def test_flatten_from_a_later_dim_keeps_the_leading_dims(
    start: int, shape: tuple[int, ...], tmp_path: Path
) -> None:
    # fixed: nn.Flatten(start_dim >= 2) was written as ONNX Flatten(axis=start), which
    # always makes a 2-D output: onnx.checker refused the graph (a rank mismatch)
    model = nn.Sequential(nn.Flatten(start), nn.ReLU())
    _same_in_onnx_runtime(model, tmp_path / "f.onnx", np.ones(shape, np.float32))


class _MaskOutsideLayer(nn.Module):
    def forward(self, x: am.Tensor) -> am.Tensor:
        return F.leaky_relu(x, 0.1)


class _DropoutByHand(nn.Module):
    def forward(self, x: am.Tensor) -> am.Tensor:
        return F.dropout(x, 0.5)  # training=True by default, as torch's: a random mask


def test_a_mask_of_a_one_dimensional_input_is_refused(tmp_path: Path) -> None:
    # fixed: only constants of 2 or more dimensions were checked; with an (N,) input the
    # mask (N,) became a constant: a wrong shape at batch 1, an error at any other
    with pytest.raises(UnsupportedOpError, match=r"constant of shape \(3,\) has the batch"):
        am.onnx.export(_MaskOutsideLayer(), np.ones(3, np.float32), tmp_path / "m.onnx")


@pytest.mark.parametrize("model", [_MaskOutsideLayer(), _DropoutByHand()], ids=type)
def test_an_example_batch_of_one_does_not_freeze_a_mask(model: nn.Module, tmp_path: Path) -> None:
    # fixed: with an example batch of 1 the input's mask became a (1, 5) constant that
    # broadcasts: a graph that silently computed something else for every other input
    path = tmp_path / "m.onnx"
    with pytest.raises(UnsupportedOpError, match=r"constant of shape \(2, 5\) has the batch"):
        am.onnx.export(model, np.ones((1, 5), np.float32), path)
    assert not path.exists()


def test_an_example_batch_of_one_still_exports(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(5, 4), nn.LeakyReLU(0.1), nn.Linear(4, 3))
    proto = _same_in_onnx_runtime(model, tmp_path / "one.onnx", np.ones((1, 5), np.float32))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


class _Scaled(nn.Module):
    """A buffer used op by op, whose first dimension is the example's batch size."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.register_buffer("mix", np.arange(12, dtype=np.float32).reshape(3, 4) / 10)

    def forward(self, x: am.Tensor) -> am.Tensor:
        return self.fc(x) @ self.mix


def test_a_buffer_used_op_by_op_is_an_initializer_under_its_name(tmp_path: Path) -> None:
    # fixed: it became an anonymous constant ("const_0"), and one of the batch's size was
    # refused as "made from the input's values"
    proto = _same_in_onnx_runtime(_Scaled(), tmp_path / "b.onnx", np.ones((3, 4), np.float32))
    assert "mix" in {i.name for i in proto.graph.initializer}


class _NamedLikeAConstant(nn.Module):
    """Parameters named as the exporter names its constants (``<hint>_<k>``)."""

    def __init__(self) -> None:
        super().__init__()
        self.const_0 = nn.Parameter(np.full((), 5.0, np.float32))
        self.shape_2 = nn.Parameter(np.full((1, 6), 3.0, np.float32))

    def forward(self, x: am.Tensor) -> am.Tensor:
        return (x * 2.0 + self.const_0).reshape(x.shape[0], 6) + self.shape_2


def test_a_parameter_named_like_a_constant_keeps_its_value(tmp_path: Path) -> None:
    # fixed: the constant 2.0 took the name "const_0" first, and the parameter const_0
    # (5.0) was then silently dropped for it: ONNX Runtime's output was off by 3
    example = np.ones((2, 2, 3), np.float32)
    proto = _same_in_onnx_runtime(_NamedLikeAConstant(), tmp_path / "c.onnx", example)
    assert {"const_0", "shape_2"} <= {i.name for i in proto.graph.initializer}


class _CentredOnTheBatch(nn.Module):
    def forward(self, x: am.Tensor) -> am.Tensor:
        return x - x.mean(0, keepdim=True)  # sum / 2 at the trace: / 2 at every batch size


def test_a_mean_over_the_batch_is_refused(tmp_path: Path) -> None:
    # fixed: exported as ReduceSum then a division by the traced batch size: silently wrong
    # at any other batch size
    with pytest.raises(UnsupportedOpError, match="op Sum .* sums over dimension 0 of"):
        am.onnx.export(_CentredOnTheBatch(), np.ones((2, 4), np.float32), tmp_path / "m.onnx")


# ----- weight files -----
def test_load_weights_of_a_folder_says_folder(tmp_path: Path) -> None:
    # fixed: it said "no file", for a path that exists
    folder = tmp_path / "w.safetensors"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=f"'{folder}' is a folder, expected a file"):
        am.load_weights(folder)


def _torch_save_like(path: Path) -> Path:
    """A zip laid out as torch.save's (a pickle and its storages), written without torch."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/data/0", b"\x00" * 16)
    return path


def test_a_torch_save_file_is_named_as_such(tmp_path: Path) -> None:
    # fixed: load_weights said only "header too large"; am.load, "expected .npy members"
    path = _torch_save_like(tmp_path / "model.pt")
    with pytest.raises(ValueError, match="zip archive: torch.save's .pt") as caught:
        am.load_weights(path)
    message = str(caught.value)
    assert str(path) in message and len(message.splitlines()) == 1
    with pytest.raises(ValueError, match=r"data.pkl' \(a pickle: torch.save's .pt\?"):
        am.load(path)


@pytest.mark.parametrize(
    ("state", "metadata"),
    [({"\udcff": np.ones(1, np.float32)}, None), ({"a": np.ones(1, np.float32)}, {"m": "\udcff"})],
)
def test_text_that_is_not_utf8_is_refused_naming_the_file(
    state: dict[str, np.ndarray], metadata: dict[str, str] | None, tmp_path: Path
) -> None:
    # fixed: a bare UnicodeEncodeError from deep inside, naming neither file nor key
    path = tmp_path / "w.safetensors"
    with pytest.raises(ValueError, match=r"save_weights: .* is not UTF-8") as caught:
        am.save_weights(state, path, metadata)
    assert str(path) in str(caught.value) and not path.exists()
    with pytest.raises(ValueError, match=r"save: bad key .*'\\udcff'") as caught:
        am.save({"model": {"\udcff": np.ones(1)}}, tmp_path / "c.npz")
    assert str(tmp_path / "c.npz") in str(caught.value) and not list(tmp_path.iterdir())


def test_nan_and_inf_load_as_in_pytorch(tmp_path: Path) -> None:
    """Not refused: a diverged model's weights are still its weights (docs/interop.md)."""
    model = nn.Sequential(nn.Linear(2, 2))
    state = {"0.weight": np.full((2, 2), np.nan, np.float32), "0.bias": np.full(2, np.inf)}
    am.save_weights({**state, "0.bias": state["0.bias"].astype(np.float32)}, tmp_path / "n.st")
    am.load_weights(tmp_path / "n.st", model=model)
    assert np.isnan(model[0].weight.data).all() and np.isinf(model[0].bias.data).all()


# ----- the CLI -----
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "run"
    cfg = runs.RunConfig(
        model="two-layer",
        model_config={"hidden": 8},
        epochs=1,
        batch_size=16,
        out=str(out),
        progress=False,
    )
    runs.train_run(cfg, data=synthetic_data(n_train=32, n_test=16, seed=6))
    return out


def test_cli_export_to_a_folder_does_not_suggest_force(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # fixed: without --force it said "exists; pass --force", which then failed otherwise
    args = ["export", str(run_dir), "--format", "safetensors", "-o", str(run_dir)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{run_dir} is a folder; expected a file path for -o"), err


def test_load_state_dict_of_a_torch_state_dict_as_documented() -> None:
    """docs/interop.md: strict refuses num_batches_tracked; strict=False returns it."""
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    theirs.train()
    theirs(torch.randn(5, 3))
    theirs.eval()
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).eval()
    with pytest.raises(RuntimeError, match=r"unexpected keys \['1.num_batches_tracked'\]"):
        ours.load_state_dict(theirs.state_dict())
    result = ours.load_state_dict(theirs.state_dict(), strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == ["1.num_batches_tracked"]
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    with torch.no_grad():
        want = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(x).data, want, atol=1e-6)
