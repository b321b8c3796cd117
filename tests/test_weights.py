"""safetensors weights: round trips for every preset, run folders, the CLI, hostile files."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy

import autograd_mnist as am
from autograd_mnist import cli, config, models, runs, weights
from autograd_mnist.checkpoint import load_checkpoint, restore_model
from autograd_mnist.data import synthetic_data

DATA = synthetic_data(n_train=48, n_test=16, seed=3)


def _randomized(name: str) -> am.nn.Module:
    """A preset with every parameter and buffer random (so a mix-up cannot go unseen)."""
    model = models.build_model(name)
    gen = np.random.default_rng(0)
    state = {k: gen.random(v.shape).astype(v.dtype) + 0.5 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    return model


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_round_trip_of_every_preset(name: str, tmp_path: Path) -> None:
    model = _randomized(name)
    path = tmp_path / "w.safetensors"
    am.save_weights(model, path, weights.preset_metadata(name))
    state = am.load_weights(path)
    ours = model.state_dict()
    batch_norms = [k for k in ours if k.endswith(".running_var")]
    for k in batch_norms:  # PyTorch's counter, added for its strict load_state_dict
        counter = state.pop(k.replace("running_var", "num_batches_tracked"))
        assert counter.dtype == np.int64 and counter.shape == ()
    assert state.keys() == ours.keys()
    for k, v in ours.items():
        assert state[k].dtype == v.dtype and np.array_equal(state[k], v), k
    fresh = models.build_model(name)
    am.load_weights(path, model=fresh)
    assert all(np.array_equal(a, ours[k]) for k, a in fresh.state_dict().items())
    rebuilt = weights.load_preset(path)
    assert not rebuilt.training
    x = am.tensor(DATA[1][0][:4])
    with am.no_grad():
        assert np.array_equal(rebuilt(x).data, model.eval()(x).data)


@pytest.mark.parametrize(
    ("name", "then", "layer", "claimed"),
    [
        # before pool_first: batch norm before the pooling, at index 1
        (
            "best",
            {"pool_first": False, "hidden": 128, "channels": (32, 64)},
            (1, "BatchNorm2d"),
            {"pool_first": True},
        ),
        ("fast", {"pool_first": False}, (1, "BatchNorm2d"), {"pool_first": True}),
        # before best's third block: two conv blocks, then Flatten at index 8
        ("best", {"channels": (32, 64)}, (8, "Flatten"), {"channels": [32, 64, 64]}),
    ],
)
def test_weights_and_checkpoints_of_an_earlier_layout_load_in_it(
    name: str,
    then: dict[str, Any],
    layer: tuple[int, str],
    claimed: dict[str, Any],
    tmp_path: Path,
) -> None:
    """Files and checkpoints of ``best``/``fast`` from before ``pool_first``, or from
    before ``best``'s third block, do not name the option that changed (``then`` is what
    they were); they load in the layout they were trained in. Metadata that claims today's
    layout for them is refused."""
    am.manual_seed(3)
    old = models.build_model(name, **then)
    old.train()
    x = am.tensor(DATA[1][0][:8])
    with am.no_grad():
        old(x)  # running statistics away from (0, 1)
    old.eval()
    with am.no_grad():
        want = old(x).data
    path = tmp_path / "w.safetensors"
    am.save_weights(old, path, weights.preset_metadata(name))  # config {}, as it was
    rebuilt = weights.load_preset(path)
    index, kind = layer
    assert type(rebuilt[index]).__name__ == kind and len(rebuilt) == len(old)
    ckpt = {"model": {"name": name, "config": {}}, "model_state": old.state_dict(), "ema": None}
    for model in (rebuilt, restore_model(ckpt)):
        with am.no_grad():
            assert np.array_equal(model(x).data, want)
    with pytest.raises(ValueError, match="does not fit"):  # said today's layout: refused
        bad = tmp_path / "bad.safetensors"
        am.save_weights(old, bad, weights.preset_metadata(name, claimed))
        weights.load_preset(bad)


def test_metadata_names_the_preset_and_format(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    am.save_weights(
        models.build_model("mlp", hidden=[8]), path, weights.preset_metadata("mlp", {"hidden": [8]})
    )
    meta = weights.weights_metadata(path)
    assert meta == {"format": "pt", "model": "mlp", "model_config": '{"hidden": [8]}'}
    assert weights.load_preset(path).state_dict()["1.weight"].shape == (8, 784)


def test_a_state_dict_saves_too_and_bad_input_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.safetensors"
    am.save_weights({"a": np.arange(3.0), "t": am.tensor([1.0, 2.0])}, path, {"note": "x"})
    state = am.load_weights(path)
    assert state["a"].tolist() == [0.0, 1.0, 2.0] and state["t"].dtype == np.float32
    with pytest.raises(TypeError, match="metadata .* must map str to str"):
        am.save_weights({"a": np.zeros(1)}, path, {"n": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="key 'a' .* dtype <U1"):
        am.save_weights({"a": np.array(["x"])}, path)
    with pytest.raises(TypeError, match="expected a Module or a state dict"):
        am.save_weights([1, 2], path)  # type: ignore[arg-type]


def _bn_model() -> am.nn.Module:
    return models.build_model("mlp", hidden=[4], batch_norm=True)


def _write(path: Path, state: dict[str, np.ndarray]) -> Path:
    path.write_bytes(safetensors.numpy.save(state))
    return path


def test_errors_name_the_file_and_every_key(tmp_path: Path) -> None:
    good = _bn_model().state_dict()
    path = tmp_path / "bad.safetensors"
    state = {k: v for k, v in good.items() if k != "1.weight"}
    state["extra"] = np.zeros(2, np.float32)
    state["4.bias"] = np.zeros(3, np.float32)  # shape (10,) in the model
    state["2.running_mean"] = np.zeros(4, np.int64)  # integers where floats belong
    _write(path, state)
    model = _bn_model()
    before = model.state_dict()
    with pytest.raises(ValueError) as info:
        am.load_weights(path, model=model)
    msg = str(info.value)
    for text in (
        str(path),
        "missing keys ['1.weight']",
        "unexpected keys ['extra']",
        "key '4.bias': shape (3,), expected (10,)",
        "key '2.running_mean': dtype int64, expected float32",
    ):
        assert text in msg, (text, msg)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())  # unchanged


def test_pytorch_counter_dropped_and_wider_floats_converted(tmp_path: Path) -> None:
    state = {k: v.astype(np.float64) for k, v in _bn_model().state_dict().items()}
    state["2.num_batches_tracked"] = np.array(12, np.int64)
    model = _bn_model()
    loaded = am.load_weights(_write(tmp_path / "t.safetensors", state), model=model)
    assert "2.num_batches_tracked" not in loaded
    assert model.state_dict()["1.weight"].dtype == np.float32


def _header(doc: dict[str, object], data: bytes = b"") -> bytes:
    raw = json.dumps(doc).encode()
    return struct.pack("<Q", len(raw)) + raw + data


HOSTILE = {
    "empty": b"",
    "too short": b"\x01\x02\x03",
    "huge header length": struct.pack("<Q", 1 << 62) + b"{}",
    "not JSON": struct.pack("<Q", 5) + b"hello",
    "an npz": b"PK\x03\x04" + bytes(60),
    "data short of its offsets": _header(
        {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)
    ),
    "a shape that overflows": _header(
        {"w": {"dtype": "F32", "shape": [1 << 40, 1 << 30], "data_offsets": [0, 4]}}, bytes(4)
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_fail_cleanly_naming_the_file(case: str, tmp_path: Path) -> None:
    path = tmp_path / "h.safetensors"
    path.write_bytes(HOSTILE[case])
    with pytest.raises(ValueError, match="is not a readable safetensors file") as info:
        am.load_weights(path)
    assert str(path) in str(info.value)


def test_truncated_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    am.save_weights(_bn_model(), path)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match=f"'{path}' is not a readable safetensors file"):
        am.load_weights(path, model=_bn_model())


def test_bf16_is_read_as_float32_or_refused_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "b.safetensors"
    one_two = np.array([1.0, -2.0], np.float32).view(np.uint32) >> 16  # bf16: the top halves
    data = one_two.astype("<u2").tobytes()
    path.write_bytes(_header({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, data))
    if "ml_dtypes" in sys.modules:  # loaded by onnx or JAX: NumPy knows bfloat16
        state = am.load_weights(path)
        assert state["w"].dtype == np.float32 and state["w"].tolist() == [1.0, -2.0]
    else:
        with pytest.raises(ValueError, match=r"key 'w': cannot read it as a NumPy array"):
            am.load_weights(path)


def test_missing_file_and_metadata_without_preset(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no file"):
        am.load_weights(tmp_path / "none.safetensors")
    path = _write(tmp_path / "m.safetensors", {"a": np.zeros(1, np.float32)})
    with pytest.raises(ValueError, match="metadata names no preset"):
        weights.load_preset(path)


@pytest.mark.parametrize(
    ("name", "config", "message"),
    [
        ("best", '{"channels": [99999, 99999]}', "it would hold 90,"),
        ("two-layer", '{"hidden": 600000}', "it would hold 477,000,010 numbers"),
        ("two-layer", '{"a": ' * 100_000 + "1" + "}" * 100_000, "metadata names no preset"),
        ("two-layer", "[" * 100_000 + "]" * 100_000, "metadata names no preset"),
        ("mlp", '{"batch_norm": "false"}', "batch_norm: got 'false'"),
    ],
    ids=["huge best", "huge two-layer", "nested object", "nested list", "wrong type"],
)
def test_hostile_metadata_is_a_value_error_naming_the_file_before_building(
    name: str, config: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tampered ``model_config`` in the metadata: refused from the config and the arrays
    in the file, before a model is built (no MemoryError, no RecursionError)."""
    path = tmp_path / "w.safetensors"
    state = models.two_layer().state_dict()
    path.write_bytes(
        safetensors.numpy.save(state, metadata={"model": name, "model_config": config})
    )
    real = models.build_model
    monkeypatch.setattr(
        models,
        "build_model",
        lambda n, **c: pytest.fail("built") if "9999" in str(c) else real(n, **c),
    )
    with pytest.raises(ValueError, match=message) as caught:
        weights.load_preset(path)
    assert str(path) in str(caught.value)


