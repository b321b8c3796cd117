"""Every example runs with --quick: synthetic data, a few seconds, no network."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import ROOT, run_python

# example -> lines its output must contain
EXAMPLES = {
    "quickstart.py": ["test accuracy", "confusion matrix"],
    "train_cnn.py": ["answer is", "/ prediction is", "test accuracy"],
    "train_keras_cnn.py": ["run folder:", "test accuracy"],
    "train_two_layer.py": ["R3: untrained", "R1 check", "backprop:"],
    "train_mlp.py": ["R4 MLP", "accuracy"],
    "train_best.py": ["best model: test accuracy", "--quick trained on synthetic data"],
    "plot_graph.py": ["graph written to"],
    # PyTorch's MNIST example: its log lines, two epochs
    "pytorch_mnist.py": ["Train Epoch: 2 [0/256 (0%)]", "Test set: Average loss:"],
}
# example -> text its --quick output must not contain
ABSENT = {
    # a model trained on synthetic data scores nothing meaningful on MNIST: no such advice
    "train_best.py": ["autograd-mnist evaluate"],
}


def _run(script: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        # One BLAS thread: fast and steady even when other processes share the cores.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "AUTOGRAD_MNIST_DATA": str(cwd / "no-data-here"),  # any load attempt would fail
    }
    return run_python([str(ROOT / "examples" / script), "--quick", *args], cwd=cwd, env=env)


# example -> files it writes (under the working directory); PNGs only with matplotlib
FILES = {
    "plot_graph.py": ["graph.dot"],  # the DOT text: --quick needs no Graphviz
    "train_cnn.py": [
        "runs/example-cnn/cnn.npz",
        "runs/example-cnn/loss.png",
        "runs/example-cnn/filters.png",
    ],
    "train_keras_cnn.py": [
        f"runs/example-keras-cnn/{name}"
        for name in (
            "checkpoint.npz",
            "summary.json",
            "loss.png",
            "accuracy.png",
            "first_images.png",
            "filters.png",
            "feature_maps.png",
            "misclassified.png",
        )
    ],
}


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("script", sorted(EXAMPLES))
def test_example_runs_quick(script: str, tmp_path: Path) -> None:
    result = _run(script, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for text in EXAMPLES[script]:
        assert text in result.stdout, (text, result.stdout)
    for text in ABSENT.get(script, []):
        assert text not in result.stdout, (text, result.stdout)
    for name in FILES.get(script, []):
        if name.endswith(".png") and not _has_matplotlib():
            continue
        assert (tmp_path / name).is_file(), name
    assert not (tmp_path / "no-data-here").exists()


def test_pytorch_example_saves_a_state_dict_that_loads_back(tmp_path: Path) -> None:
    """``--save-model`` writes what ``Net().load_state_dict(am.load(...))`` takes back."""
    import importlib.util

    import autograd_mnist as am

    result = _run("pytorch_mnist.py", tmp_path, "--save-model")
    assert result.returncode == 0, result.stdout + result.stderr
    spec = importlib.util.spec_from_file_location(
        "pytorch_mnist", ROOT / "examples" / "pytorch_mnist.py"
    )
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    model = example.Net()
    state = am.load(tmp_path / "mnist_cnn.npz")
    model.load_state_dict(state)
    assert all((p.data == state[name]).all() for name, p in model.named_parameters()) and set(
        state
    ) == set(model.state_dict())
