"""AveragedModel / get_ema_multi_avg_fn (PyTorch's swa_utils), and the EMA in training.

The average follows PyTorch's rules (first update copies, then ``avg += (1 - decay) *
(model - avg)``, buffers averaged with ``use_buffers=True`` or copied without), matches
``torch.optim.swa_utils.AveragedModel`` when torch is installed, round-trips through its
state_dict, is what ``fit`` evaluates, and is what a checkpoint restores by default.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograd_mnist import Tensor, nn, optim, runs, train
from autograd_mnist.checkpoint import load_checkpoint, restore_model
from autograd_mnist.config import RunConfig
from autograd_mnist.data import synthetic_data
from autograd_mnist.optim import AveragedModel, get_ema_multi_avg_fn, get_swa_multi_avg_fn
from autograd_mnist.rng import manual_seed

(X, Y), (XT, YT) = synthetic_data(n_train=64, n_test=32, seed=2)


def _net() -> nn.Sequential:
    manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.BatchNorm1d(8), nn.Linear(8, 10))


def _perturb(model: nn.Module, rng: np.random.Generator) -> None:
    """New random weights and running statistics, in place."""
    for p in model.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    for _, b in model.named_buffers():
        b[...] = rng.random(b.shape) + 0.5


def _arrays(model: nn.Module) -> dict[str, np.ndarray]:
    return model.state_dict()


def test_ema_follows_the_formula_with_buffers_averaged(rng: np.random.Generator) -> None:
    model = _net()
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    _perturb(model, rng)
    ema.update_parameters(model)  # the first update copies
    want = {k: v.astype(np.float64) for k, v in _arrays(model).items()}
    for _ in range(3):
        _perturb(model, rng)
        ema.update_parameters(model)
        want = {k: 0.9 * v + 0.1 * _arrays(model)[k] for k, v in want.items()}
    got = _arrays(ema.module)
    assert got.keys() == want.keys() and int(ema.n_averaged) == 4
    for k, v in want.items():
        np.testing.assert_allclose(got[k], v, rtol=1e-5, atol=1e-6, err_msg=k)


def test_without_use_buffers_the_buffers_are_copied(rng: np.random.Generator) -> None:
    model = _net()
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.5))
    for _ in range(3):
        _perturb(model, rng)
        ema.update_parameters(model)
    assert np.array_equal(ema.module[2].running_mean, model[2].running_mean)  # type: ignore[index]
    assert not np.array_equal(ema.module[1].weight.data, model[1].weight.data)  # type: ignore[index]


def test_default_is_the_plain_mean(rng: np.random.Generator) -> None:
    model = _net()
    swa = AveragedModel(model)
    seen = []
    for _ in range(4):
        _perturb(model, rng)
        swa.update_parameters(model)
        seen.append(model[1].weight.data.copy())  # type: ignore[index]
    np.testing.assert_allclose(
        swa.module[1].weight.data, np.mean(seen, axis=0), rtol=1e-5, atol=1e-6
    )  # type: ignore[index]
    a, c = [np.ones(2, np.float32)], [np.full(2, 4.0, np.float32)]
    get_swa_multi_avg_fn()(a, c, 2)  # the mean of 2 ones and one 4
    assert np.array_equal(a[0], np.full(2, 2.0, np.float32))


def test_matches_torch_averaged_model(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    swa_utils = pytest.importorskip("torch.optim.swa_utils")
    ours = _net()
    theirs = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(784, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 10)
    )
    fn = swa_utils.get_ema_multi_avg_fn(0.8)
    t_ema = swa_utils.AveragedModel(theirs, multi_avg_fn=fn, use_buffers=True)
    o_ema = AveragedModel(ours, multi_avg_fn=get_ema_multi_avg_fn(0.8), use_buffers=True)
    for _ in range(4):
        _perturb(ours, rng)
        theirs.load_state_dict(
            {k: torch.from_numpy(v) for k, v in ours.state_dict().items()}, strict=False
        )
        o_ema.update_parameters(ours)
        t_ema.update_parameters(theirs)
    t_state = t_ema.module.state_dict()
    for k, v in o_ema.module.state_dict().items():
        np.testing.assert_allclose(v, t_state[k].numpy(), rtol=1e-6, atol=1e-6, err_msg=k)


def test_state_dict_round_trip_continues_identically(rng: np.random.Generator) -> None:
    model = _net()
    a = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.7), use_buffers=True)
    for _ in range(2):
        _perturb(model, rng)
        a.update_parameters(model)
    state = a.state_dict()
    assert "n_averaged" in state and "module.1.weight" in state
    b = AveragedModel(_net(), multi_avg_fn=get_ema_multi_avg_fn(0.7), use_buffers=True)
    b.load_state_dict(state)
    _perturb(model, rng)
    a.update_parameters(model)
    b.update_parameters(model)
    for k, v in a.state_dict().items():
        assert np.array_equal(v, b.state_dict()[k]), k


def test_bad_decay_and_mismatched_model() -> None:
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"decay must be in \\[0, 1\\]; got {bad}"):
            get_ema_multi_avg_fn(bad)
    ema = AveragedModel(_net())
    with pytest.raises(ValueError, match="the model's arrays do not match"):
        ema.update_parameters(nn.Sequential(nn.Linear(3, 2)))


def test_fit_updates_after_each_step_and_evaluates_the_average() -> None:
    model = _net()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    ema = train.make_ema(model, 0.9)
    assert ema is not None and train.make_ema(model, 0.0) is None
    history = train.fit(
        model, opt, (X, Y), (XT, YT), epochs=2, batch_size=16, progress=False, ema=ema
    )
    assert int(ema.n_averaged) == 8  # 4 steps per epoch
    assert train.eval_model(model, ema) is ema.module and train.eval_model(model, None) is model
    scored = train.evaluate(ema.module, XT, YT)
    assert history[-1].test_loss == scored.loss != train.evaluate(model, XT, YT).loss


def test_checkpoint_restores_the_average_unless_asked_for_the_trained_weights(
    tmp_path: Path,
) -> None:
    cfg = RunConfig(
        model="mlp",
        model_config={"hidden": [16], "batch_norm": True},
        epochs=2,
        batch_size=16,
        ema=0.9,
        out=str(tmp_path / "run"),
        progress=False,
    )
    result = runs.train_run(cfg, data=((X, Y), (XT, YT)))
    ckpt = load_checkpoint(tmp_path / "run")
    averaged, trained = restore_model(ckpt), restore_model(ckpt, averaged=False)
    for k, v in result.model.state_dict().items():  # the run's result is the average
        assert np.array_equal(averaged.state_dict()[k], v), k
    assert not np.array_equal(trained.state_dict()["1.weight"], averaged.state_dict()["1.weight"])
    assert np.array_equal(trained.state_dict()["1.weight"], ckpt["model_state"]["1.weight"])
    logits = averaged(Tensor(XT)).data
    acc = float(np.mean(logits.argmax(axis=1) == YT))
    assert result.summary["test_accuracy"] == pytest.approx(acc)


def test_warmup_uses_the_smaller_decay_early_on() -> None:
    plain, warm = get_ema_multi_avg_fn(0.99), get_ema_multi_avg_fn(0.99, warmup=True)
    for n, want in ((1, 2 / 11), (10, 11 / 20), (1000, 0.99)):  # min(0.99, (1+n)/(10+n))
        a, b = [np.zeros(1)], [np.zeros(1)]
        warm(a, [np.ones(1)], n)
        plain(b, [np.ones(1)], n)
        np.testing.assert_allclose(a[0], 1 - want, rtol=1e-12)
        np.testing.assert_allclose(b[0], 1 - 0.99, rtol=1e-12)