# ----- run folders and the CLI -----
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("weights") / "run"
    cfg = runs.RunConfig(
        model="mlp",
        model_config={"hidden": [16], "batch_norm": True},
        epochs=2,
        batch_size=16,
        out=str(out),
        progress=False,
    )
    runs.train_run(cfg, data=DATA)
    return out


def test_run_folder_keeps_the_weights_of_its_checkpoint(run_dir: Path) -> None:
    ckpt = load_checkpoint(run_dir)
    state = am.load_weights(run_dir / weights.WEIGHTS)
    for k, v in ckpt["model_state"].items():
        assert np.array_equal(state[k], v), k
    meta = weights.weights_metadata(run_dir / weights.WEIGHTS)
    assert meta["model"] == "mlp" and json.loads(meta["model_config"]) == {
        "hidden": [16],
        "batch_norm": True,
    }


def test_cli_export_safetensors_converts_an_older_run(
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(config, "load_data", lambda *a, **k: DATA)
    old = tmp_path / "old"
    old.mkdir()
    for name in ("checkpoint.npz", "config.json"):  # a run folder from before the weights
        (old / name).write_bytes((run_dir / name).read_bytes())
    assert cli.main(["evaluate", str(old)]) == 0
    assert cli.main(["export", str(old), "--format", "safetensors"]) == 0
    assert f"wrote {old / weights.WEIGHTS}" in capsys.readouterr().out
    converted = am.load_weights(old / weights.WEIGHTS)
    original = am.load_weights(run_dir / weights.WEIGHTS)
    assert converted.keys() == original.keys()
    assert all(np.array_equal(converted[k], original[k]) for k in original)


def test_cli_export_refuses_to_overwrite_without_force(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = run_dir / weights.WEIGHTS
    assert cli.main(["export", str(run_dir), "--format", "safetensors"]) == 2
    err = capsys.readouterr().err
    assert f"{target} exists; pass --force" in err and len(err.strip().splitlines()) == 1
    out = tmp_path / "w.safetensors"
    out.write_text("mine")
    assert cli.main(["export", str(run_dir), "--format", "safetensors", "-o", str(out)]) == 2
    assert out.read_text() == "mine"
    args = ["export", str(run_dir), "--format", "safetensors", "-o", str(out), "--force"]
    assert cli.main(args) == 0
    assert weights.load_preset(out).state_dict().keys() == am.load_weights(target).keys() - {
        "2.num_batches_tracked"
    }


def test_cli_export_of_a_missing_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export", str(tmp_path / "nope"), "--format", "safetensors"]) == 2
    err = capsys.readouterr().err
    assert "no run folder or checkpoint at" in err and len(err.strip().splitlines()) == 1
