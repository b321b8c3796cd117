"""R0: a small CNN trained one image at a time with plain SGD.

R0 is the first reference experiment (see docs/reference_experiments.md, which also has
the figures these commands measured). Its network (``models.cnn``, CLI name ``cnn``):
Conv 32 3x3 (no activation, filters N(0, 0.5)) -> MaxPool 2 -> Flatten 5408 -> Dense 128
ReLU -> Dense 10, dense layers He-initialised; cross-entropy loss, SGD lr 0.03, batch size
1, the first 300 training images in order. R0 wrote the loops by hand; here the engine
does the calculus, and the whole run takes seconds instead of minutes.

    python examples/train_cnn.py                  # 300 MNIST images, as in R0
    python examples/train_cnn.py --images 3000    # more data, better accuracy
    python examples/train_cnn.py --quick          # synthetic data, offline

Writes to ``--out`` (default ``runs/example-cnn``): ``loss.png`` (loss per image and
accuracy per 10 images, as R0 plotted them), ``filters.png`` (the 32 learned filters),
and ``cnn.npz`` (the weights; reload with ``model.load_state_dict(load(path))``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_mnist as am
from autograd_mnist import models, nn, plots, serialization, train
from autograd_mnist.data import load_mnist, synthetic_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="training images (R0: 300)")
    parser.add_argument("--lr", type=float, default=0.03, help="SGD learning rate (R0: 0.03)")
    parser.add_argument("--index", type=int, default=4000, help="test image to predict")
    parser.add_argument("--out", default="runs/example-cnn", help="output folder")
    parser.add_argument("--quick", action="store_true", help="tiny synthetic data, offline")
    args = parser.parse_args(argv)

    if args.quick:
        (x_train, y_train), (x_test, y_test) = synthetic_data(n_train=40, n_test=50)
        args.images, args.index = min(args.images, 40), min(args.index, 49)
    else:
        (x_train, y_train), (x_test, y_test) = load_mnist(flatten=False)
    x_train, y_train = x_train[: args.images], y_train[: args.images]

    am.manual_seed(0)
    model = models.build_model("cnn")
    optimizer = train.make_optimizer("sgd", model.parameters(), lr=args.lr)

    losses, accuracies, correct = [], [], 0
    for i in range(len(x_train)):  # batch size 1, images in order, as in R0
        loss, hit = train.train_step(model, optimizer, x_train[i : i + 1], y_train[i : i + 1])
        losses.append(loss)
        correct += hit
        if (i + 1) % 10 == 0:
            accuracies.append(correct / 10)
            correct = 0
        if (i + 1) % 50 == 0:
            print(
                f"image {i + 1}/{len(x_train)}: mean loss of the last 50 "
                f"{np.mean(losses[-50:]):.4f}"
            )

    result = train.evaluate(model, x_test, y_test)
    print(
        f"test accuracy {result.accuracy:.2%} on {len(y_test)} images (trained on {len(x_train)})"
    )
    i = args.index
    print(f"answer is {y_test[i]} / prediction is {result.predictions[i]}")

    conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    serialization.save(model.state_dict(), out / "cnn.npz")
    try:
        plots.plot_series(
            {"loss": losses, "accuracy / 10 images": accuracies},
            out / "loss.png",
            xlabel="training image",
            title="R0: SGD, batch size 1",
            every={"accuracy / 10 images": 10},
        )
        plots.plot_filters(conv.weight.data, out / "filters.png", title="the 32 learned filters")
        print(f"wrote {out / 'loss.png'}, {out / 'filters.png'}, {out / 'cnn.npz'}")
    except plots.MissingMatplotlib as exc:
        print(f"plots skipped: {exc}; wrote {out / 'cnn.npz'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
