"""Rendering: the :class:`Graph` a notebook shows as SVG, and files through ``dot``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograd_mnist.io import atomic_open
from autograd_mnist.viz._build import graphviz_module

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]  # graphviz ships no type hints

#: Output formats :func:`draw` and :meth:`Graph.save` accept, by file extension (``.dot``
#: is the DOT text itself and needs no Graphviz binary).
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}

INSTALL = (
    "install Graphviz's `dot` program: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`"
)


class Graph:
    """A drawn graph: its DOT text, rendered on demand; Jupyter shows it inline as SVG,
    or as the DOT text when Graphviz's ``dot`` program is missing.

    Attributes:
        digraph: the ``graphviz.Digraph`` (see :func:`~autograd_mnist.viz.to_dot`).
    """

    def __init__(self, digraph: graphviz.Digraph) -> None:
        self.digraph = digraph

    @property
    def source(self) -> str:
        """The DOT text (no ``dot`` binary needed)."""
        return str(self.digraph.source)

    def __str__(self) -> str:
        return self.source

    def pipe(self, format: str, where: str = "Graph") -> bytes:
        """Render with ``dot`` to ``format`` (``"svg"``, ``"png"``, ``"pdf"``).

        Raises:
            RuntimeError: if ``dot`` is not installed (saying how to install it).
        """
        try:
            return bytes(self.digraph.pipe(format=format))
        except graphviz_module().ExecutableNotFound as e:
            raise RuntimeError(
                f"{where}: Graphviz's `dot` program was not found; {INSTALL}. Without it, "
                ".source (or a .dot file) still gives the DOT text."
            ) from e

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the graph to ``path``, atomically, creating missing parent folders; the
        extension picks the format (``.dot``: text).

        Raises:
            ValueError: for an extension not in :data:`FORMATS`.
            RuntimeError: if ``dot`` is needed and not installed.
        """
        out = Path(path)
        fmt = FORMATS.get(out.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"draw: unsupported file extension {out.suffix!r} in {str(out)!r}; "
                f"expected one of {sorted(FORMATS)}"
            )
        data = (
            self.source.encode()
            if fmt == "dot"
            else self.pipe(fmt, f"draw: cannot render {str(out)!r}")
        )
        out.parent.mkdir(parents=True, exist_ok=True)  # as plots and serialization.save do
        with atomic_open(out) as f:
            f.write(data)
        return out

    def _repr_svg_(self) -> str | None:
        try:
            return self.pipe("svg").decode()
        except RuntimeError:
            return None  # Jupyter then falls back to the next representation

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        svg = self._repr_svg_()
        return {"text/plain": self.source} if svg is None else {"image/svg+xml": svg}
