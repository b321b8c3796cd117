"""viz: DOT text by exact comparison, labels, gradient norms, long graphs, rendering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import needs_dot

import autograd_mnist as am
from autograd_mnist import functional as F
from autograd_mnist.viz import draw, to_dot

TINY = """\
digraph autograd {
\tnode [fontsize=10]
\tedge [fontsize=10]
\tt0 [label="() float32" fillcolor=palegreen shape=ellipse style=filled]
\top0 [label="Sum\\naxes=(0,), keepdim=False" fillcolor=lightgrey shape=box style=filled]
\top0 -> t0
\tt1 -> op0
\tt1 [label="(2,) float32" shape=ellipse]
\top1 [label=Mul fillcolor=lightgrey shape=box style=filled]
\top1 -> t1
\tt2 -> op1 [label=0]
\tt3 -> op1 [label=1]
\tt2 [label="x\\n(2,) float32" fillcolor=lightblue shape=ellipse style=filled]
\tt3 [label="() float32" shape=ellipse style=dashed]
}
"""


def _tiny() -> am.Tensor:
    x = am.tensor([1.0, 2.0], requires_grad=True, name="x")
    return (x * 2.0).sum()


def _mlp(rng: np.random.Generator) -> tuple[am.Tensor, list[am.Tensor]]:
    w = am.Tensor(rng.standard_normal((3, 5)), requires_grad=True, name="fc.weight")
    b = am.Tensor(rng.standard_normal(3), requires_grad=True, name="fc.bias")
    x = am.Tensor(rng.standard_normal((4, 5)), name="batch")
    loss = F.cross_entropy(F.relu(F.linear(x, w, b)), np.array([0, 1, 2, 0]))
    return loss, [w, b]


def test_tiny_graph_source_is_exact() -> None:
    assert to_dot(_tiny()).source == TINY


def test_labels_show_names_shapes_dtypes_and_op_names(rng: np.random.Generator) -> None:
    loss, _ = _mlp(rng)
    src = to_dot(loss).source
    assert '"fc.weight\\n(3, 5) float64" fillcolor=lightblue' in src
    assert '"fc.bias\\n(3,) float64" fillcolor=lightblue' in src
    assert '"batch\\n(4, 5) float64" shape=ellipse style=dashed' in src  # data, not a param
    for op in ("Linear", "ReLU", "CrossEntropy"):
        assert f"label={op} " in src or f'label="{op}\\n' in src
    assert "reduction='mean'" in src and "target=ndarray(4,)" in src  # the op's parameters
    assert "(4, 3) float64" in src
    assert "grad norm" not in src


def test_show_grad_adds_leaf_gradient_norms(rng: np.random.Generator) -> None:
    loss, (w, b) = _mlp(rng)
    loss.backward(retain_graph=True)
    src = to_dot(loss, show_grad=True).source
    for p in (w, b):
        assert p.grad is not None
        norm = float(np.linalg.norm(p.grad.data))
        assert f"{p.name}\\n{p.shape} float64\\ngrad norm {norm:.4g}" in src
    assert src.count("grad norm") == 2  # only leaves have .grad
    assert "grad norm" not in to_dot(loss).source


def test_deterministic_across_calls_and_rebuilds(rng: np.random.Generator) -> None:
    seed = int(rng.integers(1000))
    loss1, _ = _mlp(np.random.default_rng(seed))
    loss2, _ = _mlp(np.random.default_rng(seed))
    assert to_dot(loss1).source == to_dot(loss1).source == to_dot(loss2).source


def test_shared_input_is_one_node() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True, name="x")
    src = to_dot(x * x).source
    assert src.count('label="x\\n') == 1
    assert "t1 -> op0 [label=0]" in src and "t1 -> op0 [label=1]" in src


def test_leaf_root_and_escaped_name() -> None:
    t = am.tensor(np.zeros((2, 3), dtype=np.float64), requires_grad=True, name='a"b\\c')
    src = to_dot(t).source
    assert 't0 [label="a\\"b\\\\c\\n(2, 3) float64" fillcolor=lightblue' in src
    assert "op0" not in src


def test_ten_thousand_op_chain() -> None:
    x = am.tensor([1.0], requires_grad=True, name="x")
    y = x
    for _ in range(10_000):
        y = y * 1.0
    src = to_dot(y).source
    assert src.count("label=Mul ") == 10_000
    assert "t20000 [" in src and "t20001" not in src  # 10,001 results + 10,000 constants


def test_freed_graph_raises() -> None:
    y = _tiny()
    y.backward()
    with pytest.raises(RuntimeError, match="freed by backward.*retain_graph=True"):
        to_dot(y)


@needs_dot
@pytest.mark.parametrize(
    ("name", "magic"), [("g.svg", b"<?xml"), ("g.PNG", b"\x89PNG"), ("g.pdf", b"%PDF")]
)
def test_draw_renders_with_dot(tmp_path: Path, name: str, magic: bytes) -> None:
    out = draw(_tiny(), tmp_path / name)
    assert out == tmp_path / name
    data = out.read_bytes()
    assert data.startswith(magic)
    if name.endswith(".svg"):
        assert b"<svg" in data[:1000] and b">Mul<" in data


def test_draw_without_dot_binary_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    y = _tiny()
    with pytest.raises(RuntimeError, match="apt-get install graphviz") as info:
        draw(y, tmp_path / "g.svg")
    assert "brew install graphviz" in str(info.value) and "conda" in str(info.value)
    assert not (tmp_path / "g.svg").exists()
    assert to_dot(y).source == TINY  # the DOT text needs no binary


@pytest.mark.parametrize("name", ["g.jpg", "g", "g.svg.txt"])
def test_draw_rejects_other_extensions(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="unsupported file extension"):
        draw(_tiny(), tmp_path / name)
    assert not (tmp_path / name).exists()
