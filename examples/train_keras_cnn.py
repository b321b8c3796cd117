"""R2: the Keras tutorial's CNN, trained into a run folder, with R2's pictures.

The network (``models.keras_cnn``, CLI name ``keras-cnn``): Conv 16 5x5 'same' + ReLU ->
MaxPool 2 -> Flatten 3136 -> Dense 1024 ReLU -> Dense 10; 3,222,954 parameters. Adam
(lr 1e-3), batch 128, 10 epochs; Keras reached 98.19% test accuracy after epoch 1 and
98.97% after epoch 10.

    python examples/train_keras_cnn.py                 # 10 epochs on MNIST (slow on a CPU)
    python examples/train_keras_cnn.py --epochs 1      # one epoch: about 98%
    python examples/train_keras_cnn.py --quick         # synthetic data, offline

Everything goes into the run folder (``--out``, default ``runs/example-keras-cnn``): the
usual ``config.json``, ``metrics.csv``, ``checkpoint.npz``, ``summary.json``, ``loss.png``
and ``accuracy.png``, plus R2's pictures: ``first_images.png`` (the first 10 training
images with their labels), ``filters.png`` and ``feature_maps.png`` (the 16 filters and
their outputs for 9 test images, before and after pooling) and ``misclassified.png``
(the first 10 misclassified test images with their probabilities).

R2 is a reference experiment: docs/reference_experiments.md describes it and has the
figures these commands measured.
"""

from __future__ import annotations

import argparse

from autograd_mnist import plots, runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images")
    parser.add_argument("--out", default="runs/example-keras-cnn", help="the run folder")
    parser.add_argument("--quick", action="store_true", help="tiny synthetic data, offline")
    args = parser.parse_args(argv)

    config = runs.RunConfig(
        model="keras-cnn",
        optimizer="adam",
        lr=1e-3,
        batch_size=128,
        epochs=args.epochs,
        limit=args.limit,
        out=args.out,
    )
    data = None
    if args.quick:
        data = runs.synthetic_data(n_train=64, n_test=32)
        config.epochs, config.batch_size, config.progress = 1, 32, False
    else:
        data = runs.load_data("mnist")
    try:
        result = runs.train_run(config, data=data)
    except runs.RunInterrupted as exc:  # Ctrl-C: the message says how to resume
        print(exc)
        return 130
    print(
        f"test accuracy {result.summary['test_accuracy']:.2%} after "
        f"{result.summary['epochs']} epochs (R2 with Keras: 98.97% after 10)"
    )

    (x_train, y_train), (x_test, y_test) = data
    try:
        first = plots.plot_images(
            x_train[:10],
            [int(t) for t in y_train[:10]],
            result.run_dir / "first_images.png",
            title="the first 10 training images",
        )
        paths, notes = plots.model_figures(
            result.model, x_test, y_test, result.run_dir, images=9, name="keras-cnn"
        )
    except plots.MissingMatplotlib as exc:
        print(f"pictures skipped: {exc}")
        return 0
    for note in notes:
        print(note)
    for path in [first, *paths]:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
