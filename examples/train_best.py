"""The project's best model, trained into a run folder (same as the CLI's default).

``models.best``: (Conv 3x3 -> MaxPool -> BatchNorm -> ReLU) x 2 with 32 and 64 channels,
Conv 3x3 64 (no padding) -> BatchNorm -> ReLU, then Dense 256 -> ReLU -> Dropout -> Dense
10; Adam with a one-cycle schedule peaking at lr 2e-3, batch 128, random shifts of up to 2
pixels, label smoothing 0.1, an EMA of the weights (decay 0.999) as the result, 12 epochs
(``models.TRAIN_DEFAULTS["best"]``).
Equivalent to ``autograd-mnist train``.

    python examples/train_best.py                       # full run on MNIST
    python examples/train_best.py --epochs 1 --limit 10000
    python examples/train_best.py --dataset fashion     # Fashion-MNIST
    python examples/train_best.py --quick               # synthetic data, offline (checks
                                                        # that it runs; no MNIST score)

Interrupt it with Ctrl-C and continue with ``autograd-mnist train --resume RUN_DIR``.
"""

from __future__ import annotations

import argparse

from autograd_mnist import models, runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(runs.DATASETS), default="mnist")
    epochs = models.TRAIN_DEFAULTS["best"]["epochs"]
    parser.add_argument("--epochs", type=int, default=None, help=f"default: the model's ({epochs})")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="run folder (default runs/<timestamp>)")
    parser.add_argument("--quick", action="store_true", help="tiny synthetic data, offline")
    args = parser.parse_args(argv)

    config = runs.RunConfig(
        model="best",
        dataset=args.dataset,
        epochs=args.epochs,
        limit=args.limit,
        seed=args.seed,
        out=args.out,
    )
    data = None
    if args.quick:
        data = runs.synthetic_data(n_train=64, n_test=32)
        config.epochs, config.batch_size, config.progress = 1, 32, False
    try:
        result = runs.train_run(config, data=data)
    except runs.RunInterrupted as exc:
        print(exc)
        return 130
    s = result.summary
    print(
        f"best model: test accuracy {s['test_accuracy']:.2%}, loss {s['test_loss']:.4f}, "
        f"{s['seconds_per_epoch']:.1f} s per epoch, peak memory {s['peak_memory_mib']:.0f} MiB"
    )
    if args.quick:
        print(
            "--quick trained on synthetic data: this only checks that the example runs; "
            "the model's score on real MNIST would mean nothing"
        )
    else:
        print(
            f"inspect it with: autograd-mnist evaluate {result.run_dir}  /  "
            f"autograd-mnist show {result.run_dir}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
