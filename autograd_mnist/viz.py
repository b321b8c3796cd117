"""Draw the computation graph behind a tensor with Graphviz.

``to_dot`` turns the graph into a ``graphviz.Digraph`` (its ``.source`` is DOT text and
needs no Graphviz binary); ``draw`` renders that to ``.svg``, ``.png`` or ``.pdf`` with
the ``dot`` program. Ops show their Function class name (``MatMul``); tensors show their
name (if any), shape and dtype; parameters (leaves that require grad) are filled blue,
constants and data dashed, the root green.

Draw **before** ``backward``, or call ``backward(retain_graph=True)``: backward frees the
graph (each op forgets its inputs), and ``to_dot`` raises rather than draw half a graph.
``show_grad=True`` adds the gradient norm of each tensor that has one (only leaves that
require grad do), so it is meant for after ``backward(retain_graph=True)``.

Example:
    >>> loss = F.cross_entropy(F.linear(x, w, b), y)
    >>> draw(loss, "graph.svg")              # before backward
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_mnist.tensor import Tensor

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]  # graphviz ships no type hints

#: Output formats :func:`draw` accepts, by file extension.
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}

_INSTALL = (
    "install Graphviz's `dot` program: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`"
)

_OP_STYLE = {"shape": "box", "style": "filled", "fillcolor": "lightgrey"}
_PARAM_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "lightblue"}
_CONST_STYLE = {"shape": "ellipse", "style": "dashed"}
_ROOT_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "palegreen"}
_TENSOR_STYLE = {"shape": "ellipse"}


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError as e:  # pragma: no cover - graphviz is a declared dependency
        raise ImportError(
            "viz: the `graphviz` Python package is missing; pip install graphviz"
        ) from e
    return graphviz


def _label(t: Tensor, show_grad: bool) -> str:
    """DOT label: name, shape and dtype, and the gradient norm; lines joined by DOT's \\n."""
    lines = [] if t.name is None else [t.name.replace("\\", "\\\\")]
    lines.append(f"{t.shape} {t.dtype}")
    if show_grad and t.grad is not None:
        g = t.grad.data
        norm = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
        lines.append(f"grad norm {norm:.4g}")
    return "\\n".join(lines)


def _style(t: Tensor, is_root: bool) -> dict[str, str]:
    if t.is_leaf and t.requires_grad:
        return _PARAM_STYLE
    if is_root:
        return _ROOT_STYLE
    return _TENSOR_STYLE if t.requires_grad else _CONST_STYLE


def to_dot(tensor: Tensor, show_grad: bool = False) -> graphviz.Digraph:
    """The graph that produced ``tensor``, as a Graphviz digraph (edges run input -> output).

    Pure and deterministic: node ids come from the traversal order (tensors ``t0, t1, ...``,
    ops ``op0, op1, ...``, ``t0`` the root), inputs are visited in argument order, and the
    traversal is iterative, so graphs of any depth work. Edges into an op with several
    inputs are labelled with the input's position.

    Args:
        tensor: the root, usually a loss.
        show_grad: add each tensor's gradient norm (tensors whose ``.grad`` is set).

    Returns:
        A ``graphviz.Digraph``; ``.source`` is the DOT text (no ``dot`` binary needed).

    Raises:
        RuntimeError: if the graph was freed by a ``backward`` without ``retain_graph``.
    """
    small = {"fontsize": "10"}
    dot = _graphviz().Digraph("autograd", node_attr=small, edge_attr=small)
    ids: dict[int, str] = {id(tensor): "t0"}
    nodes: list[Tensor] = [tensor]  # keeps every visited tensor alive, so ids stay unique
    stack = [tensor]
    ops = 0
    while stack:
        t = stack.pop()
        name = ids[id(t)]
        dot.node(name, _label(t, show_grad), **_style(t, t is tensor))
        ctx = t.grad_fn
        if ctx is None:
            continue
        op = type(ctx).__name__
        if ctx.freed:
            raise RuntimeError(
                f"to_dot: the graph through {op} (output {t.shape}) was freed by backward; "
                "draw before calling backward, or call backward(retain_graph=True)"
            )
        op_name = f"op{ops}"
        ops += 1
        dot.node(op_name, op, **_OP_STYLE)
        dot.edge(op_name, name)
        fresh = []
        for i, inp in enumerate(ctx.inputs):
            if id(inp) not in ids:
                ids[id(inp)] = f"t{len(nodes)}"
                nodes.append(inp)
                fresh.append(inp)
            label = {"label": str(i)} if len(ctx.inputs) > 1 else {}
            dot.edge(ids[id(inp)], op_name, **label)
        stack.extend(reversed(fresh))  # input 0 is expanded first
    return dot


def draw(tensor: Tensor, path: str | os.PathLike[str], show_grad: bool = False) -> Path:
    """Render the graph of ``tensor`` to an image file; the extension picks the format.

    Call it before ``backward`` (or after ``backward(retain_graph=True)``).

    Args:
        tensor: the root, usually a loss.
        path: where to write; ``.svg``, ``.png`` or ``.pdf``.
        show_grad: add each tensor's gradient norm (see :func:`to_dot`).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: for any other extension.
        RuntimeError: if Graphviz's ``dot`` program is not installed (saying how to install
            it; ``to_dot(tensor).source`` works without it), or the graph was freed.
    """
    out = Path(path)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"draw: unsupported file extension {out.suffix!r} in {str(out)!r}; "
            f"expected one of {sorted(FORMATS)}"
        )
    gv = _graphviz()
    dot = to_dot(tensor, show_grad=show_grad)
    try:
        data = dot.pipe(format=fmt)
    except gv.ExecutableNotFound as e:
        raise RuntimeError(
            f"draw: cannot render {str(out)!r}: Graphviz's `dot` program was not found; "
            f"{_INSTALL}. Without it, to_dot(tensor).source still gives the DOT text."
        ) from e
    out.write_bytes(data)
    return out
