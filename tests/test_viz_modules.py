"""viz by module: ops recorded with the module calls running, clusters, collapse, backward
numbering, backward-graph styling, inline rendering, the CLI's DOT output."""

# ruff: noqa: E501  (DOT text compared verbatim: long lines inside the strings)
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, needs_dot, run_python

import autograd_mnist as am
from autograd_mnist import cli, nn, viz
from autograd_mnist.viz import to_dot

CLUSTERS = """\
digraph autograd {
\tnode [fontsize=10]
\tedge [fontsize=10]
\tt0 [label="() float32" fillcolor=palegreen shape=ellipse style=filled]
\top0 [label="Sum\\naxes=(0,), keepdim=False" fillcolor=lightgrey shape=box style=filled]
\top0 -> t0
\tt1 -> op0
\top1 -> t1
\tt2 -> op1
\top2 -> t2
\tt3 -> op2 [label=0]
\tt4 -> op2 [label=1]
\tsubgraph cluster_0 {
\t\tgraph [color=grey40 label=Outer style=rounded]
\t\tt1 [label="(2,) float32" shape=ellipse]
\t\top1 [label=Exp fillcolor=lightgrey shape=box style=filled]
\t\tsubgraph cluster_1 {
\t\t\tgraph [color=grey40 label="scale (Scale)" style=rounded]
\t\t\tt2 [label="(2,) float32" shape=ellipse]
\t\t\top2 [label=Mul fillcolor=lightgrey shape=box style=filled]
\t\t\tt3 [label="x\\n(2,) float32" fillcolor=lightblue shape=ellipse style=filled]
\t\t\tt4 [label="() float32" shape=ellipse style=dashed]
\t\t}
\t}
}
"""

COLLAPSED = """\
digraph autograd {
\tnode [fontsize=10]
\tedge [fontsize=10]
\tt0 [label="() float32" fillcolor=palegreen shape=ellipse style=filled]
\top0 [label="Sum\\naxes=(0,), keepdim=False" fillcolor=lightgrey shape=box style=filled]
\top0 -> t0
\tt1 -> op0
\top1 -> t1
\tt2 -> op1
\tm0 -> t2
\tt3 -> m0
\tsubgraph cluster_0 {
\t\tgraph [color=grey40 label=Outer style=rounded]
\t\tt1 [label="(2,) float32" shape=ellipse]
\t\top1 [label=Exp fillcolor=lightgrey shape=box style=filled]
\t\tt2 [label="(2,) float32" shape=ellipse]
\t\tm0 [label="scale (Scale)\\nin (2,)\\nout (2,)\\n0 parameters" fillcolor=lightyellow shape=box3d style=filled]
\t\tt3 [label="x\\n(2,) float32" fillcolor=lightblue shape=ellipse style=filled]
\t}
}
"""

NUMBERED = """\
digraph autograd {
\tnode [fontsize=10]
\tedge [fontsize=10]
\tt0 [label="() float32" fillcolor=palegreen shape=ellipse style=filled]
\top0 [label="1. Sum\\naxes=(0,), keepdim=False" fillcolor=lightgrey shape=box style=filled]
\top0 -> t0
\tt1 -> op0
\tt1 [label="(2,) float32" shape=ellipse]
\top1 [label="2. Exp" fillcolor=lightgrey shape=box style=filled]
\top1 -> t1
\tt2 -> op1
\tt2 [label="(2,) float32" shape=ellipse]
\top2 [label="3. Mul" fillcolor=lightgrey shape=box style=filled]
\top2 -> t2
\tt3 -> op2 [label=0]
\tt4 -> op2 [label=1]
\tt3 [label="x\\n(2,) float32" fillcolor=lightblue shape=ellipse style=filled]
\tt4 [label="() float32" shape=ellipse style=dashed]
}
"""

GRAD_GRAPH = """\
digraph autograd {
\tnode [fontsize=10]
\tedge [fontsize=10]
\tt0 [label="(2,) float32" fillcolor=palegreen shape=ellipse style=filled]
\top0 [label=Add fillcolor=moccasin shape=box style="filled,dashed"]
\top0 -> t0
\tt1 -> op0 [label=0]
\tt2 -> op0 [label=1]
\tt1 [label="(2,) float32" color=darkorange shape=ellipse]
\top1 [label=Mul fillcolor=moccasin shape=box style="filled,dashed"]
\top1 -> t1
\tt3 -> op1 [label=0]
\tt4 -> op1 [label=1]
\tt2 [label="(2,) float32" color=darkorange shape=ellipse]
\top2 [label=Mul fillcolor=moccasin shape=box style="filled,dashed"]
\top2 -> t2
\tt3 -> op2 [label=0]
\tt4 -> op2 [label=1]
\tt3 [label="(2,) float32" shape=ellipse style=dashed]
\tt4 [label="x\\n(2,) float32" fillcolor=lightblue shape=ellipse style=filled]
}
"""


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: am.Tensor) -> am.Tensor:
        return self.fc(x).relu()


