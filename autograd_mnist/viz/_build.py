"""``to_dot``: walk the graph behind a tensor once, then write it as DOT, grouped by module.

The walk records every tensor and op (ids from the traversal order, as documented in
:func:`to_dot`); a second pass decides where each node goes (which module cluster, or
inside a collapsed module's box, hidden) and writes the statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from autograd_mnist.autograd import topo_order
from autograd_mnist.tensor import Tensor
from autograd_mnist.viz import _labels as L

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped]  # graphviz ships no type hints

    from autograd_mnist.function import Function
    from autograd_mnist.nn import Module

Path = tuple["Module", ...]  # module calls, outermost first (an op's ctx.modules)


def graphviz_module() -> Any:
    """The ``graphviz`` package, imported when first drawn."""
    try:
        import graphviz
    except ImportError as e:  # pragma: no cover - graphviz is a declared dependency
        raise ImportError(
            "viz: the `graphviz` Python package is missing; pip install graphviz"
        ) from e
    return graphviz


class _Walk:
    """Every tensor and op behind a root, in traversal order (input 0 expanded first)."""

    def __init__(self, root: Tensor) -> None:
        self.tensors: list[Tensor] = [root]  # keeps each alive, so ids stay unique
        self.index: dict[int, int] = {id(root): 0}
        self.ops: list[tuple[Function, int, list[int]]] = []  # (ctx, output, inputs)
        self.op_of: dict[int, int] = {}  # tensor index -> the op that made it
        self.users: dict[int, list[int]] = {}  # tensor index -> ops that take it
        stack = [root]
        while stack:
            t = stack.pop()
            ctx = t.grad_fn
            if ctx is None:
                continue
            if ctx.freed:
                raise RuntimeError(
                    f"to_dot: the graph through {type(ctx).__name__} (output {t.shape}) "
                    "was freed by backward; draw before calling backward, or call "
                    "backward(retain_graph=True)"
                )
            k = len(self.ops)
            fresh, ins = [], []
            for inp in ctx.inputs:
                i = self.index.get(id(inp))
                if i is None:
                    i = self.index[id(inp)] = len(self.tensors)
                    self.tensors.append(inp)
                    fresh.append(inp)
                ins.append(i)
                self.users.setdefault(i, []).append(k)
            self.op_of[self.index[id(t)]] = k
            self.ops.append((ctx, self.index[id(t)], ins))
            stack.extend(reversed(fresh))


class _Modules:
    """Dotted names of module calls and which calls are drawn collapsed."""

    def __init__(self, collapse: int | Sequence[str] | None) -> None:
        self.collapse = collapse
        self._names: dict[int, dict[int, str]] = {}  # id(root) -> id(module) -> name
        self._boxes: dict[Path, Path | None] = {}

    def name(self, path: Path) -> str:
        """``features.0``: the last module's name in the outermost one ("" for it)."""
        root = path[0]
        names = self._names.get(id(root))
        if names is None:
            names = self._names[id(root)] = {id(m): n for n, m in root.named_modules()}
        found = names.get(id(path[-1]))
        if found is None:  # called by a parent's forward, but not registered in it
            parent = self.name(path[:-1])
            return f"{parent}.{type(path[-1]).__name__}" if parent else type(path[-1]).__name__
        return found

    def label(self, path: Path) -> str:
        """A cluster's label: name and class (the outermost: its class)."""
        name = self.name(path)
        cls = type(path[-1]).__name__
        return f"{name} ({cls})" if name else cls

    def box(self, path: Path) -> Path | None:
        """The outermost collapsed call on ``path`` (None: drawn open)."""
        if path not in self._boxes:
            found = None
            if self.collapse is not None:
                for n in range(1, len(path) + 1):
                    if self._collapsed(path[:n]):
                        found = path[:n]
                        break
            self._boxes[path] = found
        return self._boxes[path]

    def _collapsed(self, path: Path) -> bool:
        if isinstance(self.collapse, int):
            return len(path) - 1 >= self.collapse
        return self.collapse is not None and self.name(path) in self.collapse


def _common(a: Path, b: Path) -> Path:
    n = 0
    while n < min(len(a), len(b)) and a[n] is b[n]:
        n += 1
    return a[:n]


