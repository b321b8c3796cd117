"""train.py basics: train_step, fit, evaluate, the confusion matrix, optimizer/scheduler makers."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from autograd_mnist import Tensor, nn, optim, train
from autograd_mnist.data import synthetic_data
from autograd_mnist.rng import manual_seed
from autograd_mnist.train import EpochMetrics, Evaluation

(X, Y), (XT, YT) = synthetic_data(n_train=96, n_test=48, seed=4)


def _net() -> nn.Sequential:
    manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 10)
    )


def test_evaluate_matches_a_direct_computation() -> None:
    model = _net()
    ev = train.evaluate(model, XT, YT, batch_size=20)  # uneven batches: 20 + 20 + 8
    assert model.training  # mode restored
    assert ev.predictions.shape == (48,) and ev.predictions.dtype == np.int64
    assert ev.probabilities.shape == (48, 10)
    np.testing.assert_allclose(ev.probabilities.sum(axis=1), 1.0, rtol=1e-5)
    model.eval()
    logits = model(Tensor(XT)).data
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert ev.loss == pytest.approx(float(-logp[np.arange(48), YT].mean()), rel=1e-5)
    assert ev.accuracy == pytest.approx(float(np.mean(logits.argmax(axis=1) == YT)))


def test_confusion_matrix() -> None:
    ev = Evaluation(
        loss=0.0,
        accuracy=0.6,
        predictions=np.array([0, 1, 1, 2, 2]),
        probabilities=np.zeros((5, 3), np.float32),
    )
    cm = ev.confusion_matrix(np.array([0, 1, 2, 2, 0]), num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 0, 1], [0, 1, 0], [0, 1, 1]])
    model = _net()
    ev = train.evaluate(model, XT, YT)
    cm = ev.confusion_matrix(YT)
    assert cm.shape == (10, 10) and cm.sum() == 48
    assert np.trace(cm) == round(ev.accuracy * 48)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(YT, minlength=10))


def test_train_step_updates_and_counts() -> None:
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = [p.data.copy() for p in model.parameters()]
    loss, correct = train.train_step(model, opt, X[:16], Y[:16])
    assert np.isfinite(loss) and 0 <= correct <= 16
    assert all(not np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))


def test_fit_learns_and_reports_each_epoch() -> None:
    model = _net()
    opt = train.make_optimizer("adam", model.parameters(), lr=1e-2)
    sched = train.make_scheduler("step", opt, epochs=6)
    seen: list[EpochMetrics] = []
    history = train.fit(
        model,
        opt,
        (X, Y),
        (XT, YT),
        epochs=6,
        batch_size=32,
        scheduler=sched,
        progress=False,
        on_epoch_end=seen.append,
    )
    assert [m.epoch for m in history] == [1, 2, 3, 4, 5, 6] and seen == history
    assert history[-1].train_loss < history[0].train_loss
    assert history[-1].test_accuracy > 0.5  # synthetic classes are easy
    assert [m.lr for m in history] == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4])
    assert all(m.seconds >= 0 for m in history)
    assert set(history[0].as_dict()) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "lr",
        "seconds",
    }


def test_fit_continues_from_start_epoch() -> None:
    model = _net()
    opt = train.make_optimizer("sgd", model.parameters(), lr=0.1)
    history = train.fit(
        model, opt, (X, Y), None, epochs=3, start_epoch=2, batch_size=48, progress=False
    )
    assert [m.epoch for m in history] == [3]
    assert np.isnan(history[0].test_accuracy)


def test_fit_is_reproducible_from_the_seed() -> None:
    def once() -> list[np.ndarray]:
        model = _net()  # seeds the package generator
        opt = train.make_optimizer("momentum", model.parameters(), lr=0.05)
        train.fit(model, opt, (X, Y), None, epochs=2, batch_size=16, progress=False)
        return [p.data for p in model.parameters()]

    for a, b in zip(once(), once()):
        np.testing.assert_array_equal(a, b)


def test_makers_reject_unknown_names() -> None:
    params = _net().parameters()
    with pytest.raises(ValueError, match="unknown 'lbfgs'"):
        train.make_optimizer("lbfgs", params, lr=0.1)
    opt = train.make_optimizer("Adam", params, lr=0.1, weight_decay=0.01)
    assert isinstance(opt, optim.Adam) and opt.param_groups[0]["weight_decay"] == 0.01
    assert train.make_scheduler("none", opt, 5) is None
    assert isinstance(train.make_scheduler("cosine", opt, 5), optim.CosineAnnealingLR)
    with pytest.raises(ValueError, match="unknown 'linear'"):
        train.make_scheduler("linear", opt, 5)


def test_fit_without_tqdm_prints_plain_progress_and_one_line_per_epoch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import tqdm.auto now fails
    model = _net()
    opt = train.make_optimizer("sgd", model.parameters(), lr=0.1)
    history = train.fit(model, opt, (X, Y), (XT, YT), epochs=1, batch_size=32, progress=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == train.format_epoch(history[0], 1)
    assert lines[-1].startswith("epoch 1/1: train loss ") and "| test loss " in lines[-1]
    assert lines[-2].startswith("epoch 1/1: 3/3 loss=")  # the plain bar's last line