def _net() -> nn.Sequential:
    am.manual_seed(0)
    return nn.Sequential(Block(), nn.Linear(2, 1))


def test_ops_keep_the_module_calls_running_outermost_first() -> None:
    net = _net()
    out = net(am.tensor(np.ones((1, 2), dtype=np.float32)))
    relu = out.grad_fn.inputs[0].grad_fn  # Linear(ReLU(...)): the ReLU of block 0
    assert relu.modules == (net, net[0])
    assert relu.inputs[0].grad_fn.modules == (net, net[0], net[0].fc)
    assert out.grad_fn.modules == (net, net[1])
    y = am.tensor([1.0], requires_grad=True) * 2.0
    assert y.grad_fn.modules == ()  # outside any module; the stack was popped


def test_module_stack_is_popped_when_forward_raises() -> None:
    net = _net()
    try:
        net(am.tensor(np.ones((1, 3), dtype=np.float32)))  # wrong width
    except ValueError:
        pass
    y = am.tensor([1.0], requires_grad=True) * 2.0
    assert y.grad_fn.modules == ()


def test_module_stack_is_per_thread() -> None:
    seen: list[tuple[object, ...]] = []

    class Probe(nn.Module):
        def forward(self, x: am.Tensor) -> am.Tensor:
            t = threading.Thread(target=lambda: seen.append((x * 2.0).grad_fn.modules))
            t.start()
            t.join()
            return x * 2.0

    out = Probe()(am.tensor([1.0], requires_grad=True))
    assert seen == [()] and len(out.grad_fn.modules) == 1


def test_ops_recorded_by_a_backward_walk_are_marked() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    assert not y.grad_fn.in_backward
    (g,) = am.grad(y, x, create_graph=True)
    assert g.grad_fn is not None and g.grad_fn.in_backward
    z = g * 3.0  # after the walk: a forward op again
    assert not z.grad_fn.in_backward


class Scale(nn.Module):
    def forward(self, x: am.Tensor) -> am.Tensor:
        return x * 2.0


class Outer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = Scale()

    def forward(self, x: am.Tensor) -> am.Tensor:
        return self.scale(x).exp()


def _tiny() -> am.Tensor:
    x = am.tensor([1.0, 2.0], requires_grad=True, name="x")
    return Outer()(x).sum()


def test_modules_are_nested_labelled_clusters() -> None:
    assert to_dot(_tiny()).source == CLUSTERS


def test_group_modules_false_draws_the_flat_graph() -> None:
    src = to_dot(_tiny(), group_modules=False).source
    assert "subgraph" not in src and "label=Exp" in src


def test_collapse_by_depth_draws_a_module_as_one_box() -> None:
    assert to_dot(_tiny(), collapse=1).source == COLLAPSED


def test_collapse_by_name_and_the_parameter_count() -> None:
    net = _net()
    out = net(am.tensor(np.ones((1, 2), dtype=np.float32), name="x")).sum()
    src = to_dot(out, collapse=["0.fc"]).source
    assert '"0.fc (Linear)\\nin (1, 2)\\nout (1, 2)\\n6 parameters"' in src
    assert "weight\\n(2, 2)" not in src  # the box's parameters are hidden
    assert "weight\\n(1, 2)" in src  # the other Linear's are not
    assert 'label="0 (Block)"' in src and "label=ReLU" in src  # 0 itself stays open
    whole = to_dot(out, collapse=0).source
    assert '"Sequential\\nin (1, 2)\\nout (1, 1)\\n9 parameters"' in whole


def test_collapse_without_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="collapse= needs group_modules"):
        to_dot(_tiny(), group_modules=False, collapse=1)
    with pytest.raises(ValueError, match="collapse must be a depth >= 0 or names; got True"):
        to_dot(_tiny(), collapse=True)  # not silently depth 1
    with pytest.raises(TypeError, match="to_dot: expected a Tensor .*; got ndarray"):
        to_dot(np.zeros(3))  # type: ignore[arg-type]