def to_dot(
    tensor: Tensor,
    show_grad: bool = False,
    *,
    group_modules: bool | None = None,
    collapse: int | Sequence[str] | None = None,
    show_backward: bool = False,
    show_params: bool = True,
    show_saved: bool = False,
) -> graphviz.Digraph:
    """The graph that produced ``tensor``, as a Graphviz digraph (edges run input -> output).

    Pure and deterministic: node ids come from the traversal order (tensors ``t0, t1, ...``,
    ops ``op0, op1, ...``, ``t0`` the root; collapsed modules ``m0, m1, ...``; module
    clusters ``cluster_0, ...``), inputs are visited in argument order, and the traversal
    is iterative, so graphs of any depth work. Edges into an op with several inputs are
    labelled with the input's position.

    Args:
        tensor: the root, usually a loss.
        show_grad: add each tensor's gradient norm (tensors whose ``.grad`` is set).
        group_modules: draw the ops each ``nn.Module`` call recorded inside a labelled
            cluster (``features.0 (Conv2d)``), nested as the calls nest. None (default):
            True when any op ran inside a module.
        collapse: draw modules as one box (name, class, input and output shapes,
            parameter count): an int collapses every module at that depth or deeper (0:
            the outermost, 1: its children), a list of dotted names those modules (the
            outermost module's name is ""). A box
            hides the module's parameters, its 0-d constants and the tensors made and
            used only inside it. Implies ``group_modules``.
        show_backward: number the ops in the order backward runs them (``1. Sum``).
        show_params: show each op's parameters (``kernel=(2, 2), stride=(2, 2)``).
        show_saved: show what each op saved for backward (``ctx.saved``: arrays by type
            and shape, ``saved ndarray(4, 3)``).

    Returns:
        A ``graphviz.Digraph``; ``.source`` is the DOT text (no ``dot`` binary needed).

    Raises:
        TypeError: if ``tensor`` is not a Tensor.
        RuntimeError: if the graph was freed by a ``backward`` without ``retain_graph``.
        ValueError: for a negative or bool ``collapse``, a name no module call here has, or
            ``collapse`` with ``group_modules=False``.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"to_dot: expected a Tensor (a loss, an output); got {type(tensor).__name__}"
        )
    if isinstance(collapse, bool) or (isinstance(collapse, int) and collapse < 0):
        raise ValueError(f"to_dot: collapse must be a depth >= 0 or names; got {collapse}")
    walk = _Walk(tensor)
    if group_modules is None:
        group_modules = collapse is not None or any(c.modules for c, _, _ in walk.ops)
    elif collapse is not None and not group_modules:
        raise ValueError("to_dot: collapse= needs group_modules (got group_modules=False)")
    if isinstance(collapse, str):
        collapse = [collapse]
    writer = _Writer(walk, tensor, show_grad, (show_params, show_saved), group_modules, collapse)
    if collapse is not None and not isinstance(collapse, int):
        writer.check_names(collapse)
    return writer.write(_steps(tensor) if show_backward else {})


def _steps(root: Tensor) -> dict[int, int]:
    """id(op) -> its position (1, 2, ...) in the order backward runs the ops."""
    steps: dict[int, int] = {}
    for node in topo_order([root]):
        if node.grad_fn is not None:
            steps[id(node.grad_fn)] = len(steps) + 1
    return steps


class _Writer:
    """Places the walked nodes (clusters, boxes, hidden) and writes the DOT statements."""

    def __init__(
        self,
        walk: _Walk,
        root: Tensor,
        show_grad: bool,
        op_text: tuple[bool, bool],
        grouped: bool,
        collapse: int | Sequence[str] | None,
    ) -> None:
        self.walk, self.root = walk, root
        self.show_grad, self.op_text = show_grad, op_text  # (show_params, show_saved)
        self.modules = _Modules(collapse)
        gv = graphviz_module()
        small = {"fontsize": "10"}
        self.dot = gv.Digraph("autograd", node_attr=small, edge_attr=small)
        self.clusters: dict[Path, Any] = {(): self.dot}
        # Per op: its module path (() ungrouped) and its box (None: drawn as an op).
        self.paths: list[Path] = [c.modules if grouped else () for c, _, _ in walk.ops]
        self.boxes = [self.modules.box(p) if p else None for p in self.paths]
        self.box_ids: dict[Path, str] = {}
        self.members: dict[Path, set[int]] = {}

    def check_names(self, names: Sequence[str]) -> None:
        """Raise ``ValueError`` naming the ``collapse`` names no module call here has."""
        known = {self.modules.name(p[:n]) for p in set(self.paths) for n in range(1, len(p) + 1)}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(
                f"to_dot: collapse names {unknown} are not modules called in this graph; "
                f"expected some of {sorted(known)}"
            )

    def _node_of_op(self, k: int) -> str:
        box = self.boxes[k]
        return f"op{k}" if box is None else self.box_ids.setdefault(box, f"m{len(self.box_ids)}")

    def _where(self, k: int) -> Path:
        """The cluster the node of op ``k`` is drawn in."""
        box = self.boxes[k]
        return self.paths[k] if box is None else box[:-1]

    def _hidden(self, i: int) -> bool:
        """Inside one box: made and used there, or one of its parameters or 0-d constants."""
        t = self.walk.tensors[i]
        if t is self.root:
            return False
        maker = self.walk.op_of.get(i)
        ops = self.walk.users.get(i, []) + ([] if maker is None else [maker])
        boxes = {self.boxes[k] for k in ops}
        if len(boxes) != 1 or None in boxes:
            return False
        if maker is not None:
            return True
        (box,) = boxes
        assert box is not None
        return t.ndim == 0 or any(p is t for p in box[-1].parameters())

    def _cluster(self, path: Path) -> Any:
        found = self.clusters.get(path)
        if found is None:
            self._cluster(path[:-1])  # parents first: clusters are nested in this order
            attrs = {"label": L.escape(self.modules.label(path)), **L.CLUSTER_STYLE}
            found = graphviz_module().Digraph(f"cluster_{len(self.clusters) - 1}")
            found.attr("graph", **attrs)
            self.clusters[path] = found
        return found

    def write(self, steps: dict[int, int]) -> Any:
        """The digraph: nodes in traversal order, each in its cluster, then the clusters."""
        walk, dot = self.walk, self.dot
        n = len(walk.tensors)
        boxed = any(b is not None for b in self.boxes)
        hidden = [self._hidden(i) for i in range(n)] if boxed else [False] * n
        box_io: dict[str, tuple[list[Tensor], list[Tensor], list[int]]] = {}
        for k, (ctx, out, ins) in enumerate(walk.ops):
            if self.boxes[k] is not None:
                io = box_io.setdefault(self._node_of_op(k), ([], [], []))
                if not hidden[out]:
                    io[1].append(walk.tensors[out])
                for i in ins:
                    if not hidden[i] and walk.op_of.get(i) not in self._box_ops(k):
                        if all(walk.tensors[i] is not t for t in io[0]):
                            io[0].append(walk.tensors[i])
                if id(ctx) in steps:
                    io[2].append(steps[id(ctx)])
        drawn: set[str] = set()
        edges: set[tuple[str, str]] = set()
        for i, t in enumerate(walk.tensors):
            maker = walk.op_of.get(i)
            if not hidden[i]:
                self._tensor(i, t, maker)
            if maker is None:
                continue
            k = maker
            ctx, out, ins = walk.ops[k]
            node = self._node_of_op(k)
            if node not in drawn:
                drawn.add(node)
                self._op(k, node, ctx, steps, box_io.get(node))
            if not hidden[i]:
                self._edge(edges, node, f"t{i}", {})
            for pos, j in enumerate(ins):
                if hidden[j] or walk.op_of.get(j) in self._box_ops(k):
                    continue
                label = {"label": str(pos)} if len(ins) > 1 and node[0] == "o" else {}
                self._edge(edges, f"t{j}", node, label)
        for path in sorted(self.clusters, key=len, reverse=True)[:-1]:
            self.clusters[path[:-1]].subgraph(self.clusters[path])
        return dot

    def _box_ops(self, k: int) -> set[int]:
        """The ops drawn in the same box as op ``k`` (empty when it is drawn alone)."""
        box = self.boxes[k]
        if box is None:
            return set()
        if box not in self.members:
            self.members[box] = {j for j, b in enumerate(self.boxes) if b == box}
        return self.members[box]

    def _edge(self, edges: set[tuple[str, str]], a: str, b: str, label: dict[str, str]) -> None:
        if b[0] == "m" or a[0] == "m":  # a box: one edge per tensor, however many ops
            if (a, b) in edges:
                return
            edges.add((a, b))
        self.dot.edge(a, b, **label)

    def _tensor(self, i: int, t: Tensor, k: int | None) -> None:
        if k is not None:
            where = self._where(k)
        elif t.requires_grad or t.ndim == 0:  # a parameter or constant: in the innermost
            users = self.walk.users.get(i, [])  # cluster holding every op that takes it
            where = self._where(users[0]) if users else ()
            for j in users[1:]:
                where = _common(where, self._where(j))
        else:  # data: outside every module
            where = ()
        label = L.tensor_label(t, self.show_grad)
        self._cluster(where).node(f"t{i}", label, **L.tensor_style(t, t is self.root))

    def _op(
        self,
        k: int,
        node: str,
        ctx: Function,
        steps: dict[int, int],
        io: tuple[list[Tensor], list[Tensor], list[int]] | None,
    ) -> None:
        where = self._cluster(self._where(k))
        box = self.boxes[k]
        if box is None or io is None:
            style = L.BACKWARD_OP_STYLE if ctx.in_backward else L.OP_STYLE
            where.node(node, L.op_label(ctx, steps.get(id(ctx)), *self.op_text), **style)
            return
        nums = io[2]
        span = "" if not nums else str(min(nums))
        span += f"-{max(nums)}" if nums and max(nums) > min(nums) else ""
        label = L.module_label(self.modules.name(box), box[-1], io[0], io[1], span)
        where.node(node, label, **L.MODULE_STYLE)
