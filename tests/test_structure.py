"""The package's structure, checked: module sizes, the engine's size as the README states
it, and an import graph that flows one way (one cycle: tensor <-> ops)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "autograd_mnist"
MODULE_BUDGET = 400  # lines, any module of the package
AUTOGRAD_BUDGET = 250  # autograd.py, the walk: two screens (Function is in function.py)
ENGINE = (
    "_tensor_base.py",
    "_inplace.py",
    "_tensor_aliases.py",
    "tensor.py",
    "grad_mode.py",
    "function.py",
    "autograd.py",
    "_layout.py",
    "_parallel.py",
    "hooks.py",
    "anomaly.py",
    "ops",
)
# Imports inside functions are allowed only for optional dependencies, loaded when used.
LAZY_OK = {
    "graphviz",
    "matplotlib",
    "tqdm",
    "torch",
    "threadpoolctl",
    "resource",
    "onnx",
    "starlette",  # serve (the serve extra)
    "uvicorn",
}


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def code_lines(path: Path) -> int:
    """Lines that are neither blank, comments nor docstrings."""
    source = path.read_text()
    doc_lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                doc_lines.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    return sum(
        1
        for i, line in enumerate(source.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#") and i not in doc_lines
    )


def engine_files() -> list[Path]:
    files: list[Path] = []
    for entry in ENGINE:
        path = PACKAGE / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def test_no_module_over_budget() -> None:
    sizes = {name: len(p.read_text().splitlines()) for name, p in _modules().items()}
    over = {name: n for name, n in sizes.items() if n > MODULE_BUDGET}
    assert not over, f"modules over {MODULE_BUDGET} lines (split them): {over}"
    autograd = sizes["autograd_mnist.autograd"]
    assert autograd <= AUTOGRAD_BUDGET, f"autograd.py has {autograd} lines"


def test_readme_states_the_engine_size_as_measured() -> None:
    files = engine_files()
    lines = sum(len(p.read_text().splitlines()) for p in files)
    code = sum(code_lines(p) for p in files)
    readme = (ROOT / "README.md").read_text()
    stated = re.search(r"([\d,]+) lines, ([\d,]+)\s+of them code", readme)
    assert stated, "README no longer states the engine's size"
    assert (int(stated[1].replace(",", "")), int(stated[2].replace(",", ""))) == (lines, code)


def _imports(name: str, path: Path) -> tuple[set[str], list[str]]:
    """Package modules imported at module level (outside ``if TYPE_CHECKING``), and every
    import found inside a function (as "module: imported")."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top: set[str] = set()
    local: list[str] = []

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        return [base] + [f"{base}.{a.name}" for a in node.names]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for t in targets(child):
                    (local.append(f"{name}: {t}") if in_function else top.add(t))
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            visit(child, nested)

    visit(tree, False)
    return top, local


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        top, _ = _imports(name, path)
        # A module's parent packages are started before it runs, whatever it imports: an
        # import of one (``from autograd_mnist import ops``) is not an edge to its __init__.
        parents = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
        graph[name] = {t for t in top if t in modules and t != name and t not in parents}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.add(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_one_import_cycle_tensor_and_ops() -> None:
    cycles = _cycles(_graph())
    assert len(cycles) == 1, f"import cycles: {cycles}"
    (cycle,) = cycles
    assert "autograd_mnist.tensor" in cycle
    assert all(m == "autograd_mnist.tensor" or m.startswith("autograd_mnist.ops") for m in cycle)


def test_no_function_level_imports_of_the_package() -> None:
    local = []
    for name, path in _modules().items():
        local += _imports(name, path)[1]
    bad = [entry for entry in local if entry.split(": ")[1].split(".")[0] not in LAZY_OK]
    assert not bad, f"imports inside functions (import at module level instead): {bad}"


def test_the_checker_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [{"a", "b", "c"}]
    assert _cycles({"a": {"b"}, "b": set()}) == []