def test_show_backward_numbers_ops_in_the_walk_order() -> None:
    assert to_dot(_tiny(), show_backward=True, group_modules=False).source == NUMBERED
    boxed = to_dot(_tiny(), show_backward=True, collapse=1).source
    assert "backward 3" in boxed and '"2. Exp"' in boxed


def test_the_gradient_graph_is_styled_apart() -> None:
    x = am.tensor([1.0, 2.0], requires_grad=True, name="x")
    (g,) = am.grad((x * x).sum(), x, create_graph=True)
    assert to_dot(g).source == GRAD_GRAPH


def test_op_parameters_are_on_the_label() -> None:
    x = am.tensor(np.ones((1, 1, 4, 4), dtype=np.float32), requires_grad=True)
    src = to_dot(am.functional.max_pool2d(x, 2)).source
    assert "kernel=(2, 2), stride=(2, 2), padding=(0, 0)" in src
    assert "kernel" not in to_dot(am.functional.max_pool2d(x, 2), show_params=False).source


def test_gradient_norms_after_backward() -> None:
    loss = _tiny()
    loss.backward(retain_graph=True)
    assert "grad norm" in to_dot(loss, show_grad=True).source


@needs_dot
def test_graph_renders_svg_inline() -> None:
    g = viz.graph(_tiny(), collapse=1)
    svg = g._repr_svg_()
    assert svg is not None and "<svg" in svg and "scale (Scale)" in svg
    assert set(g._repr_mimebundle_()) == {"image/svg+xml"}
    assert str(g) == g.source == COLLAPSED


def test_graph_falls_back_to_dot_text_without_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on it
    g = viz.graph(_tiny())
    assert g._repr_svg_() is None
    assert g._repr_mimebundle_() == {"text/plain": CLUSTERS}
    with pytest.raises(RuntimeError, match="`dot` program was not found"):
        viz.draw(_tiny(), tmp_path / "g.svg")
    assert viz.draw(_tiny(), tmp_path / "g.dot").read_text() == CLUSTERS  # no binary


@needs_dot
def test_draw_writes_svg_with_clusters(tmp_path: Path) -> None:
    svg = viz.draw(_tiny(), tmp_path / "g.svg").read_text()
    assert svg.startswith("<?xml") and "cluster_1" in svg and "scale (Scale)" in svg


def test_viz_benchmark_runs_and_prints_its_table() -> None:
    script = str(ROOT / "benchmarks" / "viz.py")
    proc = run_python([script, "--nodes", "300", "--repeat", "1"], cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for row in ("flat (group_modules=False)", "grouped by module", "collapse=1"):
        assert row in proc.stdout


def test_docs_show_the_dot_text_to_dot_gives() -> None:
    assert CLUSTERS in (ROOT / "docs" / "viz.md").read_text()


def test_cli_graph_writes_dot_text_by_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g.dot"
    assert cli.main(["graph", "--model", "cnn", "-o", str(out)]) == 0
    src = out.read_text()
    assert src.startswith("digraph autograd {") and str(out) in capsys.readouterr().out
    assert "label=Sequential" in src and 'label="0 (Conv2d)"' in src
    assert 'label="0.weight\\n(32, 1, 3, 3) float32"' in src
    again = ["graph", "--model", "cnn", "--collapse", "1", "-o", str(out), "--force"]
    assert cli.main(again) == 0
    boxed = out.read_text()
    # The first conv's input needs no grad: the graph starts at its unfolded columns.
    assert "0 (Conv2d)\\nin (10, 1352)\\nout (2, 32, 26, 26)\\n320 parameters" in boxed
    assert "0.weight" not in boxed


def test_negative_collapse_is_refused() -> None:
    with pytest.raises(ValueError, match="collapse must be a depth >= 0 or names; got -1"):
        to_dot(_tiny(), collapse=-1)


def test_collapse_names_are_checked_and_one_name_is_a_list() -> None:
    with pytest.raises(ValueError, match=r"\['fc1'\] are not modules called.*\['', 'scale'\]"):
        to_dot(_tiny(), collapse=["fc1"])
    assert to_dot(_tiny(), collapse="scale").source == COLLAPSED  # not its letters


def test_show_saved_lists_what_forward_saved() -> None:
    x = am.tensor(np.ones((1, 1, 4, 4), dtype=np.float32), requires_grad=True)
    y = am.functional.max_pool2d(x, 2)
    assert "saved ndarray(1, 1, 2, 2)" in to_dot(y, show_saved=True).source
    assert "saved" not in to_dot(y).source
