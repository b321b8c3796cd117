"""Draw the computation graph behind a tensor with Graphviz, grouped by module.

``to_dot`` turns the graph into a ``graphviz.Digraph`` (its ``.source`` is DOT text and
needs no Graphviz binary); ``graph`` wraps that in a :class:`Graph`, which a Jupyter
notebook shows inline as SVG (or as DOT text when ``dot`` is missing); ``draw`` writes
``.svg``, ``.png`` or ``.pdf`` with the ``dot`` program, or ``.dot`` text without it.

Ops show their Function class name and parameters (``MaxPool2d`` /
``kernel=(2, 2), stride=(2, 2), padding=(0, 0)``); tensors show their name (if any), shape
and dtype; parameters (leaves that require grad) are filled blue, constants and data
dashed, the root green. Ops recorded inside ``nn.Module`` calls are drawn in a cluster
per module, labelled with its dotted name (``features.0 (Conv2d)``); ``collapse=`` draws
modules as single boxes. Ops recorded by a backward pass (``create_graph=True``: the
gradient's own graph) are dashed and orange-filled.

Draw **before** ``backward``, or call ``backward(retain_graph=True)``: backward frees the
graph (each op forgets its inputs), and ``to_dot`` raises rather than draw half a graph.
``show_grad=True`` adds the gradient norm of each tensor that has one (only leaves that
require grad do), so it is meant for after ``backward(retain_graph=True)``.

Example:
    >>> loss = F.cross_entropy(model(x), y)
    >>> draw(loss, "graph.svg", collapse=1)   # before backward
    >>> graph(loss)                           # in a notebook: shown inline
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from autograd_mnist.tensor import Tensor
from autograd_mnist.viz._build import to_dot
from autograd_mnist.viz._render import FORMATS, Graph

__all__ = ["FORMATS", "Graph", "draw", "graph", "to_dot"]


def graph(
    tensor: Tensor,
    show_grad: bool = False,
    *,
    group_modules: bool | None = None,
    collapse: int | Sequence[str] | None = None,
    show_backward: bool = False,
    show_params: bool = True,
    show_saved: bool = False,
) -> Graph:
    """The graph behind ``tensor`` as a :class:`Graph` (shown inline in Jupyter).

    Takes the options of :func:`to_dot`.
    """
    return Graph(
        to_dot(
            tensor,
            show_grad,
            group_modules=group_modules,
            collapse=collapse,
            show_backward=show_backward,
            show_params=show_params,
            show_saved=show_saved,
        )
    )


def draw(
    tensor: Tensor,
    path: str | os.PathLike[str],
    show_grad: bool = False,
    *,
    group_modules: bool | None = None,
    collapse: int | Sequence[str] | None = None,
    show_backward: bool = False,
    show_params: bool = True,
    show_saved: bool = False,
) -> Path:
    """Write the graph of ``tensor`` to a file; the extension picks the format.

    Call it before ``backward`` (or after ``backward(retain_graph=True)``). Takes the
    options of :func:`to_dot`.

    Args:
        tensor: the root, usually a loss.
        path: where to write; ``.svg``, ``.png``, ``.pdf`` (need ``dot``) or ``.dot``.
            Missing parent folders are created; the file is written atomically.
        show_grad: add each tensor's gradient norm (see :func:`to_dot`).
        group_modules: one cluster per module call (see :func:`to_dot`).
        collapse: modules drawn as one box (see :func:`to_dot`).
        show_backward: number the ops in backward's order (see :func:`to_dot`).
        show_params: show each op's parameters (see :func:`to_dot`).
        show_saved: show what each op saved for backward (see :func:`to_dot`).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: for any other extension.
        RuntimeError: if Graphviz's ``dot`` program is needed and not installed (saying
            how to install it), or the graph was freed.
    """
    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise ValueError(
            f"draw: unsupported file extension {out.suffix!r} in {str(out)!r}; "
            f"expected one of {sorted(FORMATS)}"
        )
    g = graph(
        tensor,
        show_grad,
        group_modules=group_modules,
        collapse=collapse,
        show_backward=show_backward,
        show_params=show_params,
        show_saved=show_saved,
    )
    return g.save(out)
